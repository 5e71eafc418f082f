"""Public links over HTTP: making, listing and revoking them, and following them anonymously."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from http_support import SignIn, assert_problem

import pinsphere
from pinsphere.testing import media

pytestmark = pytest.mark.anyio

LINKS = "/api/v1/links"
SHARED = "/api/v1/shared"


@pytest.fixture
def private_pin(store: pinsphere.PinStore, users: dict[str, pinsphere.User]) -> pinsphere.Pin:
    """A private pin of alice's."""
    return store.as_user(users["alice"]).upload(media.png_bytes(), title="secret")


async def make_link(
    client: httpx.AsyncClient, headers: dict[str, str], target_id: str, **options: object
) -> dict[str, object]:
    """POST a link and return its JSON."""
    response = await client.post(LINKS, json={"target_id": target_id, **options}, headers=headers)
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    return dict(response.json())


async def test_a_pin_link_shows_the_pin_and_its_media_to_anyone(
    client: httpx.AsyncClient, sign_in: SignIn, private_pin: pinsphere.Pin
) -> None:
    link = await make_link(client, await sign_in("alice"), private_pin.id)
    token = str(link["token"])
    assert token.startswith("psl_")
    assert link["url"] == f"{SHARED}/{token}"
    assert (link["target_kind"], link["target_id"], link["uses"]) == ("pin", private_pin.id, 0)

    landing = await client.get(f"{SHARED}/{token}")
    assert landing.status_code == 200, landing.text
    body = landing.json()
    assert body["kind"] == "pin"
    assert body["pin"]["title"] == "secret"
    assert body["board"] is None
    assert body["allow_download"] is True
    assert landing.headers["x-link-visit"] == body["visit"]
    visit = {"X-Link-Visit": body["visit"]}

    pin = await client.get(f"{SHARED}/{token}/pins/{private_pin.id}", headers=visit)
    assert pin.json()["id"] == private_pin.id
    assert "x-link-visit" not in pin.headers  # a follow-up: no new visit

    media_url = f"{SHARED}/{token}/pins/{private_pin.id}/media"
    whole = await client.get(media_url, params={"visit": body["visit"]})
    assert whole.status_code == 200
    assert whole.content == media.png_bytes()
    assert whole.headers["x-content-type-options"] == "nosniff"
    assert whole.headers["cache-control"] == "private, no-cache"
    part = await client.get(media_url, headers={**visit, "Range": "bytes=0-3"})
    assert part.status_code == 206
    assert part.content == b"\x89PNG"
    cached = await client.get(media_url, headers={**visit, "If-None-Match": whole.headers["etag"]})
    assert cached.status_code == 304
    head = await client.head(media_url, headers=visit)
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(media.png_bytes()))

    # Nothing else is reachable through the link, and the pin stays private elsewhere.
    assert_problem(await client.get(f"/api/v1/pins/{private_pin.id}"), 404)


async def test_links_are_listed_and_only_the_owner_manages_them(
    client: httpx.AsyncClient,
    store: pinsphere.PinStore,
    users: dict[str, pinsphere.User],
    sign_in: SignIn,
    private_pin: pinsphere.Pin,
) -> None:
    alice, bob = await sign_in("alice"), await sign_in("bob")
    public = store.as_user(users["alice"]).upload(media.jpeg_bytes(), visibility="public")
    first = await make_link(client, alice, private_pin.id, max_uses=3, password="pw")
    second = await make_link(client, alice, public.id)
    listed = (await client.get(LINKS, headers=alice)).json()
    assert [link["id"] for link in listed] == [second["id"], first["id"]]
    assert all("token" not in link for link in listed)
    assert listed[1]["has_password"] is True
    assert listed[1]["max_uses"] == 3
    one = (await client.get(LINKS, params={"target": public.id}, headers=alice)).json()
    assert [link["id"] for link in one] == [second["id"]]

    assert (await client.get(LINKS, headers=bob)).json() == []
    assert_problem(await client.post(LINKS, json={"target_id": public.id}, headers=bob), 403)
    assert_problem(await client.post(LINKS, json={"target_id": private_pin.id}, headers=bob), 404)
    assert_problem(await client.get(LINKS, params={"target": private_pin.id}, headers=bob), 404)
    assert_problem(await client.delete(f"{LINKS}/{second['id']}", headers=bob), 404)
    assert_problem(await client.post(LINKS, json={"target_id": public.id}), 401)
    assert_problem(await client.delete(f"{LINKS}/nope", headers=alice), 404)


