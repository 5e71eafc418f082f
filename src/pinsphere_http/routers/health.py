"""Liveness and readiness probes for orchestrators and load balancers."""

from __future__ import annotations

import logging

import anyio
from fastapi import APIRouter
from starlette.responses import Response

from pinsphere_http.dependencies import Context
from pinsphere_http.problems import ProblemError
from pinsphere_http.responses import json_model, problems
from pinsphere_http.schemas import BackendState, HealthOut, ReadyOut

__all__ = ["router"]

router = APIRouter(tags=["operations"])

logger = logging.getLogger("pinsphere_http")


@router.get("/healthz", response_model=HealthOut, summary="The process is up")
async def healthz() -> HealthOut:
    """Answers as long as the process serves requests; touches no backend."""
    return HealthOut()


@router.get(
    "/readyz",
    response_model=ReadyOut,
    summary="Every backend answers",
    responses=problems(503),
)
async def readyz(context: Context) -> Response:
    """Pings the metadata, user and blob backends.

    A 503 problem names the backends that did not answer in its ``backends`` member
    (``{"metadata": "ok", "users": "ok", "blobs": "unavailable"}``); why they did not is
    logged, never sent, since a backend's message can name hosts or credentials.
    """
    report = await anyio.to_thread.run_sync(context.store.health)
    states: dict[str, BackendState] = {}
    for name, reason in report.items():
        states[name] = "ok" if reason is None else "unavailable"
        if reason is not None:
            logger.error("readiness: the %s backend is unavailable: %s", name, reason)
    down = [name for name, state in states.items() if state != "ok"]
    if down:
        raise ProblemError(
            503,
            "backend-unavailable",
            f"unavailable: {', '.join(down)}",
            headers={"Retry-After": "5"},
            extensions={"backends": states},
        )
    return json_model(ReadyOut(backends=states))
