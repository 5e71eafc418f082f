"""The S3 blob backend against moto's S3 server on loopback, reached through ``endpoint_url``
exactly as a MinIO server would be: the conformance suite, then multipart writes, presigned
URLs, sweeping, and the errors an operator meets (missing bucket, refused credentials, no
server, a server that goes away mid-upload)."""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

import pinsphere
from pinsphere import layout_marker
from pinsphere.backends.base import BlobBackend
from pinsphere.backends.fsspec.s3 import S3BlobBackend, S3BlobOptions
from pinsphere.backends.fsspec.s3_writer import staged_name
from pinsphere.errors import BackendUnavailable, InvalidInput
from pinsphere.layout import ONE_LEVEL
from pinsphere.layout_marker import LAYOUT_MARKER_KEY, read_marker, settle_layout
from pinsphere.policy import AccessRule
from pinsphere.query import Query
from pinsphere.settings import StoreSettings
from pinsphere.testing.blobs import BlobBackendSuite
from store_support import endpoint_of, start_moto

MIB = 1024 * 1024
# The smallest block S3 allows, so that multipart uploads start at 5 MiB in these tests.
FAST = "max_attempts=1&connect_timeout=2&read_timeout=10&block_size=5242880"


@pytest.fixture(scope="module")
def endpoint(s3_endpoint: str) -> str:
    return s3_endpoint


