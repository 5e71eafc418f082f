"""Fixtures shared by all tests: databases, and stores on memory, SQLite and PostgreSQL.

See ``store_support.py`` for how PostgreSQL is found, and why CI never skips it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import pinsphere
from store_support import FAST_SETTINGS, postgres_url, require_postgres, with_option


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A URL of a fresh SQLite file."""
    return f"sqlite:///{tmp_path / 'pins.db'}"


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """A URL whose tables live in a fresh schema, dropped with everything in it afterwards."""
    import psycopg

    url = postgres_url()
    require_postgres(url)
    schema = f"t_{uuid.uuid4().hex[:16]}"
    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    yield with_option(url, "schema", schema)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[pinsphere.PinStore]:
    """A fresh store on the memory backends, SQLite + local files, or PostgreSQL + files."""
    if request.param == "memory":
        opened = pinsphere.open(
            metadata="memory://", users="memory://", blobs="memory://", settings=FAST_SETTINGS
        )
    elif request.param == "sqlite":
        opened = pinsphere.open(tmp_path / "data", settings=FAST_SETTINGS)
    else:
        url = request.getfixturevalue("postgres_schema_url")
        opened = pinsphere.open(
            metadata=url, users=url, blobs=(tmp_path / "blobs").as_uri(), settings=FAST_SETTINGS
        )
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
