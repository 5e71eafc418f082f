"""One call from an original to everything derived from it: :func:`derive`.

The facade calls :func:`derive` once per upload, after the original is stored (so it reads
the stored, seekable copy) and stores what it returns: the thumbnails as blobs, the
placeholder and duration on the pin. Nothing here touches a backend.

What is derived, by kind:

=============  ================================  ========================================
kind           facts                             pictures
=============  ================================  ========================================
JPEG/PNG/WebP  EXIF facts, frame count and       thumbnails and blurhash of the (first)
               duration of an animation          frame, EXIF orientation applied
GIF            frame count, duration             thumbnails and blurhash of frame one
MP4/MOV/WebM   size, duration, frames, codec     thumbnails and blurhash of the poster
=============  ================================  ========================================

Without the ``media`` extra (PyAV, blurhash-python), videos get no facts or thumbnails and
nothing gets a blurhash; images still get thumbnails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from pinsphere.media.animation import read_animation
from pinsphere.media.containers import REWRITABLE
from pinsphere.media.exif import ExifFacts, read_exif
from pinsphere.media.limits import PILLOW_FORMATS, MediaLimits
from pinsphere.media.placeholder import DEFAULT_COMPONENTS, blurhash_of
from pinsphere.media.thumbnails import (
    DEFAULT_WIDTHS,
    Thumbnail,
    ThumbnailOptions,
    decode_first_frame,
    render_thumbnails,
)
from pinsphere.media.video import probe_video
from pinsphere.models import Media

__all__ = ["DeriveSettings", "Derived", "derive", "nearest_width"]

_SWAPS_SIDES = frozenset({5, 6, 7, 8})


class DeriveSettings(BaseModel):
    """How derived media is made, and the bounds on making it.

    Attributes:
        thumbnail_widths: Thumbnail widths wanted (never upscaled).
        webp_quality: WebP quality of thumbnails, 0-100.
        webp_method: libwebp effort, 0 (fastest; the default) to 6.
        blurhash_components: Components along the longer and shorter side, 1-9 each.
        max_pixels: Largest image or video frame, in pixels.
        max_frames: Most frames an animation may have.
        max_video_packets: Most packets read looking for a video's poster.
        max_seconds: Budget for reading one file's frames or packets.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    thumbnail_widths: tuple[int, ...] = Field(default=DEFAULT_WIDTHS, min_length=1)
    webp_quality: int = Field(default=80, ge=0, le=100)
    webp_method: int = Field(default=0, ge=0, le=6)
    blurhash_components: tuple[int, int] = DEFAULT_COMPONENTS
    max_pixels: int = Field(default=100_000_000, gt=0)
    max_frames: int = Field(default=20_000, gt=0)
    max_video_packets: int = Field(default=2_000, gt=0)
    max_seconds: float = Field(default=10.0, gt=0)

    def limits(self) -> MediaLimits:
        """The bounds as :mod:`pinsphere.media.limits` takes them."""
        return MediaLimits(
            max_pixels=self.max_pixels,
            max_frames=self.max_frames,
            max_video_packets=self.max_video_packets,
            max_seconds=self.max_seconds,
        )

    def thumbnail_options(self) -> ThumbnailOptions:
        """The thumbnail settings as :mod:`pinsphere.media.thumbnails` takes them."""
        return ThumbnailOptions(
            widths=self.thumbnail_widths, quality=self.webp_quality, method=self.webp_method
        )


@dataclass(frozen=True)
class Derived:
    """Everything derived from one original.

    Attributes:
        width: Displayed width (after EXIF orientation or video rotation), when known.
        height: Displayed height, when known.
        duration: Seconds, for videos and animations.
        frame_count: Frames, for videos (when the container records it) and animations.
        codec: A video's codec (``h264``, ``vp9``...).
        blurhash: The placeholder, when blurhash-python is installed.
        exif: Camera, time, orientation and GPS facts (for the owner's eyes only), and
            which identifying blocks a served copy must leave out.
        thumbnails: WebP thumbnails, narrowest first.
    """

    width: int | None = None
    height: int | None = None
    duration: float | None = None
    frame_count: int | None = None
    codec: str | None = None
    blurhash: str | None = None
    exif: ExifFacts = field(default_factory=ExifFacts)
    thumbnails: tuple[Thumbnail, ...] = ()

    @property
    def widths(self) -> tuple[int, ...]:
        """The thumbnail widths made, ascending (what ``Pin.thumbnails`` holds)."""
        return tuple(thumbnail.width for thumbnail in self.thumbnails)


def nearest_width(available: tuple[int, ...], wanted: int) -> int | None:
    """The available thumbnail width closest to ``wanted`` (the larger one on a tie, so a
    picture is never shown blurrier than asked); ``None`` when there are none."""
    if not available:
        return None
    return min(available, key=lambda width: (abs(width - wanted), -width))


def derive(original: IO[bytes], media: Media, settings: DeriveSettings | None = None) -> Derived:
    """Derive thumbnails, placeholder and facts from a stored original.

    Args:
        original: The whole original, seekable (read from its start, position not kept).
        media: What the upload learnt about it (its sniffed type and header size).
        settings: Widths, encoding and bounds; the defaults when ``None``.

    Returns:
        The derived facts and thumbnails.

    Raises:
        InvalidMedia: The file cannot be decoded within the bounds.
    """
    settings = settings or DeriveSettings()
    if media.mime_type.startswith("video/"):
        return _derive_video(original, media, settings)
    if media.mime_type in PILLOW_FORMATS:
        return _derive_image(original, media, settings)
    return Derived(width=media.width, height=media.height)


def _pictures(
    image: Image.Image, settings: DeriveSettings
) -> tuple[tuple[Thumbnail, ...], str | None]:
    thumbnails = render_thumbnails(image, settings.thumbnail_widths, settings.thumbnail_options())
    return tuple(thumbnails), blurhash_of(image, settings.blurhash_components)


def _derive_image(original: IO[bytes], media: Media, settings: DeriveSettings) -> Derived:
    limits = settings.limits()
    mime_type = media.mime_type
    exif = read_exif(original, mime_type) if mime_type in REWRITABLE else ExifFacts()
    animation = read_animation(original, mime_type, limits)
    image = decode_first_frame(
        original, mime_type, limits, largest_width=max(settings.thumbnail_widths)
    )
    thumbnails, blurhash = _pictures(image, settings)
    width, height = media.width, media.height
    if exif.orientation in _SWAPS_SIDES:
        width, height = height, width
    return Derived(
        width=width,
        height=height,
        duration=animation.duration,
        frame_count=animation.frame_count,
        blurhash=blurhash,
        exif=exif,
        thumbnails=thumbnails,
    )


def _derive_video(original: IO[bytes], media: Media, settings: DeriveSettings) -> Derived:
    try:
        facts, poster = probe_video(original, media.mime_type, settings.limits())
    except ModuleNotFoundError as exc:  # PyAV is not installed: nothing to learn
        if exc.name != "av":
            raise
        return Derived()
    thumbnails, blurhash = _pictures(poster, settings) if poster else ((), None)
    return Derived(
        width=facts.width,
        height=facts.height,
        duration=facts.duration,
        frame_count=facts.frame_count,
        codec=facts.codec,
        blurhash=blurhash,
        thumbnails=thumbnails,
    )
