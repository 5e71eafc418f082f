"""Boards and tags over HTTP."""

from __future__ import annotations

import httpx
import pytest
from http_support import SignIn, assert_problem

from pinsphere.testing import media

pytestmark = pytest.mark.anyio

BOARDS = "/api/v1/boards"


async def _pin(client: httpx.AsyncClient, headers: dict[str, str], **fields: str) -> str:
    response = await client.post(
        "/api/v1/pins",
        files={"file": ("a.gif", media.gif_bytes(), "image/gif")},
        data=fields,
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_board_lifecycle(client: httpx.AsyncClient, sign_in: SignIn) -> None:
    alice = await sign_in("alice")
    created = await client.post(
        BOARDS, json={"name": "Animals", "visibility": "public"}, headers=alice
    )
    assert created.status_code == 201, created.text
    board = created.json()
    url = f"{BOARDS}/{board['id']}"
    assert created.headers["location"] == url
    assert_problem(await client.post(BOARDS, json={"name": "animals"}, headers=alice), 409)

    pin_id = await _pin(client, alice, visibility="public")
    assert (await client.put(f"{url}/pins/{pin_id}", headers=alice)).status_code == 204
    on_board = await client.get("/api/v1/pins", params={"q": "board:Animals"}, headers=alice)
    assert [item["id"] for item in on_board.json()["items"]] == [pin_id]
    assert (await client.get(url)).json()["pin_count"] == 1

    renamed = await client.patch(url, json={"name": "Beasts"}, headers=alice)
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Beasts"
    names = [item["name"] for item in (await client.get(BOARDS, headers=alice)).json()]
    assert names == ["Beasts"]

    assert (await client.delete(f"{url}/pins/{pin_id}", headers=alice)).status_code == 204
    assert (await client.delete(url, headers=alice)).status_code == 204
    assert_problem(await client.get(url, headers=alice), 404)
    # The pin outlives its board.
    assert (await client.get(f"/api/v1/pins/{pin_id}", headers=alice)).status_code == 200


async def test_boards_of_others(client: httpx.AsyncClient, sign_in: SignIn) -> None:
    alice, bob = await sign_in("alice"), await sign_in("bob")
    private = (await client.post(BOARDS, json={"name": "Mine"}, headers=alice)).json()
    public = (
        await client.post(BOARDS, json={"name": "Ours", "visibility": "public"}, headers=alice)
    ).json()
    assert_problem(await client.get(f"{BOARDS}/{private['id']}", headers=bob), 404)
    assert (await client.get(f"{BOARDS}/{public['id']}", headers=bob)).status_code == 200
    assert_problem(
        await client.patch(f"{BOARDS}/{public['id']}", json={"name": "x"}, headers=bob), 403
    )
    listed = await client.get(BOARDS, params={"owner": "alice"}, headers=bob)
    assert [board["name"] for board in listed.json()] == ["Ours"]
    assert_problem(await client.post(BOARDS, json={"name": "Anon"}), 401)


async def test_tags_with_counts_and_prefix(client: httpx.AsyncClient, sign_in: SignIn) -> None:
    alice = await sign_in("alice")
    await _pin(client, alice, tags="animals/cats,funny", visibility="public")
    await _pin(client, alice, tags="animals/dogs")
    everyone = (await client.get("/api/v1/tags")).json()
    assert {tag["tag"] for tag in everyone} == {"animals/cats", "funny"}
    mine = (await client.get("/api/v1/tags", params={"prefix": "animals"}, headers=alice)).json()
    assert sorted((tag["tag"], tag["count"]) for tag in mine) == [
        ("animals/cats", 1),
        ("animals/dogs", 1),
    ]
