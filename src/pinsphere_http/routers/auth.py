"""Sign-in with a password, token refresh, sign-out and self sign-up."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.security import OAuth2PasswordRequestForm
from starlette.responses import Response

from pinsphere.errors import AuthenticationError, Conflict
from pinsphere_http.attempts import LoginAttempt, check_signup_allowed
from pinsphere_http.dependencies import Context
from pinsphere_http.problems import ProblemError
from pinsphere_http.responses import json_model, problems
from pinsphere_http.schemas import AccountOut, SignupRequest, TokenResponse
from pinsphere_http.sessions import end_session, rotate_session, start_session

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

# Tokens must never be cached by anything between the service and the client (RFC 6749 5.1).
_NO_STORE = {"Cache-Control": "no-store"}


@router.post(
    "/token",
    response_model=TokenResponse,
    summary="Sign in with a password",
    responses=problems(401, 422, 429),
)
def sign_in(
    request: Request,
    context: Context,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> Response:
    """The OAuth 2.0 password grant: a username and password for an access token (short
    lived) and a refresh token.

    Failed attempts are throttled per username and per client address (429 with
    ``Retry-After``).
    """
    if len(form.username) > 254 or len(form.password) > 1024:
        raise AuthenticationError("invalid username or password")
    address = context.client_address(request)
    with LoginAttempt(context, form.username, address, reset_on_success=True):
        user = context.store.users.authenticate(form.username, form.password)
    return json_model(start_session(context, user), headers=_NO_STORE)


@router.post(
    "/refresh",
    response_model=TokenResponse,
    summary="Exchange a refresh token",
    responses=problems(401, 422),
)
def refresh(
    context: Context,
    refresh_token: Annotated[str, Form(max_length=4096)],
    grant_type: Annotated[str | None, Form(pattern="^refresh_token$")] = None,
) -> Response:
    """Rotate a refresh token: the one sent is spent and a new pair comes back.

    Sending a spent refresh token again is taken as theft: the whole session (every token
    descended from the same sign-in) is revoked and 401 is returned.
    """
    return json_model(rotate_session(context, refresh_token), headers=_NO_STORE)


@router.post("/logout", status_code=204, summary="Sign out", responses=problems(422))
def logout(context: Context, refresh_token: Annotated[str, Form(max_length=4096)]) -> Response:
    """Revoke the session a refresh token belongs to. Access tokens already issued stay
    valid until they expire (minutes)."""
    end_session(context, refresh_token)
    return Response(status_code=204)


@router.post(
    "/signup",
    status_code=201,
    response_model=AccountOut,
    summary="Create an account",
    responses=problems(403, 409, 422, 429),
)
def signup(request: Request, context: Context, body: SignupRequest) -> Response:
    """Create a member account, when the deployment allows self sign-up.

    A taken username gets a 409 that says no more than that the account could not be
    created; usernames are public (they are shown on pins), so this reveals nothing new.
    No e-mail is taken here (see :class:`SignupRequest`). Attempts are throttled per client
    address.
    """
    if not context.settings.signup_enabled:
        raise ProblemError(403, "signup-disabled", "self sign-up is disabled on this server")
    check_signup_allowed(context, context.client_address(request))
    try:
        user = context.store.users.create(body.username, password=body.password, role="member")
    except Conflict:
        raise ProblemError(
            409, "conflict", "could not create an account with these details"
        ) from None
    return json_model(
        AccountOut.of(user), status_code=201, headers={"Location": "/api/v1/users/me"}
    )
