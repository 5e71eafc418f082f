"""Fixtures shared by the facade tests: stores on each embedded backend and real media."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import pinsphere
from pinsphere import PasswordHashing, StoreSettings

# Argon2 at its real cost takes ~50 ms per hash; tests create many users.
FAST_SETTINGS = StoreSettings(
    password_hashing=PasswordHashing(time_cost=1, memory_cost_kib=64, parallelism=1),
    max_upload_bytes=2 * 1024 * 1024,
)


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