@pytest.mark.parametrize(
    "options",
    [
        {"expires_in": 0},
        {"max_uses": 0},
        {"password": ""},
        {"allow_download": "maybe"},
        {"colour": "red"},
    ],
)
async def test_bad_link_options_are_422(
    client: httpx.AsyncClient,
    sign_in: SignIn,
    private_pin: pinsphere.Pin,
    options: dict[str, object],
) -> None:
    response = await client.post(
        LINKS, json={"target_id": private_pin.id, **options}, headers=await sign_in("alice")
    )
    assert_problem(response, 422)


async def test_revoking_a_link_stops_every_request_through_it_at_once(
    client: httpx.AsyncClient, sign_in: SignIn, private_pin: pinsphere.Pin
) -> None:
    alice = await sign_in("alice")
    link = await make_link(client, alice, private_pin.id)
    token = link["token"]
    visit = {"X-Link-Visit": (await client.get(f"{SHARED}/{token}")).json()["visit"]}
    media_url = f"{SHARED}/{token}/pins/{private_pin.id}/media"
    assert (await client.get(media_url, headers=visit)).status_code == 200

    assert (await client.delete(f"{LINKS}/{link['id']}", headers=alice)).status_code == 204
    for url in (f"{SHARED}/{token}", f"{SHARED}/{token}/pins/{private_pin.id}", media_url):
        assert_problem(await client.get(url, headers=visit), 404)
        assert_problem(await client.get(url), 404)
    assert (await client.head(media_url, headers=visit)).status_code == 404
    listed = (await client.get(LINKS, headers=alice)).json()
    assert listed[0]["revoked_at"] is not None
    assert (await client.delete(f"{LINKS}/{link['id']}", headers=alice)).status_code == 204


async def test_deleting_the_target_kills_its_links(
    client: httpx.AsyncClient, sign_in: SignIn, private_pin: pinsphere.Pin
) -> None:
    alice = await sign_in("alice")
    token = (await make_link(client, alice, private_pin.id))["token"]
    visit = {"X-Link-Visit": (await client.get(f"{SHARED}/{token}")).json()["visit"]}
    assert (await client.delete(f"/api/v1/pins/{private_pin.id}", headers=alice)).status_code == 204
    assert_problem(await client.get(f"{SHARED}/{token}", headers=visit), 404)
    media_url = f"{SHARED}/{token}/pins/{private_pin.id}/media"
    assert_problem(await client.get(media_url, headers=visit), 404)


async def test_expired_and_unknown_links_are_404(
    client: httpx.AsyncClient,
    store: pinsphere.PinStore,
    users: dict[str, pinsphere.User],
    private_pin: pinsphere.Pin,
) -> None:
    expired = store.as_user(users["alice"]).create_link(
        private_pin.id, expires_in=timedelta(microseconds=1)
    )
    assert_problem(await client.get(f"{SHARED}/{expired.token}"), 404)
    media_url = f"{SHARED}/{expired.token}/pins/{private_pin.id}/media"
    assert_problem(await client.get(media_url), 404)
    for forged in ("psl_" + "A" * 43, expired.token[:-1], "x"):
        assert_problem(await client.get(f"{SHARED}/{forged}"), 404)


async def test_uses_count_visits_not_requests(
    client: httpx.AsyncClient,
    store: pinsphere.PinStore,
    users: dict[str, pinsphere.User],
    sign_in: SignIn,
    private_pin: pinsphere.Pin,
) -> None:
    alice = await sign_in("alice")
    token = (await make_link(client, alice, private_pin.id, max_uses=2))["token"]
    media_url = f"{SHARED}/{token}/pins/{private_pin.id}/media"

    first = await client.get(f"{SHARED}/{token}")
    visit = {"X-Link-Visit": first.json()["visit"]}
    for _ in range(3):  # follow-ups of the first visit are free
        assert (await client.get(media_url, headers=visit)).status_code == 200
        assert (await client.get(f"{SHARED}/{token}", headers=visit)).status_code == 200
    assert (await client.get(LINKS, headers=alice)).json()[0]["uses"] == 1

    # A forged or foreign visit is no visit: that request counts.
    forged = {"X-Link-Visit": visit["X-Link-Visit"][:-2] + "xx"}
    second = await client.get(media_url, headers=forged)
    assert second.status_code == 200
    assert "x-link-visit" in second.headers
    assert (await client.get(LINKS, headers=alice)).json()[0]["uses"] == 2
    assert_problem(await client.get(f"{SHARED}/{token}"), 404)
    assert_problem(await client.get(media_url), 404)

    other = await make_link(client, alice, private_pin.id)
    other_visit = (await client.get(f"{SHARED}/{other['token']}")).json()["visit"]
    foreign = {"X-Link-Visit": other_visit}
    assert_problem(await client.get(f"{SHARED}/{token}", headers=foreign), 404)


