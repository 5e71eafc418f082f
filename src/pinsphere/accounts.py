"""User accounts: creation, authentication and administration (``store.users``)."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import get_args

from pinsphere.audit import AuditLog
from pinsphere.backends.base import UserBackend, UserChanges
from pinsphere.errors import AuthenticationError, InvalidInput, NotFound
from pinsphere.ids import encode_id, new_id
from pinsphere.models import Role, User
from pinsphere.passwords import Passwords
from pinsphere.settings import StoreSettings

__all__ = ["UserManager", "normalize_email", "validate_username"]

_USERNAME = re.compile(r"^[^\W][\w.-]{0,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_BAD_CREDENTIALS = "invalid username or password"


def validate_username(raw: str) -> str:
    """A username as stored: NFC, 1-64 word characters, dots or dashes, starting with a letter
    or digit.

    Raises:
        InvalidInput: The name does not fit.
    """
    name = unicodedata.normalize("NFC", raw.strip()) if isinstance(raw, str) else ""
    if not _USERNAME.match(name) or name.startswith("_"):
        raise InvalidInput(
            "a username is 1-64 letters, digits, '.', '-' or '_', starting with a letter or digit"
        )
    return name


def normalize_email(raw: str | None) -> str | None:
    """An e-mail as stored (trimmed), or ``None``.

    Raises:
        InvalidInput: It does not look like an address.
    """
    if raw is None:
        return None
    email = raw.strip()
    if not email:
        return None
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidInput("not a valid e-mail address")
    return email


def _id(user: User | None) -> str | None:
    return None if user is None else user.id


def _found(user: User | None) -> User:
    if user is None:
        raise NotFound("no such user")
    return user


def _check_role(role: str) -> Role:
    if role not in get_args(Role):
        raise InvalidInput(f"unknown role {role!r}; one of: admin, member, viewer")
    return role  # type: ignore[return-value]


class UserManager:
    """Creates, finds, authenticates and administers users.

    Reached as ``store.users``. These calls are not permission-checked: they are for the
    application embedding the store (and its admin tools). Checked, per-user account actions
    go through ``store.as_user(...)``.
    """

    def __init__(
        self,
        backend: UserBackend,
        settings: StoreSettings,
        passwords: Passwords,
        audit: AuditLog,
    ) -> None:
        self._backend = backend
        self._settings = settings
        self._passwords = passwords
        self._audit = audit

    def _check_password(self, password: str) -> None:
        if not isinstance(password, str) or len(password) < self._settings.min_password_length:
            raise InvalidInput(
                f"a password has at least {self._settings.min_password_length} characters"
            )
        if len(password) > 1024:
            raise InvalidInput("a password has at most 1024 characters")

    def create(
        self,
        username: str,
        *,
        password: str | None = None,
        email: str | None = None,
        role: Role | str = "member",
    ) -> User:
        """Create a user.

        Args:
            username: Unique, compared case-insensitively.
            password: ``None`` makes an account that cannot sign in with a password (for
                example one that signs in through an identity provider).
            email: Unique when given.
            role: ``admin``, ``member`` (default) or ``viewer``.

        Raises:
            Conflict: The username or e-mail is taken.
            InvalidInput: A field is malformed or the password too short.
        """
        name = validate_username(username)
        checked_role = _check_role(role)
        password_hash = None
        if password is not None:
            self._check_password(password)
            password_hash = self._passwords.hash(password)
        user = User(
            id=encode_id(new_id()),
            username=name,
            email=normalize_email(email),
            role=checked_role,
            created_at=datetime.now(UTC),
        )
        return self._backend.create_user(user, password_hash)

    def authenticate(self, username: str, password: str) -> User:
        """The user whose credentials these are.

        Raises:
            AuthenticationError: Unknown user, wrong password or disabled account — one
                message for all three, and the same time taken.
        """
        user = self._backend.find_user(username) if isinstance(username, str) else None
        stored = self._backend.get_password_hash(user.id) if user else None
        ok = self._passwords.verify(stored, password if isinstance(password, str) else "")
        if user is None or not ok or user.disabled:
            raise AuthenticationError(_BAD_CREDENTIALS)
        if stored and self._passwords.needs_rehash(stored):
            self._backend.update_user(
                user.id, UserChanges(password_hash=self._passwords.hash(password))
            )
        return user

    def get(self, user_id: str) -> User:
        """The user with this id.

        Raises:
            NotFound: No such user.
        """
        return _found(self._backend.get_user(user_id))

    def find(self, username: str) -> User:
        """The user with this username (case-insensitive).

        Raises:
            NotFound: No such user.
        """
        return _found(self._backend.find_user(username))

    def find_by_email(self, email: str) -> User:
        """The user with this e-mail (case-insensitive).

        Raises:
            NotFound: No such user.
        """
        return _found(self._backend.find_user_by_email(email))

    def list(self, *, limit: int = 100, after: str | None = None) -> list[User]:
        """Users by username (case-insensitive order), after the given username."""
        return self._backend.list_users(limit=limit, after=after)

    def _update(self, user: User | str, changes: UserChanges) -> User:
        user_id = user.id if isinstance(user, User) else user
        return _found(self._backend.update_user(user_id, changes))

    def set_role(self, user: User | str, role: Role | str, *, actor: User | None = None) -> User:
        """Change a user's role (recorded in the audit trail).

        Args:
            user: The user or their id.
            role: The new role.
            actor: Who made the change, for the audit trail.
        """
        changed = self._update(user, UserChanges(role=_check_role(role)))
        self._audit.record(_id(actor), "role.change", "user", changed.id, role=changed.role)
        return changed

    def set_email(self, user: User | str, email: str | None) -> User:
        """Change a user's e-mail.

        Raises:
            Conflict: Another user has it.
        """
        return self._update(user, UserChanges(email=normalize_email(email) or ""))

    def disable(self, user: User | str, *, actor: User | None = None) -> User:
        """Stop a user from signing in and end their sessions (their pins stay as they are).

        API tokens stop working too: they are refused for disabled users.
        """
        disabled = self._update(user, UserChanges(disabled=True))
        self._backend.revoke_refresh_tokens(user_id=disabled.id)
        self._audit.record(_id(actor), "user.disable", "user", disabled.id)
        return disabled

    def enable(self, user: User | str, *, actor: User | None = None) -> User:
        """Let a disabled user sign in again."""
        enabled = self._update(user, UserChanges(disabled=False))
        self._audit.record(_id(actor), "user.enable", "user", enabled.id)
        return enabled

    def set_password(self, user: User | str, password: str) -> User:
        """Replace a user's password and sign them out everywhere."""
        self._check_password(password)
        updated = self._update(user, UserChanges(password_hash=self._passwords.hash(password)))
        # A new password ends every session the old one started.
        self._backend.revoke_refresh_tokens(user_id=updated.id)
        return updated

    def change_password(self, user: User, old_password: str, new_password: str) -> User:
        """Replace a user's password after checking the current one.

        Raises:
            AuthenticationError: The current password is wrong.
        """
        self.authenticate(user.username, old_password)
        return self.set_password(user, new_password)
