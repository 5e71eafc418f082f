"""User administration over HTTP."""

from __future__ import annotations

import httpx
import pytest
from http_support import SignIn, assert_problem

import pinsphere

pytestmark = pytest.mark.anyio

ADMIN = "/api/v1/admin/users"


async def test_members_are_refused(client: httpx.AsyncClient, sign_in: SignIn) -> None:
    assert_problem(await client.get(ADMIN, headers=await sign_in("alice")), 403)
    assert_problem(await client.get(ADMIN), 401)


async def test_listing_pages_by_username(
    client: httpx.AsyncClient, store: pinsphere.PinStore, sign_in: SignIn
) -> None:
    root = await sign_in("root")
    for name in ("carol", "dave"):
        store.users.create(name)
    names: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get(ADMIN, params=params, headers=root)).json()
        names += [user["username"] for user in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert names == ["alice", "bob", "carol", "dave", "root"]
    assert_problem(await client.get(ADMIN, params={"cursor": "%%%"}, headers=root), 400)


async def test_role_and_disable(client: httpx.AsyncClient, sign_in: SignIn) -> None:
    root = await sign_in("root")
    bob = await sign_in("bob")
    promoted = await client.patch(f"{ADMIN}/bob", json={"role": "viewer"}, headers=root)
    assert promoted.status_code == 200
    assert promoted.json()["role"] == "viewer"
    disabled = await client.patch(f"{ADMIN}/bob", json={"disabled": True}, headers=root)
    assert disabled.json()["disabled"] is True
    assert_problem(await client.get("/api/v1/users/me", headers=bob), 401)
    enabled = await client.patch(f"{ADMIN}/bob", json={"disabled": False}, headers=root)
    assert enabled.json()["disabled"] is False
    assert (await client.get(f"{ADMIN}/BOB", headers=root)).json()["role"] == "viewer"
    assert_problem(await client.patch(f"{ADMIN}/bob", json={"role": "king"}, headers=root), 422)
    assert_problem(await client.patch(f"{ADMIN}/nobody", json={}, headers=root), 404)
    # No admin can lock themselves out by a slip.
    assert_problem(await client.patch(f"{ADMIN}/root", json={"disabled": True}, headers=root), 409)
    assert_problem(await client.delete(f"{ADMIN}/root", headers=root), 409)


async def test_delete_user_takes_their_pins(
    client: httpx.AsyncClient, store: pinsphere.PinStore, users: dict[str, pinsphere.User]
) -> None:
    from pinsphere.testing import media

    pin = store.as_user(users["alice"]).upload(media.png_bytes(), visibility="public")
    root = await client.post(
        "/api/v1/auth/token", data={"username": "root", "password": "root-password"}
    )
    headers = {"Authorization": f"Bearer {root.json()['access_token']}"}
    assert (await client.delete(f"{ADMIN}/alice", headers=headers)).status_code == 204
    assert_problem(await client.get(f"/api/v1/pins/{pin.id}"), 404)
    assert_problem(await client.delete(f"{ADMIN}/alice", headers=headers), 404)
