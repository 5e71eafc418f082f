"""Cookie sessions for the web UI: tokens that page scripts can never read.

A browser that signs in through ``POST /api/v1/auth/session`` gets three cookies:

* ``pinsphere_access`` (HttpOnly, ``Path=/``): a signed access token, the same kind the
  password flow returns, with one extra claim: ``csrf``, the SHA-256 digest of the CSRF
  token below. The token inside expires as usual (minutes); the cookie itself lives as long
  as the refresh token, so that an expired session is a 401 the page can act on rather than
  a silent fall back to anonymous browsing.
* ``pinsphere_refresh`` (HttpOnly, ``Path=/api/v1/auth/session``): the refresh token,
  rotated by ``POST /api/v1/auth/session/refresh`` with the store's reuse detection.
* ``pinsphere_csrf`` (readable by scripts, ``Path=/``): a random CSRF token.

All three are ``SameSite=Strict`` and ``Secure`` whenever the request came over HTTPS (or
``cookie_secure`` says so).

**CSRF.** A request authenticated by the cookie with an unsafe method must carry the CSRF
token in the ``X-CSRF-Token`` header, and its digest must match the ``csrf`` claim of the
signed access token (a *signed* double submit: a cookie planted by a sibling subdomain does
not help an attacker, since it is not the one the session was signed with). Cross-site pages
can neither read the cookie nor send a custom header without a CORS preflight. Requests
with an ``Authorization`` header never look at the cookies.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from http.cookies import Morsel
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response

from pinsphere import User
from pinsphere_http.context import ServiceContext
from pinsphere_http.problems import ProblemError
from pinsphere_http.schemas import TokenResponse

__all__ = [
    "ACCESS_COOKIE",
    "CSRF_COOKIE",
    "CSRF_HEADER",
    "REFRESH_COOKIE",
    "REFRESH_PATH",
    "SAFE_METHODS",
    "check_csrf_pair",
    "clear_session_cookies",
    "cookie_is_secure",
    "csrf_digest",
    "session_claims",
    "set_session_cookies",
    "strict_cookie",
]

ACCESS_COOKIE: Final = "pinsphere_access"
REFRESH_COOKIE: Final = "pinsphere_refresh"
CSRF_COOKIE: Final = "pinsphere_csrf"
CSRF_HEADER: Final = "X-CSRF-Token"
REFRESH_PATH: Final = "/api/v1/auth/session"
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})

CSRF_CLAIM: Final = "csrf"


def csrf_digest(token: str) -> str:
    """The digest of a CSRF token, as kept in the access token's ``csrf`` claim."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_csrf_token() -> str:
    """A fresh random CSRF token."""
    return secrets.token_urlsafe(32)


def _forbidden(detail: str) -> ProblemError:
    return ProblemError(403, "csrf", detail)


def session_claims(request: Request, context: ServiceContext) -> dict[str, Any] | None:
    """The access-token claims of a cookie session, or ``None`` without the cookie.

    Raises:
        AuthenticationError: The cookie's token is forged or has expired (401: refresh it).
        ProblemError: An unsafe method without the matching ``X-CSRF-Token`` header (403).
    """
    token = request.cookies.get(ACCESS_COOKIE)
    if not token:
        return None
    claims = context.signer.decode(token, "access")
    if request.method not in SAFE_METHODS:
        expected = claims.get(CSRF_CLAIM)
        sent = request.headers.get(CSRF_HEADER)
        if not isinstance(expected, str) or not sent:
            raise _forbidden(f"send the {CSRF_HEADER} header with cookie sessions")
        if not hmac.compare_digest(csrf_digest(sent), expected):
            raise _forbidden(f"the {CSRF_HEADER} header does not match the session")
    return claims


def check_csrf_pair(request: Request) -> str:
    """Plain double submit, for requests made before a signed session exists (a refresh
    whose access token has expired): the header must equal the CSRF cookie.

    Returns:
        The CSRF token, to keep for the next access token.

    Raises:
        ProblemError: The header is missing or differs from the cookie (403).
    """
    cookie = request.cookies.get(CSRF_COOKIE) or ""
    sent = request.headers.get(CSRF_HEADER) or ""
    if not cookie or not hmac.compare_digest(cookie.encode(), sent.encode()):
        raise _forbidden(f"the {CSRF_HEADER} header must match the {CSRF_COOKIE} cookie")
    return cookie


def cookie_is_secure(request: Request, context: ServiceContext) -> bool:
    """Whether cookies get ``Secure``: as configured, else when the request came by HTTPS."""
    configured = context.settings.cookie_secure
    return request.url.scheme == "https" if configured is None else configured


def strict_cookie(name: str, value: str, *, path: str, max_age: int, secure: bool) -> str:
    """The ``Set-Cookie`` header value of an HttpOnly, ``SameSite=Strict`` cookie.

    For answers whose headers are handed over as a mapping rather than set on a response.
    """
    morsel: Morsel[str] = Morsel()
    morsel.set(name, value, value)
    morsel["path"] = path
    morsel["max-age"] = str(max_age)
    morsel["httponly"] = True
    morsel["samesite"] = "Strict"
    if secure:
        morsel["secure"] = True
    return morsel.OutputString()


def set_session_cookies(
    response: Response,
    request: Request,
    context: ServiceContext,
    user: User,
    tokens: TokenResponse,
    csrf: str,
) -> None:
    """Put a session on ``response``: the access token re-signed with the CSRF claim, the
    refresh token, and the CSRF token.

    Args:
        response: The answer that carries the cookies.
        request: The request (its scheme decides ``Secure``).
        context: The service.
        user: Who signed in.
        tokens: The session's tokens (its access token is replaced by one bound to ``csrf``).
        csrf: The CSRF token of the session.
    """
    settings = context.settings
    lifetime = int(context.store.settings.refresh_token_lifetime.total_seconds())
    access = context.signer.encode(
        "access", user.id, settings.access_token_lifetime, {CSRF_CLAIM: csrf_digest(csrf)}
    )
    secure = cookie_is_secure(request, context)
    common: dict[str, Any] = {"max_age": lifetime, "secure": secure, "samesite": "strict"}
    response.set_cookie(ACCESS_COOKIE, access, path="/", httponly=True, **common)
    if tokens.refresh_token:
        response.set_cookie(
            REFRESH_COOKIE, tokens.refresh_token, path=REFRESH_PATH, httponly=True, **common
        )
    response.set_cookie(CSRF_COOKIE, csrf, path="/", httponly=False, **common)
    response.headers["Cache-Control"] = "no-store"


def clear_session_cookies(response: Response, request: Request, context: ServiceContext) -> None:
    """Remove the session's cookies from the browser."""
    secure = cookie_is_secure(request, context)
    for name, path, httponly in (
        (ACCESS_COOKIE, "/", True),
        (REFRESH_COOKIE, REFRESH_PATH, True),
        (CSRF_COOKIE, "/", False),
    ):
        response.delete_cookie(name, path=path, secure=secure, httponly=httponly, samesite="strict")
    response.headers["Cache-Control"] = "no-store"
