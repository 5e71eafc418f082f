"""Image dimensions read from the header bytes of each accepted format.

An upload needs only the canvas size and the assurance that the header is what its type
says; Pillow's ``Image.open`` gives both, but goes through its plugin machinery and parses
every table before the first scan. On an upload, with the caches cold from hashing, that
cost 70 to 90 µs, as much as the rest of the checks together; the readers here walk only
the structure that leads to the size, and check that structure:

* **JPEG**: the marker segments from SOI up to the first scan, each with a valid marker and
  a length inside the file, and exactly one start-of-frame among them;
* **PNG**: the signature, then an ``IHDR`` chunk of 13 bytes whose bit depth and colour type
  are a combination the PNG specification allows, then every chunk up to the image data,
  each with a well-formed name and length and a matching CRC;
* **GIF**: the signature and logical screen, the global colour table, then the blocks up to
  the first image descriptor (extensions are skipped sub-block by sub-block), whose frame
  widens the canvas when it reaches past the screen;
* **WebP**: the first chunk after ``RIFF....WEBP`` (VP8X, VP8 or VP8L); Pillow's WebP plugin
  reads the whole file to open it.

Every reader takes the start of the file (the upload keeps the first 256 KiB) and raises
:class:`~pinsphere.errors.InvalidMedia` when the bytes end before the size, or break the
format's structure. The property tests compare them with Pillow on generated images.

What they do not check is the content of a JPEG's tables, which Pillow's ``open`` parses:
a file whose header is well formed but whose tables are not passes here. Neither check
decodes a pixel; decoding, and so the final word on a corrupt image, is the thumbnail
step's (:mod:`pinsphere.media.pipeline`), which fails such a pin's processing.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

from pinsphere.errors import InvalidMedia

__all__ = ["HEADER_READERS", "HeaderCutShort", "gif_size", "jpeg_size", "png_size", "webp_size"]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Allowed bit depths per PNG colour type (PNG specification, table 11.1).
_PNG_DEPTHS = {0: {1, 2, 4, 8, 16}, 2: {8, 16}, 3: {1, 2, 4, 8}, 4: {8, 16}, 6: {8, 16}}
_PNG_MAX_SIDE = 2**31 - 1

# Start-of-frame markers: C0-CF except DHT (C4), JPG (C8) and DAC (CC).
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers that stand alone, without a length: TEM and the restart markers.
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_JPEG_SOS, _JPEG_EOI, _JPEG_SOI = 0xDA, 0xD9, 0xD8

_GIF_SIGNATURES = (b"GIF87a", b"GIF89a")
_GIF_EXTENSION, _GIF_IMAGE, _GIF_TRAILER = 0x21, 0x2C, 0x3B


class HeaderCutShort(InvalidMedia):
    """The bytes end before the header does: a truncated file, or a header longer than the
    bytes a caller read (then it may read more)."""


def _malformed(mime_type: str, why: str) -> InvalidMedia:
    return InvalidMedia(f"the {mime_type} header is malformed: {why}", detected_type=mime_type)


def _cut_short(mime_type: str, where: str) -> HeaderCutShort:
    return HeaderCutShort(
        f"the {mime_type} file ends {where}: it is truncated", detected_type=mime_type
    )


def jpeg_size(data: bytes | bytearray | memoryview) -> tuple[int, int]:
    """Width and height from a JPEG's frame header, walking every segment up to the scan.

    Only one frame header may come before the first scan (decoders refuse a second, and
    Pillow would take the size of the last one: a small first frame must not hide a huge
    one from the pixel limit).

    Raises:
        InvalidMedia: No SOI, a broken marker or length, a second frame header, or the
            data ends before the start of the scan.
    """
    kind = "image/jpeg"
    end = len(data)
    if bytes(data[:2]) != b"\xff\xd8"[:end]:
        raise _malformed(kind, "no start-of-image marker")
    size: tuple[int, int] | None = None
    at = 2
    while True:
        if at + 1 >= end:
            raise _cut_short(kind, "before its first scan")
        if data[at] != 0xFF:
            raise _malformed(kind, f"no marker at byte {at}")
        # Any number of FF fill bytes may come before a marker.
        while at + 1 < end and data[at + 1] == 0xFF:
            at += 1
        if at + 1 >= end:
            raise _cut_short(kind, "before its first scan")
        marker = data[at + 1]
        at += 2
        if marker in _JPEG_STANDALONE:
            continue
        if marker == _JPEG_SOS:
            if size is None:
                raise _malformed(kind, "a scan before the frame header")
            return size
        if marker in (_JPEG_EOI, _JPEG_SOI, 0x00):
            raise _malformed(kind, f"marker FF{marker:02X} before the first scan")
        if at + 2 > end:
            raise _cut_short(kind, "before its first scan")
        length = (data[at] << 8) | data[at + 1]
        if length < 2:
            raise _malformed(kind, f"a segment of length {length}")
        if marker in _JPEG_SOF:
            if size is not None:
                raise _malformed(kind, "a second frame header before the first scan")
            # Length, precision, then height and width, big-endian.
            if length < 8:
                raise _malformed(kind, f"a frame header of length {length}")
            if at + 7 > end:
                raise _cut_short(kind, "inside the frame header")
            height = (data[at + 3] << 8) | data[at + 4]
            width = (data[at + 5] << 8) | data[at + 6]
            size = width, height
        at += length


def png_size(data: bytes | bytearray | memoryview) -> tuple[int, int]:
    """Width and height from a PNG's ``IHDR`` chunk, checked against its CRC.

    Raises:
        InvalidMedia: No signature, no well-formed ``IHDR`` first, or a bad CRC or mode.
    """
    kind = "image/png"
    header = bytes(data[:33])
    if header[:8] != _PNG_SIGNATURE[: len(header)]:
        raise _malformed(kind, "no PNG signature")
    if len(header) < 33:
        raise _cut_short(kind, "inside the IHDR chunk")
    if header[8:16] != b"\x00\x00\x00\x0dIHDR":
        raise _malformed(kind, "the first chunk is not a 13-byte IHDR")
    if zlib.crc32(header[12:29]) != int.from_bytes(header[29:33], "big"):
        raise _malformed(kind, "the IHDR chunk's CRC does not match")
    width = int.from_bytes(header[16:20], "big")
    height = int.from_bytes(header[20:24], "big")
    depth, colour, compression, filtering, interlace = header[24:29]
    if depth not in _PNG_DEPTHS.get(colour, ()):
        raise _malformed(kind, f"bit depth {depth} with colour type {colour}")
    if compression or filtering or interlace > 1:
        raise _malformed(kind, "an unknown compression, filter or interlace method")
    if width > _PNG_MAX_SIDE or height > _PNG_MAX_SIDE:
        raise _malformed(kind, "a side over 2^31 - 1 pixels")
    _check_png_chunks(data, 33)
    return width, height


def _check_png_chunks(data: bytes | bytearray | memoryview, at: int) -> None:
    """Check the chunks between ``IHDR`` and the first ``IDAT``: names, lengths, CRCs."""
    kind = "image/png"
    end = len(data)
    while True:
        if at + 8 > end:
            raise _cut_short(kind, "before its image data")
        length = int.from_bytes(data[at : at + 4], "big")
        name = bytes(data[at + 4 : at + 8])
        if length > _PNG_MAX_SIDE or not name.isalpha() or not name.isascii():
            raise _malformed(kind, f"a broken chunk at byte {at}")
        if name == b"IDAT":
            return
        if name in (b"IEND", b"IHDR"):
            raise _malformed(kind, f"{name.decode()} before the image data")
        if at + 12 + length > end:
            raise _cut_short(kind, "inside a chunk before its image data")
        declared = int.from_bytes(data[at + 8 + length : at + 12 + length], "big")
        if zlib.crc32(data[at + 4 : at + 8 + length]) != declared:
            raise _malformed(kind, f"the {name.decode()} chunk's CRC does not match")
        at += 12 + length


def gif_size(data: bytes | bytearray | memoryview) -> tuple[int, int]:
    """Width and height of a GIF's logical screen, once the blocks before the first image
    have been walked.

    Raises:
        InvalidMedia: No signature, a broken block, or the data ends before the first image.
    """
    kind = "image/gif"
    end = len(data)
    signature = bytes(data[:6])
    if not any(known.startswith(signature) for known in _GIF_SIGNATURES):
        raise _malformed(kind, "no GIF signature")
    if end < 13:
        raise _cut_short(kind, "inside the logical screen descriptor")
    width = data[6] | (data[7] << 8)
    height = data[8] | (data[9] << 8)
    flags = data[10]
    at = 13
    if flags & 0x80:  # a global colour table of 2^(n+1) RGB entries
        at += 3 << ((flags & 0x07) + 1)
    while True:
        if at >= end:
            raise _cut_short(kind, "before the first image")
        block = data[at]
        if block == _GIF_IMAGE:
            if at + 10 > end:
                raise _cut_short(kind, "inside the first image descriptor")
            # A first image reaching past the logical screen widens the canvas (as decoders
            # draw it): a 1x1 screen must not hide a huge frame from the pixel limit.
            left, top, frame_width, frame_height = struct.unpack_from("<4H", data, at + 1)
            return max(width, left + frame_width), max(height, top + frame_height)
        if block != _GIF_EXTENSION:
            what = "the trailer" if block == _GIF_TRAILER else f"block {block:#04x}"
            raise _malformed(kind, f"{what} before the first image")
        at += 2  # introducer and label, then sub-blocks until an empty one
        while True:
            if at >= end:
                raise _cut_short(kind, "inside an extension")
            size = data[at]
            at += 1 + size
            if size == 0:
                break


def webp_size(data: bytes | bytearray | memoryview) -> tuple[int, int]:
    """Canvas size from the first chunk of a WebP file (VP8X, VP8 or VP8L).

    Raises:
        InvalidMedia: Not a RIFF WebP, or a first chunk of another kind.
    """
    kind = "image/webp"
    header = bytes(data[:30])
    if len(header) < 30:
        raise _cut_short(kind, "inside its first chunk")
    if header[:4] != b"RIFF" or header[8:12] != b"WEBP":
        raise _malformed(kind, "no RIFF WebP signature")
    chunk = header[12:16]
    if chunk == b"VP8X":
        # Extended format: 24-bit little-endian canvas width-1 and height-1.
        return (
            int.from_bytes(header[24:27], "little") + 1,
            int.from_bytes(header[27:30], "little") + 1,
        )
    if chunk == b"VP8 " and header[23:26] == b"\x9d\x01\x2a":
        # Lossy: 14-bit sizes after the key frame's start code (top 2 bits are scaling).
        return (
            int.from_bytes(header[26:28], "little") & 0x3FFF,
            int.from_bytes(header[28:30], "little") & 0x3FFF,
        )
    if chunk == b"VP8L" and header[20] == 0x2F:
        # Lossless: after the signature byte, two 14-bit fields hold width-1 and height-1.
        bits = int.from_bytes(header[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    raise _malformed(kind, "the first chunk is not VP8X, VP8 or VP8L")


HEADER_READERS: dict[str, Callable[[bytes | bytearray | memoryview], tuple[int, int]]] = {
    "image/jpeg": jpeg_size,
    "image/png": png_size,
    "image/gif": gif_size,
    "image/webp": webp_size,
}
"""The reader of each image type, by MIME type."""
