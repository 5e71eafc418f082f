"""The header readers against Pillow as the oracle: the same size for every generated image,
a cut-short error (never a wrong size) for every truncation, and Pillow again for headers
longer than the readers look at."""

from __future__ import annotations

import io
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from pinsphere.errors import InvalidMedia
from pinsphere.media.headers import (
    HEADER_READERS,
    HeaderCutShort,
    gif_size,
    jpeg_size,
    png_size,
    webp_size,
)
from pinsphere.media.probe import HEADER_BYTES, dimensions_from_head, read_dimensions

_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}


@st.composite
def images(draw: st.DrawFn) -> tuple[str, bytes]:
    """An image as Pillow writes it: any of the four formats and their common options."""
    kind = draw(st.sampled_from(sorted(_MIME)))
    width = draw(st.integers(1, 300))
    height = draw(st.integers(1, 300))
    modes = {"JPEG": ["RGB", "L", "CMYK"], "PNG": ["RGB", "RGBA", "L", "LA", "P", "1", "I;16"]}
    mode = draw(st.sampled_from(modes.get(kind, ["RGB"])))
    image = Image.new(mode, (width, height), color=draw(st.integers(0, 255)))
    options: dict[str, object] = {}
    if kind == "JPEG":
        options["progressive"] = draw(st.booleans())
        options["optimize"] = draw(st.booleans())
        if draw(st.booleans()):
            exif = Image.Exif()
            exif[0x0112] = draw(st.integers(1, 8))  # orientation
            exif[0x010F] = "camera " * draw(st.integers(0, 50))
            options["exif"] = exif.tobytes()
        if draw(st.booleans()):
            options["icc_profile"] = bytes(draw(st.binary(min_size=1, max_size=3000)))
    elif kind == "PNG":
        options["optimize"] = draw(st.booleans())
        if draw(st.booleans()):
            options["pnginfo"] = _text_chunks(draw(st.integers(0, 5)))
    elif kind == "GIF":
        frames = [image.convert("P")]
        frames += [
            Image.new("P", (width, height), index) for index in range(draw(st.integers(0, 2)))
        ]
        options.update(save_all=True, append_images=frames[1:], loop=0, duration=40)
        if draw(st.booleans()):
            options["comment"] = b"c" * draw(st.integers(1, 600))
        image = frames[0]
    else:
        options["lossless"] = draw(st.booleans())
        if draw(st.booleans()):
            options["exif"] = Image.Exif().tobytes()
    out = io.BytesIO()
    image.save(out, kind, **options)
    return _MIME[kind], out.getvalue()


def _text_chunks(count: int) -> object:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for index in range(count):
        info.add_text(f"key{index}", "value " * index)
    return info


def _pillow_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(images())
def test_every_reader_agrees_with_pillow(image: tuple[str, bytes]) -> None:
    mime_type, data = image
    assert HEADER_READERS[mime_type](data) == _pillow_size(data)
    assert read_dimensions(io.BytesIO(data), mime_type) == _pillow_size(data)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(images(), st.data())
def test_a_truncated_file_is_cut_short_or_still_sized_right(
    image: tuple[str, bytes], data: st.DataObject
) -> None:
    mime_type, whole = image
    cut = data.draw(st.integers(0, len(whole) - 1))
    head = whole[:cut]
    try:
        size = HEADER_READERS[mime_type](head)
    except HeaderCutShort:
        return  # the cut fell inside the header
    assert size == _pillow_size(whole)


# Pillow warns about the broken EXIF blocks a changed byte makes; those files are the point.
@pytest.mark.filterwarnings("ignore::UserWarning")
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(images(), st.data())
def test_a_changed_byte_never_gives_a_size_pillow_disagrees_with(
    image: tuple[str, bytes], data: st.DataObject
) -> None:
    mime_type, whole = image
    at = data.draw(st.integers(0, min(len(whole), 400) - 1))
    value = data.draw(st.integers(0, 255))
    changed = whole[:at] + bytes([value]) + whole[at + 1 :]
    try:
        size = HEADER_READERS[mime_type](changed)
    except InvalidMedia:
        return
    try:
        expected = _pillow_size(changed)
    except Exception:  # Pillow refuses a header ours accepts: the decode refuses it later
        return
    assert size == expected


def _jpeg(width: int = 40, height: int = 30) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height)).save(out, "JPEG")
    return out.getvalue()


def _app_segments(total: int) -> bytes:
    """APP15 segments (ignored by decoders) adding up to about ``total`` bytes."""
    parts = []
    while total > 0:
        body = b"x" * min(total, 65_000)
        parts.append(b"\xff\xef" + struct.pack(">H", len(body) + 2) + body)
        total -= len(body)
    return b"".join(parts)


