"""User administration over HTTP."""

from __future__ import annotations

import httpx
import pytest
from http_support import SignIn, assert_problem

import pinsphere

pytestmark = pytest.mark.anyio

ADMIN = "/api/v1/admin/users"
AUDIT = "/api/v1/admin/audit"


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


async def test_admin_changes_are_recorded_with_their_actor(
    client: httpx.AsyncClient,
    store: pinsphere.PinStore,
    users: dict[str, pinsphere.User],
    sign_in: SignIn,
) -> None:
    root = await sign_in("root")
    await client.patch(f"{ADMIN}/bob", json={"role": "viewer", "disabled": True}, headers=root)
    await client.patch(f"{ADMIN}/bob", json={"disabled": False}, headers=root)
    events = store.as_user(users["root"]).audit()
    assert [(e.action, e.actor_id, e.target_id) for e in events] == [
        ("user.enable", users["root"].id, users["bob"].id),
        ("user.disable", users["root"].id, users["bob"].id),
        ("role.change", users["root"].id, users["bob"].id),
    ]
    # Demoting oneself is refused by the store's own rule.
    demoted = await client.patch(f"{ADMIN}/root", json={"role": "member"}, headers=root)
    body = assert_problem(demoted, 409)
    assert "own account" in str(body["detail"])
    # A no-op on oneself is fine.
    same = await client.patch(f"{ADMIN}/root", json={"role": "admin"}, headers=root)
    assert same.status_code == 200


async def test_the_audit_trail_pages_backwards(
    client: httpx.AsyncClient,
    store: pinsphere.PinStore,
    users: dict[str, pinsphere.User],
    sign_in: SignIn,
) -> None:
    from pinsphere.testing import media

    alice = await sign_in("alice")
    pin = store.as_user(users["alice"]).upload(media.png_bytes())
    for role in ("viewer", "editor", "viewer"):
        shared = await client.post(
            f"/api/v1/pins/{pin.id}/shares", json={"username": "bob", "role": role}, headers=alice
        )
        assert shared.status_code == 200
    await client.post("/api/v1/links", json={"target_id": pin.id}, headers=alice)

    root = await sign_in("root")
    seen: list[dict[str, object]] = []
    before = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if before:
            params["before"] = before
        response = await client.get(AUDIT, params=params, headers=root)
        assert response.status_code == 200, response.text
        seen += response.json()["items"]
        before = response.json()["next_before"]
        if before is None:
            break
    assert [event["action"] for event in seen] == ["link.create", "share", "share", "share"]
    assert seen[-1]["actor_id"] == users["alice"].id
    assert seen[-1]["details"] == {"user": "bob", "role": "viewer"}
    assert_problem(await client.get(AUDIT, headers=alice), 403)
    assert_problem(await client.get(AUDIT), 401)
    assert (await client.get(AUDIT, params={"before": "nonsense"}, headers=root)).json() == {
        "items": [],
        "next_before": None,
    }


async def test_deleting_ones_own_account_is_recorded(
    client: httpx.AsyncClient,
    store: pinsphere.PinStore,
    users: dict[str, pinsphere.User],
    sign_in: SignIn,
) -> None:
    bob = await sign_in("bob")
    assert (await client.delete("/api/v1/users/me", headers=bob)).status_code == 204
    events = (await client.get(AUDIT, headers=await sign_in("root"))).json()["items"]
    assert [(e["action"], e["actor_id"], e["target_id"]) for e in events] == [
        ("user.delete", users["bob"].id, users["bob"].id)
    ]
