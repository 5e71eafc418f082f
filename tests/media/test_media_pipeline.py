"""derive(): one call from a stored original to its thumbnails, placeholder and facts."""

from __future__ import annotations

import hashlib
import io

import blurhash
import media_samples as samples
import pytest
from PIL import Image
from pydantic import ValidationError

from pinsphere.media.pipeline import DeriveSettings, derive, nearest_width
from pinsphere.media.probe import read_dimensions
from pinsphere.models import Media


def _media(data: bytes, mime_type: str) -> Media:
    width, height = (None, None)
    if mime_type.startswith("image/"):
        width, height = read_dimensions(io.BytesIO(data), mime_type)
    return Media(
        mime_type=mime_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        width=width,
        height=height,
    )


def test_camera_jpeg() -> None:
    data = samples.camera_jpeg((1600, 1200), orientation=6)
    derived = derive(io.BytesIO(data), _media(data, "image/jpeg"))
    assert (derived.width, derived.height) == (1200, 1600)  # as shown
    assert derived.widths == (256, 640)
    assert [(t.width, t.height) for t in derived.thumbnails] == [(256, 341), (640, 853)]
    assert derived.blurhash is not None
    assert blurhash.is_valid_blurhash(derived.blurhash)
    assert derived.exif.camera_model == "PX-1"
    assert derived.exif.gps is not None
    assert derived.frame_count == 1
    assert derived.duration is None
    assert derived.codec is None


@pytest.mark.parametrize(
    ("data", "mime_type", "frames", "duration"),
    [
        (samples.animated_gif((60, 40), frames=5, delay_ms=80), "image/gif", 5, 0.4),
        (samples.animated_webp((60, 40), frames=4), "image/webp", 4, 0.4),
        (samples.camera_png((60, 40)), "image/png", 1, None),
    ],
)
def test_images_and_animations(
    data: bytes, mime_type: str, frames: int, duration: float | None
) -> None:
    derived = derive(io.BytesIO(data), _media(data, mime_type))
    assert derived.widths == (60,)
    assert derived.frame_count == frames
    assert derived.duration == duration
    assert derived.blurhash is not None


@pytest.mark.parametrize(
    ("fmt", "codec", "mime_type", "name"),
    [
        ("mp4", "libx264", "video/mp4", "h264"),
        ("webm", "libvpx-vp9", "video/webm", "vp9"),
        ("mov", "mpeg4", "video/quicktime", "mpeg4"),
    ],
)
def test_videos(fmt: str, codec: str, mime_type: str, name: str) -> None:
    data = samples.video(fmt, codec, size=(320, 240), frames=12, rate=12)
    derived = derive(io.BytesIO(data), _media(data, mime_type))
    assert (derived.width, derived.height, derived.codec) == (320, 240, name)
    assert derived.duration == pytest.approx(1.0, abs=0.2)
    assert derived.widths == (256,)
    poster = Image.open(io.BytesIO(derived.thumbnails[0].data))
    assert poster.size == (256, 192)
    assert derived.blurhash is not None


def test_settings_choose_widths_and_bounds() -> None:
    data = samples.plain_jpeg((1000, 500))
    settings = DeriveSettings(thumbnail_widths=(100, 200), webp_quality=50)
    derived = derive(io.BytesIO(data), _media(data, "image/jpeg"), settings)
    assert derived.widths == (100, 200)
    assert settings.limits().max_pixels == 100_000_000
    with pytest.raises(ValidationError):
        DeriveSettings(thumbnail_widths=())
    with pytest.raises(ValidationError):
        DeriveSettings(webp_method=9)


def test_nearest_width() -> None:
    assert nearest_width((256, 640, 1280), 640) == 640
    assert nearest_width((256, 640, 1280), 500) == 640
    assert nearest_width((256, 640, 1280), 400) == 256
    assert nearest_width((256, 640, 1280), 448) == 640  # a tie goes to the larger
    assert nearest_width((256, 640, 1280), 5000) == 1280
    assert nearest_width((), 640) is None


def test_unsupported_types_derive_nothing() -> None:
    media = Media(mime_type="image/avif", size=3, sha256="0" * 64, width=10, height=5)
    derived = derive(io.BytesIO(b"abc"), media)
    assert derived.thumbnails == ()
    assert (derived.width, derived.height) == (10, 5)
