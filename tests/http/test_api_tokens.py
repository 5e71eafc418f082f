"""Personal API tokens over HTTP: made, listed, revoked, and accepted as bearer tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from http_support import SignIn, assert_problem

import pinsphere
from pinsphere.testing import media

pytestmark = pytest.mark.anyio

TOKENS = "/api/v1/tokens"
PINS = "/api/v1/pins"


async def make_token(
    client: httpx.AsyncClient, headers: dict[str, str], name: str, **options: object
) -> dict[str, str]:
    """Create a token; return the Authorization header that uses it, and its id."""
    response = await client.post(TOKENS, json={"name": name, **options}, headers=headers)
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token"].startswith("pst_")
    return {"Authorization": f"Bearer {body['token']}", "id": body["id"]}


def bearer(token: dict[str, str]) -> dict[str, str]:
    """Just the header."""
    return {"Authorization": token["Authorization"]}


async def test_tokens_are_made_listed_used_and_revoked(
    client: httpx.AsyncClient,
    store: pinsphere.PinStore,
    users: dict[str, pinsphere.User],
    sign_in: SignIn,
) -> None:
    alice = await sign_in("alice")
    secret = store.as_user(users["alice"]).upload(media.png_bytes(), title="mine")
    token = await make_token(client, alice, "backup script")

    me = await client.get("/api/v1/users/me", headers=bearer(token))
    assert me.json()["username"] == "alice"
    assert (await client.get(f"{PINS}/{secret.id}", headers=bearer(token))).is_success
    assert (await client.get(f"{PINS}/{secret.id}/media", headers=bearer(token))).is_success

    listed = (await client.get(TOKENS, headers=alice)).json()
    assert [(t["name"], t["scopes"]) for t in listed] == [("backup script", ["read"])]
    assert "token" not in listed[0]
    assert listed[0]["last_used_at"] is not None

    assert (await client.delete(f"{TOKENS}/{token['id']}", headers=alice)).status_code == 204
    assert_problem(await client.get("/api/v1/users/me", headers=bearer(token)), 401)
    assert_problem(await client.delete(f"{TOKENS}/{token['id']}", headers=alice), 404)
    assert (await client.get(TOKENS, headers=alice)).json() == []


async def test_a_read_token_cannot_write(
    client: httpx.AsyncClient,
    store: pinsphere.PinStore,
    users: dict[str, pinsphere.User],
    sign_in: SignIn,
) -> None:
    alice = await sign_in("alice")
    pin = store.as_user(users["alice"]).upload(media.png_bytes(), board="Mine")
    reader = bearer(await make_token(client, alice, "reader"))
    files = {"file": ("a.png", media.png_bytes(), "image/png")}
    assert_problem(await client.post(PINS, files=files, headers=reader), 403)
    assert_problem(await client.patch(f"{PINS}/{pin.id}", json={"title": "x"}, headers=reader), 403)
    assert_problem(await client.delete(f"{PINS}/{pin.id}", headers=reader), 403)
    assert_problem(await client.post("/api/v1/boards", json={"name": "B"}, headers=reader), 403)
    assert_problem(await client.delete("/api/v1/boards/Mine", headers=reader), 403)
    share = {"username": "bob"}
    assert_problem(await client.post(f"{PINS}/{pin.id}/shares", json=share, headers=reader), 403)
    link = {"target_id": pin.id}
    assert_problem(await client.post("/api/v1/links", json=link, headers=reader), 403)
    assert_problem(await client.post(TOKENS, json={"name": "more"}, headers=reader), 403)
    assert_problem(await client.delete("/api/v1/users/me", headers=reader), 403)
    assert store.as_user(users["alice"]).get(pin.id).title == ""


async def test_a_read_token_is_refused_before_the_upload_body_is_read(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    reader = bearer(await make_token(client, await sign_in("alice"), "reader"))
    read = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal read
        for _ in range(50):
            read += 1
            yield b"x" * 65536

    response = await client.post(
        PINS,
        content=body(),
        headers={**reader, "Content-Type": "multipart/form-data; boundary=abc"},
    )
    assert_problem(response, 403)
    assert read <= 1  # at most the chunk the transport had already pulled


async def test_a_write_token_writes_but_cannot_touch_the_account(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    writer = bearer(
        await make_token(client, await sign_in("alice"), "uploader", scopes=["read", "write"])
    )
    files = {"file": ("a.png", media.png_bytes(), "image/png")}
    created = await client.post(PINS, files=files, headers=writer)
    assert created.status_code == 201, created.text
    pin_id = created.json()["id"]
    changed = await client.patch(f"{PINS}/{pin_id}", json={"title": "t"}, headers=writer)
    assert changed.json()["title"] == "t"
    password = {"current_password": "alice-password", "new_password": "another-one"}
    assert_problem(
        await client.post("/api/v1/users/me/password", json=password, headers=writer), 403
    )
    assert_problem(await client.delete("/api/v1/users/me", headers=writer), 403)
    assert (await client.delete(f"{PINS}/{pin_id}", headers=writer)).status_code == 204


async def test_a_disabled_users_token_is_401(
    client: httpx.AsyncClient,
    store: pinsphere.PinStore,
    users: dict[str, pinsphere.User],
    sign_in: SignIn,
) -> None:
    token = bearer(await make_token(client, await sign_in("alice"), "cron"))
    store.users.disable(users["alice"])
    assert_problem(await client.get("/api/v1/users/me", headers=token), 401)
    assert_problem(await client.get(PINS, headers=token), 401)


async def test_forged_expired_and_foreign_tokens(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    alice, bob = await sign_in("alice"), await sign_in("bob")
    for forged in ("pst_", "pst_" + "A" * 43, "psl_" + "A" * 43):
        response = await client.get(PINS, headers={"Authorization": f"Bearer {forged}"})
        assert_problem(response, 401)
    bobs = await make_token(client, bob, "bob's")
    assert_problem(await client.delete(f"{TOKENS}/{bobs['id']}", headers=alice), 404)
    assert_problem(await client.get(TOKENS), 401)


@pytest.mark.parametrize(
    "body",
    [
        {"name": ""},
        {"name": "x", "scopes": ["admin"]},
        {"name": "x", "scopes": []},
        {"name": "x", "expires_in": 0},
        {"name": "x", "colour": "red"},
    ],
)
async def test_bad_token_requests_are_422(
    client: httpx.AsyncClient, sign_in: SignIn, body: dict[str, object]
) -> None:
    assert_problem(await client.post(TOKENS, json=body, headers=await sign_in("alice")), 422)
