"""Thumbnails: widths, no upscaling, orientation, first frames, clean WebP output."""

from __future__ import annotations

import io

import media_samples as samples
import pytest
from PIL import Image, ImageCms

from pinsphere.media.limits import MediaLimits
from pinsphere.media.thumbnails import (
    ThumbnailOptions,
    decode_first_frame,
    make_thumbnails,
    plan_widths,
)


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize(
    ("source", "wanted", "planned"),
    [
        (3000, (256, 640, 1280), (256, 640, 1280)),
        (1000, (256, 640, 1280), (256, 640)),
        (640, (256, 640, 1280), (256,)),
        (200, (256, 640, 1280), (200,)),
        (1, (256,), (1,)),
        (800, (640, 256, 640), (256, 640)),
    ],
)
def test_plan_never_upscales_and_always_makes_one(
    source: int, wanted: tuple[int, ...], planned: tuple[int, ...]
) -> None:
    assert plan_widths(source, wanted) == planned


def test_camera_sized_jpeg_gets_every_default_width_with_its_aspect() -> None:
    data = samples.plain_jpeg((1600, 1000))
    thumbnails = make_thumbnails(io.BytesIO(data), "image/jpeg")
    assert [(t.width, t.height) for t in thumbnails] == [(256, 160), (640, 400), (1280, 800)]
    for thumbnail in thumbnails:
        decoded = _open(thumbnail.data)
        assert decoded.format == "WEBP"
        assert decoded.size == (thumbnail.width, thumbnail.height)


def test_small_picture_is_not_upscaled() -> None:
    thumbnails = make_thumbnails(io.BytesIO(samples.plain_jpeg((300, 200))), "image/jpeg")
    assert [(t.width, t.height) for t in thumbnails] == [(256, 171)]
    tiny = make_thumbnails(io.BytesIO(samples.plain_jpeg((100, 50))), "image/jpeg")
    assert [(t.width, t.height) for t in tiny] == [(100, 50)]


def test_exif_orientation_is_applied() -> None:
    # Stored 40x20 with orientation 6 ("rotate 90° clockwise to show"): shown 20x40.
    data = samples.camera_jpeg((40, 20), orientation=6)
    (thumbnail,) = make_thumbnails(io.BytesIO(data), "image/jpeg")
    assert (thumbnail.width, thumbnail.height) == (20, 40)
    shown = _open(thumbnail.data).convert("RGB")
    # The source's blue quarter is top-left; turned clockwise it is top-right.
    red, _green, blue = shown.getpixel((17, 2))  # type: ignore[misc]
    assert blue > 150
    assert red < 100


def test_orientation_decides_which_widths_fit() -> None:
    # 2000x1000 stored, shown 1000x2000 (orientation 8): 1280 is above the shown width.
    data = samples.camera_jpeg((2000, 1000), orientation=8)
    thumbnails = make_thumbnails(io.BytesIO(data), "image/jpeg")
    assert [(t.width, t.height) for t in thumbnails] == [(256, 512), (640, 1280)]


def test_jpeg_is_decoded_at_a_reduced_scale_when_the_target_is_small() -> None:
    data = samples.plain_jpeg((2400, 1600))
    image = decode_first_frame(io.BytesIO(data), "image/jpeg", MediaLimits(), largest_width=256)
    assert image.size == (300, 200)  # libjpeg's 1/8 scale, still at least 256 wide
    full = decode_first_frame(io.BytesIO(data), "image/jpeg", MediaLimits())
    assert full.size == (2400, 1600)


def test_thumbnails_carry_no_metadata() -> None:
    data = samples.camera_jpeg((400, 300), orientation=3)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    with_icc = samples.encode(samples.picture((400, 300)), "JPEG", icc_profile=srgb)
    for source in (data, with_icc):
        for thumbnail in make_thumbnails(io.BytesIO(source), "image/jpeg"):
            decoded = Image.open(io.BytesIO(thumbnail.data))
            assert not set(decoded.info) & {"exif", "xmp", "icc_profile"}
            assert not decoded.getexif()
            assert b"EXIF" not in thumbnail.data
            assert b"XMP " not in thumbnail.data


def test_png_with_transparency_keeps_its_alpha() -> None:
    thumbnails = make_thumbnails(io.BytesIO(samples.camera_png(alpha=True)), "image/png")
    decoded = _open(thumbnails[0].data)
    assert decoded.mode == "RGBA"
    assert decoded.getchannel("A").getextrema()[0] < 50


@pytest.mark.parametrize(
    ("data", "mime_type"),
    [
        (samples.animated_gif((60, 40)), "image/gif"),
        (samples.animated_webp((60, 40)), "image/webp"),
        (samples.animated_png((60, 40)), "image/png"),
    ],
)
def test_animations_give_their_first_frame(data: bytes, mime_type: str) -> None:
    options = ThumbnailOptions(widths=(30,))
    (thumbnail,) = make_thumbnails(io.BytesIO(data), mime_type, options)
    assert (thumbnail.width, thumbnail.height) == (30, 20)
    frame_one = Image.open(io.BytesIO(data)).convert("RGB").getpixel((5, 5))
    shown = _open(thumbnail.data).convert("RGB").getpixel((15, 10))
    assert all(abs(a - b) < 24 for a, b in zip(shown, frame_one, strict=True))  # type: ignore[arg-type]


def test_palette_and_greyscale_pictures_are_thumbnailed() -> None:
    palette = samples.encode(samples.picture((300, 200)).convert("P"), "PNG")
    gradient = Image.linear_gradient("L").resize((300, 200)).convert("I")
    grey16 = samples.encode(gradient.point(lambda value: value * 257).convert("I;16"), "PNG")
    assert Image.open(io.BytesIO(grey16)).mode.startswith("I")
    for data in (palette, grey16):
        (thumbnail,) = make_thumbnails(io.BytesIO(data), "image/png")
        assert thumbnail.width == 256
    middle = _open(make_thumbnails(io.BytesIO(grey16), "image/png")[0].data).convert("L")
    assert 60 < middle.getpixel((128, 85)) < 200  # type: ignore[operator]


def test_thumbnail_bytes_go_to_any_sink() -> None:
    (thumbnail,) = make_thumbnails(io.BytesIO(samples.plain_jpeg((80, 60))), "image/jpeg")
    parts: list[bytes] = []
    thumbnail.write_to(parts.append)
    out = io.BytesIO()
    thumbnail.write_to(out)
    assert b"".join(parts) == out.getvalue() == thumbnail.data
    with pytest.raises(TypeError):
        thumbnail.write_to(42)  # type: ignore[arg-type]


def test_webp_effort_is_configurable() -> None:
    data = samples.plain_jpeg((1200, 800))
    fast = make_thumbnails(io.BytesIO(data), "image/jpeg", ThumbnailOptions(widths=(640,)))
    small = make_thumbnails(
        io.BytesIO(data), "image/jpeg", ThumbnailOptions(widths=(640,), method=6, quality=60)
    )
    assert len(small[0].data) < len(fast[0].data)
