"""Image dimensions and a cheap integrity check, without decoding a pixel.

Reading dimensions costs microseconds: :mod:`pinsphere.media.headers` walks each format's
header up to its size (Pillow reads the rare header longer than :data:`HEADER_BYTES`).
Decoding is what the thumbnail step does later; this step only has to refuse what it would
choke on:

* **Truncation** (:func:`check_integrity`): an upload cut short still has a valid header, so
  Pillow opens it happily. Every accepted image format has a fixed end marker, though, and
  checking it needs one seek to the end and one read of a few KiB.
* **Decompression bombs**: a small file that declares a huge canvas. The declared
  width x height is compared with a limit before anything allocates pixels.
"""

from __future__ import annotations

import io
from typing import IO

from PIL import Image

from pinsphere.errors import InvalidMedia
from pinsphere.media.headers import HEADER_READERS, HeaderCutShort

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "HEADER_BYTES",
    "TAIL_SIZE",
    "check_ends",
    "check_integrity",
    "dimensions_from_head",
    "probe_dimensions",
    "read_dimensions",
]

DEFAULT_MAX_PIXELS = 100_000_000
"""Images declaring more pixels than this (width x height) are refused: 100 megapixels."""

TAIL_SIZE = 4096
"""End markers are searched for in this many trailing bytes."""
HEADER_BYTES = 256 * 1024
"""How much of a file's start the header readers look at; longer headers go to Pillow."""
_PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF"}
_PNG_END = b"\x00\x00\x00\x00IEND\xae\x42\x60\x82"  # the IEND chunk: length 0, type, CRC
_JPEG_EOI = b"\xff\xd9"
_JPEG_SOS = b"\xff\xda"
_GIF_END = b"\x00\x3b"  # a block terminator, then the trailer


def check_integrity(fileobj: IO[bytes], mime_type: str) -> None:
    """Refuse an empty file, or an image whose end marker is missing (a cut-off upload).

    The check reads only the last few KiB:

    * JPEG: an EOI marker (``FF D9``) after the last start-of-scan marker. Scan data
      cannot contain ``FF D9`` (JPEG escapes every ``FF`` in it), so a cut-off file has
      none there; a few bytes of padding after EOI are accepted. A JPEG with a large file
      appended after EOI (a "motion photo") is refused.
    * PNG: the ``IEND`` chunk.
    * GIF: the trailer ``3B`` after a block terminator (trailing zero padding accepted).
    * WebP: the RIFF header's declared length fits in the file.

    Other types are only checked for being non-empty. The file's position is restored.

    Raises:
        InvalidMedia: The file is empty or visibly truncated.
    """
    start = fileobj.tell()
    try:
        size = fileobj.seek(0, io.SEEK_END)
        fileobj.seek(max(0, size - TAIL_SIZE))
        tail = fileobj.read(TAIL_SIZE)
        fileobj.seek(0)
        head = fileobj.read(12)
    finally:
        fileobj.seek(start)
    check_ends(head, tail, size, mime_type)


def check_ends(head: bytes, tail: bytes, size: int, mime_type: str) -> None:
    """:func:`check_integrity` on bytes already at hand (the upload keeps them while
    streaming, so it needs no second read of the file).

    Args:
        head: At least the first 12 bytes of the file (all of it if shorter).
        tail: The last :data:`TAIL_SIZE` bytes (all of it if shorter).
        size: The file's length.
        mime_type: The sniffed type.

    Raises:
        InvalidMedia: The file is empty or visibly truncated.
    """
    if size == 0:
        raise InvalidMedia("the file is empty", detected_type=None)
    if mime_type == "image/webp":
        complete = _webp_complete(head[:12], size)
    else:
        complete = _ends_well(tail, mime_type)
    if not complete:
        raise InvalidMedia(
            f"the {mime_type} file is truncated or corrupt (its end marker is missing)",
            detected_type=mime_type,
        )


def _ends_well(tail: bytes, mime_type: str) -> bool:
    if mime_type == "image/jpeg":
        end = tail.rfind(_JPEG_EOI)
        return end >= 0 and end > tail.rfind(_JPEG_SOS)
    if mime_type == "image/png":
        return _PNG_END in tail
    if mime_type == "image/gif":
        return tail.rstrip(b"\x00").endswith(_GIF_END)
    return True


