"""The web UI: its pages, its static assets and the little configuration it reads.

The app is plain HTML, CSS and JavaScript modules in ``pinsphere_http/static`` (no build
step). Every page of it is the same ``index.html``; the script routes by path. The assets
are read once, when the router is made, and answered from memory with an ``ETag``.

Every UI answer carries a strict Content-Security-Policy (:data:`CONTENT_SECURITY_POLICY`):
scripts, styles and media from this origin only, no inline code, and Trusted Types enforced
so that no string ever becomes markup.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Annotated, Final

from fastapi import APIRouter, Header, Path
from pydantic import BaseModel, Field
from starlette.responses import Response

from pinsphere_http.dependencies import Context
from pinsphere_http.problems import ProblemError
from pinsphere_http.responses import json_model

__all__ = ["CONTENT_SECURITY_POLICY", "SECURITY_HEADERS", "UIConfig", "router"]

CONTENT_SECURITY_POLICY: Final = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "manifest-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    )
)
"""The policy of every UI answer."""

SECURITY_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # Public link pages have their token in the path: never send it to another site.
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "X-Frame-Options": "DENY",
}
"""Headers sent with the UI's pages and assets."""

_TYPES: Final = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}

router = APIRouter()


@dataclass(frozen=True, slots=True)
class _Asset:
    body: bytes
    media_type: str
    etag: str


def _load(folder: Traversable, prefix: str = "") -> dict[str, _Asset]:
    assets: dict[str, _Asset] = {}
    for entry in folder.iterdir():
        name = prefix + entry.name
        if entry.is_dir():
            assets.update(_load(entry, name + "/"))
            continue
        suffix = "." + entry.name.rpartition(".")[2]
        media_type = _TYPES.get(suffix) or mimetypes.guess_type(entry.name)[0]
        if media_type is None:
            continue
        body = entry.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        assets[name] = _Asset(body, media_type, etag)
    return assets


_ASSETS: Final = _load(resources.files("pinsphere_http") / "static")
_INDEX: Final = "index.html"

IfNoneMatch = Annotated[str | None, Header(alias="If-None-Match", max_length=1024)]


def _answer(asset: _Asset, if_none_match: str | None) -> Response:
    headers = {**SECURITY_HEADERS, "ETag": asset.etag, "Cache-Control": "no-cache"}
    if if_none_match and asset.etag in {tag.strip() for tag in if_none_match.split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


def _page(if_none_match: str | None) -> Response:
    return _answer(_ASSETS[_INDEX], if_none_match)


@router.get("/", include_in_schema=False)
def home(if_none_match: IfNoneMatch = None) -> Response:
    """The app: the grid of pins, search and upload."""
    return _page(if_none_match)


@router.get("/signin", include_in_schema=False)
@router.get("/admin", include_in_schema=False)
@router.get("/boards", include_in_schema=False)
def section(if_none_match: IfNoneMatch = None) -> Response:
    """A section of the app (the script shows it)."""
    return _page(if_none_match)


@router.get("/pins/{pin_id}", include_in_schema=False)
@router.get("/boards/{board_id}", include_in_schema=False)
@router.get("/s/{token}", include_in_schema=False)
def item_page(if_none_match: IfNoneMatch = None) -> Response:
    """A pin, a board, or a public link's page (the script loads what it shows)."""
    return _page(if_none_match)


@router.get("/static/{name:path}", include_in_schema=False)
def asset(
    name: Annotated[str, Path(max_length=200)], if_none_match: IfNoneMatch = None
) -> Response:
    """One of the app's files."""
    found = _ASSETS.get(name)
    if found is None or name == _INDEX:
        raise ProblemError(404, "not-found", "no such file")
    return _answer(found, if_none_match)


class UIConfig(BaseModel):
    """What the web UI needs to know about this service."""

    google: bool = Field(description="Whether 'Sign in with Google' is offered.")
    signup: bool = Field(description="Whether visitors may create accounts.")
    max_upload_bytes: int = Field(description="The largest file accepted.")
    allowed_types: list[str] = Field(description="The media types uploads may have.")
    thumbnails: bool = Field(
        description="Whether `/api/v1/pins/{pin_id}/thumbnail` serves the widths a pin lists."
    )


config_router = APIRouter(prefix="/api/v1/config", tags=["config"])


@config_router.get("", response_model=UIConfig, summary="The web UI's configuration")
async def ui_config(context: Context) -> Response:
    """Which sign-in methods are on, what uploads may be, and whether thumbnails are served."""
    config = UIConfig(
        google=context.google is not None,
        signup=context.settings.signup_enabled,
        max_upload_bytes=context.max_upload_bytes,
        allowed_types=sorted(context.store.settings.allowed_types),
        thumbnails=True,
    )
    return json_model(config)


router.include_router(config_router)
