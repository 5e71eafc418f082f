"""Bounds on the work one media file may cause, and the single way a bad file fails.

Everything that decodes media goes through here, so that a hostile file (a decompression
bomb, a truncated or corrupt file, a GIF with a hundred thousand frames, a "video" holding
only audio) fails the same way: an :class:`~pinsphere.errors.InvalidMedia` raised within a
fixed time and memory bound, never a Pillow or FFmpeg exception, a hang or an allocation of
gigabytes.

The bounds are checked *before* the expensive step: pixel counts from headers before any
pixel is decoded, frame counts while walking a file's blocks (never by decoding frames).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

from PIL import Image

from pinsphere.errors import InvalidMedia
from pinsphere.media.probe import read_dimensions

__all__ = [
    "PILLOW_FORMATS",
    "Deadline",
    "MediaLimits",
    "check_canvas",
    "invalid_media",
    "open_image",
]

PILLOW_FORMATS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
}
"""The image types Pinsphere decodes, and Pillow's name for each."""


@dataclass(frozen=True)
class MediaLimits:
    """How much work one file may cause.

    Attributes:
        max_pixels: The largest width x height of an image or a video frame.
        max_frames: The most frames an animation may declare; more is refused, since every
            frame is work for a browser and the count is a classic denial-of-service lever.
        max_video_packets: The most packets read while looking for a poster frame.
        max_seconds: Wall-clock budget for decoding one file (checked between steps, so it
            bounds loops over packets and blocks, not a single library call).
    """

    max_pixels: int = 100_000_000
    max_frames: int = 20_000
    max_video_packets: int = 2_000
    max_seconds: float = 10.0


class Deadline:
    """A wall-clock budget, checked between steps of a loop.

    Args:
        seconds: The budget.
        what: Names the work in the error (``"reading the GIF"``).
        mime_type: The file's type, for the error.
    """

    def __init__(self, seconds: float, what: str, mime_type: str | None) -> None:
        self._end = time.monotonic() + seconds
        self._seconds = seconds
        self._what = what
        self._mime_type = mime_type

    def check(self) -> None:
        """Raise when the budget is spent.

        Raises:
            InvalidMedia: The budget is spent.
        """
        if time.monotonic() > self._end:
            raise InvalidMedia(
                f"{self._what} took longer than {self._seconds:g} s; the file is refused",
                detected_type=self._mime_type,
            )


def check_canvas(width: int, height: int, limits: MediaLimits, mime_type: str | None) -> None:
    """Refuse an empty or over-large canvas, before anything allocates its pixels.

    Raises:
        InvalidMedia: Zero or negative sides, or more pixels than ``limits.max_pixels``.
    """
    if width <= 0 or height <= 0:
        raise InvalidMedia(f"the media is {width}x{height} pixels", detected_type=mime_type)
    if width * height > limits.max_pixels:
        raise InvalidMedia(
            f"the media is {width}x{height} pixels, over the limit of {limits.max_pixels}",
            detected_type=mime_type,
        )


@contextmanager
def invalid_media(mime_type: str | None, what: str = "decoded") -> Iterator[None]:
    """Turn whatever a decoder raises into :class:`InvalidMedia`.

    Pillow signals bad data with ``OSError``, ``SyntaxError``, ``ValueError``,
    ``struct.error``, ``EOFError`` and ``DecompressionBombError``; PyAV with ``av.FFmpegError``
    (an ``OSError`` or ``ValueError`` subclass) and others. All mean the same thing to a
    caller: this file cannot be used. ``MemoryError`` is included because a decoder that
    runs out of memory on one file must not take the server down with it.

    Args:
        mime_type: The file's type, for the error.
        what: How the failed step reads in the message (``"decoded"``, ``"probed"``).

    Raises:
        InvalidMedia: Anything went wrong inside the block (an ``InvalidMedia`` passes
            through unchanged).
    """
    try:
        yield
    except InvalidMedia:
        raise
    except (Exception, MemoryError) as exc:
        raise InvalidMedia(
            f"the {mime_type or 'media'} file could not be {what}: {exc}",
            detected_type=mime_type,
        ) from exc


def open_image(fileobj: IO[bytes], mime_type: str, limits: MediaLimits) -> Image.Image:
    """Open an image lazily (headers only) and check its canvas before any decoding.

    Pillow is restricted to the sniffed format, so a file that only pretends to be one
    fails here rather than being read as another. Pillow's own bomb check (a global
    setting) is left alone; :func:`check_canvas` applies this call's limits instead.

    Args:
        fileobj: The whole file, seekable, positioned anywhere (it is rewound).
        mime_type: The sniffed type; one of :data:`PILLOW_FORMATS`.
        limits: The bounds to apply.

    Returns:
        The opened, not yet decoded, image; the caller closes it.

    Raises:
        InvalidMedia: Not a readable image of that type, or its canvas is refused.
    """
    fmt = PILLOW_FORMATS.get(mime_type)
    if fmt is None:
        raise InvalidMedia(f"cannot decode {mime_type} files", detected_type=mime_type)
    if mime_type == "image/webp":
        # Pillow hands a WebP file to libwebp's animation decoder, which allocates the whole
        # canvas as it opens; the header is checked first.
        read_dimensions(fileobj, mime_type, max_pixels=limits.max_pixels)
    fileobj.seek(0)
    with invalid_media(mime_type, "opened"):
        try:
            image = Image.open(fileobj, formats=[fmt])
        except Image.DecompressionBombError as exc:  # Pillow's own, looser, global limit
            raise InvalidMedia(
                f"the image is over the limit of {limits.max_pixels} pixels ({exc})",
                detected_type=mime_type,
            ) from exc
    try:
        check_canvas(image.width, image.height, limits, mime_type)
    except InvalidMedia:
        image.close()
        raise
    return image
