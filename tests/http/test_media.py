"""Downloading originals: streaming, ranges, validators and the safety headers."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from http_support import SignIn, assert_problem

import pinsphere
from pinsphere.testing import media
from pinsphere_http.downloads import ByteRange, Unsatisfiable, content_disposition, parse_range

pytestmark = pytest.mark.anyio

PAYLOAD = bytes(range(256)) * 1200  # ~300 KiB, so a 64 KiB chunk size needs several reads


def video_bytes() -> bytes:
    """A real MP4 clip padded with a ``free`` box holding PAYLOAD (so ranges cross chunks)."""
    return media.mp4_bytes() + (8 + len(PAYLOAD)).to_bytes(4, "big") + b"free" + PAYLOAD


@pytest.fixture
async def video(client: httpx.AsyncClient, sign_in: SignIn) -> tuple[str, bytes]:
    """A public video pin's media URL and its bytes."""
    content = video_bytes()
    response = await client.post(
        "/api/v1/pins",
        files={"file": ("clip.mp4", content, "video/mp4")},
        data={"title": 'Été "clip"/1', "visibility": "public"},
        headers=await sign_in("alice"),
    )
    assert response.status_code == 201, response.text
    return f"/api/v1/pins/{response.json()['id']}/media", content


async def test_whole_file_with_safety_headers(
    client: httpx.AsyncClient, video: tuple[str, bytes]
) -> None:
    url, content = video
    response = await client.get(url)
    assert response.status_code == 200
    assert response.content == content
    headers = response.headers
    assert headers["content-type"] == "video/mp4"
    assert headers["content-length"] == str(len(content))
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert headers["cache-control"] == "private"
    assert headers["accept-ranges"] == "bytes"
    assert headers["etag"].startswith('"')
    assert len(headers["etag"]) == 66
    disposition = headers["content-disposition"]
    assert disposition.startswith('inline; filename="Ete _clip_1.mp4"')
    assert "filename*=UTF-8''%C3%89t%C3%A9%20_clip_1.mp4" in disposition


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [("bytes=0-99", 0, 99), ("bytes=1000-", 1000, None), ("bytes=-500", -500, None)],
)
async def test_a_range_is_206_with_the_right_bytes(
    client: httpx.AsyncClient,
    video: tuple[str, bytes],
    header: str,
    start: int,
    end: int | None,
) -> None:
    url, content = video
    response = await client.get(url, headers={"Range": header})
    assert response.status_code == 206
    expected = content[start : end + 1] if end is not None else content[start:]
    assert response.content == expected
    first = start % len(content)
    assert response.headers["content-range"] == (
        f"bytes {first}-{first + len(expected) - 1}/{len(content)}"
    )
    assert response.headers["content-length"] == str(len(expected))


async def test_a_range_in_the_middle_of_a_video_crosses_chunks(
    client: httpx.AsyncClient, store: pinsphere.PinStore, video: tuple[str, bytes]
) -> None:
    url, content = video
    response = await client.get(url, headers={"Range": "bytes=70000-250000"})
    assert response.status_code == 206
    assert response.content == content[70000:250001]


async def test_unsatisfiable_range_is_416(
    client: httpx.AsyncClient, video: tuple[str, bytes]
) -> None:
    url, content = video
    response = await client.get(url, headers={"Range": f"bytes={len(content)}-"})
    assert_problem(response, 416)
    assert response.headers["content-range"] == f"bytes */{len(content)}"


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "items=0-1", "bytes=9-2", "bytes=x-"])
async def test_ranges_not_served_give_the_whole_file(
    client: httpx.AsyncClient, video: tuple[str, bytes], header: str
) -> None:
    url, content = video
    response = await client.get(url, headers={"Range": header})
    assert response.status_code == 200
    assert response.content == content


async def test_etag_and_if_none_match(client: httpx.AsyncClient, video: tuple[str, bytes]) -> None:
    url, _ = video
    etag = (await client.get(url)).headers["etag"]
    cached = await client.get(url, headers={"If-None-Match": f'"other", {etag}'})
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["etag"] == etag
    assert (await client.get(url, headers={"If-None-Match": '"other"'})).status_code == 200
    stale = await client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"old"'})
    assert stale.status_code == 200
    fresh = await client.get(url, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert fresh.status_code == 206


async def test_head_sends_headers_only(client: httpx.AsyncClient, video: tuple[str, bytes]) -> None:
    url, _content = video
    response = await client.head(url, headers={"Range": "bytes=0-9"})
    assert response.status_code == 206
    assert response.headers["content-length"] == "10"
    assert response.content == b""


async def test_small_chunks_stream_the_same_bytes(
    store: pinsphere.PinStore, users: dict[str, pinsphere.User]
) -> None:
    from http_support import SECRET

    from pinsphere_http import HTTPSettings, create_app

    pin = store.as_user(users["alice"]).upload(video_bytes(), visibility="public")
    app = create_app(store, HTTPSettings(secret_key=SECRET, download_chunk_size=4096))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        response = await client.get(f"/api/v1/pins/{pin.id}/media")
        assert response.content == video_bytes()


def test_parse_range() -> None:
    assert parse_range(None, 10) is None
    assert parse_range("bytes=2-4", 10) == ByteRange(2, 4)
    assert parse_range("bytes=2-400", 10) == ByteRange(2, 9)
    assert parse_range("bytes=-400", 10) == ByteRange(0, 9)
    assert parse_range(" BYTES = 3 - ", 10) == ByteRange(3, 9)
    for bad in ("bytes=10-", "bytes=-0"):
        with pytest.raises(Unsatisfiable):
            parse_range(bad, 10)
    with pytest.raises(Unsatisfiable):
        parse_range("bytes=0-", 0)


def test_content_disposition_never_breaks_the_header() -> None:
    now = datetime.now(UTC)
    pin = pinsphere.Pin(
        id="p1",
        owner_id="u",
        owner="u",
        title='x"\r\nSet-Cookie: a=b;\\',
        media=pinsphere.Media(mime_type="image/png", size=1, sha256="0" * 64),
        created_at=now,
        updated_at=now,
    )
    value = content_disposition(pin)
    assert "\r" not in value
    assert "\n" not in value
    assert value.count('"') == 2
    untitled = pin.model_copy(update={"title": "日本"})
    assert 'filename="p1.png"' in content_disposition(untitled)
