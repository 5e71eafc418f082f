"""The real type of an upload, read from its first bytes (never from its name).

:mod:`filetype` knows the magic numbers; two families need more care than it gives them:

* ISO base media files (MP4, QuickTime, but also HEIC and AVIF images and M4A audio) all
  start with an ``ftyp`` box. Its brands, not the box itself, say what the file is, and
  :mod:`filetype` leaves many real MP4 brands (``iso5``, ``M4V``, ``dash``...) unlabelled.
* Matroska and WebM share the EBML header; only its ``DocType`` tells them apart.

Both are parsed here; everything else goes to :mod:`filetype`, with its labels mapped onto
the names Pinsphere uses (an animated PNG is a PNG).
"""

from __future__ import annotations

import filetype

__all__ = ["DEFAULT_ALLOWED_TYPES", "HEAD_SIZE", "sniff"]

HEAD_SIZE = 8192
"""How many leading bytes :func:`sniff` looks at (:mod:`filetype` reads as many)."""

DEFAULT_ALLOWED_TYPES: frozenset[str] = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "video/mp4",
        "video/quicktime",
        "video/webm",
    }
)
"""The types a store accepts unless configured otherwise."""

# filetype's label -> ours, where they differ for a file we accept.
_RENAMES = {
    "image/apng": "image/png",
    "video/x-m4v": "video/mp4",
}

# ftyp brands, by what a file whose major brand is one of them holds.
_QUICKTIME_BRANDS = frozenset({b"qt  "})
_MP4_BRANDS = frozenset(
    {
        *(b"iso" + bytes([digit]) for digit in b"m23456789"),
        b"mp41",
        b"mp42",
        b"mp71",
        b"avc1",
        b"M4V ",
        b"M4VH",
        b"M4VP",
        b"dash",
        b"msdh",
        b"f4v ",
        b"mmp4",
        b"MSNV",
        b"XAVC",
        b"NDAS",
    }
)
_IMAGE_BRANDS = {
    b"avif": "image/avif",
    b"avis": "image/avif",
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"heim": "image/heic",
    b"heis": "image/heic",
    b"hevc": "image/heic-sequence",
    b"hevx": "image/heic-sequence",
    b"mif1": "image/heif",
    b"msf1": "image/heif-sequence",
}
_AUDIO_BRANDS = frozenset({b"M4A ", b"M4B ", b"M4P "})
# Old QuickTime movies have no ftyp box and start straight with one of these atoms.
_LEGACY_QUICKTIME_ATOMS = frozenset({b"moov", b"mdat", b"wide", b"pnot"})

_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_EBML_DOCTYPE_ID = 0x4282


def sniff(head: bytes) -> str | None:
    """The MIME type the bytes really are, from the start of a file.

    Args:
        head: The file's first bytes; :data:`HEAD_SIZE` of them are enough, fewer work
            for formats whose signature is shorter.

    Returns:
        A MIME type such as ``image/png`` or ``video/mp4`` (also for types a store may not
        accept, so that errors can name them), or ``None`` when the bytes are not a known
        binary format (text, HTML, random bytes, nothing at all).
    """
    head = bytes(head[:HEAD_SIZE])
    if len(head) < 4:
        return None
    found = _sniff_iso_media(head)
    if found is not None:
        return found
    if head.startswith(_EBML_MAGIC):
        return _sniff_ebml(head)
    kind = filetype.guess(head)
    if kind is None:
        return None
    mime = str(kind.mime)
    return _RENAMES.get(mime, mime)


def _sniff_iso_media(head: bytes) -> str | None:
    """Classify an ISO base media file by its ``ftyp`` brands (``None``: not one)."""
    if len(head) < 8:
        return None
    box_size = int.from_bytes(head[:4], "big")
    box_type = head[4:8]
    if box_type != b"ftyp":
        if box_type in _LEGACY_QUICKTIME_ATOMS and (box_size >= 8 or box_size in (0, 1)):
            return "video/quicktime"
        return None
    if box_size < 16 or len(head) < 12:
        return None
    major = head[8:12]
    end = min(box_size, len(head))
    compatible = [head[offset : offset + 4] for offset in range(16, end - 3, 4)]
    # The major brand says what the file is meant to be; compatible brands only say what
    # else can read it (an MP4 may list "qt  ", an AVIF lists "mif1"), so they decide only
    # when the major brand is one we do not know.
    for brands in ([major], compatible):
        for brand in brands:
            found = _classify_brand(brand)
            if found is not None:
                return found
    if major.startswith(b"3g"):
        return "video/3gpp2" if major.startswith(b"3g2") else "video/3gpp"
    # An ftyp box with no brand we know: some ISO media, but nothing we can vouch for.
    return "application/mp4"


def _classify_brand(brand: bytes) -> str | None:
    if brand in _QUICKTIME_BRANDS:
        return "video/quicktime"
    if brand in _MP4_BRANDS:
        return "video/mp4"
    if brand in _IMAGE_BRANDS:
        return _IMAGE_BRANDS[brand]
    if brand in _AUDIO_BRANDS:
        return "audio/mp4"
    return None


def _sniff_ebml(head: bytes) -> str:
    """WebM or another Matroska file, by the EBML header's ``DocType``."""
    position = len(_EBML_MAGIC)
    header_size, position = _read_vint(head, position, as_id=False)
    end = len(head) if header_size is None else min(len(head), position + header_size)
    while position < end:
        element_id, position = _read_vint(head, position, as_id=True)
        size, position = _read_vint(head, position, as_id=False)
        if element_id is None or size is None:
            break
        if element_id == _EBML_DOCTYPE_ID:
            doctype = head[position : position + size].rstrip(b"\x00")
            if doctype == b"webm":
                return "video/webm"
            if doctype == b"matroska":
                return "video/x-matroska"
            break
        position += size
    return "application/x-ebml"


def _read_vint(data: bytes, position: int, *, as_id: bool) -> tuple[int | None, int]:
    """Read an EBML variable-length integer; ``None`` when it is malformed or cut off.

    Element ids keep their length marker bit (that is how ids are written down, e.g.
    ``0x4282``); sizes drop it.
    """
    if position >= len(data):
        return None, len(data)
    first = data[position]
    length = 1
    mask = 0x80
    while length <= 8 and not first & mask:
        length += 1
        mask >>= 1
    if length > 8 or position + length > len(data):
        return None, len(data)
    value = first if as_id else first & (mask - 1)
    for byte in data[position + 1 : position + length]:
        value = (value << 8) | byte
    return value, position + length
