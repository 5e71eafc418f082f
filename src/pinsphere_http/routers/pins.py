"""Pins: upload, list and search, read, change, delete, the original's bytes and thumbnails."""

from __future__ import annotations

import functools
from typing import Annotated, Any, Literal, get_args

import anyio
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from pinsphere import Pin, PinScope, Visibility
from pinsphere.errors import PermissionDenied
from pinsphere_http.dependencies import Access, Context, CurrentUser, Scope
from pinsphere_http.downloads import media_responses, prepare_download, stream_blob
from pinsphere_http.responses import json_model, problems
from pinsphere_http.schemas import PinPage, PinPatch
from pinsphere_http.thumbnails import (
    DEFAULT_WIDTH,
    Width,
    open_thumbnail,
    thumbnail_response,
    thumbnail_responses,
)
from pinsphere_http.uploads import UploadForm, read_upload_form

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/pins", tags=["pins"])

_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "The media; its bytes decide its type.",
                        },
                        "title": {"type": "string"},
                        "description": {"type": "string"},
                        "tags": {
                            "type": "array",
                            "items": {"type": "string"},
                            "description": "Repeat the field, or separate tags with commas.",
                        },
                        "board": {"type": "string", "description": "A board of yours."},
                        "visibility": {"type": "string", "enum": list(get_args(Visibility))},
                    },
                },
                "encoding": {"tags": {"style": "form", "explode": True}},
            }
        },
    }
}


def _tags(form: UploadForm) -> list[str]:
    return [
        tag.strip()
        for value in form.fields.get("tags", [])
        for tag in value.split(",")
        if tag.strip()
    ]


@router.post(
    "",
    status_code=201,
    response_model=Pin,
    summary="Upload a pin",
    openapi_extra=_UPLOAD_BODY,
    responses=problems(400, 401, 403, 413, 415, 422),
)
async def upload_pin(
    request: Request, context: Context, user: CurrentUser, scope: Scope
) -> Response:
    """Store a media file as a new pin owned by the caller.

    The body is streamed: the file is spooled to a temporary file while its size is checked,
    and its type is sniffed from its bytes (the part's Content-Type and file name are
    ignored). A caller who may not upload (a viewer, a read-only API token) gets 403 before
    any of the body is read.
    """
    if not scope.can("upload"):
        raise PermissionDenied("not allowed to upload")
    form = await read_upload_form(
        request,
        max_file_bytes=context.max_upload_bytes,
        max_field_bytes=context.settings.max_form_field_bytes,
    )
    try:
        upload = functools.partial(
            scope.upload,
            form.file,
            title=form.first("title") or "",
            description=form.first("description") or "",
            tags=_tags(form),
            board=form.first("board") or None,
            visibility=form.first("visibility") or "private",
        )
        pin = await anyio.to_thread.run_sync(upload)
    finally:
        form.file.close()
    return json_model(pin, status_code=201, headers={"Location": f"{router.prefix}/{pin.id}"})


@router.get(
    "",
    response_model=PinPage,
    summary="List or search pins",
    responses=problems(400, 401, 422),
)
async def list_pins(
    access: Access,
    q: Annotated[str, Query(max_length=1000, description="The search language.")] = "",
    limit: Annotated[int, Query(ge=1, description="Page size.")] = 20,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    order: Literal["newest", "oldest"] | None = None,
) -> Response:
    """Pins the caller can see that match ``q``, newest first, one page at a time."""
    page = await access.run(lambda scope: scope.search(q, limit=limit, cursor=cursor, order=order))
    return json_model(page)


@router.get("/{pin_id}", response_model=Pin, summary="Get a pin", responses=problems(401, 404))
async def get_pin(pin_id: str, access: Access) -> Response:
    """One pin, if the caller can see it (404 otherwise)."""
    return json_model(await access.run(lambda scope: scope.get(pin_id)))


@router.patch(
    "/{pin_id}",
    response_model=Pin,
    summary="Change a pin",
    responses=problems(401, 403, 404, 422),
)
def update_pin(pin_id: str, changes: PinPatch, user: CurrentUser, scope: Scope) -> Response:
    """Change the title, description, tags or visibility of a pin."""
    pin = scope.update(
        pin_id,
        title=changes.title,
        description=changes.description,
        tags=changes.tags,
        add_tags=changes.add_tags,
        remove_tags=changes.remove_tags,
        visibility=changes.visibility,
    )
    return json_model(pin)


@router.delete(
    "/{pin_id}", status_code=204, summary="Delete a pin", responses=problems(401, 403, 404)
)
def delete_pin(pin_id: str, user: CurrentUser, scope: Scope) -> Response:
    """Delete a pin (and its file, unless another pin has the same bytes)."""
    scope.delete(pin_id)
    return Response(status_code=204)


@router.get(
    "/{pin_id}/media",
    summary="Download the original",
    response_class=Response,
    responses=media_responses(401, 404, 416),
)
async def download_media(
    pin_id: str, request: Request, context: Context, access: Access
) -> Response:
    """The original file, streamed; honours ``Range`` (one range) and ``If-None-Match``."""
    chunk_size = context.settings.download_chunk_size

    def answer(scope: PinScope) -> Response:
        # One worker thread: the caller, the pin and its file (closed again when no body is
        # needed: a 304 or a HEAD).
        pin, file = scope.open_pin(pin_id)
        try:
            early, byte_range = prepare_download(request, pin)
        except BaseException:
            file.close()
            raise
        if early is not None:
            file.close()
            return early
        return stream_blob(file, pin, byte_range, chunk_size=chunk_size)

    return await access.run(answer, holds_resources=True)


router.add_api_route(
    "/{pin_id}/media",
    download_media,
    methods=["HEAD"],
    include_in_schema=False,
    response_class=Response,
)


@router.get(
    "/{pin_id}/thumbnail",
    summary="Download a thumbnail",
    response_class=Response,
    responses=thumbnail_responses(401, 404, 422),
)
async def download_thumbnail(
    pin_id: str,
    request: Request,
    context: Context,
    access: Access,
    width: Width = DEFAULT_WIDTH,
) -> Response:
    """The pin's WebP thumbnail of the width nearest to ``width``; honours ``If-None-Match``.

    404 when the pin is not visible or has no thumbnails (a video, when the server cannot
    read videos). Thumbnails of public pins may be kept by shared caches; the others only
    by the caller's browser.
    """
    settings = context.settings
    chunk_size = settings.download_chunk_size
    if_none_match = request.headers.get("if-none-match")
    head = request.method == "HEAD"
    opened = await access.run(
        lambda scope: open_thumbnail(
            scope,
            pin_id,
            width,
            if_none_match=if_none_match,
            head=head,
            chunk_size=chunk_size,
        ),
        holds_resources=True,
    )
    max_age = int(settings.thumbnail_max_age.total_seconds())
    audience = "public" if opened.pin.visibility == "public" else "private"
    return thumbnail_response(
        opened, cache_control=f"{audience}, max-age={max_age}", chunk_size=chunk_size
    )


router.add_api_route(
    "/{pin_id}/thumbnail",
    download_thumbnail,
    methods=["HEAD"],
    include_in_schema=False,
    response_class=Response,
)
