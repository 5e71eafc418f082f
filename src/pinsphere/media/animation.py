"""Frame counts and durations of animated images, read from their block structure.

No frame is decoded: a GIF's blocks, a WebP's ``ANMF`` chunks and an APNG's ``fcTL``
chunks are walked, skipping the pixel data, and the walk stops as soon as the count passes
:attr:`~pinsphere.media.limits.MediaLimits.max_frames`. (Pillow's ``n_frames`` would do the
same walk for GIF, but one Python call per frame and without a cap.)

Durations follow what browsers do: a GIF frame delay under 20 ms is played as 100 ms, and an
APNG delay with a zero denominator is in hundredths of a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

from pinsphere.errors import InvalidMedia
from pinsphere.media.limits import Deadline, MediaLimits

__all__ = ["Animation", "read_animation"]

_READ_SIZE = 64 * 1024
_GIF_SLOW_DELAY = 10  # hundredths of a second, what browsers use for delays of 0 and 1


@dataclass(frozen=True)
class Animation:
    """How an image animates.

    Attributes:
        frame_count: Frames in the file (1 for a still image).
        duration: One loop's length in seconds; ``None`` for a still image.
    """

    frame_count: int
    duration: float | None


STILL = Animation(frame_count=1, duration=None)


class _Reader:
    """Forward reads over a file object through a buffer, with cheap skips."""

    def __init__(self, fileobj: IO[bytes], mime_type: str) -> None:
        self._file = fileobj
        self._buffer = b""
        self._position = 0
        self.mime_type = mime_type

    def read(self, size: int) -> bytes:
        while len(self._buffer) - self._position < size:
            more = self._file.read(max(_READ_SIZE, size))
            if not more:
                raise InvalidMedia(
                    f"the {self.mime_type} file is truncated", detected_type=self.mime_type
                )
            self._buffer = self._buffer[self._position :] + more
            self._position = 0
        data = self._buffer[self._position : self._position + size]
        self._position += size
        return data

    def byte(self) -> int:
        return self.read(1)[0]

    def skip(self, size: int) -> None:
        buffered = len(self._buffer) - self._position
        if size <= buffered:
            self._position += size
            return
        self._file.seek(size - buffered, 1)
        self._buffer = b""
        self._position = 0

    def skip_sub_blocks(self) -> None:
        """Skip GIF data sub-blocks up to and including the zero-length terminator."""
        # Hot for many-frame GIFs: walks the buffer directly instead of calling byte/skip.
        while True:
            if self._position >= len(self._buffer):
                self.read(1)
                self._position -= 1
            length = self._buffer[self._position]
            if length == 0:
                self._position += 1
                return
            end = self._position + 1 + length
            if end <= len(self._buffer):
                self._position = end
            else:
                self._position += 1
                self.skip(length)


def read_animation(fileobj: IO[bytes], mime_type: str, limits: MediaLimits) -> Animation:
    """Frame count and loop duration of a GIF, WebP or PNG (APNG); other types are still.

    Args:
        fileobj: The whole file, seekable; read from its start, position not restored.
        mime_type: The sniffed type.
        limits: ``max_frames`` and ``max_seconds`` apply.

    Raises:
        InvalidMedia: The structure is cut off or malformed, or declares too many frames.
    """
    fileobj.seek(0)
    deadline = Deadline(limits.max_seconds, f"reading the {mime_type} frames", mime_type)
    reader = _Reader(fileobj, mime_type)
    if mime_type == "image/gif":
        return _gif(reader, limits, deadline)
    if mime_type == "image/webp":
        return _webp(reader, limits, deadline)
    if mime_type == "image/png":
        return _apng(reader, limits, deadline)
    return STILL


def _too_many(count: int, limits: MediaLimits, mime_type: str) -> InvalidMedia:
    return InvalidMedia(
        f"the animation has {count} frames or more, over the limit of {limits.max_frames}",
        detected_type=mime_type,
    )


def _result(count: int, hundredths: int, milliseconds: float = 0.0) -> Animation:
    if count <= 1:
        return STILL
    return Animation(frame_count=count, duration=round(hundredths / 100 + milliseconds / 1000, 3))


def _gif(reader: _Reader, limits: MediaLimits, deadline: Deadline) -> Animation:
    header = reader.read(13)
    if header[:6] not in (b"GIF87a", b"GIF89a"):
        raise InvalidMedia("the GIF header is malformed", detected_type="image/gif")
    if header[10] & 0x80:
        reader.skip(3 << ((header[10] & 0x07) + 1))  # the global colour table
    frames = 0
    total = 0
    delay = 0
    while True:
        introducer = reader.byte()
        if introducer == 0x3B:  # trailer
            return _result(frames, total)
        if introducer == 0x21:  # extension
            label = reader.byte()
            if label == 0xF9:
                block = reader.read(5)  # size (4), packed, delay (2 bytes), transparent index
                delay = int.from_bytes(block[2:4], "little")
                reader.skip(block[0] - 4)
            reader.skip_sub_blocks()
        elif introducer == 0x2C:  # image descriptor
            descriptor = reader.read(9)
            if descriptor[8] & 0x80:
                reader.skip(3 << ((descriptor[8] & 0x07) + 1))  # local colour table
            reader.skip(1)  # LZW minimum code size
            reader.skip_sub_blocks()
            frames += 1
            total += delay if delay >= 2 else _GIF_SLOW_DELAY
            delay = 0
            if frames > limits.max_frames:
                raise _too_many(frames, limits, "image/gif")
            if frames % 512 == 0:
                deadline.check()
        else:
            raise InvalidMedia(
                f"the GIF has an unknown block 0x{introducer:02x}", detected_type="image/gif"
            )


def _webp(reader: _Reader, limits: MediaLimits, deadline: Deadline) -> Animation:
    header = reader.read(12)
    if header[:4] != b"RIFF" or header[8:12] != b"WEBP":
        raise InvalidMedia("the WebP header is malformed", detected_type="image/webp")
    remaining = int.from_bytes(header[4:8], "little") - 4
    frames = 0
    total_ms = 0
    while remaining >= 8:
        chunk = reader.read(8)
        size = int.from_bytes(chunk[4:8], "little")
        padded = size + (size & 1)
        remaining -= 8 + padded
        if chunk[:4] == b"ANMF":
            if size < 16:
                raise InvalidMedia("a WebP frame is malformed", detected_type="image/webp")
            frame_header = reader.read(16)
            total_ms += int.from_bytes(frame_header[12:15], "little")
            reader.skip(padded - 16)
            frames += 1
            if frames > limits.max_frames:
                raise _too_many(frames, limits, "image/webp")
            if frames % 512 == 0:
                deadline.check()
        else:
            reader.skip(padded)
    return _result(frames, 0, total_ms)


def _apng(reader: _Reader, limits: MediaLimits, deadline: Deadline) -> Animation:
    reader.skip(8)  # signature
    frames = 0
    total_seconds = 0.0
    while True:
        chunk = reader.read(8)
        size = int.from_bytes(chunk[:4], "big")
        kind = chunk[4:8]
        if kind == b"acTL":
            declared = int.from_bytes(reader.read(4), "big")
            if declared > limits.max_frames:
                raise _too_many(declared, limits, "image/png")
            reader.skip(size)  # the rest of acTL, then its CRC
        elif kind == b"fcTL" and size >= 26:
            control = reader.read(26)
            numerator = int.from_bytes(control[20:22], "big")
            denominator = int.from_bytes(control[22:24], "big") or 100
            total_seconds += numerator / denominator
            reader.skip(size - 26 + 4)
            frames += 1
            if frames > limits.max_frames:
                raise _too_many(frames, limits, "image/png")
            if frames % 512 == 0:
                deadline.check()
        elif kind == b"IEND":
            break
        else:
            reader.skip(size + 4)
    if frames <= 1:
        return STILL
    return Animation(frame_count=frames, duration=round(total_seconds, 3))