async def test_the_last_visit_can_fetch_its_media(
    client: httpx.AsyncClient, sign_in: SignIn, private_pin: pinsphere.Pin
) -> None:
    token = (await make_link(client, await sign_in("alice"), private_pin.id, max_uses=1))["token"]
    visit = {"X-Link-Visit": (await client.get(f"{SHARED}/{token}")).json()["visit"]}
    media_url = f"{SHARED}/{token}/pins/{private_pin.id}/media"
    assert (await client.get(media_url, headers=visit)).status_code == 200


async def test_password_links(
    client: httpx.AsyncClient, sign_in: SignIn, private_pin: pinsphere.Pin
) -> None:
    token = (await make_link(client, await sign_in("alice"), private_pin.id, password="Sésame"))[
        "token"
    ]
    landing = f"{SHARED}/{token}"
    missing = await client.get(landing)
    body = assert_problem(missing, 401)
    assert str(body["type"]).endswith("/link-password")
    assert missing.headers["www-authenticate"].startswith("X-Link-Password")
    assert_problem(await client.get(landing, headers={"X-Link-Password": "wrong"}), 401)
    right = {"X-Link-Password": "Sésame".encode()}
    opened = await client.get(landing, headers=right)
    assert opened.status_code == 200, opened.text
    visit = opened.json()["visit"]
    media_url = f"{landing}/pins/{private_pin.id}/media"
    client.cookies.clear()  # a script that keeps no cookies
    # A visit does not stand in for the password.
    assert_problem(await client.get(media_url, headers={"X-Link-Visit": visit}), 401)
    media_answer = await client.get(media_url, headers={**right, "X-Link-Visit": visit})
    assert media_answer.status_code == 200


