"""Byte-level rewrites of the metadata blocks of JPEG, PNG and WebP files.

A rewrite walks the file's container structure (JPEG marker segments, PNG chunks, RIFF
chunks), hands each metadata block to a :class:`MetadataEditor` that decides to keep,
replace or drop it, and copies everything else through unchanged, streaming, in
:data:`COPY_SIZE` pieces. Pixel data is never decoded, so it stays byte for byte identical.

With no ``write`` function the walk only reads: the editor sees every block, nothing is
copied, and a JPEG's walk stops at its first scan.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import IO

from pinsphere.errors import InvalidMedia

__all__ = ["COPY_SIZE", "MAX_BLOCK_SIZE", "REWRITABLE", "MetadataEditor", "rewrite"]

COPY_SIZE = 1024 * 1024
"""Bytes per read when copying data through."""

MAX_BLOCK_SIZE = 16 * 1024 * 1024
"""The largest metadata block read into memory; a larger one is malformed or hostile."""

REWRITABLE = frozenset({"image/jpeg", "image/png", "image/webp"})
"""The types :func:`rewrite` understands."""

Write = Callable[[bytes], object]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_EXIF_PREFIX = b"Exif\x00\x00"
_XMP_PREFIX = b"http://ns.adobe.com/xap/1.0/\x00"
_XMP_EXTENSION_PREFIX = b"http://ns.adobe.com/xmp/extension/\x00"
_IPTC_PREFIX = b"Photoshop 3.0\x00"
_PNG_XMP_KEYWORD = b"xml:com.adobe.xmp"
_PNG_IDENTIFYING_KEYWORDS = frozenset(
    {b"author", b"artist", b"owner", b"location", b"gps", b"geo", b"latitude", b"longitude"}
)
_WEBP_EXIF_FLAG = 0x08
_WEBP_XMP_FLAG = 0x04


class MetadataEditor:
    """Decides what happens to each metadata block; the default keeps everything."""

    def exif(self, tiff: bytes) -> bytes | None:
        """An EXIF block (its TIFF structure); return its replacement, or ``None`` to drop."""
        return tiff

    def keep_xmp(self, packet: bytes) -> bool:
        """Whether to keep an XMP packet (or a fragment of an extended one)."""
        return True

    def keep_block(self, name: str) -> bool:
        """Whether to keep another identifying block (``IPTC``, ``PNG text: Author``)."""
        return True


def _malformed(mime_type: str, what: str) -> InvalidMedia:
    return InvalidMedia(f"the {mime_type} file is malformed: {what}", detected_type=mime_type)


def _read_exact(source: IO[bytes], size: int, mime_type: str) -> bytes:
    if size > MAX_BLOCK_SIZE:
        raise _malformed(mime_type, f"a {size}-byte metadata block")
    data = source.read(size)
    if len(data) != size:
        raise InvalidMedia(f"the {mime_type} file is truncated", detected_type=mime_type)
    return data


def _copy(source: IO[bytes], write: Write, size: int, mime_type: str) -> None:
    while size > 0:
        chunk = source.read(min(size, COPY_SIZE))
        if not chunk:
            raise InvalidMedia(f"the {mime_type} file is truncated", detected_type=mime_type)
        write(chunk)
        size -= len(chunk)


def rewrite(source: IO[bytes], write: Write | None, mime_type: str, editor: MetadataEditor) -> None:
    """Copy ``source`` to ``write`` with its metadata blocks as ``editor`` decides.

    Args:
        source: The whole file, seekable; read from its start.
        write: Receives the rewritten file; ``None`` only walks it.
        mime_type: One of :data:`REWRITABLE`.
        editor: Decides each block's fate.

    Raises:
        InvalidMedia: The structure is malformed or cut off.
    """
    source.seek(0)
    if mime_type == "image/jpeg":
        _jpeg(source, write, editor)
    elif mime_type == "image/png":
        _png(source, write, editor)
    elif mime_type == "image/webp":
        _webp(source, write, editor)
    else:
        raise InvalidMedia(f"cannot rewrite {mime_type} files", detected_type=mime_type)


# -- JPEG: marker segments up to the first scan, then everything verbatim ----------------------


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + (len(payload) + 2).to_bytes(2, "big") + payload


def _jpeg_edit(marker: int, payload: bytes, editor: MetadataEditor) -> bytes | None:
    """The segment's replacement payload, or ``None`` to drop it."""
    if marker == 0xE1 and payload.startswith(_EXIF_PREFIX):
        cleaned = editor.exif(payload[len(_EXIF_PREFIX) :])
        if cleaned is None or len(cleaned) + len(_EXIF_PREFIX) > 0xFFFF - 2:
            return None
        return _EXIF_PREFIX + cleaned
    if marker == 0xE1 and payload.startswith((_XMP_PREFIX, _XMP_EXTENSION_PREFIX)):
        return payload if editor.keep_xmp(payload) else None
    if marker == 0xED and payload.startswith(_IPTC_PREFIX):
        return payload if editor.keep_block("IPTC") else None
    return payload


