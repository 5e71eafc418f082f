"""EXIF facts, and served copies without GPS or identifying tags, pixels untouched."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import media_samples as samples
import pytest
from PIL import Image

from pinsphere.errors import InvalidMedia
from pinsphere.media.exif import ExifFacts, clean_tiff, read_exif, strip_identifying

_GPS_IFD = 0x8825
_EXIF_IFD = 0x8769


def _strip(data: bytes, mime_type: str, *, keep_gps: bool = False) -> tuple[bytes, ExifFacts]:
    out = io.BytesIO()
    facts = strip_identifying(io.BytesIO(data), out, mime_type, keep_gps=keep_gps)
    return out.getvalue(), facts


def _pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGBA").tobytes()


def _exif(data: bytes) -> Image.Exif:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.getexif()


def _scan(data: bytes) -> bytes:
    """A JPEG's bytes from its first start-of-scan marker to the end."""
    return data[data.index(b"\xff\xda") :]


def test_camera_facts_are_read() -> None:
    facts = read_exif(io.BytesIO(samples.camera_jpeg(orientation=6)), "image/jpeg")
    assert facts.camera_make == "Pinsphere Optics"
    assert facts.camera_model == "PX-1"
    assert facts.taken_at == datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone(timedelta(hours=2)))
    assert facts.orientation == 6
    assert facts.gps is not None
    assert facts.gps.latitude == pytest.approx(52.37, abs=1e-4)
    assert facts.gps.longitude == pytest.approx(4.8925, abs=1e-4)
    assert facts.gps.altitude == pytest.approx(123.4)
    assert {"GPS", "BodySerialNumber", "CameraOwnerName", "Artist", "MakerNote"} <= set(
        facts.identifying
    )
    assert {"XMP", "IPTC"} <= set(facts.identifying)


def test_southern_and_western_positions_are_negative_and_times_without_offset_naive() -> None:
    data = samples.camera_jpeg(gps=(-33.8568, -151.2153), offset=None, xmp=None, iptc=False)
    facts = read_exif(io.BytesIO(data), "image/jpeg")
    assert facts.gps is not None
    assert facts.gps.latitude == pytest.approx(-33.8568, abs=1e-4)
    assert facts.gps.longitude == pytest.approx(-151.2153, abs=1e-4)
    assert facts.taken_at == datetime(2024, 5, 6, 7, 8, 9)


def test_files_without_exif_have_empty_facts() -> None:
    assert read_exif(io.BytesIO(samples.plain_jpeg()), "image/jpeg") == ExifFacts()
    assert read_exif(io.BytesIO(samples.animated_gif()), "image/gif") == ExifFacts()


def test_jpeg_is_stripped_without_touching_its_pixels() -> None:
    original = samples.camera_jpeg((64, 48), orientation=6)
    cleaned, facts = _strip(original, "image/jpeg")
    assert facts.gps is not None  # the owner's facts are returned...
    exif = _exif(cleaned)  # ...but the served copy has no GPS and no identifying tags
    assert _GPS_IFD not in exif
    assert not exif.get_ifd(_GPS_IFD)
    assert 0x013B not in exif
    sub = exif.get_ifd(_EXIF_IFD)
    assert not {0xA431, 0xA430, 0x927C} & set(sub)
    assert exif[0x0112] == 6
    assert exif[0x010F] == "Pinsphere Optics"
    assert sub[0x9003] == "2024:05:06 07:08:09"
    assert b"GPSLatitude" not in cleaned
    assert b"Photoshop 3.0" not in cleaned
    assert b"SN-0042" not in cleaned
    assert b"Alice" not in cleaned
    assert _scan(cleaned) == _scan(original)  # the compressed pixels, byte for byte
    assert _pixels(cleaned) == _pixels(original)
    assert read_exif(io.BytesIO(cleaned), "image/jpeg").identifying == ()


def test_owner_may_keep_gps_but_never_serial_numbers() -> None:
    original = samples.camera_jpeg()
    cleaned, _ = _strip(original, "image/jpeg", keep_gps=True)
    facts = read_exif(io.BytesIO(cleaned), "image/jpeg")
    assert facts.gps is not None
    assert facts.gps.latitude == pytest.approx(52.37, abs=1e-4)
    assert b"SN-0042" not in cleaned
    assert b"GPSLatitude" in cleaned  # the XMP packet is kept too


def test_plain_xmp_and_clean_files_pass_through_unchanged() -> None:
    clean = samples.camera_jpeg(gps=None, serial=False, xmp=samples.PLAIN_XMP, iptc=False)
    cleaned, facts = _strip(clean, "image/jpeg")
    assert facts.identifying == ()
    assert cleaned == clean


