"""Blurhash placeholders."""

from __future__ import annotations

import blurhash
import media_samples as samples
import pytest
from PIL import Image

from pinsphere.media import placeholder
from pinsphere.media.placeholder import blurhash_of, components_for


def _length(x_components: int, y_components: int) -> int:
    # size flag, maximum AC, DC (4 characters), then two characters per AC component.
    return 1 + 1 + 4 + 2 * (x_components * y_components - 1)


def test_blurhash_is_valid_and_has_the_components_asked_for() -> None:
    landscape = blurhash_of(samples.picture((300, 200)))
    portrait = blurhash_of(samples.picture((200, 300)))
    assert landscape is not None
    assert portrait is not None
    assert len(landscape) == len(portrait) == _length(4, 3)
    assert blurhash.is_valid_blurhash(landscape)
    assert components_for(300, 200, (4, 3)) == (4, 3)
    assert components_for(200, 300, (4, 3)) == (3, 4)
    assert len(blurhash_of(samples.picture((100, 100)), (9, 9)) or "") == _length(9, 9)


def test_blurhash_decodes_to_the_picture_average_colour() -> None:
    image = Image.new("RGB", (400, 300), (30, 120, 200))
    hashed = blurhash_of(image)
    assert hashed is not None
    decoded = blurhash.decode(hashed, 8, 6).convert("RGB")
    red, green, blue = decoded.getpixel((4, 3))
    assert abs(red - 30) < 8
    assert abs(green - 120) < 8
    assert abs(blue - 200) < 8


def test_transparent_areas_are_shown_over_white() -> None:
    hashed = blurhash_of(Image.new("RGBA", (50, 50), (0, 0, 0, 0)))
    assert hashed is not None
    assert blurhash.decode(hashed, 4, 4).convert("RGB").getpixel((2, 2)) == (255, 255, 255)


def test_image_given_is_left_usable() -> None:
    image = samples.picture((64, 64))
    blurhash_of(image)
    assert image.getpixel((0, 0)) is not None  # the encoder closes what it gets: a copy


def test_without_the_library_there_is_no_placeholder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(placeholder, "_encoder", lambda: None)
    assert blurhash_of(samples.picture((10, 10))) is None