def _jpeg(source: IO[bytes], write: Write | None, editor: MetadataEditor) -> None:
    mime = "image/jpeg"
    emit = write or (lambda _data: None)
    if source.read(2) != b"\xff\xd8":
        raise _malformed(mime, "no start-of-image marker")
    emit(b"\xff\xd8")
    while True:
        prefix = source.read(1)
        if prefix != b"\xff":
            raise InvalidMedia("the image/jpeg file is truncated or corrupt", detected_type=mime)
        marker = b"\xff"
        while marker == b"\xff":  # fill bytes
            marker = source.read(1)
        if not marker:
            raise InvalidMedia("the image/jpeg file is truncated", detected_type=mime)
        code = marker[0]
        if code == 0xD9 or 0xD0 <= code <= 0xD7 or code == 0x01:  # no length field
            emit(b"\xff" + marker)
            if code == 0xD9:
                return
            continue
        length = int.from_bytes(_read_exact(source, 2, mime), "big")
        if length < 2:
            raise _malformed(mime, "a segment shorter than its length field")
        if code == 0xDA:  # start of scan: what follows is pixel data
            if write is None:
                return
            write(b"\xff\xda" + length.to_bytes(2, "big"))
            while chunk := source.read(COPY_SIZE):
                write(chunk)
            return
        payload = _read_exact(source, length - 2, mime)
        if 0xE0 <= code <= 0xEF:
            edited = _jpeg_edit(code, payload, editor)
            if edited is not None:
                emit(_jpeg_segment(code, edited))
        else:
            emit(_jpeg_segment(code, payload))


# -- PNG: chunks, metadata ones rewritten with a fresh CRC ------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data).to_bytes(4, "big")
    return len(data).to_bytes(4, "big") + kind + data + crc


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        return inflater.decompress(data, MAX_BLOCK_SIZE)
    except zlib.error:
        return b""


def _png_text_kept(kind: bytes, data: bytes, editor: MetadataEditor) -> bool:
    keyword, _, rest = data.partition(b"\x00")
    lowered = keyword.lower()
    if lowered == _PNG_XMP_KEYWORD and kind == b"iTXt":
        compressed = rest[:1] == b"\x01"
        # iTXt: compression flag, method, language tag\0, translated keyword\0, text
        text = rest[2:].split(b"\x00", 2)[-1]
        return editor.keep_xmp(_inflate(text) if compressed else text)
    if lowered in _PNG_IDENTIFYING_KEYWORDS or lowered.startswith(b"raw profile type"):
        return editor.keep_block(f"PNG text {keyword.decode('latin-1')}")
    return True


def _png(source: IO[bytes], write: Write | None, editor: MetadataEditor) -> None:
    mime = "image/png"
    if source.read(8) != _PNG_SIGNATURE:
        raise _malformed(mime, "no PNG signature")
    if write is not None:
        write(_PNG_SIGNATURE)
    while True:
        header = _read_exact(source, 8, mime)
        length = int.from_bytes(header[:4], "big")
        kind = header[4:8]
        if kind == b"eXIf":
            data = _read_exact(source, length, mime)
            _read_exact(source, 4, mime)  # the old CRC
            cleaned = editor.exif(data)
            if cleaned is not None and write is not None:
                write(_png_chunk(kind, cleaned))
        elif kind in (b"tEXt", b"zTXt", b"iTXt"):
            data = _read_exact(source, length, mime)
            crc = _read_exact(source, 4, mime)
            if _png_text_kept(kind, data, editor) and write is not None:
                write(header + data + crc)
        elif write is None:
            source.seek(length + 4, 1)
        else:
            write(header)
            _copy(source, write, length + 4, mime)
        if kind == b"IEND":
            return


# -- WebP: RIFF chunks; the RIFF size and the VP8X flags follow what is kept -------------------


def _webp(source: IO[bytes], write: Write | None, editor: MetadataEditor) -> None:
    mime = "image/webp"
    header = _read_exact(source, 12, mime)
    if header[:4] != b"RIFF" or header[8:12] != b"WEBP":
        raise _malformed(mime, "no RIFF/WEBP header")
    end = 8 + int.from_bytes(header[4:8], "little")
    # Each chunk: its fourcc, where its payload starts, its size, and new payload bytes
    # (None: copy the original payload through).
    plan: list[tuple[bytes, int, int, bytes | None]] = []
    position = 12
    while position + 8 <= end:
        source.seek(position)
        chunk = _read_exact(source, 8, mime)
        fourcc, size = chunk[:4], int.from_bytes(chunk[4:8], "little")
        start = position + 8
        position = start + size + (size & 1)
        if position > end:
            raise InvalidMedia("the image/webp file is truncated", detected_type=mime)
        if fourcc == b"EXIF":
            data = _read_exact(source, size, mime)
            prefixed = data.startswith(_EXIF_PREFIX)
            cleaned = editor.exif(data[len(_EXIF_PREFIX) :] if prefixed else data)
            if cleaned is not None:
                plan.append((fourcc, start, len(cleaned), cleaned))
        elif fourcc == b"XMP ":
            if editor.keep_xmp(_read_exact(source, size, mime)):
                plan.append((fourcc, start, size, None))
        elif fourcc == b"VP8X":
            plan.append((fourcc, start, size, _read_exact(source, size, mime)))
        else:
            plan.append((fourcc, start, size, None))
    if write is not None:
        _write_webp(source, write, plan)


def _write_webp(
    source: IO[bytes], write: Write, plan: list[tuple[bytes, int, int, bytes | None]]
) -> None:
    kinds = {fourcc for fourcc, *_ in plan}
    total = 4 + sum(8 + size + (size & 1) for _, _, size, _ in plan)
    write(b"RIFF" + total.to_bytes(4, "little") + b"WEBP")
    for fourcc, start, size, data in plan:
        if fourcc == b"VP8X" and data:
            flags = data[0]
            if b"EXIF" not in kinds:
                flags &= ~_WEBP_EXIF_FLAG
            if b"XMP " not in kinds:
                flags &= ~_WEBP_XMP_FLAG
            data = bytes((flags,)) + data[1:]
        write(fourcc + size.to_bytes(4, "little"))
        if data is not None:
            write(data)
        else:
            source.seek(start)
            _copy(source, write, size, "image/webp")
        if size & 1:
            write(b"\x00")
