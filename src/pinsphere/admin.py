"""User administration as an admin (``scope.admin``): checked, and recorded with its actor.

``store.users`` serves the embedding application and checks nothing; these calls are what a
service exposes to its admins. An admin cannot demote, disable or delete their own account
here, so that a slip cannot lock the last admin out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pinsphere.errors import Conflict
from pinsphere.models import Role, User

if TYPE_CHECKING:
    from pinsphere.store import PinScope

__all__ = ["AdminManager"]


class AdminManager:
    """Admin operations on users for one caller.

    Args:
        scope: The caller's scope; every call needs the ``manage_users`` permission.
    """

    def __init__(self, scope: PinScope) -> None:
        self._scope = scope
        self._store = scope._store

    def _admin(self, *, reading: bool = False) -> User:
        return self._scope._require("manage_users", reading=reading)

    def _other(self, username: str, action: str) -> tuple[User, User]:
        actor = self._admin()
        target = self._store.users.find(username)
        if target.id == actor.id:
            raise Conflict(f"an admin cannot {action} their own account")
        return actor, target

    def list_users(self, *, limit: int = 100, after: str | None = None) -> list[User]:
        """Users by username (case-insensitive order), after the given username.

        Raises:
            PermissionDenied: The caller is not an admin.
        """
        self._admin(reading=True)
        return self._store.users.list(limit=limit, after=after)

    def get_user(self, username: str) -> User:
        """One user.

        Raises:
            PermissionDenied: The caller is not an admin.
            NotFound: No such user.
        """
        self._admin(reading=True)
        return self._store.users.find(username)

    def set_role(self, username: str, role: Role | str) -> User:
        """Change another user's role.

        Raises:
            PermissionDenied: The caller is not an admin.
            Conflict: It is the caller's own account.
        """
        actor, target = self._other(username, "change the role of")
        return self._store.users.set_role(target, role, actor=actor)

    def disable(self, username: str) -> User:
        """Stop another user from signing in and end their sessions and tokens."""
        actor, target = self._other(username, "disable")
        return self._store.users.disable(target, actor=actor)

    def enable(self, username: str) -> User:
        """Let a disabled user sign in again."""
        actor, target = self._other(username, "enable")
        return self._store.users.enable(target, actor=actor)

    def delete_user(self, username: str) -> None:
        """Delete another user's account and every pin and board they own."""
        actor, target = self._other(username, "delete")
        self._store.delete_user(target, actor=actor)
