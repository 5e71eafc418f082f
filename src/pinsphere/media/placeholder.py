"""Blurhash placeholders: a ~30-character string a grid paints while thumbnails load.

The hash is computed from a tiny copy of the picture (:data:`SAMPLE_SIZE` pixels on its
longer side): blurhash keeps only a few low-frequency components, so a larger sample
changes nothing visible and costs time (the encoder copies every pixel into a Python list).

``blurhash-python`` is part of the ``media`` extra; without it :func:`blurhash_of` returns
``None`` and pins simply have no placeholder.
"""

from __future__ import annotations

import warnings
from typing import Protocol, cast

from PIL import Image

__all__ = ["DEFAULT_COMPONENTS", "SAMPLE_SIZE", "blurhash_of", "components_for"]

SAMPLE_SIZE = 32
"""The sample's longer side, in pixels."""

DEFAULT_COMPONENTS = (4, 3)
"""Components along the longer and the shorter side (blurhash allows 1-9 each)."""

_BACKGROUND = (255, 255, 255)  # transparent areas are shown over white


class _Encode(Protocol):
    def __call__(self, image: Image.Image, x_components: int, y_components: int) -> str: ...


def _encoder() -> _Encode | None:
    try:
        import blurhash  # type: ignore[import-untyped]
    except ImportError:
        return None
    return cast(_Encode, blurhash.encode)


def components_for(width: int, height: int, components: tuple[int, int]) -> tuple[int, int]:
    """Blurhash's ``(x, y)`` components for a picture of this shape: more along its longer
    side, so a portrait picture gets ``(3, 4)`` where a landscape one gets ``(4, 3)``.

    Args:
        width: The picture's width.
        height: Its height.
        components: ``(along the longer side, along the shorter side)``.
    """
    longer, shorter = max(components), min(components)
    return (longer, shorter) if width >= height else (shorter, longer)


def blurhash_of(image: Image.Image, components: tuple[int, int] = DEFAULT_COMPONENTS) -> str | None:
    """The blurhash of an (already oriented) image.

    Args:
        image: Any mode; it is not modified.
        components: See :func:`components_for`.

    Returns:
        The hash, or ``None`` when ``blurhash-python`` is not installed.
    """
    encode = _encoder()
    if encode is None:
        return None
    scale = SAMPLE_SIZE / max(image.width, image.height, SAMPLE_SIZE)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    sample = image.resize(size, Image.Resampling.BOX)  # always a new image, never a view
    if sample.mode in ("RGBA", "LA", "PA") or "transparency" in sample.info:
        rgba = sample.convert("RGBA")
        sample = Image.new("RGB", rgba.size, _BACKGROUND)
        sample.paste(rgba, mask=rgba.getchannel("A"))
    elif sample.mode != "RGB":
        sample = sample.convert("RGB")
    x_components, y_components = components_for(image.width, image.height, components)
    # The encoder closes the image it is given; it only ever gets this private sample.
    # blurhash-python reads pixels with Image.getdata, deprecated in Pillow 12 (and due to
    # go in Pillow 14): the warning is about the library, not about this call.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return encode(sample, x_components, y_components)
