"""Thumbnails over HTTP: the nearest width, validators, caching, and public links."""

from __future__ import annotations

import httpx
import pytest
from http_support import SignIn, assert_problem

import pinsphere
from pinsphere.ids import encode_id, new_id
from pinsphere.testing import media

pytestmark = pytest.mark.anyio

PINS = "/api/v1/pins"
SHARED = "/api/v1/shared"


def _picture(store: pinsphere.PinStore, user: pinsphere.User, **options: object) -> pinsphere.Pin:
    # 700 px wide: thumbnails of 256 and 640 px are made (never one wider than the picture).
    pin = store.as_user(user).upload(media.jpeg_bytes((700, 500)), title="picture", **options)
    assert pin.thumbnails == (256, 640)
    return pin


@pytest.fixture
def private_picture(store: pinsphere.PinStore, users: dict[str, pinsphere.User]) -> pinsphere.Pin:
    """A private picture of alice's."""
    return _picture(store, users["alice"])


def _is_webp(content: bytes) -> bool:
    return content[:4] == b"RIFF" and content[8:12] == b"WEBP"


async def test_the_nearest_width_is_served_with_safe_private_headers(
    client: httpx.AsyncClient, sign_in: SignIn, private_picture: pinsphere.Pin
) -> None:
    alice = await sign_in("alice")
    url = f"{PINS}/{private_picture.id}/thumbnail"
    sha = private_picture.media.sha256
    for width, served in ((None, 640), (600, 640), (1000, 640), (100, 256), (448, 640)):
        params = {} if width is None else {"width": width}
        response = await client.get(url, params=params, headers=alice)
        assert response.status_code == 200, response.text
        assert _is_webp(response.content)
        headers = response.headers
        assert headers["etag"] == f'"{sha}-w{served}"', width
        assert headers["content-type"] == "image/webp"
        assert headers["content-length"] == str(len(response.content))
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["content-security-policy"] == "default-src 'none'; sandbox"
        assert headers["cache-control"] == "private, max-age=3600"
    small = await client.get(url, params={"width": 1}, headers=alice)
    large = await client.get(url, params={"width": 4096}, headers=alice)
    assert len(small.content) < len(large.content)


async def test_if_none_match_is_304_and_head_has_no_body(
    client: httpx.AsyncClient, sign_in: SignIn, private_picture: pinsphere.Pin
) -> None:
    alice = await sign_in("alice")
    url = f"{PINS}/{private_picture.id}/thumbnail?width=640"
    whole = await client.get(url, headers=alice)
    etag = whole.headers["etag"]

    same = await client.get(url, headers={**alice, "If-None-Match": f'W/{etag}, "other"'})
    assert same.status_code == 304
    assert same.content == b""
    assert same.headers["etag"] == etag
    assert same.headers["cache-control"] == "private, max-age=3600"
    # Another width has another validator.
    other = await client.get(
        f"{PINS}/{private_picture.id}/thumbnail?width=200", headers={**alice, "If-None-Match": etag}
    )
    assert other.status_code == 200

    head = await client.head(url, headers=alice)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(whole.content))
    assert head.headers["etag"] == etag


async def test_public_pins_may_be_cached_by_anyone(
    client: httpx.AsyncClient, store: pinsphere.PinStore, users: dict[str, pinsphere.User]
) -> None:
    pin = _picture(store, users["alice"], visibility="public")
    response = await client.get(f"{PINS}/{pin.id}/thumbnail")  # anonymous
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=3600"