def client(endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


@pytest.fixture
def bucket(endpoint: str) -> str:
    name = f"pins-{uuid.uuid4().hex[:12]}"
    client(endpoint).create_bucket(Bucket=name)
    return name


def url(endpoint: str, bucket: str, extra: str = "") -> str:
    query = f"endpoint_url={endpoint}&{FAST}" + (f"&{extra}" if extra else "")
    return f"s3://{bucket}/pins?{query}"


def put(backend: BlobBackend, key: str, data: bytes) -> bool:
    with backend.writer() as writer:
        writer.write(data)
        return writer.commit(key)


def object_keys(endpoint: str, bucket: str) -> list[str]:
    listing = client(endpoint).list_objects_v2(Bucket=bucket)
    return sorted(entry["Key"] for entry in listing.get("Contents", ()))


def open_uploads(endpoint: str, bucket: str) -> list[str]:
    listing = client(endpoint).list_multipart_uploads(Bucket=bucket)
    return [upload["Key"] for upload in listing.get("Uploads", ())]


def chunks(seed: bytes, total: int, size: int = 256 * 1024) -> Iterator[bytes]:
    block = hashlib.sha256(seed).digest() * (size // 32)
    for index, start in enumerate(range(0, total, size)):
        yield (index.to_bytes(4, "big") + block)[: min(size, total - start)]


# -- the conformance suite ------------------------------------------------------------------


class TestS3Blobs(BlobBackendSuite):
    @pytest.fixture
    def backend(self, endpoint: str, bucket: str) -> Iterator[BlobBackend]:
        backend = S3BlobBackend.from_url(url(endpoint, bucket))
        yield backend
        backend.close()


@pytest.fixture
def s3(endpoint: str, bucket: str) -> Iterator[S3BlobBackend]:
    backend = S3BlobBackend.from_url(url(endpoint, bucket))
    yield backend
    backend.close()


# -- options and opening ----------------------------------------------------------------------


def test_the_registry_opens_s3_urls(endpoint: str, bucket: str) -> None:
    with pinsphere.open(
        metadata="memory://", users="memory://", blobs=url(endpoint, bucket)
    ) as store:
        assert isinstance(store.blobs, S3BlobBackend)
        assert store.blobs.capabilities.presigned_urls
        assert repr(store.blobs) == f"S3BlobBackend(s3://{bucket}/pins)"


def test_options_are_strict_and_keep_the_secret_out_of_repr() -> None:
    options = S3BlobOptions.model_validate(
        {"endpoint_url": "http://minio:9000", "key": "AKIA", "secret": "s3cr3t", "region": "x"}
    )
    assert "s3cr3t" not in repr(options)
    passed = options.storage_options()
    assert passed["secret"] == "s3cr3t"
    assert passed["client_kwargs"] == {"region_name": "x"}
    assert passed["default_block_size"] == 8 * MIB
    assert passed["config_kwargs"]["retries"] == {"max_attempts": 5, "mode": "standard"}


@pytest.mark.parametrize(
    "query",
    [
        "nonsense=1",
        "key=AKIA",  # a key without its secret
        "secret=b",
        "anon=true&key=a&secret=b",
        "block_size=1048576",  # below S3's 5 MiB part minimum
        "fsync=true",  # local folders only
        "max_attempts=0",
    ],
)
def test_bad_options_are_refused(endpoint: str, bucket: str, query: str) -> None:
    with pytest.raises(InvalidInput):
        S3BlobBackend.from_url(f"s3://{bucket}?endpoint_url={endpoint}&{query}")


@pytest.mark.parametrize("query", ["secret=TOPSECRET", "anon=true&key=k&secret=TOPSECRET"])
def test_option_errors_never_quote_the_secret(query: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        S3BlobBackend.from_url(f"s3://bucket?{query}&unknown=1")
    assert "TOPSECRET" not in str(caught.value)


def test_a_url_without_bucket_or_of_another_protocol_is_refused() -> None:
    with pytest.raises(InvalidInput):
        S3BlobBackend.from_url("s3://")
    with pytest.raises(InvalidInput):
        S3BlobBackend.from_url("memory://x")


def test_a_bucket_alone_is_a_root(endpoint: str, bucket: str) -> None:
    backend = S3BlobBackend.from_url(f"s3://{bucket}?endpoint_url={endpoint}&{FAST}")
    try:
        put(backend, "originals/a", b"x")
        assert object_keys(endpoint, bucket) == ["originals/a"]
        assert list(backend.keys()) == ["originals/a"]
    finally:
        backend.close()


# -- listing ----------------------------------------------------------------------------------


def list_requests(s3: S3BlobBackend, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The ``ListObjectsV2`` requests ``s3`` sends from now on, with their arguments."""
    requests: list[dict[str, Any]] = []
    real = s3.fs.call_s3

    def spy(method: str, **kwargs: Any) -> Any:
        if method == "list_objects_v2":
            requests.append(kwargs)
        return real(method, **kwargs)

    monkeypatch.setattr(s3.fs, "call_s3", spy)
    return requests


def test_keys_are_read_lazily_one_page_at_a_time_in_key_order(
    s3: S3BlobBackend, endpoint: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = ["z", "Z", "a-b", "a/b", "a/b/c", "ü/1", "ключ", "0", "~"]
    objects = [f"pins/originals/{name}" for name in names] + [
        "pins/originals/",  # a folder placeholder some tools make: not a blob
        "pins/.staging/abandoned",
        "pins/thumbs/ab/1",
        "pins/top",
        "pinsother/originals/a",  # beside the store's folder, not in it
        "other/originals/a",
    ]
    s3_client = client(endpoint)
    for key in objects:
        s3_client.put_object(Bucket=bucket, Key=key, Body=b"x")
    s3.list_page_size = 3
    requests = list_requests(s3, monkeypatch)

    # The first key of a prefix holding several pages costs one request of one page.
    assert next(iter(s3.keys("originals/"))) == "originals/0"
    assert requests == [{"Bucket": bucket, "Prefix": "pins/originals/", "MaxKeys": 3}]

    # Read to the end, every key comes, once and in order, across the pages (10 objects
    # under the prefix, the placeholder among them: 4 pages).
    requests.clear()
    listed = list(s3.keys("originals/"))
    assert listed == sorted(f"originals/{name}" for name in names)
    assert len(requests) == 4
    assert [request.get("ContinuationToken") is None for request in requests] == [
        True,
        False,
        False,
        False,
    ]
    everything = list(s3.keys())
    assert everything == sorted([*listed, "thumbs/ab/1", "top"])
    assert list(s3.keys("originals/a")) == ["originals/a-b", "originals/a/b", "originals/a/b/c"]
    assert list(s3.keys("t")) == ["thumbs/ab/1", "top"]
    assert list(s3.keys("nothing/")) == []


def test_keys_of_a_whole_bucket_store_hide_staged_writes_across_pages(
    endpoint: str, bucket: str
) -> None:
    backend = S3BlobBackend.from_url(f"s3://{bucket}?endpoint_url={endpoint}&{FAST}")
    try:
        s3_client = client(endpoint)
        staged = [f".staging/{index}" for index in range(5)]
        for key in [*staged, "-first", ".last", "originals/ab/1", "originals/ab/2"]:
            s3_client.put_object(Bucket=bucket, Key=key, Body=b"x")
        backend.list_page_size = 2
        assert list(backend.keys()) == ["-first", ".last", "originals/ab/1", "originals/ab/2"]
        assert list(backend.keys(".")) == [".last"]
        with pytest.raises(InvalidInput):
            backend.keys(".staging/")
    finally:
        backend.close()


def test_listing_a_bucket_that_went_away_is_backend_unavailable(
    s3: S3BlobBackend, bucket: str, endpoint: str
) -> None:
    put(s3, "originals/ab/1", b"x")
    keys = s3.keys("originals/")  # nothing is sent until the first key is wanted
    s3_client = client(endpoint)
    s3_client.delete_object(Bucket=bucket, Key="pins/originals/ab/1")
    s3_client.delete_bucket(Bucket=bucket)
    with pytest.raises(BackendUnavailable, match="does not exist") as caught:
        next(keys)
    assert caught.value.__cause__ is not None


def test_opening_a_large_store_without_a_marker_reads_one_page_of_keys(
    s3: S3BlobBackend, endpoint: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Detection reads as many keys as S3 sends in one page: scaled down to 4 here.
    assert S3BlobBackend.list_page_size == layout_marker._DETECTION_KEYS
    monkeypatch.setattr(layout_marker, "_DETECTION_KEYS", 4)
    s3.list_page_size = 4
    s3_client = client(endpoint)
    keys = ["originals/.DS_Store"] + [
        ONE_LEVEL.key(hashlib.sha256(bytes([index])).hexdigest()) for index in range(9)
    ]
    for key in keys:
        s3_client.put_object(Bucket=bucket, Key=f"pins/{key}", Body=b"x")
    requests = list_requests(s3, monkeypatch)
    assert settle_layout(s3) == ONE_LEVEL
    assert len(requests) == 1
    assert requests[0]["Prefix"] == "pins/originals/"
    assert read_marker(s3) == ONE_LEVEL


# -- errors an operator meets -----------------------------------------------------------------


def test_a_missing_bucket_fails_at_open_and_is_never_created(endpoint: str) -> None:
    with pytest.raises(BackendUnavailable, match="does not exist") as caught:
        S3BlobBackend.from_url(url(endpoint, "no-such-bucket"))
    assert caught.value.__cause__ is not None
    buckets = client(endpoint).list_buckets()["Buckets"]
    assert "no-such-bucket" not in {entry["Name"] for entry in buckets}


def test_refused_credentials_fail_at_open_and_on_ping(endpoint: str, bucket: str) -> None:
    backend = S3BlobBackend.from_url(url(endpoint, bucket))
    # Moto checks signatures against its IAM users once authentication is switched on;
    # "testing" is no user of it, as a wrong key is none of a real server's.
    httpx.post(f"{endpoint}/moto-api/reset-auth", content=b"0").raise_for_status()
    try:
        with pytest.raises(BackendUnavailable, match="refused the credentials") as caught:
            S3BlobBackend.from_url(url(endpoint, bucket))
        assert caught.value.__cause__ is not None
        with pytest.raises(BackendUnavailable, match="refused the credentials"):
            backend.ping()
    finally:
        httpx.post(f"{endpoint}/moto-api/reset-auth", content=b"inf").raise_for_status()
        backend.close()


def test_an_unreachable_endpoint_fails_fast_and_clearly() -> None:
    server = start_moto()  # take a free port, then give it back: nothing listens there
    dead = endpoint_of(server)
    server.stop()
    with pytest.raises(BackendUnavailable, match="cannot reach the S3 endpoint") as caught:
        S3BlobBackend.from_url(url(dead, "pins"))
    assert type(caught.value.__cause__).__name__ == "EndpointConnectionError"


def test_no_credentials_at_all_says_so(
    endpoint: str, bucket: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(BackendUnavailable, match="no S3 credentials"):
        S3BlobBackend.from_url(url(endpoint, bucket))


def test_credentials_in_the_url_are_used(endpoint: str, bucket: str) -> None:
    backend = S3BlobBackend.from_url(url(endpoint, bucket, "key=other&secret=pass"))
    try:
        assert backend.fs.key == "other"
        assert put(backend, "k", b"v") is True
    finally:
        backend.close()


# -- writes -----------------------------------------------------------------------------------


def test_a_small_blob_is_one_put_straight_to_its_key(
    s3: S3BlobBackend, endpoint: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = s3.fs.call_s3

    def spy(method: str, **kwargs: Any) -> Any:
        calls.append(method)
        return real(method, **kwargs)

    monkeypatch.setattr(s3.fs, "call_s3", spy)
    assert put(s3, "originals/ab/one", b"small") is True
    assert calls == ["put_object"]
    assert put(s3, "originals/ab/one", b"small") is False
    assert object_keys(endpoint, bucket) == ["pins/originals/ab/one"]


def test_a_large_blob_is_a_multipart_upload_then_a_server_side_copy(
    s3: S3BlobBackend, endpoint: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = s3.fs.call_s3

    def spy(method: str, **kwargs: Any) -> Any:
        calls.append(method)
        return real(method, **kwargs)

    monkeypatch.setattr(s3.fs, "call_s3", spy)
    total = 12 * MIB
    digest = hashlib.sha256()
    with s3.writer() as writer:
        for chunk in chunks(b"big", total):
            digest.update(chunk)
            writer.write(chunk)
        assert calls == ["create_multipart_upload", "upload_part", "upload_part"]
        assert writer.commit("large/blob") is True
    assert calls[3:] == [
        "upload_part",
        "complete_multipart_upload",
        "head_object",
        "copy_object",
        "delete_object",
    ]
    assert object_keys(endpoint, bucket) == ["pins/large/blob"]
    assert open_uploads(endpoint, bucket) == []
    read = hashlib.sha256()
    with s3.open("large/blob") as blob:
        blob.seek(total - 10)
        assert len(blob.read()) == 10
        blob.seek(0)
        while chunk := blob.read(MIB):
            read.update(chunk)
    assert read.hexdigest() == digest.hexdigest()


def test_a_large_blob_to_an_existing_key_leaves_nothing_staged(
    s3: S3BlobBackend, endpoint: str, bucket: str
) -> None:
    put(s3, "dup", b"first")
    with s3.writer() as writer:
        for chunk in chunks(b"again", 6 * MIB):
            writer.write(chunk)
        assert writer.commit("dup") is False
    assert object_keys(endpoint, bucket) == ["pins/dup"]
    assert open_uploads(endpoint, bucket) == []


def test_discarding_a_multipart_write_aborts_it(
    s3: S3BlobBackend, endpoint: str, bucket: str
) -> None:
    with s3.writer() as writer:
        for chunk in chunks(b"gone", 6 * MIB):
            writer.write(chunk)
        assert len(open_uploads(endpoint, bucket)) == 1
    assert open_uploads(endpoint, bucket) == []
    assert object_keys(endpoint, bucket) == []


def test_without_conditional_writes_existing_keys_are_still_kept(
    endpoint: str, bucket: str
) -> None:
    backend = S3BlobBackend.from_url(url(endpoint, bucket, "conditional_writes=false"))
    try:
        assert put(backend, "k", b"one") is True
        assert put(backend, "k", b"two") is False
        with backend.open("k") as blob:
            assert blob.read() == b"one"
    finally:
        backend.close()


# -- presigned URLs ---------------------------------------------------------------------------


def test_a_presigned_get_url_reads_the_blob(s3: S3BlobBackend) -> None:
    put(s3, "originals/ab/cd/blob", b"through the URL")
    signed = s3.presigned_url("originals/ab/cd/blob", expires_in=60)
    assert signed is not None
    answer = httpx.get(signed)
    assert answer.status_code == 200
    assert answer.content == b"through the URL"
    assert "X-Amz-Signature" in signed


@pytest.mark.parametrize("expires_in", [0, -5, 8 * 24 * 3600])
def test_presigned_url_lifetimes_are_bounded(s3: S3BlobBackend, expires_in: int) -> None:
    with pytest.raises(InvalidInput):
        s3.presigned_url("k", expires_in=expires_in)
    with pytest.raises(InvalidInput):
        s3.presigned_url("../k")


# -- sweeping -----------------------------------------------------------------------------------


def test_sweep_removes_old_leftovers_of_crashed_processes_only(
    s3: S3BlobBackend, endpoint: str, bucket: str
) -> None:
    raw = client(endpoint)
    old = "0000000001000-" + "a" * 24  # started in 1970
    raw.create_multipart_upload(Bucket=bucket, Key=f"pins/.staging/{old}")
    raw.put_object(Bucket=bucket, Key=f"pins/.staging/{old}x", Body=b"completed, never copied")
    fresh = staged_name()
    raw.create_multipart_upload(Bucket=bucket, Key=f"pins/.staging/{fresh}")
    put(s3, "kept", b"kept")
    assert s3.sweep_staging(timedelta(hours=1)) == 2
    assert open_uploads(endpoint, bucket) == [f"pins/.staging/{fresh}"]
    assert object_keys(endpoint, bucket) == ["pins/kept"]
    assert s3.sweep_staging(timedelta(0)) == 1
    assert open_uploads(endpoint, bucket) == []


def test_sweep_leaves_a_busy_multipart_write_alone(
    s3: S3BlobBackend, endpoint: str, bucket: str
) -> None:
    with s3.writer() as writer:
        for chunk in chunks(b"busy", 6 * MIB):
            writer.write(chunk)
        assert s3.sweep_staging(timedelta(hours=1)) == 0
        assert len(open_uploads(endpoint, bucket)) == 1
        writer.commit("busy")
    assert object_keys(endpoint, bucket) == ["pins/busy"]


# -- a server that goes away in the middle of an upload ---------------------------------------


class _PngThatStopsTheServer(io.RawIOBase):
    """A PNG-looking stream that stops the S3 server once ``stop_after`` bytes are read."""

    def __init__(self, total: int, stop_after: int, server: ThreadedMotoServer) -> None:
        self._left = total
        self._read = 0
        self._stop_after = stop_after
        self._server: ThreadedMotoServer | None = server
        self._chunks = chunks(b"png", total - 8)
        self._pending = b"\x89PNG\r\n\x1a\n"

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._read >= self._stop_after and self._server is not None:
            self._server.stop()
            self._server = None
        if not self._pending:
            self._pending = next(self._chunks, b"")
        wanted = len(self._pending) if size < 0 else size
        out, self._pending = self._pending[:wanted], self._pending[wanted:]
        self._read += len(out)
        return out


def test_an_endpoint_going_away_mid_upload_leaves_no_pin_and_no_object(aws_env: None) -> None:
    server = start_moto()
    endpoint = endpoint_of(server)
    port = server.get_host_and_port()[1]
    bucket = f"pins-{uuid.uuid4().hex[:12]}"
    client(endpoint).create_bucket(Bucket=bucket)
    settings = StoreSettings(max_upload_bytes=64 * MIB)
    store = pinsphere.open(
        metadata="memory://", users="memory://", blobs=url(endpoint, bucket), settings=settings
    )
    try:
        alice = store.users.create("alice", password="alice-password")
        source = _PngThatStopsTheServer(16 * MIB, stop_after=7 * MIB, server=server)
        with pytest.raises(BackendUnavailable, match="cannot reach the S3 endpoint"):
            store.as_user(alice).upload(source, title="never")
        everything = AccessRule(everything=True)
        assert store.metadata.count_pins(Query(), everything) == 0

        restarted = start_moto(port)  # moto keeps its state in the process: inspect it
        try:
            # Nothing of the upload; only the layout marker the store wrote when opened.
            assert object_keys(endpoint, bucket) == [f"pins/{LAYOUT_MARKER_KEY}"]
            # The abort could not reach the server: the incomplete upload waits for a sweep.
            assert len(open_uploads(endpoint, bucket)) == 1
            assert list(store.blobs.keys()) == [LAYOUT_MARKER_KEY]
            assert store.sweep(older_than=timedelta(0)).staged_removed == 1
            assert open_uploads(endpoint, bucket) == []
        finally:
            restarted.stop()
    finally:
        store.close()
