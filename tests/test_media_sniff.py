"""Sniffing real types from bytes, reading image sizes cheaply, and refusing broken files."""

from __future__ import annotations

import io
import random
import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from pinsphere.errors import InvalidMedia
from pinsphere.media import (
    DEFAULT_ALLOWED_TYPES,
    HEAD_SIZE,
    check_integrity,
    probe_dimensions,
    sniff,
)

# -- real media, made here --------------------------------------------------------------------


def _image(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    image = Image.new(mode, size, "orange" if mode != "P" else 3)
    ImageDraw.Draw(image).ellipse((2, 2, size[0] - 2, size[1] - 2), fill="white")
    return image


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def jpeg(size: tuple[int, int] = (64, 48)) -> bytes:
    return encode(_image(size), "JPEG", quality=85)


def png(size: tuple[int, int] = (30, 20)) -> bytes:
    return encode(_image(size), "PNG")


def gif(size: tuple[int, int] = (20, 10)) -> bytes:
    return encode(_image(size).convert("P"), "GIF")


def animated_gif(frames: int = 4) -> bytes:
    images = [Image.new("P", (16, 12), index * 40) for index in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=80, loop=0)
    return out.getvalue()


def animated_png() -> bytes:
    images = [Image.new("RGB", (12, 8), color) for color in ("red", "green", "blue")]
    out = io.BytesIO()
    images[0].save(out, "PNG", save_all=True, append_images=images[1:], duration=100)
    return out.getvalue()


def webp_lossy(size: tuple[int, int] = (40, 24)) -> bytes:
    return encode(_image(size), "WEBP", quality=70)


def webp_lossless(size: tuple[int, int] = (33, 17)) -> bytes:
    return encode(_image(size), "WEBP", lossless=True)


def webp_extended(size: tuple[int, int] = (21, 13)) -> bytes:
    # Real transparency forces the extended (VP8X) layout.
    image = Image.new("RGBA", size, (255, 165, 0, 0))
    ImageDraw.Draw(image).ellipse((2, 2, size[0] - 2, size[1] - 2), fill=(255, 255, 255, 255))
    return encode(image, "WEBP", quality=70)


def animated_webp() -> bytes:
    images = [Image.new("RGB", (18, 14), color) for color in ("red", "green")]
    out = io.BytesIO()
    images[0].save(out, "WEBP", save_all=True, append_images=images[1:], duration=100)
    return out.getvalue()


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    """The start of an ISO base media file: an ftyp box, then a little of the next box."""
    head = box(b"ftyp", major + b"\x00\x00\x02\x00" + b"".join(compatible))
    return head + box(b"free", b"") + box(b"mdat", b"\x00" * 32)


def ebml(doctype: bytes) -> bytes:
    """An EBML header (as WebM and Matroska files start) followed by a Segment id."""

    def element(element_id: bytes, payload: bytes) -> bytes:
        return element_id + bytes([0x80 | len(payload)]) + payload

    body = b"".join(
        [
            element(b"\x42\x86", b"\x01"),  # EBMLVersion
            element(b"\x42\xf7", b"\x01"),  # EBMLReadVersion
            element(b"\x42\xf2", b"\x04"),  # EBMLMaxIDLength
            element(b"\x42\xf3", b"\x08"),  # EBMLMaxSizeLength
            element(b"\x42\x82", doctype),  # DocType
            element(b"\x42\x87", b"\x04"),  # DocTypeVersion
            element(b"\x42\x85", b"\x02"),  # DocTypeReadVersion
        ]
    )
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(body)]) + body + b"\x18\x53\x80\x67"


def png_declaring(width: int, height: int) -> bytes:
    """A real PNG whose IHDR claims another size (CRC fixed so the header is valid)."""
    data = bytearray(png((4, 4)))
    # Signature (8), IHDR length (4), "IHDR" (4), then width and height.
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


