"""The ``memory://`` user backend: accounts and password hashes in dictionaries."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime

from pydantic import ValidationError

from pinsphere.backends.base import (
    RefreshTokenRecord,
    UserBackend,
    UserCapabilities,
    UserChanges,
    keyset_stream,
)
from pinsphere.backends.memory import InMemory, keys_after
from pinsphere.errors import Conflict, InvalidInput, NotFound
from pinsphere.models import ApiToken, User

__all__ = ["MemoryUserBackend"]

# One message for every kind of clash, so that it cannot tell which usernames exist.
_TAKEN = "the username or e-mail is already taken"


class MemoryUserBackend(InMemory, UserBackend):
    """User accounts kept in process memory, guarded by one lock.

    Usernames and e-mails are compared by ``str.casefold``. Users are frozen models, so
    handing them out cannot change what is stored.
    """

    backend_name = "user"
    capabilities = UserCapabilities(shared_between_processes=False)

    def __init__(self) -> None:
        """Start with no accounts."""
        super().__init__()
        self._lock = threading.Lock()
        self._users: dict[str, User] = {}
        self._password_hashes: dict[str, str | None] = {}
        self._refresh: dict[str, RefreshTokenRecord] = {}
        self._api_tokens: dict[str, tuple[ApiToken, str]] = {}

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
            if changes.email:
                owner = self._by_email(changes.email)
                if owner is not None and owner.id != user_id:
                    raise Conflict(_TAKEN)
            updated = _apply(user, changes)
            self._users[user_id] = updated
            if changes.password_hash is not None:
                self._password_hashes[user_id] = changes.password_hash
            return updated

    def delete_user(self, user_id: str) -> bool:
        """Delete the account, its password hash and refresh tokens; ``False`` when absent."""
        with self._lock:
            if self._users.pop(user_id, None) is None:
                return False
            del self._password_hashes[user_id]
            self._refresh = {h: r for h, r in self._refresh.items() if r.user_id != user_id}
            self._api_tokens = {
                i: t for i, t in self._api_tokens.items() if t[0].user_id != user_id
            }
            return True

    def list_users(self, *, limit: int = 100, after: str | None = None) -> list[User]:
        """Up to ``limit`` users by case-folded username, strictly after ``after`` if given."""
        with self._lock:
            users = list(self._users.values())
        position = after.casefold() if after is not None else None
        users = [u for u in users if position is None or u.username.casefold() > position]
        users.sort(key=lambda u: u.username.casefold())
        return users[: max(limit, 0)]

    # -- refresh tokens ---------------------------------------------------------------------

    def add_refresh_token(self, record: RefreshTokenRecord) -> None:
        """Store a newly issued refresh token.

        Raises:
            Conflict: A token with this hash exists.
            NotFound: The user does not exist.
        """
        with self._lock:
            if record.user_id not in self._users:
                raise NotFound("no such user")
            if record.token_hash in self._refresh:
                raise Conflict("the refresh token exists already")
            self._refresh[record.token_hash] = record

    def get_refresh_token(self, token_hash: str) -> RefreshTokenRecord | None:
        """The token with this hash, or ``None``."""
        with self._lock:
            return self._refresh.get(token_hash)

    def use_refresh_token(self, token_hash: str, when: datetime) -> bool:
        """Mark a token used; ``False`` when it was already used, revoked or absent."""
        with self._lock:
            record = self._refresh.get(token_hash)
            if record is None or record.used_at is not None or record.revoked:
                return False
            self._refresh[token_hash] = record.model_copy(update={"used_at": when})
            return True

    def revoke_refresh_tokens(
        self, *, family_id: str | None = None, user_id: str | None = None
    ) -> int:
        """Revoke every token of a family or of a user; returns how many were newly revoked."""
        if family_id is None and user_id is None:
            raise InvalidInput("name a token family or a user")
        with self._lock:
            hits = [
                r
                for r in self._refresh.values()
                if not r.revoked
                and (family_id is None or r.family_id == family_id)
                and (user_id is None or r.user_id == user_id)
            ]
            for record in hits:
                self._refresh[record.token_hash] = record.model_copy(update={"revoked": True})
            return len(hits)

    def purge_refresh_tokens(self, expired_before: datetime) -> int:
        """Delete tokens that expired before ``expired_before``."""
        with self._lock:
            keep = {h: r for h, r in self._refresh.items() if r.expires_at >= expired_before}
            purged = len(self._refresh) - len(keep)
            self._refresh = keep
            return purged

    # -- API tokens -------------------------------------------------------------------------

    def add_api_token(self, token: ApiToken, token_hash: str) -> None:
        """Store a new API token.

        Raises:
            NotFound: The user does not exist.
        """
        with self._lock:
            if token.user_id not in self._users:
                raise NotFound("no such user")
            self._api_tokens[token.id] = (token, token_hash)

    def find_api_token(self, token_hash: str) -> ApiToken | None:
        """The token with this digest, or ``None``."""
        with self._lock:
            return next((t for t, h in self._api_tokens.values() if h == token_hash), None)

    def touch_api_token(self, token_id: str, when: datetime) -> None:
        """Record that the token was used."""
        with self._lock:
            found = self._api_tokens.get(token_id)
            if found is not None:
                token, token_hash = found
                self._api_tokens[token_id] = (
                    token.model_copy(update={"last_used_at": when}),
                    token_hash,
                )

    def list_api_tokens(self, user_id: str) -> list[ApiToken]:
        """A user's tokens, newest first."""
        with self._lock:
            tokens = [t for t, _ in self._api_tokens.values() if t.user_id == user_id]
        return sorted(tokens, key=lambda t: (t.created_at, t.id), reverse=True)

    def delete_api_token(self, token_id: str, user_id: str) -> bool:
        """Delete one of a user's tokens."""
        with self._lock:
            found = self._api_tokens.get(token_id)
            if found is None or found[0].user_id != user_id:
                return False
            del self._api_tokens[token_id]
            return True

    # -- moving records to another backend --------------------------------------------------

    def export_api_tokens(self, *, page_size: int = 500) -> Iterator[tuple[ApiToken, str]]:
        """Every API token with its digest, by ascending id.

        Raises:
            InvalidInput: ``page_size`` is below 1.
        """
        return keyset_stream(self._api_token_page, lambda record: record[0].id, page_size)

    def _api_token_page(self, after: str | None, limit: int) -> list[tuple[ApiToken, str]]:
        with self._lock:
            ids = keys_after(self._api_tokens, after, limit)
            return [self._api_tokens[token_id] for token_id in ids]

    def import_api_token(self, token: ApiToken, token_hash: str) -> None:
        """Store an API token exactly as exported elsewhere (``last_used_at`` included).

        Raises:
            Conflict: A token with this id or digest exists.
            NotFound: The user does not exist.
        """
        with self._lock:
            if token.user_id not in self._users:
                raise NotFound("no such user")
            if token.id in self._api_tokens or any(
                stored_hash == token_hash for _, stored_hash in self._api_tokens.values()
            ):
                raise Conflict("an API token with this id or digest exists already")
            self._api_tokens[token.id] = (token, token_hash)

    def export_refresh_tokens(self, *, page_size: int = 500) -> Iterator[RefreshTokenRecord]:
        """Every refresh token, by ascending hash.

        Raises:
            InvalidInput: ``page_size`` is below 1.
        """
        return keyset_stream(self._refresh_page, lambda record: record.token_hash, page_size)

    def _refresh_page(self, after: str | None, limit: int) -> list[RefreshTokenRecord]:
        with self._lock:
            hashes = keys_after(self._refresh, after, limit)
            return [self._refresh[token_hash] for token_hash in hashes]

    def import_refresh_token(self, record: RefreshTokenRecord) -> None:
        """Store a refresh token exactly as exported elsewhere (used, revoked or not).

        :meth:`add_refresh_token` already stores every field of the record it is given.

        Raises:
            Conflict: A token with this hash exists.
            NotFound: The user does not exist.
        """
        self.add_refresh_token(record)

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
    if changes.email == "":
        fields["email"] = None
    try:
        return User.model_validate(fields)
    except ValidationError as exc:
        raise InvalidInput(f"invalid user change: {exc}") from exc