def test_a_header_longer_than_the_readers_look_at_goes_to_pillow() -> None:
    plain = _jpeg(123, 45)
    long_header = plain[:2] + _app_segments(HEADER_BYTES + 10_000) + plain[2:]
    assert _pillow_size(long_header) == (123, 45)
    assert read_dimensions(io.BytesIO(long_header), "image/jpeg") == (123, 45)
    head = long_header[:HEADER_BYTES]
    assert dimensions_from_head(head, "image/jpeg", whole_file=False, max_pixels=10**8) is None
    with pytest.raises(HeaderCutShort):
        dimensions_from_head(head, "image/jpeg", whole_file=True, max_pixels=10**8)


def test_jpeg_fill_bytes_and_standalone_markers_are_skipped() -> None:
    plain = _jpeg(17, 9)
    padded = plain[:2] + b"\xff\xff\xff" + b"\xff\xd0" + plain[2:]
    assert jpeg_size(padded) == (17, 9)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"\xff\xd8\xff\xda\x00\x08", "a scan before the frame header"),
        (b"\xff\xd8\xff\xd9", "FFD9 before the first scan"),
        (b"\xff\xd8\xff\xe0\x00\x01rest", "length 1"),
        (b"\xff\xd8\x00\xe0\x00\x10", "no marker at byte 2"),
        (b"\xff\xd8\xff\xc0\x00\x05\x08\x00", "frame header of length 5"),
        (b"GIF89a", "start-of-image"),
    ],
)
def test_broken_jpeg_structure_is_malformed(data: bytes, why: str) -> None:
    with pytest.raises(InvalidMedia, match=why) as caught:
        jpeg_size(data)
    assert not isinstance(caught.value, HeaderCutShort)


def test_a_second_frame_header_cannot_hide_a_huge_canvas() -> None:
    # Pillow takes the size of the last frame header before the scan; decoders refuse two.
    plain = _jpeg(8, 8)
    at = plain.index(b"\xff\xc0")
    length = struct.unpack(">H", plain[at + 2 : at + 4])[0]
    frame = plain[at : at + 2 + length]
    huge = bytearray(frame)
    huge[5:9] = struct.pack(">HH", 60_000, 60_000)
    bomb = plain[:at] + frame + bytes(huge) + plain[at + 2 + length :]
    with pytest.raises(Image.DecompressionBombError):
        _pillow_size(bomb)  # Pillow saw the second, huge frame
    with pytest.raises(InvalidMedia, match="second frame header"):
        jpeg_size(bomb)
    with pytest.raises(InvalidMedia):
        read_dimensions(io.BytesIO(bomb), "image/jpeg")


def _png(width: int = 5, height: int = 4) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height)).save(out, "PNG")
    return out.getvalue()


def test_png_ihdr_crc_and_mode_are_checked() -> None:
    good = _png(5, 4)
    assert png_size(good) == (5, 4)
    bad_crc = good[:29] + bytes([good[29] ^ 1]) + good[30:]
    with pytest.raises(InvalidMedia, match="CRC"):
        png_size(bad_crc)
    # Colour type 2 (RGB) with bit depth 4, with a CRC that matches: no such PNG exists.
    body = good[12:24] + bytes([4, 2, 0, 0, 0])
    odd_mode = good[:12] + body + struct.pack(">I", __import__("zlib").crc32(body)) + good[33:]
    with pytest.raises(InvalidMedia, match="bit depth 4 with colour type 2"):
        png_size(odd_mode)


def test_gif_blocks_before_the_first_image_are_walked() -> None:
    out = io.BytesIO()
    Image.new("P", (12, 7)).save(out, "GIF", comment=b"hello", loop=0)
    data = out.getvalue()
    assert gif_size(data) == (12, 7)
    # The trailer straight after the screen and its colour table: no image at all.
    flags = data[10]
    table = 3 << ((flags & 0x07) + 1) if flags & 0x80 else 0
    empty = data[: 13 + table] + b"\x3b"
    with pytest.raises(InvalidMedia, match="trailer before the first image"):
        gif_size(empty)


def test_webp_needs_a_known_first_chunk() -> None:
    with pytest.raises(HeaderCutShort):
        webp_size(b"RIFF\x00\x00\x00\x00WEBP")
    with pytest.raises(InvalidMedia, match="VP8X, VP8 or VP8L"):
        webp_size(b"RIFF\x00\x00\x00\x00WEBPXXXX" + b"\x00" * 20)