def _webp_complete(header: bytes, size: int) -> bool:
    if len(header) < 12 or header[:4] != b"RIFF":
        return False
    declared = int.from_bytes(header[4:8], "little") + 8
    return size >= declared


def probe_dimensions(
    fileobj: IO[bytes], mime_type: str, *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> tuple[int | None, int | None]:
    """Width and height of an image, read from its header after :func:`check_integrity`.

    Args:
        fileobj: The whole file, seekable; its position is restored.
        mime_type: The sniffed type (:func:`pinsphere.media.sniff`).
        max_pixels: The largest width x height accepted.

    Returns:
        ``(width, height)`` for images; ``(None, None)`` for videos (not probed yet).

    Raises:
        InvalidMedia: The file is empty, truncated, not the image its type says, declares
            a zero or over-large canvas, or has a type this module cannot probe.
    """
    check_integrity(fileobj, mime_type)
    return read_dimensions(fileobj, mime_type, max_pixels=max_pixels)


def read_dimensions(
    fileobj: IO[bytes], mime_type: str, *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> tuple[int | None, int | None]:
    """Width and height from the image's header, without the end-marker check.

    ``fileobj`` may hold just the start of the file: headers come first. When it is too
    short to hold the header, this fails like a corrupt file would.

    Raises:
        InvalidMedia: As :func:`probe_dimensions`.
    """
    if mime_type.startswith("video/"):
        return None, None
    start = fileobj.tell()
    try:
        fileobj.seek(0)
        head = fileobj.read(HEADER_BYTES)
        try:
            width, height = _header_size(head, mime_type)
        except HeaderCutShort:
            if len(head) < HEADER_BYTES:
                raise  # the file ends there
            # A header longer than HEADER_BYTES (large EXIF or ICC blocks): Pillow seeks
            # through it.
            fileobj.seek(0)
            width, height = _pillow_size(fileobj, mime_type)
    finally:
        fileobj.seek(start)
    return _bounded(width, height, mime_type, max_pixels)


def dimensions_from_head(
    head: bytes | bytearray, mime_type: str, *, whole_file: bool, max_pixels: int
) -> tuple[int | None, int | None] | None:
    """:func:`read_dimensions` on the first bytes of a file, kept while it streamed.

    Args:
        head: The start of the file.
        mime_type: The sniffed type.
        whole_file: Whether ``head`` is the whole file.
        max_pixels: The largest width x height accepted.

    Returns:
        The size; ``None`` when the header goes on past ``head`` (then read the file with
        :func:`read_dimensions`).

    Raises:
        InvalidMedia: As :func:`probe_dimensions`.
    """
    if mime_type.startswith("video/"):
        return None, None
    try:
        width, height = _header_size(head, mime_type)
    except HeaderCutShort:
        if whole_file:
            raise
        return None
    return _bounded(width, height, mime_type, max_pixels)


def _header_size(head: bytes | bytearray, mime_type: str) -> tuple[int, int]:
    reader = HEADER_READERS.get(mime_type)
    if reader is None:
        raise InvalidMedia(f"cannot read {mime_type} files", detected_type=mime_type)
    return reader(head)


def _bounded(width: int, height: int, mime_type: str, max_pixels: int) -> tuple[int, int]:
    if width <= 0 or height <= 0:
        raise InvalidMedia(f"the image is {width}x{height} pixels", detected_type=mime_type)
    if width * height > max_pixels:
        raise InvalidMedia(
            f"the image is {width}x{height} pixels, over the limit of {max_pixels}",
            detected_type=mime_type,
        )
    return width, height


def _pillow_size(fileobj: IO[bytes], mime_type: str) -> tuple[int, int]:
    # Restricting Pillow to the sniffed format means a file that only pretends to be one
    # (right magic number, garbage after it) fails here instead of being read as another.
    try:
        with Image.open(fileobj, formats=[_PILLOW_FORMATS[mime_type]]) as image:
            width, height = image.size
    # Pillow reports bad headers as UnidentifiedImageError, SyntaxError, struct errors...;
    # an over-large canvas as DecompressionBombError. All mean "not a usable image".
    except Exception as exc:
        raise InvalidMedia(
            f"the file is not a readable {mime_type} image: {exc}", detected_type=mime_type
        ) from exc
    return int(width), int(height)
