"""Tags of the pins the caller can see."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import TypeAdapter
from starlette.responses import Response

from pinsphere import TagCount
from pinsphere_http.dependencies import Scope
from pinsphere_http.responses import json_items, problems

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/tags", tags=["tags"])

_TAGS = TypeAdapter(list[TagCount])


@router.get("", response_model=list[TagCount], summary="List tags", responses=problems(401, 422))
def list_tags(
    scope: Scope,
    prefix: Annotated[str | None, Query(max_length=200, description="Only tags under it.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    """Visible tags with how many visible pins carry each, most used first."""
    return json_items(_TAGS, scope.tags(prefix=prefix, limit=limit))
