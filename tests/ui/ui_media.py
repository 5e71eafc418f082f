"""Real media files for the browser tests: a photo-like JPEG, an animated GIF, an MP4."""

from __future__ import annotations

import io
import math

from PIL import Image, ImageDraw

__all__ = ["gif_bytes", "jpeg_bytes", "mp4_bytes"]


def _scene(size: tuple[int, int], shift: float) -> Image.Image:
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(0, height, 4):
        tone = int(120 + 100 * math.sin(y / height * math.pi + shift))
        draw.rectangle((0, y, width, y + 4), fill=(tone, 80 + y * 120 // height, 200 - tone // 2))
    radius = min(size) // 4
    cx = int(width / 2 + math.cos(shift) * width / 5)
    middle = height // 2
    draw.ellipse((cx - radius, middle - radius, cx + radius, middle + radius), fill="#ffd54f")
    return image


def jpeg_bytes(size: tuple[int, int] = (800, 600)) -> bytes:
    """A JPEG with gradients and a shape (something to look at in screenshots)."""
    out = io.BytesIO()
    _scene(size, 0.3).save(out, "JPEG", quality=85)
    return out.getvalue()


def gif_bytes(size: tuple[int, int] = (240, 320), frames: int = 6) -> bytes:
    """An animated GIF, taller than wide."""
    images = [_scene(size, i / frames * 2 * math.pi).convert("P") for i in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=120, loop=0)
    return out.getvalue()


def mp4_bytes(size: tuple[int, int] = (320, 180), seconds: float = 2.0, fps: int = 12) -> bytes:
    """A short H.264 MP4 (PyAV), playable and seekable in Chromium."""
    import av

    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for index in range(int(seconds * fps)):
            frame = av.VideoFrame.from_image(_scene(size, index / fps * math.pi))  # type: ignore[no-untyped-call]
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()
