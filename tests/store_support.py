"""Test support shared by conftest and test modules: fast settings, PostgreSQL and Redis.

PostgreSQL comes from ``PINSPHERE_TEST_POSTGRES_URL`` (default: the local test server),
Redis from ``PINSPHERE_TEST_REDIS_URL`` (default: ``redis://127.0.0.1:6379/0``). When one
cannot be reached its tests are skipped with the reason, except under CI (the ``CI``
environment variable set), where an unreachable server is a failure: a green CI run must
mean the PostgreSQL backend and the Redis throttle were really tested.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import pinsphere
from pinsphere import PasswordHashing, StoreSettings
from pinsphere.backends.fsspec import FsspecBlobBackend
from pinsphere.backends.sql.pin_cache import PinCache
from pinsphere.layout import TWO_LEVELS
from pinsphere.layout_marker import LAYOUT_MARKER_KEY, marker_bytes

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer

__all__ = [
    "FAST_SETTINGS",
    "AlwaysProbing",
    "drop_layout_marker",
    "endpoint_of",
    "open_legacy_store",
    "postgres_url",
    "redis_url",
    "require_postgres",
    "require_redis",
    "start_moto",
    "with_option",
]

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


def with_option(url: str, name: str, value: str) -> str:
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


def _require(service: str, problem: str | None) -> None:
    """Skip for ``problem`` locally; under CI the tests of ``service`` must run: fail."""
    if problem is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{problem} (CI is set, so the {service} tests must run)")
    pytest.skip(problem)


def require_postgres(url: str) -> None:
    _require("PostgreSQL", _problem(url))


DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_url() -> str:
    """The server the Redis tests use (each test keeps to its own key prefix)."""
    return os.environ.get("PINSPHERE_TEST_REDIS_URL", DEFAULT_REDIS_URL)


def _redis_problem(url: str) -> str | None:
    """Why the Redis server cannot be used (``None``: it can); asked once per session."""
    if url not in _reachable:
        try:
            import redis

            with redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3) as client:
                client.ping()
            _reachable[url] = None
        except Exception as exc:  # any failure means "not usable", with its reason
            _reachable[url] = f"Redis at {url} is not reachable: {exc}"
    return _reachable[url]


def require_redis(url: str) -> None:
    _require("Redis", _redis_problem(url))


def start_moto(port: int = 0) -> ThreadedMotoServer:
    """moto's S3 server on loopback, addressed through ``endpoint_url`` as MinIO would be."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server


def endpoint_of(server: ThreadedMotoServer) -> str:
    """The server's ``http://host:port``."""
    host, port = server.get_host_and_port()
    return f"http://{host}:{port}"


def open_legacy_store(folder: Path, settings: StoreSettings = FAST_SETTINGS) -> pinsphere.PinStore:
    """An embedded store (SQLite + files) in ``folder`` that keeps originals in the two-level
    layout of stores written before the layout marker (``originals/ab/cd/<sha256>``).

    Its blob folder gets a marker recording that layout before the store is opened, so
    that what it writes is what an older version wrote; :func:`drop_layout_marker` then
    makes it a store from before the marker.
    """
    blobs = FsspecBlobBackend.from_url((folder / "blobs").as_uri())
    try:
        with blobs.writer() as writer:
            writer.write(marker_bytes(TWO_LEVELS))
            writer.commit(LAYOUT_MARKER_KEY)
    finally:
        blobs.close()
    store = pinsphere.open(folder, settings=settings)
    assert store.layout == TWO_LEVELS
    return store


def drop_layout_marker(folder: Path) -> None:
    """Remove the layout marker of the embedded store in ``folder``, as if never written."""
    (folder / "blobs" / LAYOUT_MARKER_KEY).unlink()


class AlwaysProbing(PinCache):
    """A kept-pins cache that has every SQL search read ids and revisions first, so tests
    go through that path whatever earlier searches found."""

    @property
    def worth_probing(self) -> bool:
        return True
