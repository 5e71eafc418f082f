"""User administration (admins only)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from pinsphere.errors import InvalidQuery
from pinsphere_http.dependencies import Admin, Context
from pinsphere_http.problems import ProblemError
from pinsphere_http.responses import json_model, problems
from pinsphere_http.schemas import AccountOut, AdminUserPatch, UserPage

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/admin/users", tags=["admin"])


def _encode_cursor(username: str) -> str:
    return base64.urlsafe_b64encode(username.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidQuery("the cursor is not valid") from None


@router.get("", response_model=UserPage, summary="List users", responses=problems(400, 401, 403))
def list_users(
    context: Context,
    admin: Admin,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    """Every account, by username, one page at a time (keyset on the username)."""
    after = _decode_cursor(cursor) if cursor else None
    users = context.store.users.list(limit=limit + 1, after=after)
    next_cursor = _encode_cursor(users[limit - 1].username) if len(users) > limit else None
    page = UserPage(items=[AccountOut.of(user) for user in users[:limit]], next_cursor=next_cursor)
    return json_model(page)


@router.get(
    "/{username}",
    response_model=AccountOut,
    summary="Get a user",
    responses=problems(401, 403, 404),
)
def get_user(username: str, context: Context, admin: Admin) -> Response:
    """One account."""
    return json_model(AccountOut.of(context.store.users.find(username)))


@router.patch(
    "/{username}",
    response_model=AccountOut,
    summary="Change a user's role or disable them",
    responses=problems(401, 403, 404, 409, 422),
)
def update_user(username: str, body: AdminUserPatch, context: Context, admin: Admin) -> Response:
    """Change a role, or disable (which ends the user's sessions) or re-enable an account.

    Admins cannot demote or disable themselves here, so that a slip cannot leave a server
    without an administrator.
    """
    users = context.store.users
    target = users.find(username)
    demoting = body.role is not None and body.role != "admin"
    if target.id == admin.id and (demoting or body.disabled):
        raise ProblemError(409, "conflict", "ask another administrator to demote or disable you")
    if body.role is not None and body.role != target.role:
        target = users.set_role(target, body.role)
    if body.disabled is not None and body.disabled != target.disabled:
        target = users.disable(target) if body.disabled else users.enable(target)
    return json_model(AccountOut.of(target))


@router.delete(
    "/{username}",
    status_code=204,
    summary="Delete a user and their pins",
    responses=problems(401, 403, 404, 409),
)
def delete_user(username: str, context: Context, admin: Admin) -> Response:
    """Delete an account with every pin and board it owns."""
    target = context.store.users.find(username)
    if target.id == admin.id:
        raise ProblemError(409, "conflict", "delete your own account with DELETE /api/v1/users/me")
    context.store.delete_user(target)
    return Response(status_code=204)
