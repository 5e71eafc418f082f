"""Browser sessions in cookies (``/api/v1/auth/session``), in-process: the cookies' flags,
CSRF on changes, refresh rotation and sign-out. No browser needed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

import pinsphere
from pinsphere import PasswordHashing, StoreSettings
from pinsphere_http import HTTPSettings, create_app

SECRET = "a-test-secret-that-is-long-enough-for-hs256"
PASSWORD = "alice-password"
CSRF = "X-CSRF-Token"


@pytest.fixture
def anyio_backend() -> str:
    """asyncio only."""
    return "asyncio"


@pytest.fixture
def store() -> pinsphere.PinStore:
    """A memory store with alice."""
    opened = pinsphere.open(
        metadata="memory://",
        users="memory://",
        blobs="memory://",
        settings=StoreSettings(
            password_hashing=PasswordHashing(time_cost=1, memory_cost_kib=64, parallelism=1)
        ),
    )
    opened.users.create("alice", password=PASSWORD)
    return opened


async def _client(store: pinsphere.PinStore, base: str) -> httpx.AsyncClient:
    app = create_app(store, HTTPSettings(secret_key=SECRET))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base)


@pytest.fixture
async def client(store: pinsphere.PinStore) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client over plain HTTP."""
    async with await _client(store, "http://testserver") as made:
        yield made


async def _sign_in(client: httpx.AsyncClient) -> httpx.Response:
    answer = await client.post(
        "/api/v1/auth/session",
        data={"username": "alice", "password": PASSWORD},
        headers={CSRF: "sign-in"},
    )
    assert answer.status_code == 200, answer.text
    return answer


def _cookie_lines(answer: httpx.Response) -> dict[str, str]:
    return {line.split("=", 1)[0]: line for line in answer.headers.get_list("set-cookie")}


@pytest.mark.anyio
async def test_sign_in_sets_httponly_strict_cookies(client: httpx.AsyncClient) -> None:
    answer = await _sign_in(client)
    assert answer.json()["user"]["username"] == "alice"
    assert "access_token" not in answer.text
    assert "refresh_token" not in answer.text
    assert answer.headers["cache-control"] == "no-store"
    lines = _cookie_lines(answer)
    for name in ("pinsphere_access", "pinsphere_refresh"):
        assert "HttpOnly" in lines[name]
        assert "SameSite=strict" in lines[name]
        assert "Secure" not in lines[name]  # plain HTTP on loopback
    assert "Path=/api/v1/auth/session" in lines["pinsphere_refresh"]
    assert "HttpOnly" not in lines["pinsphere_csrf"]
    me = await client.get("/api/v1/users/me")
    assert me.json()["username"] == "alice"


@pytest.mark.anyio
async def test_cookies_are_secure_over_https(store: pinsphere.PinStore) -> None:
    async with await _client(store, "https://pins.example") as client:
        lines = _cookie_lines(await _sign_in(client))
    assert all("Secure" in line for line in lines.values())


@pytest.mark.anyio
async def test_sign_in_needs_the_custom_header(client: httpx.AsyncClient) -> None:
    # What a cross-site form could send: no custom header, so no session.
    answer = await client.post(
        "/api/v1/auth/session", data={"username": "alice", "password": PASSWORD}
    )
    assert answer.status_code == 403
    assert "set-cookie" not in answer.headers


@pytest.mark.anyio
async def test_wrong_password_is_401(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        "/api/v1/auth/session",
        data={"username": "alice", "password": "nope-nope"},
        headers={CSRF: "sign-in"},
    )
    assert answer.status_code == 401
    assert "set-cookie" not in answer.headers


