"""What a photo's EXIF says (camera, time taken, orientation, place), and a copy without
what identifies its owner.

Privacy by default: the copy of an original that is served to anyone has no GPS position
and none of the tags that identify a person or a device. The facts are read first, so they
can stay on the pin for its owner. Removed from the EXIF block:

* the GPS directory (unless the owner opts in with ``keep_gps``);
* :data:`IDENTIFYING_TAGS`: owner and artist names, body and lens serial numbers, the
  image's unique id, the host computer, and the maker note (an undocumented vendor block
  that commonly holds serial numbers);
* the embedded preview (IFD1), which may show the picture as it was before cropping.

Camera make and model, exposure, time taken, orientation and copyright stay.

The rewrite is of the metadata only: :mod:`pinsphere.media.containers` copies the pixel
data byte for byte. Beyond EXIF it drops XMP packets that mention GPS, a JPEG's IPTC block
(location names and by-line) and a PNG's location and author text chunks.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import IO, Any, Literal

from PIL import Image

from pinsphere.errors import InvalidMedia
from pinsphere.media.containers import COPY_SIZE, REWRITABLE, MetadataEditor, rewrite
from pinsphere.media.sinks import Sink, writer_of

__all__ = [
    "IDENTIFYING_TAGS",
    "ExifFacts",
    "GpsPosition",
    "clean_tiff",
    "facts_from_tiff",
    "read_exif",
    "strip_identifying",
]

_EXIF_IFD = 0x8769
_INTEROP_IFD = 0xA005
_GPS_IFD = 0x8825
_MAKE, _MODEL, _ORIENTATION, _DATETIME = 0x010F, 0x0110, 0x0112, 0x0132
_DATETIME_ORIGINAL, _DATETIME_DIGITIZED, _OFFSET_TIME_ORIGINAL = 0x9003, 0x9004, 0x9011

IDENTIFYING_TAGS: Mapping[int, str] = {
    0x013B: "Artist",
    0x013C: "HostComputer",
    0x9C9D: "XPAuthor",
    0x927C: "MakerNote",
    0xA420: "ImageUniqueID",
    0xA430: "CameraOwnerName",
    0xA431: "BodySerialNumber",
    0xA435: "LensSerialNumber",
    0xC62F: "CameraSerialNumber",
}
"""Tags removed from the served copy whatever the owner chose, by number (in IFD0 or the
Exif IFD)."""


@dataclass(frozen=True)
class GpsPosition:
    """Where a photo was taken.

    Attributes:
        latitude: Degrees, north positive.
        longitude: Degrees, east positive.
        altitude: Metres above sea level, when recorded.
    """

    latitude: float
    longitude: float
    altitude: float | None = None


@dataclass(frozen=True)
class ExifFacts:
    """What the EXIF block of a file says (every field ``None`` when it has none).

    Attributes:
        camera_make: E.g. ``Canon``.
        camera_model: E.g. ``Canon EOS R6``.
        taken_at: When the photo was taken; timezone-aware when the camera recorded its
            UTC offset, naive (camera-local time) otherwise.
        orientation: The EXIF orientation, 1-8.
        gps: Where it was taken.
        identifying: Names of what a served copy leaves out (``GPS``, ``BodySerialNumber``,
            ``XMP``...); empty when the original can be served as it is.
    """

    camera_make: str | None = None
    camera_model: str | None = None
    taken_at: datetime | None = None
    orientation: int | None = None
    gps: GpsPosition | None = None
    identifying: tuple[str, ...] = field(default=())

    @property
    def camera(self) -> str | None:
        """Make and model as one name: the model alone when it already starts with the
        make (``Canon`` + ``Canon EOS R6`` is ``Canon EOS R6``), else ``make model``;
        whichever is known when only one is, ``None`` when neither is."""
        make, model = self.camera_make, self.camera_model
        if make is None or model is None:
            return model or make
        if model.casefold().startswith(make.casefold()):
            return model
        return f"{make} {model}"


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    cleaned = value.replace("\x00", "").strip()
    return cleaned or None


def _taken_at(ifd0: Mapping[int, Any], exif_ifd: Mapping[int, Any]) -> datetime | None:
    for raw in (exif_ifd.get(_DATETIME_ORIGINAL), exif_ifd.get(_DATETIME_DIGITIZED)):
        stamp = _text(raw)
        if stamp is None:
            continue
        try:
            taken = datetime.strptime(stamp[:19], "%Y:%m:%d %H:%M:%S")
        except ValueError:
            continue  # "0000:00:00 00:00:00" and other placeholders
        offset = _text(exif_ifd.get(_OFFSET_TIME_ORIGINAL))
        return taken.replace(tzinfo=_parse_offset(offset)) if offset else taken
    stamp = _text(ifd0.get(_DATETIME))
    try:
        return datetime.strptime(stamp[:19], "%Y:%m:%d %H:%M:%S") if stamp else None
    except ValueError:
        return None


def _parse_offset(text: str) -> timezone | None:
    try:
        sign = -1 if text[0] == "-" else 1
        hours, minutes = int(text[1:3]), int(text[4:6])
    except (ValueError, IndexError):
        return None
    if hours > 14 or minutes > 59:
        return None
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _degrees(value: object, reference: object, negative: str) -> float | None:
    try:
        degrees, minutes, seconds = (float(part) for part in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    result = degrees + minutes / 60 + seconds / 3600
    if not math.isfinite(result):
        return None
    return -result if _text(reference) == negative else result


def _gps(gps_ifd: Mapping[int, Any]) -> GpsPosition | None:
    latitude = _degrees(gps_ifd.get(2), gps_ifd.get(1), "S")
    longitude = _degrees(gps_ifd.get(4), gps_ifd.get(3), "W")
    if latitude is None or longitude is None:
        return None
    if abs(latitude) > 90 or abs(longitude) > 180:
        return None
    altitude: float | None
    try:
        altitude = float(gps_ifd[6])
        if gps_ifd.get(5) in (1, b"\x01"):
            altitude = -altitude
        if not math.isfinite(altitude):
            altitude = None
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        altitude = None
    return GpsPosition(latitude=latitude, longitude=longitude, altitude=altitude)


def _load(tiff: bytes) -> Image.Exif | None:
    exif = Image.Exif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns of what it then skips
            exif.load(tiff)
            exif.get_ifd(_EXIF_IFD)
            exif.get_ifd(_GPS_IFD)
    except Exception:  # a corrupt EXIF block is no EXIF block
        return None
    return exif


def facts_from_tiff(tiff: bytes) -> ExifFacts:
    """The facts in an EXIF block (a TIFF structure, with or without ``Exif\\0\\0``).

    A corrupt block gives empty facts rather than an error: the picture is still fine.
    """
    exif = _load(tiff)
    if exif is None:
        return ExifFacts()
    exif_ifd = exif.get_ifd(_EXIF_IFD)
    orientation = exif.get(_ORIENTATION)
    return ExifFacts(
        camera_make=_text(exif.get(_MAKE)),
        camera_model=_text(exif.get(_MODEL)),
        taken_at=_taken_at(exif, exif_ifd),
        orientation=orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else None,
        gps=_gps(exif.get_ifd(_GPS_IFD)),
        identifying=_identifying(exif, tiff),
    )


def _has_preview(tiff: bytes) -> bool:
    """Whether the TIFF structure links a second directory (IFD1: the embedded preview)."""
    if tiff.startswith(b"Exif\x00\x00"):
        tiff = tiff[6:]
    order: Literal["little", "big"] = "little" if tiff[:2] == b"II" else "big"
    first = int.from_bytes(tiff[4:8], order)
    if first + 2 > len(tiff):
        return False
    entries = int.from_bytes(tiff[first : first + 2], order)
    next_at = first + 2 + 12 * entries
    return len(tiff) >= next_at + 4 and int.from_bytes(tiff[next_at : next_at + 4], order) != 0


def _identifying(exif: Image.Exif, tiff: bytes) -> tuple[str, ...]:
    found = ["GPS"] if exif.get_ifd(_GPS_IFD) or _GPS_IFD in exif else []
    exif_ifd = exif.get_ifd(_EXIF_IFD)
    found += [name for tag, name in IDENTIFYING_TAGS.items() if tag in exif or tag in exif_ifd]
    if _has_preview(tiff):
        found.append("Preview")
    return tuple(found)


def clean_tiff(tiff: bytes, *, keep_gps: bool = False) -> bytes | None:
    """An EXIF block without what identifies its owner (see the module docstring).

    Args:
        tiff: The TIFF structure, with or without the ``Exif\\0\\0`` prefix.
        keep_gps: Keep the GPS directory.

    Returns:
        The cleaned TIFF structure (no prefix); the input itself when nothing needed
        removing; ``None`` when nothing worth keeping is left (or the block is corrupt).
    """
    exif = _load(tiff)
    if exif is None or not len(exif):
        return None  # what cannot be read cannot be vouched for
    removable = set(_identifying(exif, tiff))
    if keep_gps:
        removable.discard("GPS")
    if not removable:
        return tiff[6:] if tiff.startswith(b"Exif\x00\x00") else tiff
    try:
        cleaned = _rebuilt(exif, keep_gps=keep_gps).tobytes()
    except Exception:
        # Cannot be rewritten faithfully: keep only what changes how the picture shows.
        orientation = exif.get(_ORIENTATION)
        if not isinstance(orientation, int):
            return None
        minimal = Image.Exif()
        minimal[_ORIENTATION] = orientation
        cleaned = minimal.tobytes()
    return cleaned[6:] if cleaned.startswith(b"Exif\x00\x00") else cleaned


def _rebuilt(exif: Image.Exif, *, keep_gps: bool) -> Image.Exif:
    """A fresh EXIF block with what is kept, built tag by tag.

    Built anew rather than edited in place: Pillow writes back every sub-directory it has
    ever read, even one whose pointer was deleted, and an edit could let the GPS
    directory slip through. IFD1 (the preview) is never copied.
    """
    rebuilt = Image.Exif()
    rebuilt.endian = exif.endian
    for tag, value in exif.items():
        if tag in IDENTIFYING_TAGS or tag in (_EXIF_IFD, _GPS_IFD):
            continue
        rebuilt[tag] = value
    exif_ifd = {
        tag: value for tag, value in exif.get_ifd(_EXIF_IFD).items() if tag not in IDENTIFYING_TAGS
    }
    if _INTEROP_IFD in exif_ifd:
        exif_ifd[_INTEROP_IFD] = exif.get_ifd(_INTEROP_IFD)
    if exif_ifd:
        rebuilt[_EXIF_IFD] = exif_ifd
    gps = exif.get_ifd(_GPS_IFD)
    if keep_gps and gps:
        rebuilt[_GPS_IFD] = dict(gps)
    return rebuilt


class _Cleaner(MetadataEditor):
    """Cleans each metadata block a container rewrite meets, and keeps the facts."""

    def __init__(self, *, keep_gps: bool) -> None:
        self.keep_gps = keep_gps
        self.facts = ExifFacts()
        self.dropped: list[str] = []

    def exif(self, tiff: bytes) -> bytes | None:
        if self.facts == ExifFacts():
            self.facts = facts_from_tiff(tiff)
        return clean_tiff(tiff, keep_gps=self.keep_gps)

    def keep_xmp(self, packet: bytes) -> bool:
        if b"GPS" in packet and not self.keep_gps:
            self.dropped.append("XMP")
            return False
        return True

    def keep_block(self, name: str) -> bool:
        self.dropped.append(name)
        return False

    def result(self) -> ExifFacts:
        extra = tuple(dict.fromkeys(self.dropped))
        if not extra:
            return self.facts
        names = tuple(dict.fromkeys((*self.facts.identifying, *extra)))
        return replace(self.facts, identifying=names)


class _Reader(_Cleaner):
    """Only reads: every block is kept, so nothing is written."""

    def exif(self, tiff: bytes) -> bytes | None:
        super().exif(tiff)
        return tiff

    def keep_xmp(self, packet: bytes) -> bool:
        super().keep_xmp(packet)
        return True

    def keep_block(self, name: str) -> bool:
        super().keep_block(name)
        return True


def read_exif(fileobj: IO[bytes], mime_type: str) -> ExifFacts:
    """The EXIF facts of a JPEG, PNG or WebP file (empty facts for other types).

    Only the metadata blocks are read; a JPEG's scan data is not touched.

    Args:
        fileobj: The whole file, seekable.
        mime_type: The sniffed type.

    Raises:
        InvalidMedia: The container structure is malformed.
    """
    if mime_type not in REWRITABLE:
        return ExifFacts()
    reader = _Reader(keep_gps=False)
    rewrite(fileobj, None, mime_type, reader)
    return reader.result()


def strip_identifying(
    source: IO[bytes], sink: Sink, mime_type: str, *, keep_gps: bool = False
) -> ExifFacts:
    """Write a copy of ``source`` without identifying metadata; pixels byte for byte.

    Args:
        source: The original, seekable (read from its start).
        sink: Where the cleaned file goes (a callable, or an object with ``write``).
        mime_type: ``image/jpeg``, ``image/png`` or ``image/webp``; other types are
            copied unchanged.
        keep_gps: The owner's opt-in to serve the GPS position.

    Returns:
        The facts the original held (GPS included, whatever ``keep_gps`` says).

    Raises:
        InvalidMedia: The container structure is malformed.
    """
    if mime_type not in REWRITABLE:
        source.seek(0)
        write = writer_of(sink)
        while chunk := source.read(COPY_SIZE):
            write(chunk)
        return ExifFacts()
    cleaner = _Cleaner(keep_gps=keep_gps)
    try:
        rewrite(source, writer_of(sink), mime_type, cleaner)
    except InvalidMedia:
        raise
    except (OSError, ValueError) as exc:
        raise InvalidMedia(f"the {mime_type} file is malformed: {exc}") from exc
    return cleaner.result()
