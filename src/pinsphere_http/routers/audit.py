"""The audit trail of permission changes (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from pinsphere_http.dependencies import CurrentUser, Scope
from pinsphere_http.responses import json_model, problems
from pinsphere_http.schemas import AuditPage

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/admin/audit", tags=["admin"])


@router.get("", response_model=AuditPage, summary="The audit trail", responses=problems(401, 403))
def list_events(
    user: CurrentUser,
    scope: Scope,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: Annotated[
        str | None,
        Query(max_length=64, description="An event id: only older events (keyset paging)."),
    ] = None,
) -> Response:
    """Shares, links, role changes, account changes and token changes, newest first: who
    did what to which object, and when. Page with ``next_before``."""
    events = scope.audit(limit=limit + 1, before=before)
    next_before = events[limit - 1].id if len(events) > limit else None
    return json_model(AuditPage(items=events[:limit], next_before=next_before))
