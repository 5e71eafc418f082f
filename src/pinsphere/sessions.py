"""Refresh tokens for sign-in sessions: issued, rotated on every use, revoked as families.

A sign-in starts a *family*. Each rotation marks the presented token used and issues the
next one in the same family. A used token presented again can only mean that a copy leaked,
so the whole family is revoked and the legitimate holder has to sign in again — which is
what makes a stolen refresh token short-lived (OAuth 2.0 Security BCP, refresh token
rotation). Only SHA-256 digests of tokens are stored.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from pinsphere.backends.base import RefreshTokenRecord, UserBackend
from pinsphere.errors import AuthenticationError
from pinsphere.models import User
from pinsphere.tokens import digest

__all__ = ["RefreshTokens"]

_REJECTED = "the refresh token is invalid, expired or revoked"


class RefreshTokens:
    """Issues and rotates refresh tokens (``store.refresh_tokens``).

    Args:
        backend: Where tokens are kept.
        lifetime: How long each token stays usable.
    """

    def __init__(self, backend: UserBackend, lifetime: timedelta) -> None:
        self._backend = backend
        self._lifetime = lifetime

    def issue(self, user: User, *, family_id: str | None = None) -> str:
        """A new refresh token for ``user``, starting a family unless one is given.

        Raises:
            NotFound: The user does not exist.
        """
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        self._backend.add_refresh_token(
            RefreshTokenRecord(
                token_hash=digest(token),
                family_id=family_id or secrets.token_urlsafe(16),
                user_id=user.id,
                created_at=now,
                expires_at=now + self._lifetime,
            )
        )
        return token

    def rotate(self, token: str) -> tuple[User, str]:
        """Exchange a refresh token for its user and the next token of its family.

        Raises:
            AuthenticationError: The token is unknown, expired, revoked or used before (then
                its whole family is revoked), or its user is gone or disabled.
        """
        if not isinstance(token, str) or not 20 <= len(token) <= 200:
            raise AuthenticationError(_REJECTED)
        token_hash = digest(token)
        record = self._backend.get_refresh_token(token_hash)
        now = datetime.now(UTC)
        if record is None or record.revoked or record.expires_at <= now:
            raise AuthenticationError(_REJECTED)
        # Losing the race to mark it used means another request presented it first: reuse.
        if record.used_at is not None or not self._backend.use_refresh_token(token_hash, now):
            self._backend.revoke_refresh_tokens(family_id=record.family_id)
            raise AuthenticationError(_REJECTED)
        user = self._backend.get_user(record.user_id)
        if user is None or user.disabled:
            self._backend.revoke_refresh_tokens(family_id=record.family_id)
            raise AuthenticationError(_REJECTED)
        return user, self.issue(user, family_id=record.family_id)

    def revoke(self, token: str) -> None:
        """Sign out: revoke the token's whole family. Unknown tokens are ignored."""
        record = self._backend.get_refresh_token(digest(token)) if token else None
        if record is not None:
            self._backend.revoke_refresh_tokens(family_id=record.family_id)

    def revoke_user(self, user: User | str) -> int:
        """Sign a user out everywhere; returns how many tokens were revoked."""
        user_id = user.id if isinstance(user, User) else user
        return self._backend.revoke_refresh_tokens(user_id=user_id)

    def purge_expired(self) -> int:
        """Delete expired tokens (housekeeping); returns how many."""
        return self._backend.purge_refresh_tokens(datetime.now(UTC))
