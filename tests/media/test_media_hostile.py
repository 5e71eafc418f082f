"""A corpus of hostile files: each is refused with InvalidMedia, quickly and cheaply.

Memory is measured with :mod:`tracemalloc`, which sees Python allocations (and Pillow's
image buffers are not among them); the pixel checks are what keep the C side small, and
the bombs below would need gigabytes if they got that far.
"""

from __future__ import annotations

import hashlib
import io
import time
import tracemalloc

import media_samples as samples
import pytest

from pinsphere.errors import InvalidMedia
from pinsphere.media.pipeline import derive
from pinsphere.models import Media

TIME_LIMIT = 2.0
MEMORY_LIMIT = 32 * 1024 * 1024


def _cut(data: bytes) -> bytes:
    return data[: len(data) // 2]


CORPUS: dict[str, tuple[str, bytes]] = {
    "png declaring 100000x100000": ("image/png", samples.png_bomb()),
    "gif declaring 65535x65535": ("image/gif", samples.gif_bomb()),
    "webp declaring 16384x16384": ("image/webp", samples.webp_bomb()),
    "jpeg declaring 65000x65000": ("image/jpeg", samples.jpeg_bomb()),
    "truncated jpeg": ("image/jpeg", _cut(samples.plain_jpeg((400, 300)))),
    "truncated png": ("image/png", _cut(samples.camera_png((200, 150)))),
    "truncated gif": ("image/gif", _cut(samples.animated_gif())),
    "truncated webp": ("image/webp", _cut(samples.camera_webp((200, 150)))),
    "truncated mp4": ("video/mp4", _cut(samples.video(frames=20))),
    "truncated webm": ("video/webm", _cut(samples.video("webm", "libvpx", frames=20))),
    "random bytes after jpeg magic": (
        "image/jpeg",
        samples.random_after_magic(b"\xff\xd8\xff\xe0"),
    ),
    "random bytes after png magic": (
        "image/png",
        samples.random_after_magic(b"\x89PNG\r\n\x1a\n"),
    ),
    "random bytes after gif magic": ("image/gif", samples.random_after_magic(b"GIF89a")),
    "random bytes after webp magic": (
        "image/webp",
        samples.random_after_magic(b"RIFF\x00\x00\x01\x00WEBPVP8 "),
    ),
    "random bytes after mp4 magic": (
        "video/mp4",
        samples.random_after_magic(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"),
    ),
    "random bytes after webm magic": (
        "video/webm",
        samples.random_after_magic(b"\x1a\x45\xdf\xa3\x9f\x42\x82\x84webm"),
    ),
    "gif with 100000 frames": ("image/gif", samples.gif_frames(100_000)),
    "apng declaring ten million frames": ("image/png", samples.apng_frame_bomb()),
    "mp4 with audio only": ("video/mp4", samples.audio_only("mp4", "aac")),
    "webm with audio only": ("video/webm", samples.audio_only("webm", "libopus")),
    **{
        f"empty {mime_type}": (mime_type, b"")
        for mime_type in ("image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4")
    },
}


def _media(mime_type: str, data: bytes) -> Media:
    return Media(
        mime_type=mime_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        width=None,
        height=None,
    )


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_hostile_file_is_refused_within_bounds(name: str) -> None:
    mime_type, data = CORPUS[name]
    started = time.perf_counter()
    with pytest.raises(InvalidMedia) as caught:
        derive(io.BytesIO(data), _media(mime_type, data))
    elapsed = time.perf_counter() - started
    assert caught.value.detected_type in (mime_type, None)
    assert str(caught.value)
    assert elapsed < TIME_LIMIT, f"{name} took {elapsed:.2f} s"
    # Again under tracemalloc, which slows Python down too much to time the same run.
    tracemalloc.start()
    try:
        with pytest.raises(InvalidMedia):
            derive(io.BytesIO(data), _media(mime_type, data))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_LIMIT + 2 * len(data), f"{name} peaked at {peak / 1e6:.1f} MB"


def test_audio_only_is_named_as_such() -> None:
    mime_type, data = CORPUS["mp4 with audio only"]
    with pytest.raises(InvalidMedia, match="no video stream"):
        derive(io.BytesIO(data), _media(mime_type, data))


def test_bomb_is_refused_for_its_size() -> None:
    mime_type, data = CORPUS["png declaring 100000x100000"]
    with pytest.raises(InvalidMedia, match="over the limit"):
        derive(io.BytesIO(data), _media(mime_type, data))