# -- sniff ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (jpeg(), "image/jpeg"),
        (png(), "image/png"),
        (animated_png(), "image/png"),
        (gif(), "image/gif"),
        (animated_gif(), "image/gif"),
        (webp_lossy(), "image/webp"),
        (webp_lossless(), "image/webp"),
        (webp_extended(), "image/webp"),
        (animated_webp(), "image/webp"),
        (ftyp(b"isom", b"isom", b"iso2", b"avc1", b"mp41"), "video/mp4"),
        (ftyp(b"mp42", b"mp42", b"isom"), "video/mp4"),
        (ftyp(b"mp41"), "video/mp4"),
        (ftyp(b"iso5", b"iso6", b"mp41"), "video/mp4"),
        (ftyp(b"M4V ", b"M4V ", b"M4A ", b"mp42"), "video/mp4"),
        (ftyp(b"dash", b"iso6", b"avc1"), "video/mp4"),
        (ftyp(b"mp42", b"mp42", b"qt  "), "video/mp4"),
        (ftyp(b"qt  ", b"qt  "), "video/quicktime"),
        (ftyp(b"zzzz", b"qt  "), "video/quicktime"),
        (box(b"wide", b"") + box(b"mdat", b"\x00" * 16), "video/quicktime"),
        (ebml(b"webm"), "video/webm"),
        (ebml(b"matroska"), "video/x-matroska"),
        (ftyp(b"avif", b"avif", b"mif1", b"miaf"), "image/avif"),
        (ftyp(b"heic", b"mif1", b"heic"), "image/heic"),
        (ftyp(b"M4A ", b"M4A ", b"mp42", b"isom"), "audio/mp4"),
        (ftyp(b"3gp4", b"3gp4"), "video/3gpp"),
    ],
)
def test_sniff_names_the_real_type(data: bytes, expected: str) -> None:
    assert sniff(data) == expected
    assert sniff(data[:HEAD_SIZE]) == expected


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff",
        b"Just some plain text, honestly.\n" * 10,
        b"<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>",
        "€ unicode text".encode(),
        random.Random(20260131).randbytes(4096),
        box(b"ftyp", b"is"),  # an ftyp box too short to hold a brand
    ],
    ids=["empty", "one-byte", "text", "html", "utf8", "random", "short-ftyp"],
)
def test_sniff_unknown_bytes_is_none(data: bytes) -> None:
    assert sniff(data) is None


def test_sniff_looks_at_bytes_not_names() -> None:
    # An HTML page saved as "cat.png" is HTML: sniff never sees a name, and finds no image.
    html_named_png = b"<html><head><title>cat.png</title></head></html>"
    assert sniff(html_named_png) is None
    assert sniff(png()) == "image/png"


def test_sniff_reads_only_the_head() -> None:
    # Whatever follows HEAD_SIZE bytes cannot change the answer.
    data = ftyp(b"isom") + b"\x00" * HEAD_SIZE
    assert sniff(data) == sniff(data + b"<html>" * 1000) == "video/mp4"


def test_other_known_formats_are_named_but_not_allowed() -> None:
    pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"
    assert sniff(pdf) == "application/pdf"
    assert "application/pdf" not in DEFAULT_ALLOWED_TYPES


