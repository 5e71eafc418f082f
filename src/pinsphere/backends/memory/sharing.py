"""Shares, public links and the audit trail of the ``memory://`` metadata backend.

Kept apart from pins and boards so each part stays small; the backend calls these with its
lock held, so nothing here locks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pinsphere.backends.memory import keys_after
from pinsphere.errors import Conflict
from pinsphere.ids import decode_id
from pinsphere.models import AuditEvent, Link, Share, ShareRole, TargetKind

__all__ = ["MemorySharing", "strongest"]


def strongest(roles: Iterable[ShareRole]) -> ShareRole | None:
    """``editor`` if any role is, else ``viewer`` if any, else ``None``."""
    found = set(roles)
    if "editor" in found:
        return "editor"
    return "viewer" if found else None


@dataclass
class _StoredLink:
    link: Link
    token_hash: str
    password_hash: str | None


def _order(item_id: str) -> int:
    return decode_id(item_id) or 0


class MemorySharing:
    """Shares by (target, user), links by id, and audit events in order."""

    def __init__(self) -> None:
        self._shares: dict[tuple[TargetKind, str, str], Share] = {}
        self._links: dict[str, _StoredLink] = {}
        self._link_ids: dict[str, str] = {}
        self._audit: list[AuditEvent] = []

    # -- shares -----------------------------------------------------------------------------

    def put_share(self, share: Share) -> Share:
        """Store a share, keeping the id and time of one that exists for the same pair."""
        key = (share.target_kind, share.target_id, share.user_id)
        existing = self._shares.get(key)
        stored = (
            share
            if existing is None
            else existing.model_copy(update={"role": share.role, "username": share.username})
        )
        self._shares[key] = stored
        return stored

    def delete_share(self, target_kind: TargetKind, target_id: str, user_id: str) -> bool:
        """Remove a share; whether there was one."""
        return self._shares.pop((target_kind, target_id, user_id), None) is not None

    def shares_of(self, target_kind: TargetKind, target_id: str) -> list[Share]:
        """Shares of one target, by case-folded username."""
        found = [
            share
            for (kind, target, _), share in self._shares.items()
            if kind == target_kind and target == target_id
        ]
        return sorted(found, key=lambda share: share.username.casefold())

    def role(self, target_kind: TargetKind, target_id: str, user_id: str) -> ShareRole | None:
        """The user's direct share of one target."""
        share = self._shares.get((target_kind, target_id, user_id))
        return None if share is None else share.role

    def forget(self, target_kind: TargetKind, target_id: str) -> None:
        """Drop every share and link of a deleted target."""
        for key in [k for k in self._shares if k[0] == target_kind and k[1] == target_id]:
            del self._shares[key]
        for link_id, stored in list(self._links.items()):
            if stored.link.target_kind == target_kind and stored.link.target_id == target_id:
                del self._links[link_id]
                del self._link_ids[stored.token_hash]

    # -- links ------------------------------------------------------------------------------

    def add_link(self, link: Link, token_hash: str, password_hash: str | None) -> None:
        """Store a link under its id and its token digest."""
        self._links[link.id] = _StoredLink(link, token_hash, password_hash)
        self._link_ids[token_hash] = link.id

    def find_link(self, token_hash: str) -> tuple[Link, str | None] | None:
        """A link and its password hash by token digest."""
        link_id = self._link_ids.get(token_hash)
        if link_id is None:
            return None
        stored = self._links[link_id]
        return stored.link, stored.password_hash

    def get_link(self, link_id: str) -> Link | None:
        """A link by id."""
        stored = self._links.get(link_id)
        return None if stored is None else stored.link

    def use_link(self, link_id: str, when: datetime) -> bool:
        """Count one use if the link is still usable at ``when``."""
        stored = self._links.get(link_id)
        if stored is None:
            return False
        link = stored.link
        if (
            link.revoked_at is not None
            or (link.expires_at is not None and link.expires_at <= when)
            or (link.max_uses is not None and link.uses >= link.max_uses)
        ):
            return False
        stored.link = link.model_copy(update={"uses": link.uses + 1})
        return True

    def revoke_link(self, link_id: str, when: datetime) -> bool:
        """Revoke a link once."""
        stored = self._links.get(link_id)
        if stored is None or stored.link.revoked_at is not None:
            return False
        stored.link = stored.link.model_copy(update={"revoked_at": when})
        return True

    def import_link(self, link: Link, token_hash: str, password_hash: str | None) -> None:
        """Store an exported link as it is, refusing a clash of id or digest.

        Raises:
            Conflict: A link with this id or digest exists.
        """
        if link.id in self._links or token_hash in self._link_ids:
            raise Conflict("a link with this id or token digest exists already")
        # Whether it has a password is what the hash says, as in the SQL backends.
        stored = link.model_copy(update={"has_password": password_hash is not None})
        self.add_link(stored, token_hash, password_hash)

    def link_page(self, after: str | None, limit: int) -> list[tuple[Link, str, str | None]]:
        """Up to ``limit`` links with ids above ``after``, by ascending id, with digests."""
        ids = keys_after(self._links, after, limit)
        return [
            (stored.link, stored.token_hash, stored.password_hash)
            for stored in map(self._links.__getitem__, ids)
        ]

    def list_links(
        self, created_by: str | None, target: tuple[TargetKind, str] | None
    ) -> list[Link]:
        """Links made by a user and/or for a target, newest first."""
        found = [
            stored.link
            for stored in self._links.values()
            if (created_by is None or stored.link.created_by == created_by)
            and (target is None or (stored.link.target_kind, stored.link.target_id) == target)
        ]
        return sorted(found, key=lambda link: _order(link.id), reverse=True)

    # -- audit ------------------------------------------------------------------------------

    def add_audit_event(self, event: AuditEvent) -> None:
        """Append an event."""
        self._audit.append(event)

    def audit_events(self, limit: int, before: str | None) -> list[AuditEvent]:
        """Events newest first, older than the event id ``before``."""
        bound = None if before is None else _order(before)
        found = [e for e in self._audit if bound is None or _order(e.id) < bound]
        found.sort(key=lambda event: _order(event.id), reverse=True)
        return found[: max(limit, 0)]
