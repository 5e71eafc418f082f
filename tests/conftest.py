"""Fixtures shared by the facade tests: stores on each embedded backend and real media."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

import pinsphere
from pinsphere import PasswordHashing, StoreSettings

# Argon2 at its real cost takes ~50 ms per hash; tests create many users.
FAST_SETTINGS = StoreSettings(
    password_hashing=PasswordHashing(time_cost=1, memory_cost_kib=64, parallelism=1),
    max_upload_bytes=2 * 1024 * 1024,
)


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


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[pinsphere.PinStore]:
    """A fresh store on the memory backends or on SQLite + local files."""
    if request.param == "memory":
        opened = pinsphere.open(
            metadata="memory://", users="memory://", blobs="memory://", settings=FAST_SETTINGS
        )
    else:
        opened = pinsphere.open(tmp_path / "data", settings=FAST_SETTINGS)
    with opened:
        yield opened


@pytest.fixture
def alice(store: pinsphere.PinStore) -> pinsphere.User:
    """A member."""
    return store.users.create("alice", password="alice-password", email="alice@example.com")


@pytest.fixture
def bob(store: pinsphere.PinStore) -> pinsphere.User:
    """Another member."""
    return store.users.create("bob", password="bob-password")
