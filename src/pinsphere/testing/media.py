"""Small, real media files made in memory, for tests of stores and backends."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

__all__ = ["gif_bytes", "jpeg_bytes", "mp4_bytes", "png_bytes"]


def jpeg_bytes(size: tuple[int, int] = (64, 48), color: str = "orange") -> bytes:
    """A real JPEG."""
    image = Image.new("RGB", size, color)
    ImageDraw.Draw(image).ellipse((4, 4, size[0] - 4, size[1] - 4), fill="white")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def png_bytes(size: tuple[int, int] = (30, 20), color: str = "blue") -> bytes:
    """A real PNG."""
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def gif_bytes(frames: int = 3) -> bytes:
    """A real animated GIF."""
    images = [Image.new("P", (20, 10), i) for i in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=50)
    return out.getvalue()


def mp4_bytes() -> bytes:
    """The start of an MP4 file: an ``ftyp`` box and an empty ``mdat``."""
    ftyp = b"ftyp" + b"isom" + b"\x00\x00\x02\x00" + b"isomiso2avc1mp41"
    box = len(ftyp).to_bytes(4, "big") + ftyp
    return box + (8).to_bytes(4, "big") + b"mdat"
