"""Direct uploads over HTTP: ``POST /api/v1/uploads`` signs a form for the bucket, the client
sends the file there (moto's S3 server on loopback), ``POST /api/v1/uploads/{id}/complete``
makes it a pin. A store whose files cannot be uploaded to directly answers 501."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import boto3
import httpx
import pytest
from http_support import SECRET, SignIn, assert_problem

import pinsphere
from pinsphere import PasswordHashing, StoreSettings
from pinsphere.direct_uploads import INCOMING_PREFIX
from pinsphere.testing import media
from pinsphere_http import HTTPSettings, create_app

pytestmark = pytest.mark.anyio

UPLOADS = "/api/v1/uploads"
LIMIT = 256 * 1024
SETTINGS = StoreSettings(
    password_hashing=PasswordHashing(time_cost=1, memory_cost_kib=64, parallelism=1),
    max_upload_bytes=LIMIT,
)
HTML = b"<!DOCTYPE html><html><body>not a picture</body></html>"


@pytest.fixture(scope="module")
def endpoint(s3_endpoint: str) -> str:
    return s3_endpoint


def _store_on(endpoint: str, extra: str = "") -> pinsphere.PinStore:
    bucket = f"pins-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    return pinsphere.open(
        metadata="memory://",
        users="memory://",
        blobs=f"s3://{bucket}/pins?endpoint_url={endpoint}&max_attempts=1{extra}",
        settings=SETTINGS,
    )


@pytest.fixture
def store(endpoint: str) -> Iterator[pinsphere.PinStore]:
    """Overrides the conftest's: memory metadata and users, files in a bucket on moto."""
    with _store_on(endpoint) as opened:
        yield opened


