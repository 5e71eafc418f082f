"""Personal API tokens for scripts: create (shown once), list, revoke.

A token is then sent like an access token, ``Authorization: Bearer pst_...``, on any route.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from pydantic import TypeAdapter
from starlette.responses import Response

from pinsphere.models import ApiToken, NewApiToken
from pinsphere_http.dependencies import CurrentUser, Scope
from pinsphere_http.responses import json_items, json_model, problems
from pinsphere_http.schemas import ApiTokenCreate

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])

_TOKENS = TypeAdapter(list[ApiToken])

# The secret is in this answer only; nothing between the service and the client may keep it.
_NO_STORE = {"Cache-Control": "no-store"}


@router.get(
    "", response_model=list[ApiToken], summary="List my API tokens", responses=problems(401, 403)
)
def list_tokens(user: CurrentUser, scope: Scope) -> Response:
    """The caller's tokens, newest first, with when each was last used (never the secret)."""
    return json_items(_TOKENS, scope.api_tokens.list())


@router.post(
    "",
    status_code=201,
    response_model=NewApiToken,
    summary="Create an API token",
    responses=problems(401, 403, 422),
)
def create_token(body: ApiTokenCreate, user: CurrentUser, scope: Scope) -> Response:
    """A named token with the ``read`` scope, or ``read`` and ``write``. Its ``token`` is in
    this answer only: it is stored as a hash and cannot be shown again."""
    token = scope.api_tokens.create(
        body.name,
        scopes=list(body.scopes),
        expires_in=None if body.expires_in is None else timedelta(seconds=body.expires_in),
    )
    return json_model(token, status_code=201, headers=_NO_STORE)


@router.delete(
    "/{token_id}",
    status_code=204,
    summary="Revoke an API token",
    responses=problems(401, 403, 404),
)
def revoke_token(token_id: str, user: CurrentUser, scope: Scope) -> Response:
    """Delete one of the caller's tokens; it stops working at once."""
    scope.api_tokens.revoke(token_id)
    return Response(status_code=204)