def test_embedded_preview_is_dropped() -> None:
    exif = samples.camera_exif(gps=None, serial=False)
    tiff = exif.tobytes()[6:]
    # Link a second directory (IFD1) after IFD0, as cameras do for their preview.
    order = "little" if tiff[:2] == b"II" else "big"
    first = int.from_bytes(tiff[4:8], order)
    count = int.from_bytes(tiff[first : first + 2], order)
    next_at = first + 2 + 12 * count
    ifd1 = (0).to_bytes(2, order) + (0).to_bytes(4, order)
    linked = tiff[:next_at] + len(tiff).to_bytes(4, order) + tiff[next_at + 4 :] + ifd1
    cleaned = clean_tiff(linked)
    assert cleaned is not None
    assert cleaned != linked
    assert clean_tiff(cleaned) == cleaned  # nothing left to remove


def test_png_exif_and_location_text_are_cleaned() -> None:
    original = samples.camera_png(alpha=True)
    cleaned, facts = _strip(original, "image/png")
    assert facts.gps is not None
    with Image.open(io.BytesIO(cleaned)) as image:
        image.verify()  # every chunk's CRC is right
    with Image.open(io.BytesIO(cleaned)) as image:
        image.load()
        assert "Location" not in image.info
        assert "XML:com.adobe.xmp" not in image.info
        assert image.info["Title"] == "Canal at dusk"
    assert not _exif(cleaned).get_ifd(_GPS_IFD)
    assert b"SN-0042" not in cleaned
    assert _pixels(cleaned) == _pixels(original)


def test_webp_exif_and_xmp_are_cleaned_and_flags_follow() -> None:
    original = samples.camera_webp()
    cleaned, facts = _strip(original, "image/webp")
    assert facts.gps is not None
    assert b"XMP " not in cleaned
    assert b"GPSLatitude" not in cleaned
    assert int.from_bytes(cleaned[4:8], "little") == len(cleaned) - 8
    vp8x = cleaned.index(b"VP8X")
    assert not cleaned[vp8x + 8] & 0x04  # the XMP flag is cleared with its chunk
    assert cleaned[vp8x + 8] & 0x08  # EXIF stays (cleaned), so does its flag
    assert not _exif(cleaned).get_ifd(_GPS_IFD)
    assert _exif(cleaned)[0x010F] == "Pinsphere Optics"
    assert _pixels(cleaned) == _pixels(original)


def test_other_types_are_copied_as_they_are() -> None:
    gif = samples.animated_gif()
    parts: list[bytes] = []
    facts = strip_identifying(io.BytesIO(gif), parts.append, "image/gif")
    assert b"".join(parts) == gif
    assert facts == ExifFacts()


@pytest.mark.parametrize(
    ("data", "mime_type"),
    [
        (b"\xff\xd8\xff\xe1\x00", "image/jpeg"),
        (b"not a jpeg", "image/jpeg"),
        (samples.camera_png()[:40], "image/png"),
        (b"RIFF\x00\x01\x00\x00WEBPVP8X\x0a\x00\x00\x00", "image/webp"),
    ],
)
def test_malformed_containers_are_invalid_media(data: bytes, mime_type: str) -> None:
    with pytest.raises(InvalidMedia):
        _strip(data, mime_type)


def test_corrupt_exif_gives_empty_facts_and_is_dropped() -> None:
    data = samples.plain_jpeg()
    broken = b"Exif\x00\x00MM\x00*\x00\x00\xff\xff"
    segment = b"\xff\xe1" + (len(broken) + 2).to_bytes(2, "big") + broken
    corrupt = data[:2] + segment + data[2:]
    assert read_exif(io.BytesIO(corrupt), "image/jpeg").camera_make is None
    cleaned, _ = _strip(corrupt, "image/jpeg")
    assert b"Exif" not in cleaned[:64]
    assert _pixels(cleaned) == _pixels(data)


@pytest.mark.parametrize(
    ("make", "model", "camera"),
    [
        ("Canon", "Canon EOS R6", "Canon EOS R6"),
        ("NIKON CORPORATION", "NIKON Z 6", "NIKON CORPORATION NIKON Z 6"),
        ("Apple", "iPhone 15", "Apple iPhone 15"),
        ("apple", "Apple iPhone 15", "Apple iPhone 15"),
        (None, "PX-1", "PX-1"),
        ("Pinsphere Optics", None, "Pinsphere Optics"),
        (None, None, None),
    ],
)
def test_the_camera_joins_make_and_model(
    make: str | None, model: str | None, camera: str | None
) -> None:
    assert ExifFacts(camera_make=make, camera_model=model).camera == camera
