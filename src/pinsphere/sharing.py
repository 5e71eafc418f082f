"""Sharing pins and boards with users, and public links to them (``scope.share`` and co.).

Only the owner of a pin or board (or an admin) shares it or makes links to it; an ``editor``
share lets its holder change metadata and tags, never delete or re-share. Every change lands
in the audit trail.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, get_args

from pinsphere.errors import InvalidInput, NotFound, PermissionDenied
from pinsphere.ids import decode_id, encode_id, new_id
from pinsphere.models import Board, Link, NewLink, Pin, Share, ShareRole, TargetKind
from pinsphere.tokens import digest, new_secret

if TYPE_CHECKING:
    from pinsphere.store import PinScope

__all__ = ["LINK_TOKEN_PREFIX", "Sharing"]

LINK_TOKEN_PREFIX = "psl_"  # noqa: S105 - a public prefix, not a secret
"""Public link tokens start with this, so leaked ones are easy to recognise."""

MAX_LINK_USES = 1_000_000
MAX_LINK_LIFETIME = timedelta(days=3650)


def _check_share_role(role: str) -> ShareRole:
    if role not in get_args(ShareRole):
        raise InvalidInput("a share's role is viewer or editor")
    return role  # type: ignore[return-value]


class Sharing:
    """The sharing operations of one caller; reached through :class:`PinScope` methods.

    Args:
        scope: The caller's scope.
    """

    def __init__(self, scope: PinScope) -> None:
        self._scope = scope
        self._store = scope._store

    def target(self, target_id: str) -> tuple[TargetKind, Pin | Board]:
        """The visible pin or board with this id.

        Raises:
            NotFound: Neither exists visibly to the caller.
        """
        if not isinstance(target_id, str) or decode_id(target_id) is None:
            raise NotFound("no such pin or board")
        access = self._scope.access
        pin = self._store.metadata.get_pin(target_id, access)
        if pin is not None:
            return "pin", pin
        board = self._store.metadata.get_board(target_id, access)
        if board is not None:
            return "board", board
        raise NotFound("no such pin or board")

    def _owned_target(self, target_id: str) -> tuple[TargetKind, Pin | Board]:
        kind, target = self.target(target_id)
        self._scope._require("share", target)
        return kind, target

    def share(self, target_id: str, username: str, role: ShareRole | str = "viewer") -> Share:
        """Share a pin or board with a user, or change the role of an existing share.

        Raises:
            NotFound: The target is not visible, or no such user.
            PermissionDenied: The caller does not own the target (and is no admin).
            InvalidInput: Unknown role, or sharing with the owner.
        """
        checked = _check_share_role(role)
        kind, target = self._owned_target(target_id)
        grantee = self._store.users.find(username)
        if grantee.id == target.owner_id:
            raise InvalidInput("the owner already has every right to it")
        actor = self._scope._require("share", target)
        share = self._store.metadata.put_share(
            Share(
                id=encode_id(new_id()),
                target_kind=kind,
                target_id=target.id,
                user_id=grantee.id,
                username=grantee.username,
                role=checked,
                created_by=actor.id,
                created_at=datetime.now(UTC),
            )
        )
        self._store.audit.record(
            actor.id, "share", kind, target.id, user=grantee.username, role=checked
        )
        return share

    def unshare(self, target_id: str, username: str) -> None:
        """Stop sharing a pin or board with a user (no error if it was not shared).

        Raises:
            NotFound: The target is not visible, or no such user.
            PermissionDenied: The caller does not own the target.
        """
        kind, target = self._owned_target(target_id)
        grantee = self._store.users.find(username)
        if self._store.metadata.delete_share(kind, target.id, grantee.id):
            actor = self._scope._require("share", target)
            self._store.audit.record(actor.id, "unshare", kind, target.id, user=grantee.username)

    def shares(self, target_id: str) -> list[Share]:
        """Who a pin or board is shared with (owner and admins only)."""
        kind, target = self._owned_target(target_id)
        return self._store.metadata.list_shares(kind, target.id)

    def create_link(
        self,
        target_id: str,
        *,
        expires_in: timedelta | None = None,
        max_uses: int | None = None,
        password: str | None = None,
        allow_download: bool = True,
    ) -> NewLink:
        """Make a public link to a pin or board.

        Args:
            target_id: The pin or board.
            expires_in: How long it works; forever when ``None``.
            max_uses: How many times it may be opened; no limit when ``None``.
            password: Required to open it, when given.
            allow_download: Whether the original file may be read through it.

        Returns:
            The link with its token. The token is not stored: keep it now.

        Raises:
            NotFound: The target is not visible.
            PermissionDenied: The caller does not own the target.
            InvalidInput: A bad lifetime, use count or password.
        """
        kind, target = self._owned_target(target_id)
        actor = self._scope._require("share", target)
        if expires_in is not None and not timedelta(0) < expires_in <= MAX_LINK_LIFETIME:
            raise InvalidInput("a link lasts from a moment to ten years")
        if max_uses is not None and not 1 <= max_uses <= MAX_LINK_USES:
            raise InvalidInput(f"a link's use count is from 1 to {MAX_LINK_USES}")
        if password is not None and not 1 <= len(password) <= 1024:
            raise InvalidInput("a link password has 1 to 1024 characters")
        token = new_secret(LINK_TOKEN_PREFIX)
        now = datetime.now(UTC)
        link = NewLink(
            id=encode_id(new_id()),
            target_kind=kind,
            target_id=target.id,
            created_by=actor.id,
            created_at=now,
            expires_at=None if expires_in is None else now + expires_in,
            max_uses=max_uses,
            has_password=password is not None,
            allow_download=allow_download,
            token=token,
        )
        password_hash = None if password is None else self._store.passwords.hash(password)
        stored = Link.model_validate(link.model_dump(exclude={"token"}))
        self._store.metadata.add_link(stored, digest(token), password_hash)
        self._store.audit.record(actor.id, "link.create", kind, target.id, link=link.id)
        return link

    def links(self, target_id: str | None = None) -> list[Link]:
        """The caller's links, or every link of a target the caller owns; newest first."""
        if target_id is None:
            user = self._scope._require("share")
            return self._store.metadata.list_links(created_by=user.id)
        kind, target = self._owned_target(target_id)
        return self._store.metadata.list_links(target=(kind, target.id))

    def revoke_link(self, link_id: str) -> None:
        """Revoke a link at once: every further use of it fails.

        Raises:
            NotFound: No such link that the caller made or whose target the caller owns.
        """
        link = self._store.metadata.get_link(link_id) if isinstance(link_id, str) else None
        if link is None:
            raise NotFound("no such link")
        user = self._scope._require("share")
        if link.created_by != user.id and not self._scope.principal.is_admin:
            # Only the target's owner may revoke someone else's link to it.
            try:
                self._owned_target(link.target_id)
            except PermissionDenied:
                raise NotFound("no such link") from None
        if self._store.metadata.revoke_link(link.id, datetime.now(UTC)):
            self._store.audit.record(
                user.id, "link.revoke", link.target_kind, link.target_id, link=link.id
            )