@pytest.mark.anyio
async def test_changes_need_the_csrf_token_of_the_session(client: httpx.AsyncClient) -> None:
    await _sign_in(client)
    board = {"name": "Mine"}
    assert (await client.post("/api/v1/boards", json=board)).status_code == 403
    wrong = await client.post("/api/v1/boards", json=board, headers={CSRF: "guess"})
    assert wrong.status_code == 403
    # A CSRF cookie planted by someone else does not help: the session is bound to its own.
    token = client.cookies["pinsphere_csrf"]
    client.cookies.set("pinsphere_csrf", "planted")
    planted = await client.post("/api/v1/boards", json=board, headers={CSRF: "planted"})
    assert planted.status_code == 403
    client.cookies.set("pinsphere_csrf", token)
    made = await client.post("/api/v1/boards", json=board, headers={CSRF: token})
    assert made.status_code == 201
    # Reads need no token.
    assert (await client.get("/api/v1/boards")).status_code == 200


@pytest.mark.anyio
async def test_bearer_requests_ignore_the_cookies(client: httpx.AsyncClient) -> None:
    await _sign_in(client)
    tokens = (
        await client.post("/api/v1/auth/token", data={"username": "alice", "password": PASSWORD})
    ).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    made = await client.post("/api/v1/boards", json={"name": "B"}, headers=bearer)
    assert made.status_code == 201  # no CSRF token: the header is the credential
    broken = await client.get("/api/v1/users/me", headers={"Authorization": "Basic eDp5"})
    assert broken.status_code == 401  # a wrong scheme never falls back to the cookie


@pytest.mark.anyio
async def test_refresh_rotates_and_a_replay_ends_the_session(client: httpx.AsyncClient) -> None:
    await _sign_in(client)
    csrf = {CSRF: client.cookies["pinsphere_csrf"]}
    first_refresh = client.cookies["pinsphere_refresh"]
    assert (await client.post("/api/v1/auth/session/refresh")).status_code == 403
    refreshed = await client.post("/api/v1/auth/session/refresh", headers=csrf)
    assert refreshed.status_code == 200
    assert client.cookies["pinsphere_refresh"] != first_refresh
    assert client.cookies["pinsphere_csrf"] == csrf[CSRF]  # the CSRF token stays
    made = await client.post("/api/v1/boards", json={"name": "C"}, headers=csrf)
    assert made.status_code == 201
    # Someone replays the spent refresh token: the whole session is revoked.
    stolen = client.cookies["pinsphere_refresh"]
    client.cookies.set("pinsphere_refresh", first_refresh, path="/api/v1/auth/session")
    assert (await client.post("/api/v1/auth/session/refresh", headers=csrf)).status_code == 401
    client.cookies.set("pinsphere_refresh", stolen, path="/api/v1/auth/session")
    assert (await client.post("/api/v1/auth/session/refresh", headers=csrf)).status_code == 401


@pytest.mark.anyio
async def test_sign_out_revokes_and_clears(client: httpx.AsyncClient) -> None:
    await _sign_in(client)
    refresh = client.cookies["pinsphere_refresh"]
    csrf = client.cookies["pinsphere_csrf"]
    out = await client.delete("/api/v1/auth/session")
    assert out.status_code == 204
    assert all("Max-Age=0" in line for line in _cookie_lines(out).values())
    assert not client.cookies.get("pinsphere_access")
    client.cookies.set("pinsphere_refresh", refresh, path="/api/v1/auth/session")
    client.cookies.set("pinsphere_csrf", csrf)
    again = await client.post("/api/v1/auth/session/refresh", headers={CSRF: csrf})
    assert again.status_code == 401


@pytest.mark.anyio
async def test_disabled_accounts_lose_their_cookie_session(
    client: httpx.AsyncClient, store: pinsphere.PinStore
) -> None:
    await _sign_in(client)
    admin = store.users.create("root", password="root-password", role="admin")
    store.as_user(admin).admin.disable("alice")
    assert (await client.get("/api/v1/users/me")).status_code == 401


@pytest.mark.anyio
async def test_config_says_what_the_ui_offers(client: httpx.AsyncClient) -> None:
    config = (await client.get("/api/v1/config")).json()
    assert config["google"] is False
    assert config["signup"] is True
    assert "image/jpeg" in config["allowed_types"]
    assert config["thumbnails"] in (True, False)