async def test_invisible_pins_and_pins_without_thumbnails_are_404(
    client: httpx.AsyncClient,
    store: pinsphere.PinStore,
    users: dict[str, pinsphere.User],
    sign_in: SignIn,
    private_picture: pinsphere.Pin,
) -> None:
    url = f"{PINS}/{private_picture.id}/thumbnail"
    assert_problem(await client.get(url, headers=await sign_in("bob")), 404)
    assert_problem(await client.get(url), 404)
    assert_problem(await client.get(f"{PINS}/0000000000000/thumbnail"), 404)
    assert_problem(await client.get(f"{PINS}/not-an-id/thumbnail"), 404)
    assert (await client.head(url)).status_code == 404

    # A pin whose media gave no thumbnails (a video, on a server that cannot read videos).
    bare = private_picture.model_copy(update={"id": encode_id(new_id()), "thumbnails": ()})
    store.metadata.insert_pins([(bare, [])])
    alice = await sign_in("alice")
    assert (await client.get(f"{PINS}/{bare.id}", headers=alice)).status_code == 200
    assert_problem(await client.get(f"{PINS}/{bare.id}/thumbnail", headers=alice), 404)


@pytest.mark.parametrize("width", ["0", "-5", "4097", "wide", "1.5"])
async def test_bad_widths_are_422(
    client: httpx.AsyncClient, sign_in: SignIn, private_picture: pinsphere.Pin, width: str
) -> None:
    response = await client.get(
        f"{PINS}/{private_picture.id}/thumbnail",
        params={"width": width},
        headers=await sign_in("alice"),
    )
    assert_problem(response, 422)


async def test_thumbnails_through_a_view_only_link_do_not_count_uses(
    client: httpx.AsyncClient, sign_in: SignIn, private_picture: pinsphere.Pin
) -> None:
    alice = await sign_in("alice")
    made = await client.post(
        "/api/v1/links",
        json={"target_id": private_picture.id, "allow_download": False, "max_uses": 2},
        headers=alice,
    )
    assert made.status_code == 201, made.text
    link = made.json()
    token = link["token"]
    landing = await client.get(f"{SHARED}/{token}")
    visit = landing.json()["visit"]
    url = f"{SHARED}/{token}/pins/{private_picture.id}/thumbnail"

    # Follow-ups of the visit (header or query, as an <img> sends it) are free.
    for _ in range(3):
        by_header = await client.get(url, params={"width": 200}, headers={"X-Link-Visit": visit})
        assert by_header.status_code == 200, by_header.text
        assert _is_webp(by_header.content)
        assert by_header.headers["etag"] == f'"{private_picture.media.sha256}-w256"'
        assert by_header.headers["cache-control"] == "private, no-cache"
        assert by_header.headers["x-content-type-options"] == "nosniff"
        assert "x-link-visit" not in by_header.headers
        by_query = await client.get(url, params={"visit": visit})
        assert by_query.status_code == 200
        etag = by_query.headers["etag"]
        unchanged = await client.get(url, params={"visit": visit}, headers={"If-None-Match": etag})
        assert unchanged.status_code == 304
    head = await client.head(url, params={"visit": visit})
    assert head.status_code == 200
    assert head.content == b""
    uses = (await client.get("/api/v1/links", headers=alice)).json()[0]["uses"]
    assert uses == 1
    # The original stays refused.
    media_url = f"{SHARED}/{token}/pins/{private_picture.id}/media"
    assert_problem(await client.get(media_url, params={"visit": visit}), 403)

    # Without a visit a request is a visit of its own: it counts, and says which visit.
    fresh = await client.get(url)
    assert fresh.status_code == 200
    assert "x-link-visit" in fresh.headers
    assert (await client.get("/api/v1/links", headers=alice)).json()[0]["uses"] == 2

    # Anything outside the link, and a revoked link, are 404.
    assert_problem(await client.get(f"{SHARED}/{token}/pins/0000000000000/thumbnail"), 404)
    revoked = await client.delete(f"/api/v1/links/{link['id']}", headers=alice)
    assert revoked.status_code == 204, revoked.text
    assert_problem(await client.get(url, params={"visit": visit}), 404)


async def test_the_web_ui_is_told_thumbnails_are_served(client: httpx.AsyncClient) -> None:
    config = (await client.get("/api/v1/config")).json()
    assert config["thumbnails"] is True
