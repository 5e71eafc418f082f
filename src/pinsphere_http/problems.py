"""Errors as RFC 9457 problem details (``application/problem+json``).

:data:`ERROR_TABLE` is the one place where the :mod:`pinsphere.errors` tree meets HTTP status
codes. Details the caller can act on (a bad tag, the position of a query error) are passed
on; anything that could describe the servers behind the store (backend messages, stack
traces) is logged with the request id and replaced by a generic text.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pinsphere import errors
from pinsphere_http.request_id import current_request_id

__all__ = [
    "ERROR_TABLE",
    "PROBLEM_MEDIA_TYPE",
    "ErrorMapping",
    "FieldProblem",
    "Problem",
    "ProblemError",
    "ProblemResponse",
    "UnexpectedErrorMiddleware",
    "install_problem_handlers",
    "problem_response",
]

PROBLEM_MEDIA_TYPE: Final = "application/problem+json"
TYPE_PREFIX: Final = "tag:pinsphere.dev,2025:problems/"

logger = logging.getLogger("pinsphere_http")


class FieldProblem(BaseModel):
    """One invalid part of a request."""

    loc: list[str | int] = Field(description="Where: e.g. ['body', 'title'] or ['query', 'limit'].")
    msg: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem document; ``type`` names the kind of problem."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="A URI naming the kind of problem.")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = Field(default=None, description="The request path.")
    request_id: str | None = Field(default=None, description="Quote it when reporting a bug.")
    errors: list[FieldProblem] | None = Field(
        default=None, description="The invalid fields of a 422."
    )
    position: int | None = Field(
        default=None, description="Where in the search text an invalid query went wrong."
    )
    limit: int | None = Field(default=None, description="The size limit of a 413, in bytes.")
    backends: dict[str, str] | None = Field(
        default=None, description="Each backend's state, in a 503 from the readiness probe."
    )


class ProblemResponse(JSONResponse):
    """A JSON response with the problem media type."""

    media_type = PROBLEM_MEDIA_TYPE


class ProblemError(Exception):
    """An HTTP-level failure raised by the service itself (not by the store).

    Args:
        status: The HTTP status.
        slug: The last part of the problem type URI.
        detail: A human-readable explanation, safe to show.
        headers: Extra response headers.
        extensions: Extra members of the problem document.
    """

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or slug)
        self.status = status
        self.slug = slug
        self.detail = detail
        self.headers = dict(headers or {})
        self.extensions = dict(extensions or {})


@dataclass(frozen=True)
class ErrorMapping:
    """How one class of the store's errors is answered.

    Attributes:
        error: The exception class (subclasses match too).
        status: The HTTP status.
        slug: The problem type's last part.
        public_detail: Whether the error's message may be shown; otherwise ``generic``.
        generic: The detail shown when the message is not.
        headers: Response headers to add.
    """

    error: type[errors.PinsphereError]
    status: int
    slug: str
    public_detail: bool = True
    generic: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


ERROR_TABLE: Final[Sequence[ErrorMapping]] = (
    # Most specific first: the first matching row answers.
    ErrorMapping(errors.NotFound, 404, "not-found"),
    ErrorMapping(errors.PermissionDenied, 403, "forbidden"),
    ErrorMapping(
        errors.AuthenticationError,
        401,
        "unauthorized",
        public_detail=False,
        generic="invalid credentials or token",
        headers={"WWW-Authenticate": 'Bearer realm="pinsphere"'},
    ),
    ErrorMapping(errors.Conflict, 409, "conflict"),
    ErrorMapping(errors.InvalidMedia, 415, "unsupported-media"),
    ErrorMapping(errors.TooLarge, 413, "too-large"),
    ErrorMapping(errors.InvalidQuery, 400, "invalid-query"),
    ErrorMapping(errors.InvalidInput, 422, "invalid-input"),
    ErrorMapping(
        errors.UnknownBackend,
        503,
        "backend-unavailable",
        public_detail=False,
        generic="the service is misconfigured; see its log",
    ),
    ErrorMapping(
        errors.BackendUnavailable,
        503,
        "backend-unavailable",
        public_detail=False,
        generic="a storage backend is unavailable; try again later",
        headers={"Retry-After": "5"},
    ),
    ErrorMapping(
        errors.PinsphereError,
        500,
        "internal-error",
        public_detail=False,
        generic="an unexpected error occurred",
    ),
)


def mapping_for(error: errors.PinsphereError) -> ErrorMapping:
    """The first row of :data:`ERROR_TABLE` that the error belongs to."""
    for row in ERROR_TABLE:
        if isinstance(error, row.error):
            return row
    raise AssertionError("the table ends with the root class")  # pragma: no cover


def problem_response(
    status: int,
    slug: str,
    detail: str | None,
    *,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> ProblemResponse:
    """Build a problem response.

    Args:
        status: HTTP status.
        slug: The problem type's last part (``about:blank`` is used for plain HTTP errors).
        detail: The explanation shown to the caller.
        instance: The request path.
        headers: Extra headers.
        extensions: Extra members.
    """
    body: dict[str, Any] = {
        "type": "about:blank" if slug == "about:blank" else TYPE_PREFIX + slug,
        "title": _title(status),
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    request_id = current_request_id()
    if request_id:
        body["request_id"] = request_id
    body.update(extensions or {})
    return ProblemResponse(body, status_code=status, headers=dict(headers or {}))


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _store_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.PinsphereError)
    row = mapping_for(exc)
    if not row.public_detail and row.status >= 500:
        # Backend messages may name hosts, paths or credentials: they go to the log only.
        logger.error(
            "%s on %s %s", type(exc).__name__, request.method, request.url.path, exc_info=exc
        )
    extensions: dict[str, Any] = {}
    if isinstance(exc, errors.InvalidQuery) and exc.position is not None:
        extensions["position"] = exc.position
    if isinstance(exc, errors.TooLarge):
        extensions["limit"] = exc.limit
    return problem_response(
        row.status,
        row.slug,
        str(exc) if row.public_detail else row.generic,
        instance=request.url.path,
        headers=row.headers,
        extensions=extensions,
    )


def _service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return problem_response(
        exc.status,
        exc.slug,
        exc.detail,
        instance=request.url.path,
        headers=exc.headers,
        extensions=exc.extensions,
    )


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code in (204, 304):  # statuses without a body are not problems
        return Response(status_code=exc.status_code, headers=exc.headers)
    detail = exc.detail if isinstance(exc.detail, str) else None
    return problem_response(
        exc.status_code, "about:blank", detail, instance=request.url.path, headers=exc.headers
    )


def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # Only where and why: pydantic's "input" would echo the submitted value (a password).
    fields = [
        {"loc": list(item.get("loc", ())), "msg": item.get("msg", ""), "type": item.get("type", "")}
        for item in exc.errors()
    ]
    return problem_response(
        422,
        "invalid-input",
        "the request is not valid",
        instance=request.url.path,
        extensions={"errors": fields},
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every handled error of ``app`` with a problem document."""
    app.add_exception_handler(errors.PinsphereError, _store_error)
    app.add_exception_handler(ProblemError, _service_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)


class UnexpectedErrorMiddleware:
    """Turns any unhandled exception into a generic 500 problem, logged with the request id.

    It replaces Starlette's last-resort handler so that the answer is a problem document and
    still passes through the request-id and CORS middleware outside it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            logger.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise  # too late for a clean answer; let the server drop the connection
            response = problem_response(
                500, "internal-error", "an unexpected error occurred", instance=scope.get("path")
            )
            await response(scope, receive, send)
