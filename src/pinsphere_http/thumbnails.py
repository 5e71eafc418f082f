"""Serving a pin's WebP thumbnails: the nearest width, validators, caching and safe headers.

The store keeps a few widths of each picture (and of each video's poster); a request names
the width it would like and gets the nearest one there is. The ``ETag`` names both the
original (its sha256) and the width served, so it changes whenever either does.

Everything that needs the store (the visibility check, the choice of width, opening the
file and, for a thumbnail no bigger than one download chunk, reading it) happens in one
call, :func:`open_thumbnail`, which a route runs in a single worker thread.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import IO, Annotated, Any, Final

import anyio
from fastapi import Query
from starlette.responses import Response, StreamingResponse

from pinsphere import Pin, PinScope
from pinsphere.errors import NotFound
from pinsphere.media.pipeline import nearest_width
from pinsphere_http.downloads import etag_matches
from pinsphere_http.responses import problems

__all__ = [
    "DEFAULT_WIDTH",
    "MAX_WIDTH",
    "THUMBNAIL_TYPE",
    "OpenedThumbnail",
    "Width",
    "open_thumbnail",
    "thumbnail_etag",
    "thumbnail_response",
    "thumbnail_responses",
]

THUMBNAIL_TYPE: Final = "image/webp"
MAX_WIDTH: Final = 4096
DEFAULT_WIDTH: Final = 640

Width = Annotated[
    int,
    Query(
        ge=1,
        le=MAX_WIDTH,
        description="The width wanted, in pixels; the nearest width the pin has is served.",
    ),
]

# A thumbnail is user content too: never sniffed into something else, never a page.
_SAFETY: Final = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


@dataclass(frozen=True, slots=True)
class OpenedThumbnail:
    """What :func:`open_thumbnail` found.

    Attributes:
        pin: The pin.
        width: The width being served.
        etag: Its validator.
        not_modified: The client's copy is current (304; nothing was opened).
        size: Bytes in the file, when known.
        body: The whole file, when it fitted in one chunk (already closed).
        file: The open file to stream (and close), otherwise.
    """

    pin: Pin
    width: int
    etag: str
    not_modified: bool = False
    size: int | None = None
    body: bytes | None = None
    file: IO[bytes] | None = None


def thumbnail_etag(pin: Pin, width: int) -> str:
    """The strong validator of one width of a pin's thumbnail."""
    return f'"{pin.media.sha256}-w{width}"'


def open_thumbnail(
    scope: PinScope,
    pin_id: str,
    width: int,
    *,
    if_none_match: str | None,
    head: bool,
    chunk_size: int,
) -> OpenedThumbnail:
    """Find the thumbnail nearest to ``width`` and open it, if the answer needs its bytes.

    Blocking: call it in a worker thread.

    Args:
        scope: Whoever asks (a user's scope or a public link's).
        pin_id: The pin.
        width: The width wanted.
        if_none_match: The request's ``If-None-Match``.
        head: A HEAD request: the size is needed, the bytes are not.
        chunk_size: A file no bigger than this is read whole, here.

    Raises:
        NotFound: The pin is not visible through ``scope``, or has no thumbnails.
    """
    pin = scope.get(pin_id)
    chosen = nearest_width(pin.thumbnails, width)
    if chosen is None:
        raise NotFound("this pin has no thumbnails")
    etag = thumbnail_etag(pin, chosen)
    if etag_matches(if_none_match, etag):
        return OpenedThumbnail(pin, chosen, etag, not_modified=True)
    file = scope.open_thumbnail(pin_id, chosen)
    try:
        size = _size(file)
        if head or (size is not None and size <= chunk_size):
            body = b"" if head else file.read(chunk_size)
            file.close()
            return OpenedThumbnail(pin, chosen, etag, size=size, body=body)
    except BaseException:
        file.close()
        raise
    return OpenedThumbnail(pin, chosen, etag, size=size, file=file)


def _size(file: IO[bytes]) -> int | None:
    if not file.seekable():
        return None
    size = file.seek(0, io.SEEK_END)
    file.seek(0)
    return size


async def _chunks(file: IO[bytes], chunk_size: int) -> AsyncIterator[bytes]:
    try:
        while data := await anyio.to_thread.run_sync(file.read, chunk_size):
            yield data
    finally:
        # Shielded: on a client disconnect the task is being cancelled, and the file must
        # still be closed.
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(file.close)


def thumbnail_response(
    opened: OpenedThumbnail,
    *,
    cache_control: str,
    chunk_size: int,
    headers: dict[str, str] | None = None,
) -> Response:
    """The answer for an opened thumbnail: 304, HEAD's headers, the bytes, or a stream.

    Args:
        opened: What :func:`open_thumbnail` returned.
        cache_control: The ``Cache-Control`` value.
        chunk_size: Bytes per read when streaming.
        headers: More headers (a public link's visit).
    """
    common = {
        **_SAFETY,
        "Cache-Control": cache_control,
        "ETag": opened.etag,
        **(headers or {}),
    }
    if opened.not_modified:
        return Response(status_code=304, headers=common)
    common["Content-Type"] = THUMBNAIL_TYPE
    if opened.size is not None:
        common["Content-Length"] = str(opened.size)
    if opened.file is None:
        return Response(opened.body or b"", headers=common)
    return StreamingResponse(_chunks(opened.file, chunk_size), headers=common)


def thumbnail_responses(*problem_statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` of a route serving a thumbnail, with its problem answers."""
    return {
        200: {
            "description": "The WebP thumbnail of the width nearest to the one asked for.",
            "content": {THUMBNAIL_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        },
        304: {"description": "Not modified (If-None-Match matched the ETag)."},
        **problems(*problem_statuses),
    }