def test_default_allowed_types() -> None:
    assert (
        frozenset(
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
        == DEFAULT_ALLOWED_TYPES
    )


@settings(max_examples=300)
@given(st.binary(max_size=64))
def test_sniff_never_raises(data: bytes) -> None:
    result = sniff(data)
    assert result is None or "/" in result


@given(st.sampled_from([b"isom", b"qt  ", b"mp42", b"avif", b"zzzz"]), st.binary(max_size=40))
def test_sniff_survives_odd_ftyp_boxes(major: bytes, rest: bytes) -> None:
    data = struct.pack(">I", len(rest) + 12) + b"ftyp" + major + rest
    result = sniff(data)
    assert result is None or "/" in result


@given(st.binary(max_size=60))
def test_sniff_survives_odd_ebml_headers(rest: bytes) -> None:
    assert sniff(b"\x1a\x45\xdf\xa3" + rest) is not None


# -- probe_dimensions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "mime_type", "size"),
    [
        (jpeg((64, 48)), "image/jpeg", (64, 48)),
        (png((30, 20)), "image/png", (30, 20)),
        (animated_png(), "image/png", (12, 8)),
        (gif((20, 10)), "image/gif", (20, 10)),
        (animated_gif(), "image/gif", (16, 12)),
        (webp_lossy((40, 24)), "image/webp", (40, 24)),
        (webp_lossless((33, 17)), "image/webp", (33, 17)),
        (webp_extended((21, 13)), "image/webp", (21, 13)),
        (animated_webp(), "image/webp", (18, 14)),
    ],
)
def test_probe_reads_image_sizes(data: bytes, mime_type: str, size: tuple[int, int]) -> None:
    assert sniff(data) == mime_type
    assert probe_dimensions(io.BytesIO(data), mime_type) == size


@given(
    st.integers(min_value=1, max_value=3000),
    st.integers(min_value=1, max_value=3000),
    st.sampled_from(["lossy", "lossless"]),
)
@settings(max_examples=25, deadline=None)
def test_webp_header_parsing_agrees_with_pillow(width: int, height: int, kind: str) -> None:
    image = Image.new("L", (width, height), 128)
    data = encode(image, "WEBP", lossless=kind == "lossless", quality=10, method=0)
    with Image.open(io.BytesIO(data)) as decoded:
        expected = decoded.size
    assert probe_dimensions(io.BytesIO(data), "image/webp") == expected == (width, height)


def test_probe_of_video_is_unknown_for_now() -> None:
    for data, mime_type in (
        (ftyp(b"isom"), "video/mp4"),
        (ftyp(b"qt  "), "video/quicktime"),
        (ebml(b"webm"), "video/webm"),
    ):
        assert probe_dimensions(io.BytesIO(data), mime_type) == (None, None)


@pytest.mark.parametrize("mime_type", sorted(DEFAULT_ALLOWED_TYPES))
def test_zero_bytes_are_invalid(mime_type: str) -> None:
    with pytest.raises(InvalidMedia, match="empty"):
        probe_dimensions(io.BytesIO(b""), mime_type)


def test_probe_restores_the_position() -> None:
    data = png()
    stream = io.BytesIO(data)
    stream.seek(7)
    probe_dimensions(stream, "image/png")
    assert stream.tell() == 7


def test_html_claiming_to_be_png_is_invalid() -> None:
    html = b"<html><body>not an image</body></html>"
    with pytest.raises(InvalidMedia) as caught:
        probe_dimensions(io.BytesIO(html), "image/png")
    assert caught.value.detected_type == "image/png"


def test_magic_number_with_garbage_after_it_is_invalid() -> None:
    # PNG signature and a valid-looking end, but no IHDR.
    fake = b"\x89PNG\r\n\x1a\n" + b"garbage" * 20 + b"\x00\x00\x00\x00IEND\xaeB`\x82"
    assert sniff(fake) == "image/png"
    with pytest.raises(InvalidMedia, match="IHDR") as caught:
        probe_dimensions(io.BytesIO(fake), "image/png")
    assert caught.value.detected_type == "image/png"


def test_a_jpeg_is_not_probed_as_a_gif() -> None:
    data = jpeg()
    with pytest.raises(InvalidMedia):
        probe_dimensions(io.BytesIO(data + b"\x00;"), "image/gif")


def test_decompression_bomb_is_refused() -> None:
    # Far over every limit: Pillow itself refuses it while reading the header.
    bomb = png_declaring(50_000, 50_000)
    with pytest.raises(InvalidMedia, match="pixels"):
        probe_dimensions(io.BytesIO(bomb), "image/png")


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_image_just_over_the_default_limit_is_refused() -> None:
    big = png_declaring(11_000, 10_000)  # 110 megapixels; Pillow only warns about these
    with pytest.raises(InvalidMedia, match="over the limit"):
        probe_dimensions(io.BytesIO(big), "image/png")


