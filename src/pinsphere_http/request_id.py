"""A request id for every request: taken from ``X-Request-ID`` when sane, else made up,
returned in the response, and attached to every log record written while handling it.
"""

from __future__ import annotations

import contextvars
import logging
import os
import re
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["HEADER", "RequestIdLogFilter", "RequestIdMiddleware", "current_request_id"]

HEADER: Final = "X-Request-ID"

# A client's id is echoed into logs and headers, so only short, plain ids are trusted.
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "pinsphere_request_id", default=None
)


def current_request_id() -> str | None:
    """The id of the request being handled, if any."""
    return _request_id.get()


class RequestIdLogFilter(logging.Filter):
    """Adds ``record.request_id`` (``-`` outside a request) so formats can print it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get() or "-"
        return True


class RequestIdMiddleware:
    """Pure ASGI middleware (no body buffering) that assigns the request id.

    The id is also put in ``scope["state"]["request_id"]`` so that handlers running outside
    this context (the server's last-resort error handler) can still report it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _incoming_id(scope)
        request_id = incoming if incoming and _ACCEPTABLE.match(incoming) else os.urandom(16).hex()
        scope.setdefault("state", {})["request_id"] = request_id
        token = _request_id.set(request_id)
        encoded = request_id.encode("ascii")

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                # Rarely there already (a handler copying the incoming one): replaced then.
                if any(name.lower() == b"x-request-id" for name, _ in headers):
                    headers = [pair for pair in headers if pair[0].lower() != b"x-request-id"]
                headers.append((b"x-request-id", encoded))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _request_id.reset(token)


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            try:
                return str(value.decode("ascii"))
            except UnicodeDecodeError:
                return None
    return None
