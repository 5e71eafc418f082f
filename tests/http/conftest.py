"""Fixtures for the REST service: an app over a fresh store, and an in-process client.

Every test drives the app through ``httpx.ASGITransport`` (no sockets), on the memory
backends and on SQLite + local files.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from http_support import PASSWORDS, SECRET, SignIn

import pinsphere
from pinsphere import PasswordHashing, StoreSettings
from pinsphere_http import HTTPSettings, create_app

# Argon2 at its real cost takes ~50 ms per hash; the tests sign in a lot.
HTTP_STORE_SETTINGS = StoreSettings(
    password_hashing=PasswordHashing(time_cost=1, memory_cost_kib=64, parallelism=1),
    max_upload_bytes=512 * 1024,
)


@pytest.fixture
def anyio_backend() -> str:
    """Run async tests on asyncio only (the service targets uvloop, an asyncio loop)."""
    return "asyncio"


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[pinsphere.PinStore]:
    """A fresh store on the memory backends, or on SQLite + local files."""
    if request.param == "memory":
        opened = pinsphere.open(
            metadata="memory://", users="memory://", blobs="memory://", settings=HTTP_STORE_SETTINGS
        )
    else:
        opened = pinsphere.open(tmp_path / "data", settings=HTTP_STORE_SETTINGS)
    with opened:
        yield opened


@pytest.fixture
def users(store: pinsphere.PinStore) -> dict[str, pinsphere.User]:
    """alice and bob (members) and root (an admin)."""
    return {
        "alice": store.users.create("alice", password=PASSWORDS["alice"], email="a@example.com"),
        "bob": store.users.create("bob", password=PASSWORDS["bob"]),
        "root": store.users.create("root", password=PASSWORDS["root"], role="admin"),
    }


@pytest.fixture
def settings() -> HTTPSettings:
    """Settings with a fixed key; tests change fields with ``model_copy``."""
    return HTTPSettings(secret_key=SECRET)


@pytest.fixture
def app(store: pinsphere.PinStore, settings: HTTPSettings) -> FastAPI:
    """The service over the store."""
    return create_app(store, settings)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of the app."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def sign_in(client: httpx.AsyncClient, users: dict[str, pinsphere.User]) -> SignIn:
    """Sign a test user in; returns the Authorization header."""

    async def sign_in(username: str) -> dict[str, str]:
        response = await client.post(
            "/api/v1/auth/token",
            data={"username": username, "password": PASSWORDS[username]},
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return sign_in
