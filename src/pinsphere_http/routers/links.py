"""Public links: make one to a pin or board, list them, revoke them.

Visitors follow a link through the anonymous routes under ``/api/v1/shared/{token}`` (see
:mod:`pinsphere_http.routers.shared`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import TypeAdapter
from starlette.responses import Response

from pinsphere.models import Link
from pinsphere_http.dependencies import CurrentUser, Scope
from pinsphere_http.responses import json_items, json_model, problems
from pinsphere_http.schemas import CreatedLink, LinkCreate

__all__ = ["SHARED_PREFIX", "router"]

router = APIRouter(prefix="/api/v1/links", tags=["links"])

SHARED_PREFIX = "/api/v1/shared"

_LINKS = TypeAdapter(list[Link])

# The token is in this answer only; nothing between the service and the client may keep it.
_NO_STORE = {"Cache-Control": "no-store"}


@router.post(
    "",
    status_code=201,
    response_model=CreatedLink,
    summary="Make a public link",
    responses=problems(401, 403, 404, 422),
)
def create_link(body: LinkCreate, user: CurrentUser, scope: Scope) -> Response:
    """A link to one of the caller's pins or boards that anyone holding it can open, with an
    optional expiry, number of visits and password, and whether it lets visitors download
    originals. The ``token`` (and the ``url`` made from it) is shown only in this answer."""
    link = scope.create_link(
        body.target_id,
        expires_in=None if body.expires_in is None else timedelta(seconds=body.expires_in),
        max_uses=body.max_uses,
        password=body.password,
        allow_download=body.allow_download,
    )
    created = CreatedLink(**link.model_dump(), url=f"{SHARED_PREFIX}/{link.token}")
    return json_model(created, status_code=201, headers=_NO_STORE)


@router.get("", response_model=list[Link], summary="List links", responses=problems(401, 403, 404))
def list_links(
    user: CurrentUser,
    scope: Scope,
    target: Annotated[
        str | None,
        Query(max_length=64, description="Every link of this pin or board of yours."),
    ] = None,
) -> Response:
    """The links the caller made, newest first, or every link of one of the caller's pins
    or boards (with ``target``). Tokens are never shown again."""
    return json_items(_LINKS, scope.links(target))


@router.delete(
    "/{link_id}", status_code=204, summary="Revoke a link", responses=problems(401, 403, 404)
)
def revoke_link(link_id: str, user: CurrentUser, scope: Scope) -> Response:
    """Revoke a link: every request through it fails from now on, including downloads of
    media already being browsed (idempotent)."""
    scope.revoke_link(link_id)
    return Response(status_code=204)
