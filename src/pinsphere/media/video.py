"""Video facts and a poster frame, read with PyAV (FFmpeg's libraries, no binary).

Bounded work on any input:

* The demuxer is the one the sniffed type names (QuickTime/MP4 or Matroska/WebM), never
  FFmpeg's guess: a file that sniffs as MP4 cannot be read as a playlist or another format
  that opens further files or URLs.
* A top-level structure check first (:func:`check_video_structure`): an MP4 whose last box,
  or a WebM whose segment, runs past the end of the file is truncated, and is refused
  without decoding.
* The frame size is checked against the pixel limit before any frame is decoded.
* The poster is the first keyframe at or before ~1 s: one seek, keyframes only
  (``skip_frame="NONKEY"``), so exactly one frame is decoded, and at most
  :attr:`~pinsphere.media.limits.MediaLimits.max_video_packets` packets are read looking
  for it. Memory stays that of one frame plus FFmpeg's read buffer, whatever the file size.

PyAV is part of the ``media`` extra; without it, :func:`probe_video` raises
:class:`ModuleNotFoundError` and the caller decides (the pipeline stores no video facts).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import IO, Any

from PIL import Image

from pinsphere.errors import InvalidMedia
from pinsphere.media.limits import Deadline, MediaLimits, check_canvas, invalid_media

__all__ = ["POSTER_AT", "VideoFacts", "check_video_structure", "probe_video"]

POSTER_AT = 1.0
"""Seconds into the video where the poster is looked for (the first frame is often black)."""

_DEMUXERS = {"video/mp4": "mp4", "video/quicktime": "mov", "video/webm": "webm"}
_MAX_BOXES = 100_000
_EBML_SEGMENT = b"\x18\x53\x80\x67"


@dataclass(frozen=True)
class VideoFacts:
    """What probing a video found.

    Attributes:
        width: Displayed width in pixels (a rotated phone video's width once turned).
        height: Displayed height in pixels.
        duration: Seconds, when the container says.
        frame_count: Frames, when the container records them (MP4 does; WebM does not).
        codec: FFmpeg's codec name, e.g. ``h264``, ``vp9``.
        rotation: Degrees the frames are turned counter-clockwise for display.
        has_audio: Whether there is an audio stream too.
    """

    width: int
    height: int
    duration: float | None
    frame_count: int | None
    codec: str
    rotation: int = 0
    has_audio: bool = False


def _truncated(mime_type: str) -> InvalidMedia:
    return InvalidMedia(f"the {mime_type} file is truncated", detected_type=mime_type)


def check_video_structure(fileobj: IO[bytes], mime_type: str) -> None:
    """Refuse a video whose top-level structure runs past the end of the file.

    Reads a few bytes per top-level box (MP4, QuickTime) or the EBML header (WebM); the
    file's position is restored.

    Raises:
        InvalidMedia: The file is visibly cut short.
    """
    start = fileobj.tell()
    try:
        size = fileobj.seek(0, io.SEEK_END)
        if size == 0:
            raise InvalidMedia("the file is empty", detected_type=mime_type)
        if mime_type in ("video/mp4", "video/quicktime"):
            _check_boxes(fileobj, size, mime_type)
        elif mime_type == "video/webm":
            _check_segment(fileobj, size, mime_type)
    finally:
        fileobj.seek(start)


def _check_boxes(fileobj: IO[bytes], size: int, mime_type: str) -> None:
    position = 0
    for _ in range(_MAX_BOXES):
        if position == size:
            return
        fileobj.seek(position)
        header = fileobj.read(16)
        if len(header) < 8:
            raise _truncated(mime_type)
        box_size = int.from_bytes(header[:4], "big")
        if box_size == 0:  # runs to the end of the file
            return
        if box_size == 1:
            if len(header) < 16:
                raise _truncated(mime_type)
            box_size = int.from_bytes(header[8:16], "big")
        if box_size < 8:
            raise InvalidMedia(f"the {mime_type} file is corrupt", detected_type=mime_type)
        position += box_size
        if position > size:
            raise _truncated(mime_type)
    raise InvalidMedia(f"the {mime_type} file has too many boxes", detected_type=mime_type)


def _read_ebml_size(data: bytes, position: int) -> tuple[int | None, int]:
    if position >= len(data):
        return None, position
    first = data[position]
    length = 1
    while length <= 8 and not first & (0x80 >> (length - 1)):
        length += 1
    if length > 8 or position + length > len(data):
        return None, position
    value = first & ((0x80 >> (length - 1)) - 1)
    for byte in data[position + 1 : position + length]:
        value = (value << 8) | byte
    if value == (1 << (7 * length)) - 1:
        return None, position + length  # "unknown size" (a live stream): nothing to check
    return value, position + length


def _check_segment(fileobj: IO[bytes], size: int, mime_type: str) -> None:
    fileobj.seek(0)
    head = fileobj.read(4096)
    header_size, position = _read_ebml_size(head, 4)
    if header_size is None:
        return
    position += header_size
    if head[position : position + 4] != _EBML_SEGMENT:
        return
    segment_size, position = _read_ebml_size(head, position + 4)
    if segment_size is not None and position + segment_size > size:
        raise _truncated(mime_type)


def _av() -> Any:
    import av

    return av


def _duration(container: Any, stream: Any) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return float(container.duration) / 1_000_000  # AV_TIME_BASE
    return None


def _display_size(width: int, height: int, rotation: int) -> tuple[int, int]:
    return (height, width) if abs(rotation) % 180 == 90 else (width, height)


def _turned(image: Image.Image, rotation: int) -> Image.Image:
    turns = {90: Image.Transpose.ROTATE_90, -90: Image.Transpose.ROTATE_270}
    turns |= {180: Image.Transpose.ROTATE_180, -180: Image.Transpose.ROTATE_180}
    method = turns.get(rotation)
    return image.transpose(method) if method is not None else image


def probe_video(
    fileobj: IO[bytes], mime_type: str, limits: MediaLimits, *, poster: bool = True
) -> tuple[VideoFacts, Image.Image | None]:
    """A video's facts and, optionally, its poster frame.

    Args:
        fileobj: The whole file, seekable.
        mime_type: ``video/mp4``, ``video/quicktime`` or ``video/webm``.
        limits: Pixel, packet and time bounds.
        poster: Whether to decode a poster frame.

    Returns:
        The facts, and the poster (RGB, turned for display) or ``None`` when not asked for.

    Raises:
        InvalidMedia: Truncated or corrupt, no video stream, a frame over the pixel limit,
            or no decodable frame within the bounds.
        ModuleNotFoundError: PyAV is not installed.
    """
    av = _av()
    check_video_structure(fileobj, mime_type)
    fileobj.seek(0)
    deadline = Deadline(limits.max_seconds, f"reading the {mime_type} file", mime_type)
    with invalid_media(mime_type, "probed"):
        container = av.open(fileobj, mode="r", format=_DEMUXERS.get(mime_type))
    with container, invalid_media(mime_type, "probed"):
        if not container.streams.video:
            raise InvalidMedia(f"the {mime_type} file has no video stream", detected_type=mime_type)
        stream = container.streams.video[0]
        context = stream.codec_context
        if context.width and context.height:
            check_canvas(context.width, context.height, limits, mime_type)
        image, rotation = (None, 0)
        if poster:
            image, rotation = _poster(container, stream, limits, deadline, mime_type)
        width = context.width or (image.width if image else 0)
        height = context.height or (image.height if image else 0)
        width, height = _display_size(width, height, rotation)
        facts = VideoFacts(
            width=width,
            height=height,
            duration=_duration(container, stream),
            frame_count=int(stream.frames) or None,
            codec=str(context.name),
            rotation=rotation,
            has_audio=bool(container.streams.audio),
        )
    return facts, image


def _poster(
    container: Any, stream: Any, limits: MediaLimits, deadline: Deadline, mime_type: str
) -> tuple[Image.Image, int]:
    stream.thread_type = "AUTO"
    stream.codec_context.skip_frame = "NONKEY"
    duration = _duration(container, stream)
    target = min(POSTER_AT, duration / 2) if duration else 0.0
    if target > 0 and stream.time_base:
        try:
            container.seek(int(target / stream.time_base), stream=stream, backward=True)
        except Exception:  # unseekable: decode from where we are (the start)
            container.seek(0)
    for packets, packet in enumerate(container.demux(stream), start=1):
        if packets > limits.max_video_packets:
            break
        deadline.check()
        for frame in packet.decode():
            check_canvas(frame.width, frame.height, limits, mime_type)
            rotation = int(frame.rotation or 0)
            return _turned(frame.to_image(), rotation), rotation
    raise InvalidMedia(
        f"no decodable video frame found in the {mime_type} file", detected_type=mime_type
    )