def test_pixel_limit_is_configurable() -> None:
    data = png((30, 20))
    assert probe_dimensions(io.BytesIO(data), "image/png", max_pixels=600) == (30, 20)
    with pytest.raises(InvalidMedia, match="over the limit"):
        probe_dimensions(io.BytesIO(data), "image/png", max_pixels=599)


def test_webp_bomb_is_refused_from_its_header() -> None:
    data = bytearray(webp_extended((21, 13)))
    assert data[12:16] == b"VP8X"
    data[24:27] = (20_000 - 1).to_bytes(3, "little")
    data[27:30] = (20_000 - 1).to_bytes(3, "little")
    with pytest.raises(InvalidMedia, match="over the limit"):
        probe_dimensions(io.BytesIO(bytes(data)), "image/webp")


def test_unprobeable_image_type_is_invalid() -> None:
    tiff = encode(_image((8, 8)), "TIFF")
    with pytest.raises(InvalidMedia) as caught:
        probe_dimensions(io.BytesIO(tiff), "image/tiff")
    assert caught.value.detected_type == "image/tiff"


# -- check_integrity --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "mime_type"),
    [
        (jpeg(), "image/jpeg"),
        (jpeg() + b"\x00" * 16, "image/jpeg"),  # padding after EOI
        (png(), "image/png"),
        (png() + b"trailing bytes", "image/png"),
        (gif(), "image/gif"),
        (animated_gif(), "image/gif"),
        (gif() + b"\x00\x00", "image/gif"),
        (webp_lossy(), "image/webp"),
        (animated_webp(), "image/webp"),
    ],
)
def test_whole_files_pass_the_integrity_check(data: bytes, mime_type: str) -> None:
    check_integrity(io.BytesIO(data), mime_type)


def test_truncated_jpeg_is_invalid() -> None:
    data = encode(_image((400, 300)), "JPEG", quality=90)
    cut = data[: len(data) * 2 // 3]
    assert sniff(cut) == "image/jpeg"
    with Image.open(io.BytesIO(cut)) as lazy:
        assert lazy.size == (400, 300)  # what a header-only read would accept
    with pytest.raises(InvalidMedia, match="truncated"):
        probe_dimensions(io.BytesIO(cut), "image/jpeg")


@pytest.mark.parametrize(
    ("data", "mime_type"),
    [
        (png((60, 40)), "image/png"),
        (animated_gif(), "image/gif"),
        (webp_lossy((60, 40)), "image/webp"),
    ],
)
def test_truncated_images_are_invalid(data: bytes, mime_type: str) -> None:
    for cut in (len(data) - 1, len(data) // 2, 40):
        with pytest.raises(InvalidMedia):
            check_integrity(io.BytesIO(data[:cut]), mime_type)


@given(st.data())
@settings(max_examples=60, deadline=None)
def test_every_cut_of_a_jpeg_or_png_is_caught(data: st.DataObject) -> None:
    whole = data.draw(st.sampled_from([_JPEG, _PNG]))
    mime_type = "image/jpeg" if whole is _JPEG else "image/png"
    cut = data.draw(st.integers(min_value=1, max_value=len(whole) - 1))
    with pytest.raises(InvalidMedia):
        check_integrity(io.BytesIO(whole[:cut]), mime_type)


_JPEG = encode(_image((120, 90)), "JPEG", quality=75)
_PNG = encode(_image((50, 50)), "PNG")


@settings(max_examples=200)
@given(
    st.binary(max_size=200),
    st.sampled_from(["image/jpeg", "image/png", "image/gif", "image/webp"]),
)
def test_probe_of_arbitrary_bytes_raises_only_invalid_media(data: bytes, mime_type: str) -> None:
    try:
        width, height = probe_dimensions(io.BytesIO(data), mime_type)
    except InvalidMedia:
        return
    assert width is not None
    assert height is not None
    assert width > 0
    assert height > 0
