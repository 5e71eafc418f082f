"""The signed-in user's own account."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from pinsphere.errors import AuthenticationError
from pinsphere_http.attempts import LoginAttempt
from pinsphere_http.dependencies import Context, CurrentUser, SessionUser
from pinsphere_http.problems import ProblemError
from pinsphere_http.responses import json_model, problems
from pinsphere_http.schemas import AccountOut, PasswordChange

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/users/me", tags=["users"])


@router.get("", response_model=AccountOut, summary="Who am I", responses=problems(401))
def me(user: CurrentUser) -> Response:
    """The signed-in user's account."""
    return json_model(AccountOut.of(user))


@router.post(
    "/password",
    status_code=204,
    summary="Change my password",
    responses=problems(401, 403, 422, 429),
)
def change_password(
    request: Request, context: Context, user: SessionUser, body: PasswordChange
) -> Response:
    """Replace the password after checking the current one; every session is signed out.

    A wrong current password is 403 (the access token itself is fine), and counts against
    the same throttle as a failed sign-in, so that a stolen access token cannot be used to
    guess the password. API tokens cannot change passwords (403).
    """
    try:
        with LoginAttempt(context, user.username, context.client_address(request)):
            context.store.users.change_password(user, body.current_password, body.new_password)
    except AuthenticationError:
        raise ProblemError(403, "wrong-password", "the current password is wrong") from None
    return Response(status_code=204)


@router.delete("", status_code=204, summary="Delete my account", responses=problems(401, 403))
def delete_me(context: Context, user: SessionUser) -> Response:
    """Delete the account and every pin and board it owns (not with an API token: 403)."""
    context.store.delete_user(user, actor=user)
    return Response(status_code=204)
