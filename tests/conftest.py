"""Fixtures shared by all tests: databases, and stores on memory, SQLite and PostgreSQL.

PostgreSQL comes from ``PINSPHERE_TEST_POSTGRES_URL`` (default: the local test server).
When it cannot be reached the PostgreSQL tests are skipped with the reason, except under CI
(the ``CI`` environment variable set), where an unreachable server is a failure: a green CI
run must mean the PostgreSQL backend was really tested.
"""

from __future__ import annotations

import os
import uuid
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


DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

_reachable: dict[str, str | None] = {}


def postgres_url() -> str:
    """The server the PostgreSQL tests use."""
    return os.environ.get("PINSPHERE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def _with_option(url: str, name: str, value: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{name}={value}"


def _problem(url: str) -> str | None:
    """Why the server cannot be used (``None``: it can); asked once per session."""
    if url not in _reachable:
        try:
            import psycopg

            plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
            with psycopg.connect(plain, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            _reachable[url] = None
        except Exception as exc:  # any failure means "not usable", with its reason
            _reachable[url] = f"PostgreSQL at {url} is not reachable: {exc}"
    return _reachable[url]


def _require_postgres(url: str) -> None:
    problem = _problem(url)
    if problem is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{problem} (CI is set, so the PostgreSQL tests must run)")
    pytest.skip(problem)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A URL of a fresh SQLite file."""
    return f"sqlite:///{tmp_path / 'pins.db'}"


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """A URL whose tables live in a fresh schema, dropped with everything in it afterwards."""
    import psycopg

    url = postgres_url()
    _require_postgres(url)
    schema = f"t_{uuid.uuid4().hex[:16]}"
    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    yield _with_option(url, "schema", schema)
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
