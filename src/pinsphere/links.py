"""Following a public link: ``store.open_link(token)`` gives a read-only scope that sees
only the link's pin, or its board and the pins the board's owner put on it.

The link is checked again on every call through the scope, so revoking it (or deleting its
target) stops a scope that is already open, and every blob read made through it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import IO

from pinsphere.errors import AuthenticationError, NotFound, PermissionDenied
from pinsphere.models import Board, Link, Pin
from pinsphere.policy import AccessRule, Principal, link_rule
from pinsphere.store import PinScope, PinStore
from pinsphere.tokens import digest

__all__ = ["LinkScope", "open_link"]

_GONE = "no such link"  # unknown, revoked, expired and used up all read the same


def _usable(link: Link, now: datetime, *, counting: bool) -> bool:
    # A visit that counts needs a use left; follow-up requests of a visit already counted
    # (its media, say) may still come after the last use was taken.
    uses_left = link.max_uses is None or (
        link.uses < link.max_uses if counting else link.uses <= link.max_uses
    )
    return (
        link.revoked_at is None and (link.expires_at is None or link.expires_at > now) and uses_left
    )


def open_link(
    store: PinStore,
    token: str,
    *,
    password: str | None = None,
    count_use: bool = True,
    password_proven: bool = False,
) -> LinkScope:
    """Open a public link.

    Args:
        store: The store.
        token: The link's token.
        password: The link's password, when it has one.
        count_use: Count this as one of the link's uses (off for follow-up requests of
            one visit, such as fetching the media of a page already opened).
        password_proven: The caller already checked this visitor's password for this
            link (the HTTP service's signed proof): it is not verified again, which spares
            a deliberately slow hash on every request of a visit (each range of a video).

    Raises:
        NotFound: Unknown, revoked, expired or used-up link.
        AuthenticationError: The link needs a password and this one is missing or wrong.
    """
    found = store.metadata.find_link(digest(token)) if isinstance(token, str) else None
    now = datetime.now(UTC)
    if found is None or not _usable(found[0], now, counting=count_use):
        raise NotFound(_GONE)
    link, password_hash = found
    if (
        link.has_password
        and not password_proven
        and (password is None or not store.passwords.verify(password_hash, password))
    ):
        raise AuthenticationError("this link needs its password")
    if count_use and not store.metadata.use_link(link.id, now):
        raise NotFound(_GONE)
    return LinkScope(store, link)


class LinkScope(PinScope):
    """What a visitor holding a public link may see: read-only, the link's target only.

    Attributes:
        link: The link being followed (as it was when opened).
    """

    def __init__(self, store: PinStore, link: Link) -> None:
        super().__init__(store, Principal(None), read_only=True)
        self.link = link
        self._link_rule = link_rule(link.target_kind, link.target_id)

    @property
    def access(self) -> AccessRule:
        """The link's rule, after checking that the link still works.

        Raises:
            NotFound: The link was revoked, expired or its target deleted since it was opened.
        """
        current = self._store.metadata.get_link(self.link.id)
        if current is None or current.revoked_at is not None:
            raise NotFound(_GONE)
        if current.expires_at is not None and current.expires_at <= datetime.now(UTC):
            raise NotFound(_GONE)
        return self._link_rule

    @property
    def target(self) -> Pin | Board:
        """The linked pin or board."""
        if self.link.target_kind == "pin":
            return self.get(self.link.target_id)
        return self.boards.get(self.link.target_id)

    def open_pin(self, pin_id: str) -> tuple[Pin, IO[bytes]]:
        """A pin and its original, if the link allows downloads (``open`` goes through here).

        Raises:
            PermissionDenied: The link does not allow reading originals.
        """
        if not self.link.allow_download:
            self.get(pin_id)  # invisible pins stay NotFound
            raise PermissionDenied("this link does not allow downloads")
        return super().open_pin(pin_id)
