"""Google sign-in: OpenID Connect authorization code with PKCE.

The state, nonce and PKCE verifier travel in a short-lived cookie signed by this service,
so that whichever worker receives the callback can finish the sign-in (nothing is kept in
any process).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated, Any, Final

import anyio
from fastapi import APIRouter, Query, Request
from starlette.responses import RedirectResponse, Response

from pinsphere.errors import AuthenticationError
from pinsphere_http.context import ServiceContext
from pinsphere_http.cookies import cookie_is_secure, new_csrf_token, set_session_cookies
from pinsphere_http.dependencies import Context
from pinsphere_http.linking import account_for
from pinsphere_http.oidc import OpenIDProvider
from pinsphere_http.problems import ProblemError
from pinsphere_http.responses import json_model, problems
from pinsphere_http.schemas import TokenResponse
from pinsphere_http.sessions import start_session

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/auth/google", tags=["auth"])

COOKIE: Final = "pinsphere_oidc"
_COOKIE_PATH: Final = router.prefix
_LIFETIME: Final = timedelta(minutes=10)


def _provider(context: ServiceContext) -> OpenIDProvider:
    if context.google is None:
        raise ProblemError(404, "not-found", "Google sign-in is not configured")
    return context.google


def _saved(claims: dict[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str):
        raise AuthenticationError("the sign-in state is incomplete")
    return value


def _redirect_uri(request: Request, context: ServiceContext) -> str:
    return context.settings.google_redirect_url or str(request.url_for("google_callback"))


@router.get(
    "/login",
    status_code=302,
    summary="Start Google sign-in",
    response_class=Response,
    responses={302: {"description": "To Google's consent page."}, **problems(404, 502)},
)
async def google_login(
    request: Request,
    context: Context,
    web: Annotated[
        bool, Query(description="Finish in the web UI: a cookie session and a redirect to /.")
    ] = False,
) -> Response:
    """Redirect the browser to Google, remembering the request in a signed cookie."""
    provider = _provider(context)
    redirect_uri = _redirect_uri(request, context)
    auth = await provider.authorization_request(redirect_uri)
    cookie = context.signer.encode(
        "oidc-state",
        auth.state,
        _LIFETIME,
        {
            "nonce": auth.nonce,
            "verifier": auth.code_verifier,
            "redirect_uri": redirect_uri,
            "web": web,
        },
    )
    response = RedirectResponse(auth.url, status_code=302, headers={"Cache-Control": "no-store"})
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=int(_LIFETIME.total_seconds()),
        path=_COOKIE_PATH,
        secure=cookie_is_secure(request, context),
        httponly=True,
        # Lax: the callback is a top-level navigation from Google, which Lax lets through.
        samesite="lax",
    )
    return response


@router.get(
    "/callback",
    name="google_callback",
    response_model=TokenResponse,
    summary="Finish Google sign-in",
    responses={
        303: {"description": "To the web UI, signed in, when started with `web=true`."},
        **problems(401, 403, 404, 502),
    },
)
async def google_callback(
    request: Request,
    context: Context,
    code: Annotated[str | None, Query(max_length=2048)] = None,
    state: Annotated[str | None, Query(max_length=512)] = None,
    error: Annotated[str | None, Query(max_length=256)] = None,
) -> Response:
    """Exchange Google's code for the account's tokens.

    The e-mail must be verified by Google; it links to the account with that e-mail, or a
    new password-less member account is created.
    """
    provider = _provider(context)
    cookie = request.cookies.get(COOKIE)
    if error is not None or not code or not state or not cookie:
        raise AuthenticationError("the sign-in was cancelled or has expired")
    saved = context.signer.decode(cookie, "oidc-state")
    if not secrets.compare_digest(_saved(saved, "sub"), state):
        raise AuthenticationError("the sign-in does not belong to this browser")
    identity = await provider.identity(
        code,
        redirect_uri=_saved(saved, "redirect_uri"),
        code_verifier=_saved(saved, "verifier"),
        nonce=_saved(saved, "nonce"),
    )
    user = await anyio.to_thread.run_sync(account_for, context.store, identity)
    tokens = await anyio.to_thread.run_sync(start_session, context, user)
    response: Response
    if saved.get("web") is True:
        # The web UI's sign-in: the session goes into HttpOnly cookies, never into the page.
        response = RedirectResponse("/", status_code=303)
        set_session_cookies(response, request, context, user, tokens, new_csrf_token())
    else:
        response = json_model(tokens, headers={"Cache-Control": "no-store"})
    # The cookie is single-use either way; on failure the browser simply starts over.
    response.delete_cookie(COOKIE, path=_COOKIE_PATH)
    return response