async def test_the_right_password_leaves_a_proof_for_media_elements(
    client: httpx.AsyncClient,
    store: pinsphere.PinStore,
    sign_in: SignIn,
    private_pin: pinsphere.Pin,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = (await make_link(client, await sign_in("alice"), private_pin.id, password="pw"))[
        "token"
    ]
    client.cookies.clear()
    landing = f"{SHARED}/{token}"
    opened = await client.get(landing, headers={"X-Link-Password": "pw"})
    assert opened.status_code == 200
    cookie = opened.headers["set-cookie"]
    assert cookie.startswith("pinsphere_link_pass=")
    for attribute in ("HttpOnly", f"Path=/api/v1/shared/{token}", "SameSite=Strict"):
        assert attribute in cookie
    # The proof alone opens the link's media, as <img> and <video> ask for it, without
    # hashing the password again.
    verified: list[str] = []
    real_verify = store.passwords.verify

    def counting(hashed: str, password: str) -> bool:
        verified.append(password)
        return real_verify(hashed, password)

    monkeypatch.setattr(store.passwords, "verify", counting)
    visit = opened.json()["visit"]
    media_url = f"{landing}/pins/{private_pin.id}/media?visit={visit}"
    thumbnail_url = f"{landing}/pins/{private_pin.id}/thumbnail?visit={visit}"
    for _ in range(3):
        assert (await client.get(media_url, headers={"Range": "bytes=0-9"})).status_code == 206
    assert (await client.get(thumbnail_url)).status_code in (200, 404)
    # A client that sends the password with every request as well, many at once: the
    # proof stands in for it, so none is hashed again or held against the link's limit.
    answers = await asyncio.gather(
        *(client.get(media_url, headers={"X-Link-Password": "pw"}) for _ in range(15))
    )
    assert [answer.status_code for answer in answers] == [200] * 15
    assert verified == []
    # Only for this link: another protected link still asks for its password.
    other = (await make_link(client, await sign_in("alice"), private_pin.id, password="pw2"))[
        "token"
    ]
    assert_problem(await client.get(f"{SHARED}/{other}"), 401)
    # A forged proof is no proof.
    client.cookies.clear()
    client.cookies.set("pinsphere_link_pass", "forged", path=f"/api/v1/shared/{token}")
    assert_problem(await client.get(media_url), 401)


async def test_a_revoked_link_ignores_its_password_proof(
    client: httpx.AsyncClient, sign_in: SignIn, private_pin: pinsphere.Pin
) -> None:
    alice = await sign_in("alice")
    link = await make_link(client, alice, private_pin.id, password="pw")
    landing = f"{SHARED}/{link['token']}"
    assert (await client.get(landing, headers={"X-Link-Password": "pw"})).status_code == 200
    assert (await client.get(landing)).status_code == 200  # the proof, without the password
    revoked = await client.delete(f"/api/v1/links/{link['id']}", headers=alice)
    assert revoked.status_code == 204
    assert_problem(await client.get(landing), 404)


async def test_wrong_link_passwords_are_throttled(
    client: httpx.AsyncClient, sign_in: SignIn, private_pin: pinsphere.Pin
) -> None:
    token = (await make_link(client, await sign_in("alice"), private_pin.id, password="pw"))[
        "token"
    ]
    statuses = []
    for guess in range(12):
        wrong = {"X-Link-Password": f"guess{guess}"}
        statuses.append((await client.get(f"{SHARED}/{token}", headers=wrong)).status_code)
    assert statuses[:10] == [401] * 10
    assert statuses[-1] == 429


async def test_view_only_links_refuse_the_original(
    client: httpx.AsyncClient, sign_in: SignIn, private_pin: pinsphere.Pin
) -> None:
    token = (await make_link(client, await sign_in("alice"), private_pin.id, allow_download=False))[
        "token"
    ]
    landing = await client.get(f"{SHARED}/{token}")
    assert landing.json()["allow_download"] is False
    visit = {"X-Link-Visit": landing.json()["visit"]}
    assert (await client.get(f"{SHARED}/{token}/pins/{private_pin.id}", headers=visit)).is_success
    media_url = f"{SHARED}/{token}/pins/{private_pin.id}/media"
    assert_problem(await client.get(media_url, headers=visit), 403)
    assert_problem(await client.get(f"{SHARED}/{token}/pins/0000000000000/media"), 404)


async def test_a_board_link_pages_the_boards_pins(
    client: httpx.AsyncClient,
    store: pinsphere.PinStore,
    users: dict[str, pinsphere.User],
    sign_in: SignIn,
) -> None:
    me = store.as_user(users["alice"])
    on_board = [
        me.upload(media.png_bytes(color=color), title=color, board="Album")
        for color in ("red", "green", "blue")
    ]
    off_board = me.upload(media.jpeg_bytes(), title="elsewhere")
    board = me.boards.get("Album")
    token = (await make_link(client, await sign_in("alice"), board.id))["token"]

    first = (await client.get(f"{SHARED}/{token}", params={"limit": 2})).json()
    assert (first["kind"], first["board"]["name"], first["pin"]) == ("board", "Album", None)
    visit = {"X-Link-Visit": first["visit"]}
    ids = [pin["id"] for pin in first["pins"]["items"]]
    second = await client.get(
        f"{SHARED}/{token}",
        params={"limit": 2, "cursor": first["pins"]["next_cursor"]},
        headers=visit,
    )
    ids += [pin["id"] for pin in second.json()["pins"]["items"]]
    assert second.json()["pins"]["next_cursor"] is None
    assert ids == [pin.id for pin in reversed(on_board)]

    pin_url = f"{SHARED}/{token}/pins"
    assert (await client.get(f"{pin_url}/{on_board[0].id}/media", headers=visit)).is_success
    assert_problem(await client.get(f"{pin_url}/{off_board.id}", headers=visit), 404)
    assert_problem(await client.get(f"{pin_url}/{off_board.id}/media", headers=visit), 404)
    assert_problem(await client.get(f"{SHARED}/{token}", params={"cursor": "bad"}), 400)
