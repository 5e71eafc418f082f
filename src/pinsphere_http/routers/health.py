"""Liveness and readiness probes for orchestrators and load balancers."""

from __future__ import annotations

import anyio
from fastapi import APIRouter

from pinsphere_http.dependencies import Context
from pinsphere_http.responses import problems
from pinsphere_http.schemas import HealthOut

__all__ = ["router"]

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=HealthOut, summary="The process is up")
async def healthz() -> HealthOut:
    """Answers as long as the process serves requests; touches no backend."""
    return HealthOut()


@router.get(
    "/readyz",
    response_model=HealthOut,
    summary="Every backend answers",
    responses=problems(503),
)
async def readyz(context: Context) -> HealthOut:
    """Pings the metadata, user and blob backends; 503 when one does not answer."""
    await anyio.to_thread.run_sync(context.store.check)
    return HealthOut()
