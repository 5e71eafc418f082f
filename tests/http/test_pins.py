"""Pins over HTTP: streamed uploads, reading, listing, changing, deleting, visibility."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from http_support import SignIn, assert_problem

import pinsphere
from pinsphere.testing import media

pytestmark = pytest.mark.anyio

PINS = "/api/v1/pins"


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    content: bytes | None = None,
    **fields: str | list[str],
) -> httpx.Response:
    """POST a pin as multipart."""
    files = {"file": ("picture.png", content or media.png_bytes(), "image/png")}
    return await client.post(PINS, files=files, data=fields, headers=headers)


async def test_upload_streams_a_pin_into_the_store(
    client: httpx.AsyncClient, store: pinsphere.PinStore, sign_in: SignIn
) -> None:
    headers = await sign_in("alice")
    response = await upload(
        client,
        headers,
        media.jpeg_bytes(),
        title="Sunset",
        description="over the sea",
        tags=["Animals / Cats, funny", "sky"],
        board="Holidays",
        visibility="public",
    )
    assert response.status_code == 201, response.text
    pin = response.json()
    assert response.headers["location"] == f"{PINS}/{pin['id']}"
    assert pin["title"] == "Sunset"
    assert pin["owner"] == "alice"
    assert pin["tags"] == ["animals/cats", "funny", "sky"]
    assert pin["boards"] == ["Holidays"]
    assert pin["visibility"] == "public"
    # The bytes decided the type, not the part's declared image/png.
    assert pin["media"]["mime_type"] == "image/jpeg"
    assert store.anonymous.get(pin["id"]).title == "Sunset"


async def test_upload_needs_a_signed_in_member(
    client: httpx.AsyncClient, store: pinsphere.PinStore, sign_in: SignIn
) -> None:
    assert_problem(await upload(client, {}), 401)
    store.users.set_role(store.users.find("bob"), "viewer")
    assert_problem(await upload(client, await sign_in("bob")), 403)


async def test_html_named_png_is_415(client: httpx.AsyncClient, sign_in: SignIn) -> None:
    html = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"
    body = assert_problem(await upload(client, await sign_in("alice"), html), 415)
    assert body["type"].endswith("/unsupported-media")


async def test_a_body_that_is_not_multipart_is_415(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    response = await client.post(
        PINS,
        content=media.png_bytes(),
        headers={**await sign_in("alice"), "Content-Type": "image/png"},
    )
    assert_problem(response, 415)


@pytest.mark.parametrize(
    ("fields", "status"),
    [({"colour": "red"}, 422), ({"visibility": "secret"}, 422), ({"tags": "bad//tag"}, 422)],
)
async def test_bad_form_fields(
    client: httpx.AsyncClient, sign_in: SignIn, fields: dict[str, str], status: int
) -> None:
    assert_problem(await upload(client, await sign_in("alice"), **fields), status)


async def test_a_form_without_a_file_is_422(client: httpx.AsyncClient, sign_in: SignIn) -> None:
    response = await client.post(
        PINS, files={"title": (None, "no file")}, headers=await sign_in("alice")
    )
    assert_problem(response, 422)


async def test_declared_oversize_is_413_before_reading_the_body(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    headers = await sign_in("alice")
    read = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal read
        for _ in range(100):
            read += 1
            yield b"x" * 65536

    response = await client.post(
        PINS,
        content=body(),
        headers={
            **headers,
            "Content-Type": "multipart/form-data; boundary=abc",
            "Content-Length": str(100 * 65536),
        },
    )
    body_ = assert_problem(response, 413)
    assert body_["limit"] == 512 * 1024
    assert read <= 1  # at most the chunk the transport had already pulled


async def test_streamed_oversize_is_413_before_the_body_ends(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    headers = await sign_in("alice")
    boundary = "pinsphere-test-boundary"
    chunks_sent = 0
    total_chunks = 200  # 200 x 64 KiB = 12.5 MiB, far over the 512 KiB limit

    async def body() -> AsyncIterator[bytes]:
        nonlocal chunks_sent
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="big.png"\r\nContent-Type: image/png\r\n\r\n'
        ).encode()
        yield media.png_bytes()
        for _ in range(total_chunks):
            chunks_sent += 1
            yield b"\0" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    # No Content-Length: the size is only known while streaming.
    response = await client.post(
        PINS,
        content=body(),
        headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert_problem(response, 413)
    assert chunks_sent < 12, chunks_sent  # stopped right after passing 512 KiB


async def test_get_update_delete(
    client: httpx.AsyncClient, store: pinsphere.PinStore, sign_in: SignIn
) -> None:
    headers = await sign_in("alice")
    pin = (await upload(client, headers, title="Old", tags="a")).json()
    url = f"{PINS}/{pin['id']}"
    assert (await client.get(url, headers=headers)).json()["title"] == "Old"

    changed = await client.patch(
        url, json={"title": "New", "add_tags": ["b"], "remove_tags": ["a"]}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["title"] == "New"
    assert changed.json()["tags"] == ["b"]
    assert_problem(await client.patch(url, json={"colour": "red"}, headers=headers), 422)

    assert (await client.delete(url, headers=headers)).status_code == 204
    assert_problem(await client.get(url, headers=headers), 404)


async def test_other_users_private_pins_are_404_everywhere(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    alice = await sign_in("alice")
    bob = await sign_in("bob")
    pin = (await upload(client, alice, title="secret")).json()
    url = f"{PINS}/{pin['id']}"
    for headers in (bob, {}):
        assert_problem(await client.get(url, headers=headers), 404)
        assert_problem(await client.get(f"{url}/media", headers=headers), 404)
    assert_problem(await client.patch(url, json={"title": "x"}, headers=bob), 404)
    assert_problem(await client.delete(url, headers=bob), 404)
    listed = await client.get(PINS, headers=bob)
    assert listed.json()["items"] == []
    # Unknown and malformed ids look exactly the same.
    assert_problem(await client.get(f"{PINS}/nonsense", headers=bob), 404)


async def test_public_pins_are_visible_but_not_editable(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    alice = await sign_in("alice")
    pin = (await upload(client, alice, visibility="public")).json()
    url = f"{PINS}/{pin['id']}"
    assert (await client.get(url)).status_code == 200
    assert (await client.get(PINS)).json()["items"][0]["id"] == pin["id"]
    assert_problem(await client.patch(url, json={"title": "x"}, headers=await sign_in("bob")), 403)
    assert_problem(await client.delete(url), 401)


async def test_search_pages_with_a_cursor(client: httpx.AsyncClient, sign_in: SignIn) -> None:
    headers = await sign_in("alice")
    for index in range(5):
        colour = ["red", "green", "blue", "navy", "teal"][index]
        tags = "cats" if index % 2 == 0 else "dogs"
        response = await upload(
            client, headers, media.png_bytes(color=colour), title=f"pin {index}", tags=tags
        )
        assert response.status_code == 201, response.text
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"q": "tag:cats", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get(PINS, params=params, headers=headers)).json()
        seen += [item["title"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["pin 4", "pin 2", "pin 0"]
    oldest = await client.get(PINS, params={"order": "oldest", "limit": 1}, headers=headers)
    assert oldest.json()["items"][0]["title"] == "pin 0"


async def test_search_errors(client: httpx.AsyncClient, sign_in: SignIn) -> None:
    headers = await sign_in("alice")
    body = assert_problem(await client.get(PINS, params={"q": 'tag:"open'}, headers=headers), 400)
    assert body["position"] == 4
    assert_problem(await client.get(PINS, params={"limit": 0}, headers=headers), 422)
    assert_problem(await client.get(PINS, params={"limit": 100000}, headers=headers), 422)
    assert_problem(await client.get(PINS, params={"cursor": "garbage"}, headers=headers), 400)


async def test_a_viewer_is_refused_before_the_body_is_read(
    client: httpx.AsyncClient, store: pinsphere.PinStore, sign_in: SignIn
) -> None:
    store.users.set_role(store.users.find("bob"), "viewer")
    headers = await sign_in("bob")
    read = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal read
        for _ in range(50):
            read += 1
            yield b"x" * 65536

    response = await client.post(
        PINS,
        content=body(),
        headers={**headers, "Content-Type": "multipart/form-data; boundary=abc"},
    )
    assert_problem(response, 403)
    assert read <= 1  # at most the chunk the transport had already pulled
