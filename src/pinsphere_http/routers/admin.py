"""User administration (admins only), through the store's checked and audited ``scope.admin``."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from pinsphere.errors import InvalidQuery
from pinsphere_http.dependencies import CurrentUser, Scope
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
    user: CurrentUser,
    scope: Scope,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    """Every account, by username, one page at a time (keyset on the username)."""
    after = _decode_cursor(cursor) if cursor else None
    users = scope.admin.list_users(limit=limit + 1, after=after)
    next_cursor = _encode_cursor(users[limit - 1].username) if len(users) > limit else None
    items = [AccountOut.of(found) for found in users[:limit]]
    page = UserPage(items=items, next_cursor=next_cursor)
    return json_model(page)


@router.get(
    "/{username}",
    response_model=AccountOut,
    summary="Get a user",
    responses=problems(401, 403, 404),
)
def get_user(username: str, user: CurrentUser, scope: Scope) -> Response:
    """One account."""
    return json_model(AccountOut.of(scope.admin.get_user(username)))


@router.patch(
    "/{username}",
    response_model=AccountOut,
    summary="Change a user's role or disable them",
    responses=problems(401, 403, 404, 409, 422),
)
def update_user(username: str, body: AdminUserPatch, user: CurrentUser, scope: Scope) -> Response:
    """Change a role, or disable (which ends the user's sessions and API tokens) or re-enable
    an account.

    Admins cannot change their own role or disable themselves (409), so that a slip cannot
    leave a server without an administrator; the store enforces it and records every change
    with its actor in the audit trail.
    """
    admin = scope.admin
    target = admin.get_user(username)
    if body.role is not None and body.role != target.role:
        target = admin.set_role(target.username, body.role)
    if body.disabled is not None and body.disabled != target.disabled:
        target = admin.disable(target.username) if body.disabled else admin.enable(target.username)
    return json_model(AccountOut.of(target))


@router.delete(
    "/{username}",
    status_code=204,
    summary="Delete a user and their pins",
    responses=problems(401, 403, 404, 409),
)
def delete_user(username: str, user: CurrentUser, scope: Scope) -> Response:
    """Delete an account with every pin and board it owns (409 for the caller's own: use
    ``DELETE /api/v1/users/me``)."""
    scope.admin.delete_user(username)
    return Response(status_code=204)
