"""Streaming a pin's original: ranges, validators and the headers that keep user content inert.

The blob is read in ``download_chunk_size`` pieces (1 MiB by default) in a worker thread, so
a slow backend never blocks the event loop and no more than one chunk is in memory.
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import IO, Any, Final
from urllib.parse import quote

import anyio
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from pinsphere import Pin
from pinsphere_http.problems import ProblemError
from pinsphere_http.responses import problems

__all__ = [
    "ByteRange",
    "Unsatisfiable",
    "content_disposition",
    "etag_matches",
    "etag_of",
    "head_of",
    "media_headers",
    "media_responses",
    "parse_range",
    "prepare_download",
    "stream_blob",
]

# User content is served as-is, so it must not run as a page of this origin: no sniffing into
# HTML, and a sandbox with nothing allowed should a browser render it anyway.
SAFETY_HEADERS: Final = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private",
    "Accept-Ranges": "bytes",
}

_EXTENSIONS: Final = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "video/mp4": ".mp4",
    "video/webm": ".webm",
    "video/quicktime": ".mov",
}
_RANGE: Final = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")
_UNSAFE_NAME: Final = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;]+')


@dataclass(frozen=True)
class ByteRange:
    """An inclusive byte range ``start..end`` of a file."""

    start: int
    end: int

    @property
    def length(self) -> int:
        """Bytes in the range."""
        return self.end - self.start + 1


class Unsatisfiable(Exception):  # noqa: N818 - reads as the HTTP term it stands for
    """The requested range lies outside the file (416)."""


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The single range a ``Range`` header asks for.

    Anything this server does not serve as a range (no header, another unit, several ranges,
    malformed text) gives ``None``: RFC 9110 lets a server ignore ``Range`` and send the
    whole file, which is always a correct answer.

    Raises:
        Unsatisfiable: The one range asked for starts past the end of the file.
    """
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    match = _RANGE.match(spec)
    if match is None or (not match[1] and not match[2]):
        return None
    first, last = match[1], match[2]
    if not first:  # a suffix: the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise Unsatisfiable
        return ByteRange(max(size - suffix, 0), size - 1)
    start = int(first)
    if last and int(last) < start:
        return None  # invalid, so ignored
    if start >= size:
        raise Unsatisfiable
    end = min(int(last), size - 1) if last else size - 1
    return ByteRange(start, end)


def etag_of(pin: Pin) -> str:
    """The strong validator of a pin's original: its quoted sha256."""
    return f'"{pin.media.sha256}"'


def etag_matches(header: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header matches (weak comparison, as RFC 9110 asks)."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    return any(candidate.strip().removeprefix("W/") == etag for candidate in header.split(","))


def content_disposition(pin: Pin) -> str:
    """``inline`` with a file name made from the title, safe to put in a header.

    Both forms are given: an ASCII ``filename`` for old clients and an RFC 8187
    ``filename*`` with the full UTF-8 name.
    """
    extension = _EXTENSIONS.get(pin.media.mime_type) or (
        mimetypes.guess_extension(pin.media.mime_type) or ""
    )
    stem = _UNSAFE_NAME.sub("_", unicodedata.normalize("NFC", pin.title)).strip(" ._")[:120]
    name = (stem or pin.id) + extension
    ascii_name = (
        unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").strip()
    )
    if not ascii_name or ascii_name == extension:
        ascii_name = pin.id + extension
    return f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def media_headers(pin: Pin) -> dict[str, str]:
    """Headers every answer about a pin's original carries (200, 206, 304, 416)."""
    return {
        **SAFETY_HEADERS,
        "ETag": etag_of(pin),
        "Content-Disposition": content_disposition(pin),
    }


async def _chunks(
    file: IO[bytes], start: int, length: int, chunk_size: int
) -> AsyncIterator[bytes]:
    try:
        if start:
            await anyio.to_thread.run_sync(_seek, file, start)
        remaining = length
        while remaining > 0:
            data = await anyio.to_thread.run_sync(file.read, min(chunk_size, remaining))
            if not data:
                # The blob is shorter than its record says; stopping short makes the server
                # abort the response instead of sending a wrong length.
                raise OSError("the stored file ended early")
            remaining -= len(data)
            yield data
    finally:
        # Shielded: on a client disconnect the task is being cancelled, and the blob (an
        # open file or a network stream) must still be closed.
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(file.close)


def _seek(file: IO[bytes], offset: int) -> None:
    if file.seekable():
        file.seek(offset)
        return
    remaining = offset  # a stream that cannot seek: read past the bytes not wanted
    while remaining > 0:
        skipped = file.read(min(remaining, 1024 * 1024))
        if not skipped:
            raise OSError("the stored file ended early")
        remaining -= len(skipped)


def head_of(pin: Pin, byte_range: ByteRange | None) -> tuple[int, dict[str, str]]:
    """The status and headers of a 200 (whole file) or 206 (one range) answer."""
    size = pin.media.size
    headers = media_headers(pin)
    headers["Content-Type"] = pin.media.mime_type
    if byte_range is None:
        headers["Content-Length"] = str(size)
        return 200, headers
    headers["Content-Range"] = f"bytes {byte_range.start}-{byte_range.end}/{size}"
    headers["Content-Length"] = str(byte_range.length)
    return 206, headers


def stream_blob(
    file: IO[bytes],
    pin: Pin,
    byte_range: ByteRange | None,
    *,
    chunk_size: int,
) -> Response:
    """A 200 (whole file) or 206 (one range) response streaming ``file``, which it closes."""
    status, headers = head_of(pin, byte_range)
    start = byte_range.start if byte_range else 0
    length = byte_range.length if byte_range else pin.media.size
    return StreamingResponse(
        _chunks(file, start, length, chunk_size),
        status_code=status,
        media_type=pin.media.mime_type,
        headers=headers,
    )


def prepare_download(request: Request, pin: Pin) -> tuple[Response | None, ByteRange | None]:
    """Decide how to answer a GET or HEAD of a pin's original before touching its bytes.

    Returns:
        A complete answer when no body is needed (a 304 for a matching ``If-None-Match``,
        or the headers of a HEAD), else ``None``; and the one range to send, if any.

    Raises:
        ProblemError: The range lies outside the file (416).
    """
    etag = etag_of(pin)
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=media_headers(pin)), None
    range_header = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if if_range is not None and if_range.strip() != etag:
        range_header = None  # the client's copy is stale: it gets the whole new file
    try:
        byte_range = parse_range(range_header, pin.media.size)
    except Unsatisfiable:
        raise ProblemError(
            416,
            "range-not-satisfiable",
            "the range lies outside the file",
            headers={**media_headers(pin), "Content-Range": f"bytes */{pin.media.size}"},
        ) from None
    if request.method == "HEAD":
        status, headers = head_of(pin, byte_range)
        return Response(status_code=status, headers=headers), byte_range
    return None, byte_range


def media_responses(*problem_statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` of a route serving an original, with its problem answers."""
    binary = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
    return {
        200: {"description": "The whole original.", "content": binary},
        206: {"description": "The requested range.", "content": binary},
        304: {"description": "Not modified (If-None-Match matched the ETag)."},
        **problems(*problem_statuses),
    }
