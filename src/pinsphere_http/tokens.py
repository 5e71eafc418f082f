"""Signed JSON Web Tokens: access tokens, refresh-token envelopes and the sign-in state.

Built on joserfc with an explicit allowlist of one algorithm (HS256), so that ``alg: none``
or an algorithm switch is refused before any claim is read. Every token carries a ``use``
claim naming what it is for; a token is only accepted for that use, so a refresh token can
never be presented as an access token, nor a state cookie or a link visit as either.
"""

from __future__ import annotations

import secrets
import time
from datetime import timedelta
from typing import Any, Final, Literal

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from pinsphere.errors import AuthenticationError

__all__ = ["ALGORITHMS", "TokenSigner", "TokenUse"]

TokenUse = Literal["access", "refresh", "oidc-state", "link-visit"]
"""What a token is for."""

ALGORITHMS: Final = ("HS256",)
"""The only signing algorithms accepted."""

_REJECTED = "the token is invalid or has expired"


class TokenSigner:
    """Signs and verifies the service's tokens with one symmetric key.

    Args:
        secret: The signing key (at least 32 characters).
        issuer: The ``iss`` claim written and required.
    """

    def __init__(self, secret: str, issuer: str) -> None:
        self._key = OctKey.import_key(secret.encode())
        self._issuer = issuer

    def encode(
        self,
        use: TokenUse,
        subject: str,
        lifetime: timedelta,
        claims: dict[str, Any] | None = None,
    ) -> str:
        """A signed token.

        Args:
            use: What the token is for.
            subject: The ``sub`` claim (a user id, or a random value for state).
            lifetime: Seconds until ``exp``.
            claims: More claims; they cannot override the registered ones.
        """
        now = int(time.time())
        payload = {
            **(claims or {}),
            "iss": self._issuer,
            "sub": subject,
            "use": use,
            "iat": now,
            "exp": now + int(lifetime.total_seconds()),
            "jti": secrets.token_urlsafe(12),
        }
        return jwt.encode({"alg": ALGORITHMS[0], "typ": "JWT"}, payload, self._key, ALGORITHMS)

    def decode(self, token: str, use: TokenUse) -> dict[str, Any]:
        """The claims of a token that is genuine, unexpired and meant for ``use``.

        Raises:
            AuthenticationError: Anything is wrong with it; the message never says what, so
                that it cannot guide a forger.
        """
        registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": self._issuer},
            sub={"essential": True},
            exp={"essential": True},
            use={"essential": True, "value": use},
        )
        try:
            decoded = jwt.decode(token, self._key, algorithms=list(ALGORITHMS))
            registry.validate(decoded.claims)
        except (JoseError, ValueError, TypeError) as exc:
            raise AuthenticationError(_REJECTED) from exc
        return dict(decoded.claims)
