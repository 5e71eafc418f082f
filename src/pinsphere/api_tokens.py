"""Personal API tokens for scripts: named, scoped (``read``, ``write``), hashed at rest,
shown once, revocable, with the time they were last used."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, get_args

from pinsphere.errors import AuthenticationError, InvalidInput, NotFound, PermissionDenied
from pinsphere.ids import encode_id, new_id
from pinsphere.models import ApiToken, NewApiToken, Scope
from pinsphere.policy import Principal
from pinsphere.tokens import digest, new_secret

if TYPE_CHECKING:
    from pinsphere.store import PinScope, PinStore

__all__ = ["API_TOKEN_PREFIX", "ApiTokenManager", "scope_for_token"]

API_TOKEN_PREFIX = "pst_"  # noqa: S105 - a public prefix, not a secret
"""API tokens start with this, so leaked ones are easy to recognise."""

MAX_TOKEN_NAME_LENGTH = 100

# Recording every use would turn each read into a write; once a minute is precise enough.
_TOUCH_INTERVAL = timedelta(minutes=1)


def _check_scopes(scopes: tuple[str, ...] | list[str]) -> tuple[Scope, ...]:
    allowed = get_args(Scope)
    if not scopes or any(scope not in allowed for scope in scopes):
        raise InvalidInput("an API token's scopes are read and/or write")
    return tuple(sorted(set(scopes)))  # type: ignore[arg-type]


class ApiTokenManager:
    """One user's API tokens (``scope.api_tokens``).

    Args:
        scope: The signed-in user's scope.
    """

    def __init__(self, scope: PinScope) -> None:
        self._scope = scope
        self._store = scope._store

    def _owner(self) -> str:
        user = self._scope.user
        if user is None or user.disabled or self._scope.read_only:
            raise PermissionDenied("only a signed-in user manages API tokens")
        return user.id

    def create(
        self,
        name: str,
        *,
        scopes: tuple[str, ...] | list[str] = ("read",),
        expires_in: timedelta | None = None,
    ) -> NewApiToken:
        """Make a token. Its secret is in the result only: it is not stored.

        Raises:
            InvalidInput: Empty or over-long name, unknown scope, bad lifetime.
            PermissionDenied: Not a signed-in user (or itself a read-only token's scope).
        """
        owner = self._owner()
        label = name.strip() if isinstance(name, str) else ""
        if not 1 <= len(label) <= MAX_TOKEN_NAME_LENGTH:
            raise InvalidInput(f"a token's name has 1 to {MAX_TOKEN_NAME_LENGTH} characters")
        if expires_in is not None and expires_in <= timedelta(0):
            raise InvalidInput("a token's lifetime must be positive")
        secret = new_secret(API_TOKEN_PREFIX)
        now = datetime.now(UTC)
        token = NewApiToken(
            id=encode_id(new_id()),
            user_id=owner,
            name=label,
            scopes=_check_scopes(scopes),
            created_at=now,
            expires_at=None if expires_in is None else now + expires_in,
            token=secret,
        )
        stored = ApiToken.model_validate(token.model_dump(exclude={"token"}))
        self._store.user_backend.add_api_token(stored, digest(secret))
        self._store.audit.record(owner, "token.create", "token", token.id, name=label)
        return token

    def list(self) -> list[ApiToken]:
        """The caller's tokens, newest first (without their secrets)."""
        return self._store.user_backend.list_api_tokens(self._owner())

    def revoke(self, token_id: str) -> None:
        """Delete one of the caller's tokens; it stops working at once.

        Raises:
            NotFound: The caller has no such token.
        """
        owner = self._owner()
        if not self._store.user_backend.delete_api_token(token_id, owner):
            raise NotFound("no such token")
        self._store.audit.record(owner, "token.revoke", "token", token_id)


def scope_for_token(store: PinStore, secret: str) -> PinScope:
    """The scope an API token acts in: its user's, read-only unless it has ``write``.

    Raises:
        AuthenticationError: Unknown, expired, or its user is gone or disabled.
    """
    from pinsphere.store import PinScope

    token = store.user_backend.find_api_token(digest(secret)) if isinstance(secret, str) else None
    now = datetime.now(UTC)
    if token is None or (token.expires_at is not None and token.expires_at <= now):
        raise AuthenticationError("the API token is invalid or expired")
    user = store.user_backend.get_user(token.user_id)
    if user is None or user.disabled:
        raise AuthenticationError("the API token is invalid or expired")
    if token.last_used_at is None or now - token.last_used_at >= _TOUCH_INTERVAL:
        store.user_backend.touch_api_token(token.id, now)
    return PinScope(store, Principal(user), read_only="write" not in token.scopes)
