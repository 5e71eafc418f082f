"""Signed JSON Web Tokens: access tokens, refresh-token envelopes and the sign-in state.

Built on joserfc with an explicit allowlist of one algorithm (HS256), so that ``alg: none``
or an algorithm switch is refused before any claim is read. Every token carries a ``use``
claim naming what it is for; a token is only accepted for that use, so a refresh token can
never be presented as an access token, nor a state cookie or a link visit as either.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from datetime import timedelta
from typing import Any, Final, Literal

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from pinsphere.errors import AuthenticationError

__all__ = ["ALGORITHMS", "TokenSigner", "TokenUse"]

TokenUse = Literal["access", "refresh", "oidc-state", "link-visit", "link-password"]
"""What a token is for."""

ALGORITHMS: Final = ("HS256",)
"""The only signing algorithms accepted."""

_REJECTED = "the token is invalid or has expired"

_CACHE_SIZE: Final = 4096


class TokenSigner:
    """Signs and verifies the service's tokens with one symmetric key.

    Args:
        secret: The signing key (at least 32 characters).
        issuer: The ``iss`` claim written and required.
    """

    def __init__(self, secret: str, issuer: str) -> None:
        self._key = OctKey.import_key(secret.encode())
        self._issuer = issuer
        # Tokens already verified, with their claims: a client sends the same access token
        # with every request, and checking its signature and claims again each time costs
        # more than the rest of a small request's authentication. Only genuine tokens get
        # here; each hit checks the expiry again.
        self._verified: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

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
        key = (token, use)
        with self._lock:
            cached = self._verified.get(key)
            if cached is not None:
                self._verified.move_to_end(key)
        if cached is not None:
            if time.time() < cached["exp"]:
                return dict(cached)
            with self._lock:
                self._verified.pop(key, None)
            raise AuthenticationError(_REJECTED)
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
        claims = dict(decoded.claims)
        if isinstance(claims.get("exp"), int | float):
            with self._lock:
                self._verified[key] = claims
                if len(self._verified) > _CACHE_SIZE:
                    self._verified.popitem(last=False)
        return dict(claims)
