"""Cookie sessions for browsers (see :mod:`pinsphere_http.cookies` for the design)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Header, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from pinsphere.errors import AuthenticationError
from pinsphere_http.attempts import LoginAttempt
from pinsphere_http.cookies import (
    CSRF_HEADER,
    REFRESH_COOKIE,
    REFRESH_PATH,
    check_csrf_pair,
    clear_session_cookies,
    new_csrf_token,
    set_session_cookies,
)
from pinsphere_http.dependencies import Context
from pinsphere_http.problems import ProblemError
from pinsphere_http.responses import json_model, problems
from pinsphere_http.schemas import AccountOut
from pinsphere_http.sessions import end_session, rotate_session, start_session

__all__ = ["SessionOut", "router"]

router = APIRouter(prefix=REFRESH_PATH, tags=["auth"])

_CSRF_DOC = (
    "Any non-empty value on sign-in (a header that cross-site forms cannot send); on "
    "refresh, the value of the `pinsphere_csrf` cookie."
)
CsrfHeader = Annotated[str | None, Header(alias=CSRF_HEADER, max_length=256, description=_CSRF_DOC)]


class SessionOut(BaseModel):
    """A browser session just started or refreshed; its tokens are in HttpOnly cookies."""

    user: AccountOut
    expires_in: int = Field(description="Seconds until the session must be refreshed.")


@router.post(
    "",
    response_model=SessionOut,
    summary="Sign in with a password (browser session)",
    responses=problems(401, 403, 422, 429),
)
def open_session(
    request: Request,
    context: Context,
    username: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_header: CsrfHeader = None,
) -> Response:
    """Check a username and password and keep the session in cookies that scripts cannot
    read (``HttpOnly``, ``SameSite=Strict``, ``Secure`` over HTTPS), plus a readable CSRF
    token to send back in ``X-CSRF-Token`` on every change. Throttled like
    ``POST /api/v1/auth/token``."""
    if not csrf_header:
        raise ProblemError(403, "csrf", f"send the {CSRF_HEADER} header to sign in")
    address = context.client_address(request)
    with LoginAttempt(context, username, address, reset_on_success=True):
        user = context.store.users.authenticate(username, password)
    tokens = start_session(context, user)
    answer = SessionOut(user=AccountOut.of(user), expires_in=tokens.expires_in)
    response = json_model(answer)
    set_session_cookies(response, request, context, user, tokens, new_csrf_token())
    return response


@router.post(
    "/refresh",
    response_model=SessionOut,
    summary="Refresh a browser session",
    responses=problems(401, 403),
)
def refresh_session(request: Request, context: Context, csrf_header: CsrfHeader = None) -> Response:
    """Rotate the session's refresh cookie and sign a new access cookie. A refresh token
    used twice ends the whole session (401)."""
    csrf = check_csrf_pair(request)
    refresh = request.cookies.get(REFRESH_COOKIE)
    if not refresh:
        raise AuthenticationError("no session to refresh")
    tokens = rotate_session(context, refresh)
    user = context.store.users.get(str(context.signer.decode(refresh, "refresh")["sub"]))
    if user.disabled:
        raise AuthenticationError("the account is disabled")
    answer = SessionOut(user=AccountOut.of(user), expires_in=tokens.expires_in)
    response = json_model(answer)
    set_session_cookies(response, request, context, user, tokens, csrf)
    return response


@router.delete("", status_code=204, summary="Sign out (browser session)")
def close_session(request: Request, context: Context) -> Response:
    """Revoke the session's refresh token and remove its cookies (idempotent). No CSRF
    token is needed: the worst a forged sign-out can do is sign someone out, and
    ``SameSite=Strict`` already keeps cross-site requests from carrying the cookies."""
    refresh = request.cookies.get(REFRESH_COOKIE)
    if refresh:
        end_session(context, refresh)
    response = Response(status_code=204)
    clear_session_cookies(response, request, context)
    return response
