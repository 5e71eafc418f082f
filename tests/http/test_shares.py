"""Sharing pins and boards with users over HTTP."""

from __future__ import annotations

import httpx
import pytest
from http_support import SignIn, assert_problem

import pinsphere
from pinsphere.testing import media

pytestmark = pytest.mark.anyio

PINS = "/api/v1/pins"
BOARDS = "/api/v1/boards"


@pytest.fixture
def private_pin(store: pinsphere.PinStore, users: dict[str, pinsphere.User]) -> pinsphere.Pin:
    """A private pin of alice's."""
    return store.as_user(users["alice"]).upload(media.png_bytes(), title="secret")


async def test_share_list_and_unshare_a_pin(
    client: httpx.AsyncClient, sign_in: SignIn, private_pin: pinsphere.Pin
) -> None:
    alice, bob = await sign_in("alice"), await sign_in("bob")
    url = f"{PINS}/{private_pin.id}"
    assert_problem(await client.get(url, headers=bob), 404)

    shared = await client.post(f"{url}/shares", json={"username": "bob"}, headers=alice)
    assert shared.status_code == 200, shared.text
    assert {k: shared.json()[k] for k in ("username", "role", "target_kind", "target_id")} == {
        "username": "bob",
        "role": "viewer",
        "target_kind": "pin",
        "target_id": private_pin.id,
    }
    assert (await client.get(url, headers=bob)).json()["title"] == "secret"
    assert (await client.get(f"{url}/media", headers=bob)).status_code == 200
    listed = await client.get(f"{url}/shares", headers=alice)
    assert [s["username"] for s in listed.json()] == ["bob"]

    gone = await client.delete(f"{url}/shares/bob", headers=alice)
    assert gone.status_code == 204
    assert (await client.get(f"{url}/shares", headers=alice)).json() == []
    assert_problem(await client.get(url, headers=bob), 404)
    assert_problem(await client.get(f"{url}/media", headers=bob), 404)
    # Unsharing again is harmless.
    assert (await client.delete(f"{url}/shares/bob", headers=alice)).status_code == 204


async def test_an_editor_may_change_but_not_delete_or_reshare(
    client: httpx.AsyncClient, sign_in: SignIn, private_pin: pinsphere.Pin
) -> None:
    alice, bob = await sign_in("alice"), await sign_in("bob")
    url = f"{PINS}/{private_pin.id}"
    viewer = await client.post(f"{url}/shares", json={"username": "bob"}, headers=alice)
    assert viewer.json()["role"] == "viewer"
    assert_problem(await client.patch(url, json={"title": "no"}, headers=bob), 403)

    editor = await client.post(
        f"{url}/shares", json={"username": "bob", "role": "editor"}, headers=alice
    )
    assert editor.json()["role"] == "editor"
    changed = await client.patch(url, json={"title": "by bob", "add_tags": ["x"]}, headers=bob)
    assert changed.status_code == 200
    assert (changed.json()["title"], changed.json()["tags"]) == ("by bob", ["x"])
    assert_problem(await client.delete(url, headers=bob), 403)
    assert_problem(await client.post(f"{url}/shares", json={"username": "root"}, headers=bob), 403)
    assert_problem(await client.get(f"{url}/shares", headers=bob), 403)
    assert_problem(await client.delete(f"{url}/shares/bob", headers=bob), 403)
    assert (await client.get(url, headers=alice)).json()["title"] == "by bob"


async def test_another_users_private_pin_stays_404(
    client: httpx.AsyncClient, sign_in: SignIn, private_pin: pinsphere.Pin
) -> None:
    bob = await sign_in("bob")
    url = f"{PINS}/{private_pin.id}/shares"
    assert_problem(await client.post(url, json={"username": "root"}, headers=bob), 404)
    assert_problem(await client.get(url, headers=bob), 404)
    assert_problem(await client.delete(f"{url}/root", headers=bob), 404)
    assert_problem(await client.get(f"{PINS}/0000000000000/shares", headers=bob), 404)


async def test_a_visible_pin_of_someone_else_is_403(
    client: httpx.AsyncClient,
    store: pinsphere.PinStore,
    users: dict[str, pinsphere.User],
    sign_in: SignIn,
) -> None:
    public = store.as_user(users["alice"]).upload(media.png_bytes(), visibility="public")
    url = f"{PINS}/{public.id}/shares"
    bob = await sign_in("bob")
    assert_problem(await client.post(url, json={"username": "root"}, headers=bob), 403)
    assert_problem(await client.get(url, headers=bob), 403)
    assert_problem(await client.get(url), 401)


async def test_bad_shares(
    client: httpx.AsyncClient, sign_in: SignIn, private_pin: pinsphere.Pin
) -> None:
    alice = await sign_in("alice")
    url = f"{PINS}/{private_pin.id}/shares"
    assert_problem(await client.post(url, json={"username": "nobody"}, headers=alice), 404)
    assert_problem(
        await client.post(url, json={"username": "bob", "role": "owner"}, headers=alice), 422
    )
    assert_problem(await client.post(url, json={"username": "alice"}, headers=alice), 422)
    assert_problem(await client.delete(f"{url}/nobody", headers=alice), 404)


async def test_share_a_board(
    client: httpx.AsyncClient,
    store: pinsphere.PinStore,
    users: dict[str, pinsphere.User],
    sign_in: SignIn,
) -> None:
    me = store.as_user(users["alice"])
    on_board = me.upload(media.png_bytes(), title="on the board", board="Trip")
    off_board = me.upload(media.jpeg_bytes(), title="elsewhere")
    board = me.boards.get("Trip")
    alice, bob = await sign_in("alice"), await sign_in("bob")

    # By id or by the name of one of the caller's boards.
    shared = await client.post(
        f"{BOARDS}/Trip/shares", json={"username": "bob", "role": "editor"}, headers=alice
    )
    assert shared.status_code == 200, shared.text
    assert (shared.json()["target_kind"], shared.json()["target_id"]) == ("board", board.id)
    listed = await client.get(f"{BOARDS}/{board.id}/shares", headers=alice)
    assert [(s["username"], s["role"]) for s in listed.json()] == [("bob", "editor")]
    seen = await client.get(PINS, headers=bob)
    assert [pin["id"] for pin in seen.json()["items"]] == [on_board.id]
    assert_problem(await client.get(f"{PINS}/{off_board.id}", headers=bob), 404)
    edited = await client.patch(f"{PINS}/{on_board.id}", json={"title": "t"}, headers=bob)
    assert edited.status_code == 200

    # The path names the kind: a board's id is no pin.
    assert_problem(await client.get(f"{PINS}/{board.id}/shares", headers=alice), 404)
    assert_problem(await client.get(f"{BOARDS}/{on_board.id}/shares", headers=alice), 404)

    assert (await client.delete(f"{BOARDS}/{board.id}/shares/bob", headers=alice)).status_code == (
        204
    )
    assert_problem(await client.get(f"{PINS}/{on_board.id}", headers=bob), 404)
