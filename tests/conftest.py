"""Fixtures shared by all tests: databases, and stores on memory, SQLite and PostgreSQL.

See ``store_support.py`` for how PostgreSQL is found, and why CI never skips it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import pinsphere
from store_support import (
    FAST_SETTINGS,
    endpoint_of,
    postgres_url,
    require_postgres,
    start_moto,
    with_option,
)


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


@pytest.fixture(scope="session")
def aws_env() -> Iterator[None]:
    """S3 credentials from the standard environment variables, as a deployment gives them."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
            patch.delenv(name, raising=False)
        yield


@pytest.fixture(scope="session")
def s3_endpoint(aws_env: None) -> Iterator[str]:
    """moto's S3 server on loopback, addressed through ``endpoint_url`` as MinIO would be."""
    server = start_moto()
    yield endpoint_of(server)
    server.stop()
