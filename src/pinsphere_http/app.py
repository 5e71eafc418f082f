"""The application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

import pinsphere
from pinsphere import PinStore
from pinsphere_http.client_address import ClientAddressResolver
from pinsphere_http.context import ServiceContext
from pinsphere_http.oidc import OpenIDProvider
from pinsphere_http.openapi import install_openapi
from pinsphere_http.problems import UnexpectedErrorMiddleware, install_problem_handlers
from pinsphere_http.request_id import HEADER, RequestIdLogFilter, RequestIdMiddleware
from pinsphere_http.routers import (
    admin,
    api_tokens,
    audit,
    auth,
    boards,
    direct_uploads,
    google,
    health,
    links,
    pins,
    shared,
    shares,
    tags,
    users,
    web_session,
)
from pinsphere_http.settings import HTTPSettings
from pinsphere_http.signing_key import resolve_secret_key
from pinsphere_http.throttle import DEFAULT_MAX_EVENTS, MemoryThrottle, Throttle, open_throttle
from pinsphere_http.tokens import TokenSigner
from pinsphere_http.ui import router as ui_router

if TYPE_CHECKING:
    from pinsphere_http.redis_throttle import RedisThrottle

__all__ = ["create_app"]

logger = logging.getLogger("pinsphere_http")

_EXPOSED_HEADERS = [
    HEADER,
    "ETag",
    "Content-Range",
    "Content-Disposition",
    "Accept-Ranges",
    "Location",
    "Retry-After",
    shared.VISIT_HEADER,
]


def create_app(
    store: PinStore,
    settings: HTTPSettings | None = None,
    *,
    throttle: Throttle | None = None,
    close_store: bool = False,
) -> FastAPI:
    """A FastAPI app serving ``store`` as the Pinsphere REST API.

    Args:
        store: The store to serve; the app never opens another.
        settings: The service's settings; by default read from ``PINSPHERE_*`` variables.
        throttle: Where sign-in attempts are counted; by default where
            ``settings.throttle_url`` says (this process's memory when it is unset, else
            Redis, shared by every worker), closed when the app shuts down.
        close_store: Close the store when the app shuts down (for app factories that opened
            it themselves).

    Returns:
        The app, ready for any ASGI server.

    Raises:
        UnknownBackend: ``settings.throttle_url`` is a Redis URL and the ``redis`` extra is
            not installed.
    """
    settings = settings or HTTPSettings()
    own_throttle = None
    if throttle is None:
        throttle = own_throttle = _throttle(settings)
    context = ServiceContext(
        store=store,
        settings=settings,
        signer=TokenSigner(resolve_secret_key(settings), settings.token_issuer),
        throttle=throttle,
        client_address=ClientAddressResolver(settings.trusted_proxies),
        max_upload_bytes=settings.max_upload_bytes or store.settings.max_upload_bytes,
        google=_google(settings),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if own_throttle is not None:
            own_throttle.close()
        if close_store:
            store.close()

    app = FastAPI(
        title="Pinsphere",
        version=pinsphere.__version__,
        description="Store, tag, search and share media pins.",
        lifespan=lifespan,
    )
    app.state.pinsphere = context
    # Routes are tried in order, so the busiest (pins, then public links) come first; no two
    # routers' paths overlap, so the order changes nothing else.
    for module in (
        pins,
        shared,
        health,
        auth,
        google,
        users,
        admin,
        audit,
        direct_uploads,
        boards,
        shares,
        tags,
        links,
        api_tokens,
        web_session,
    ):
        app.include_router(module.router)
    app.include_router(ui_router)
    install_problem_handlers(app)
    install_openapi(app)

    # Added innermost first: request ids wrap everything, so even a 500 or a CORS refusal
    # carries one.
    app.add_middleware(UnexpectedErrorMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=settings.cors_allow_credentials,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "Range",
                "If-None-Match",
                "If-Range",
                HEADER,
                shared.PASSWORD_HEADER,
                shared.VISIT_HEADER,
            ],
            expose_headers=_EXPOSED_HEADERS,
            max_age=600,
        )
    app.add_middleware(RequestIdMiddleware)
    _attach_log_filter()
    return app


def _throttle(settings: HTTPSettings) -> MemoryThrottle | RedisThrottle:
    url = settings.throttle_url.get_secret_value() if settings.throttle_url else None
    # Every limit must fit under the per-key cap on stored events, or it could never be met.
    largest = max(
        settings.login_failures_per_user,
        settings.login_failures_per_address,
        settings.signups_per_address,
    )
    return open_throttle(
        url, settings.login_window.total_seconds(), max_events=max(DEFAULT_MAX_EVENTS, largest)
    )


def _google(settings: HTTPSettings) -> OpenIDProvider | None:
    if not (settings.google_client_id and settings.google_client_secret):
        return None
    return OpenIDProvider(
        settings.google_discovery_url,
        settings.google_client_id,
        settings.google_client_secret.get_secret_value(),
    )


def _attach_log_filter() -> None:
    # On the handlers rather than the logger, so records from any library logged while a
    # request is handled carry the id too.
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RequestIdLogFilter) for f in handler.filters):
            handler.addFilter(RequestIdLogFilter())
