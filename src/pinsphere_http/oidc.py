"""An OpenID Connect relying party for the authorization-code flow with PKCE (Google).

authlib builds the authorization request and the PKCE challenge; joserfc verifies the ID
token (RS256 only, signature from the provider's JWKS, ``iss``, ``aud``, ``exp`` and the
``nonce`` this service sent). The provider's discovery document and keys are cached for an
hour: an optional cache, which no other worker needs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Final

import httpx
from authlib.common.security import generate_token  # type: ignore[import-untyped]
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri  # type: ignore[import-untyped]
from authlib.oauth2.rfc7636 import create_s256_code_challenge  # type: ignore[import-untyped]
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from pinsphere.errors import AuthenticationError
from pinsphere_http.problems import ProblemError

__all__ = ["AuthorizationRequest", "OpenIDProvider", "VerifiedIdentity"]

ID_TOKEN_ALGORITHMS: Final = ("RS256",)
_CACHE_SECONDS: Final = 3600.0
_TIMEOUT: Final = httpx.Timeout(10.0)


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the browser, and what must come back with it.

    Attributes:
        url: The provider's authorization URL.
        state: Ties the callback to this browser (CSRF).
        nonce: Ties the ID token to this request (replay).
        code_verifier: The PKCE secret the code is exchanged with.
    """

    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class VerifiedIdentity:
    """What a verified ID token says about the person.

    Attributes:
        subject: The provider's stable id for them.
        email: Their e-mail, if given.
        email_verified: Whether the provider vouches for the e-mail.
    """

    subject: str
    email: str | None
    email_verified: bool


def _unreachable() -> ProblemError:
    return ProblemError(502, "identity-provider-error", "the sign-in provider did not answer")


class OpenIDProvider:
    """One OpenID Connect provider, configured by its discovery document.

    Args:
        discovery_url: The ``.well-known/openid-configuration`` URL.
        client_id: This service's client id at the provider.
        client_secret: Its client secret.
    """

    def __init__(self, discovery_url: str, client_id: str, client_secret: str) -> None:
        self._discovery_url = discovery_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._metadata: tuple[float, dict[str, Any]] | None = None
        self._keys: tuple[float, KeySet] | None = None

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=_TIMEOUT) as client:
                response = await client.get(url)
                response.raise_for_status()
                body = response.json()
        except (httpx.HTTPError, ValueError):
            raise _unreachable() from None
        if not isinstance(body, dict):
            raise _unreachable()
        return body

    async def metadata(self) -> dict[str, Any]:
        """The discovery document (cached)."""
        now = time.monotonic()
        if self._metadata is None or self._metadata[0] < now:
            document = await self._get_json(self._discovery_url)
            needed = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
            if not all(isinstance(document.get(name), str) for name in needed):
                raise _unreachable()
            self._metadata = (now + _CACHE_SECONDS, document)
        return self._metadata[1]

    async def _key_set(self, *, refresh: bool = False) -> KeySet:
        now = time.monotonic()
        if refresh or self._keys is None or self._keys[0] < now:
            document = await self._get_json((await self.metadata())["jwks_uri"])
            try:
                keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
            except (JoseError, ValueError, TypeError, KeyError):
                raise _unreachable() from None
            self._keys = (now + _CACHE_SECONDS, keys)
        return self._keys[1]

    async def authorization_request(self, redirect_uri: str) -> AuthorizationRequest:
        """A fresh authorization request with its state, nonce and PKCE verifier."""
        endpoint = (await self.metadata())["authorization_endpoint"]
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        url = prepare_grant_uri(
            endpoint,
            client_id=self._client_id,
            response_type="code",
            redirect_uri=redirect_uri,
            scope="openid email profile",
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
        )
        return AuthorizationRequest(str(url), state, nonce, verifier)

    async def identity(
        self, code: str, *, redirect_uri: str, code_verifier: str, nonce: str
    ) -> VerifiedIdentity:
        """Exchange an authorization code and verify the ID token that comes back.

        Raises:
            AuthenticationError: The provider refused the code, or the ID token is not
                genuine, not for this client, expired, or not for this request.
            ProblemError: The provider could not be reached (502).
        """
        token_endpoint = (await self.metadata())["token_endpoint"]
        try:
            async with httpx.AsyncClient(timeout=_TIMEOUT) as client:
                response = await client.post(
                    token_endpoint,
                    data={
                        "grant_type": "authorization_code",
                        "code": code,
                        "redirect_uri": redirect_uri,
                        "code_verifier": code_verifier,
                    },
                    auth=(self._client_id, self._client_secret),
                    headers={"Accept": "application/json"},
                )
        except httpx.HTTPError:
            raise _unreachable() from None
        if response.status_code != 200:
            raise AuthenticationError("the sign-in provider refused the code")
        try:
            id_token = response.json()["id_token"]
        except (ValueError, KeyError, TypeError):
            raise AuthenticationError("the sign-in provider sent no ID token") from None
        claims = await self._verify(str(id_token), nonce)
        return VerifiedIdentity(
            subject=str(claims["sub"]),
            email=claims.get("email") if isinstance(claims.get("email"), str) else None,
            # Some providers send the flag as a string.
            email_verified=claims.get("email_verified") in (True, "true"),
        )

    async def _verify(self, id_token: str, nonce: str) -> dict[str, Any]:
        registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": (await self.metadata())["issuer"]},
            aud={"essential": True, "value": self._client_id},
            sub={"essential": True},
            exp={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        for refresh in (False, True):
            # A key id we do not know may mean the provider rotated its keys: fetch once more.
            keys = await self._key_set(refresh=refresh)
            try:
                token = jwt.decode(id_token, keys, algorithms=list(ID_TOKEN_ALGORITHMS))
                registry.validate(token.claims)
            except (JoseError, ValueError, TypeError) as exc:
                if refresh or "key" not in type(exc).__name__.lower():
                    raise AuthenticationError("the ID token is not valid") from exc
                continue
            return dict(token.claims)
        raise AuthenticationError("the ID token is not valid")  # pragma: no cover
