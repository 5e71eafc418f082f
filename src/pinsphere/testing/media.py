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


def mp4_bytes(size: tuple[int, int] = (64, 48), frames: int = 10) -> bytes:
    """A real, short H.264 MP4 (needs PyAV, the ``media`` extra)."""
    import av  # imported here: only video tests need it

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for index in range(frames):
            picture = Image.new("RGB", size, (40 + index * 20 % 200, 90, 60))
            frame = av.VideoFrame.from_image(picture)  # type: ignore[no-untyped-call]
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()