async def start(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await client.post(UPLOADS, json=body, headers=headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def send(upload: dict[str, Any], data: bytes) -> None:
    """Straight to the bucket, over the network, as a browser would."""
    async with httpx.AsyncClient(timeout=10) as direct:
        response = await direct.post(
            upload["url"], data=upload["fields"], files={"file": ("x.png", data, "image/png")}
        )
    assert response.status_code in (200, 201, 204), response.text


def incoming(store: pinsphere.PinStore) -> list[str]:
    return list(store.blobs.keys(INCOMING_PREFIX))


async def test_a_direct_upload_becomes_a_pin(
    client: httpx.AsyncClient, store: pinsphere.PinStore, sign_in: SignIn
) -> None:
    headers = await sign_in("alice")
    data = media.jpeg_bytes((80, 60))
    upload = await start(client, headers, size=len(data))
    assert set(upload) == {"id", "url", "fields", "expires_at", "max_size"}
    assert upload["max_size"] == len(data)
    key = upload["fields"]["key"]
    assert key.startswith("pins/incoming/")
    assert key.endswith(f"/{upload['id']}")

    await send(upload, data)
    response = await client.post(
        f"{UPLOADS}/{upload['id']}/complete",
        json={"title": "Big", "tags": ["Large / Files"], "board": "Raw", "visibility": "public"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    pin = response.json()
    assert response.headers["location"] == f"/api/v1/pins/{pin['id']}"
    assert pin["owner"] == "alice"
    assert pin["title"] == "Big"
    assert pin["tags"] == ["large/files"]
    assert pin["boards"] == ["Raw"]
    assert pin["visibility"] == "public"
    assert pin["media"]["mime_type"] == "image/jpeg"
    assert pin["media"]["size"] == len(data)
    assert pin["media"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert incoming(store) == []

    downloaded = await client.get(f"/api/v1/pins/{pin['id']}/media")
    assert downloaded.status_code == 200
    assert downloaded.content == data


async def test_without_a_body_the_limit_is_the_stores(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    headers = await sign_in("alice")
    response = await client.post(UPLOADS, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["max_size"] == LIMIT
    # And completing with no body takes the defaults.
    upload = response.json()
    await send(upload, media.png_bytes())
    done = await client.post(f"{UPLOADS}/{upload['id']}/complete", headers=headers)
    assert done.status_code == 201, done.text
    assert done.json()["visibility"] == "private"


async def test_sizes_out_of_range_are_refused(client: httpx.AsyncClient, sign_in: SignIn) -> None:
    headers = await sign_in("alice")
    problem = assert_problem(
        await client.post(UPLOADS, json={"size": LIMIT + 1}, headers=headers), 413
    )
    assert problem["limit"] == LIMIT
    for body in ({"size": 0}, {"size": "big"}, {"key": "originals/aa/bb/cc"}):
        assert_problem(await client.post(UPLOADS, json=body, headers=headers), 422)


async def test_uploads_need_a_signed_in_member(
    client: httpx.AsyncClient, store: pinsphere.PinStore, sign_in: SignIn
) -> None:
    assert_problem(await client.post(UPLOADS, json={}), 401)
    assert_problem(await client.post(f"{UPLOADS}/{'0' * 32}/complete", json={}), 401)
    store.users.create("vera", password="vera-password", role="viewer")
    response = await client.post(
        "/api/v1/auth/token", data={"username": "vera", "password": "vera-password"}
    )
    viewer = {"Authorization": f"Bearer {response.json()['access_token']}"}
    assert_problem(await client.post(UPLOADS, json={}, headers=viewer), 403)


async def test_an_html_file_is_refused_and_removed(
    client: httpx.AsyncClient, store: pinsphere.PinStore, sign_in: SignIn
) -> None:
    headers = await sign_in("alice")
    upload = await start(client, headers)
    await send(upload, HTML)
    assert_problem(
        await client.post(f"{UPLOADS}/{upload['id']}/complete", json={}, headers=headers), 415
    )
    assert incoming(store) == []
    assert store.as_user("alice").count() == 0


async def test_another_users_or_a_finished_upload_is_not_found(
    client: httpx.AsyncClient, store: pinsphere.PinStore, sign_in: SignIn
) -> None:
    alice, bob = await sign_in("alice"), await sign_in("bob")
    upload = await start(client, alice)
    await send(upload, media.png_bytes())
    complete = f"{UPLOADS}/{upload['id']}/complete"
    assert_problem(await client.post(complete, json={}, headers=bob), 404)
    assert (await client.post(complete, json={}, headers=alice)).status_code == 201
    assert_problem(await client.post(complete, json={}, headers=alice), 404)
    assert_problem(await client.post(f"{UPLOADS}/..%2F..%2Fx/complete", headers=alice), 404)


async def test_bad_metadata_is_refused_before_the_file_is_touched(
    client: httpx.AsyncClient, store: pinsphere.PinStore, sign_in: SignIn
) -> None:
    headers = await sign_in("alice")
    upload = await start(client, headers)
    await send(upload, media.png_bytes())
    complete = f"{UPLOADS}/{upload['id']}/complete"
    for body in ({"visibility": "everyone"}, {"tags": ["bad\u0000tag"]}, {"extra": 1}):
        assert_problem(await client.post(complete, json=body, headers=headers), 422)
    assert len(incoming(store)) == 1
    assert (await client.post(complete, json={}, headers=headers)).status_code == 201


# -- stores that cannot take direct uploads -------------------------------------------------


@pytest.fixture
async def memory_client() -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    with pinsphere.open(
        metadata="memory://", users="memory://", blobs="memory://", settings=SETTINGS
    ) as opened:
        opened.users.create("alice", password="alice-password")
        app = create_app(opened, HTTPSettings(secret_key=SECRET))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            token = await c.post(
                "/api/v1/auth/token", data={"username": "alice", "password": "alice-password"}
            )
            yield c, {"Authorization": f"Bearer {token.json()['access_token']}"}


async def test_a_store_without_a_bucket_answers_501(
    memory_client: tuple[httpx.AsyncClient, dict[str, str]],
) -> None:
    client, headers = memory_client
    problem = assert_problem(await client.post(UPLOADS, json={}, headers=headers), 501)
    assert "POST /api/v1/pins" in str(problem["detail"])
    assert_problem(
        await client.post(f"{UPLOADS}/{'0' * 32}/complete", json={}, headers=headers), 404
    )


async def test_a_bucket_that_cannot_sign_answers_503(endpoint: str) -> None:
    with _store_on(endpoint, "&anon=true") as opened:
        opened.users.create("alice", password="alice-password")
        app = create_app(opened, HTTPSettings(secret_key=SECRET))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            token = await c.post(
                "/api/v1/auth/token", data={"username": "alice", "password": "alice-password"}
            )
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            problem = assert_problem(await c.post(UPLOADS, json={}, headers=headers), 503)
            assert "anon" not in str(problem.get("detail"))  # backend details stay in the log
