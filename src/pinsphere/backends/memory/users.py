"""The ``memory://`` user backend: accounts and password hashes in dictionaries."""

from __future__ import annotations

import threading
from typing import Self

from pydantic import ValidationError

from pinsphere.backends.base import UserBackend, UserCapabilities, UserChanges
from pinsphere.backends.memory import parse_memory_url
from pinsphere.errors import BackendUnavailable, Conflict, InvalidInput
from pinsphere.models import User

__all__ = ["MemoryUserBackend"]

# One message for every kind of clash, so that it cannot tell which usernames exist.
_TAKEN = "the username or e-mail is already taken"


class MemoryUserBackend(UserBackend):
    """User accounts kept in process memory, guarded by one lock.

    Usernames and e-mails are compared by ``str.casefold``. Users are frozen models, so
    handing them out cannot change what is stored.
    """

    capabilities = UserCapabilities(shared_between_processes=False)

    def __init__(self) -> None:
        """Start with no accounts."""
        self._lock = threading.Lock()
        self._users: dict[str, User] = {}
        self._password_hashes: dict[str, str | None] = {}
        self._closed = False

    @classmethod
    def from_url(cls, url: str) -> Self:
        """Open a fresh, empty store for ``memory://``.

        Raises:
            InvalidInput: The URL is not ``memory://`` or carries options.
        """
        parse_memory_url(url)
        return cls()

    def close(self) -> None:
        """Mark the store closed; :meth:`ping` fails afterwards, the data stays readable."""
        self._closed = True

    def ping(self) -> None:
        """Check the store is open.

        Raises:
            BackendUnavailable: :meth:`close` was called.
        """
        if self._closed:
            raise BackendUnavailable("the memory user backend is closed")

    def create_user(self, user: User, password_hash: str | None) -> User:
        """Store a new user.

        Raises:
            Conflict: The id, username or e-mail is taken (the message does not say which).
        """
        with self._lock:
            if (
                user.id in self._users
                or self._by_username(user.username) is not None
                or (user.email is not None and self._by_email(user.email) is not None)
            ):
                raise Conflict(_TAKEN)
            self._users[user.id] = user
            self._password_hashes[user.id] = password_hash
            return user

    def get_user(self, user_id: str) -> User | None:
        """The user with this id, or ``None``."""
        with self._lock:
            return self._users.get(user_id)

    def find_user(self, username: str) -> User | None:
        """The user with this username (case-insensitive), or ``None``."""
        with self._lock:
            return self._by_username(username)

    def find_user_by_email(self, email: str) -> User | None:
        """The user with this e-mail (case-insensitive), or ``None``."""
        with self._lock:
            return self._by_email(email)

    def get_password_hash(self, user_id: str) -> str | None:
        """The stored password hash, or ``None`` (no password set, or no such user)."""
        with self._lock:
            return self._password_hashes.get(user_id)

    def update_user(self, user_id: str, changes: UserChanges) -> User | None:
        """Apply ``changes``; ``None`` when absent.

        Raises:
            Conflict: The new e-mail belongs to another user.
            InvalidInput: The new role is not a known role.
        """
        with self._lock:
            user = self._users.get(user_id)
            if user is None:
                return None
            if changes.email is not None:
                owner = self._by_email(changes.email)
                if owner is not None and owner.id != user_id:
                    raise Conflict(_TAKEN)
            updated = _apply(user, changes)
            self._users[user_id] = updated
            if changes.password_hash is not None:
                self._password_hashes[user_id] = changes.password_hash
            return updated

    def delete_user(self, user_id: str) -> bool:
        """Delete the account and its password hash; ``False`` when absent."""
        with self._lock:
            if self._users.pop(user_id, None) is None:
                return False
            del self._password_hashes[user_id]
            return True

    def list_users(self, *, limit: int = 100, after: str | None = None) -> list[User]:
        """Up to ``limit`` users by case-folded username, strictly after ``after`` if given."""
        with self._lock:
            users = list(self._users.values())
        position = after.casefold() if after is not None else None
        users = [u for u in users if position is None or u.username.casefold() > position]
        users.sort(key=lambda u: u.username.casefold())
        return users[: max(limit, 0)]

    # -- helpers (called with the lock held) ------------------------------------------------

    def _by_username(self, username: str) -> User | None:
        key = username.casefold()
        return next((u for u in self._users.values() if u.username.casefold() == key), None)

    def _by_email(self, email: str) -> User | None:
        key = email.casefold()
        return next(
            (u for u in self._users.values() if u.email is not None and u.email.casefold() == key),
            None,
        )


def _apply(user: User, changes: UserChanges) -> User:
    """The user with ``changes`` applied, validated as a whole (a role must be known).

    Raises:
        InvalidInput: The changed user is not valid.
    """
    fields = user.model_dump()
    fields.update(
        {
            name: value
            for name, value in changes.model_dump(include={"email", "role", "disabled"}).items()
            if value is not None
        }
    )
    try:
        return User.model_validate(fields)
    except ValidationError as exc:
        raise InvalidInput(f"invalid user change: {exc}") from exc
