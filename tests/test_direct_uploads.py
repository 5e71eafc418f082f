"""Direct-to-bucket uploads against moto's S3 server on loopback: the service signs a form for
a key it picks, the client sends the file straight to the bucket, and the pin exists only
once the service has checked the object.

moto accepts any POST form without checking its policy (neither the signature, the key, the
size range nor the expiry); real S3 and MinIO do. So the signed policy is checked here by
reading it, and the service's own size check by sending an oversized file anyway.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

import pinsphere
from pinsphere import PinStore, User
from pinsphere.backends.fsspec.s3 import S3BlobBackend
from pinsphere.direct_uploads import (
    INCOMING_PREFIX,
    MAX_EXPIRY,
    DirectUpload,
    DirectUploadsUnsupported,
)
from pinsphere.errors import (
    BackendUnavailable,
    InvalidInput,
    InvalidMedia,
    NotFound,
    PermissionDenied,
    TooLarge,
)
from pinsphere.testing.media import jpeg_bytes, png_bytes
from store_support import FAST_SETTINGS

LIMIT = 64 * 1024
SETTINGS = FAST_SETTINGS.model_copy(update={"max_upload_bytes": LIMIT})
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


@pytest.fixture(scope="module")
def endpoint(s3_endpoint: str) -> str:
    return s3_endpoint


def s3_client(endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


@pytest.fixture
def bucket(endpoint: str) -> str:
    name = f"pins-{uuid.uuid4().hex[:12]}"
    s3_client(endpoint).create_bucket(Bucket=name)
    return name


def blobs_url(endpoint: str, bucket: str, extra: str = "") -> str:
    return f"s3://{bucket}/prefix?endpoint_url={endpoint}&max_attempts=1{extra}"


@pytest.fixture
def store(endpoint: str, bucket: str) -> Iterator[PinStore]:
    """Memory metadata and users, blobs in the bucket under ``prefix/``."""
    with pinsphere.open(
        metadata="memory://",
        users="memory://",
        blobs=blobs_url(endpoint, bucket),
        settings=SETTINGS,
    ) as opened:
        yield opened


@pytest.fixture
def alice(store: PinStore) -> User:
    return store.users.create("alice", password="alice-password")


@pytest.fixture
def bob(store: PinStore) -> User:
    return store.users.create("bob", password="bob-password")


def send(upload: DirectUpload, data: bytes, name: str = "photo.png") -> None:
    """What a browser does with the form: its fields, then the file, straight to the bucket."""
    response = httpx.post(
        upload.url, data=upload.fields, files={"file": (name, data, "image/png")}, timeout=10
    )
    assert response.status_code in (200, 201, 204), response.text


def incoming(store: PinStore) -> list[str]:
    return sorted(store.blobs.keys(INCOMING_PREFIX))


def policy_of(upload: DirectUpload) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(base64.b64decode(upload.fields["policy"]))
    return decoded


# -- the round trip ---------------------------------------------------------------------------


def test_a_file_sent_to_the_bucket_becomes_a_pin(store: PinStore, alice: User) -> None:
    me = store.as_user(alice)
    data = png_bytes((40, 30))
    upload = me.start_direct_upload(size=len(data))
    assert upload.max_size == len(data)
    assert incoming(store) == []

    send(upload, data)
    assert incoming(store) == [f"incoming/{alice.id}/{upload.id}"]

    pin = me.finish_direct_upload(
        upload.id, title="Straight in", tags=["Big / Files"], board="Uploads", visibility="public"
    )
    assert pin.owner_id == alice.id
    assert pin.title == "Straight in"
    assert pin.tags == ("big/files",)
    assert pin.boards == ("Uploads",)
    assert pin.visibility == "public"
    assert pin.media.mime_type == "image/png"
    assert pin.media.size == len(data)
    assert pin.media.sha256 == hashlib.sha256(data).hexdigest()
    assert (pin.media.width, pin.media.height) == (40, 30)
    assert pin.thumbnails  # derived like any upload
    with me.open(pin.id) as stored:
        assert stored.read() == data
    assert incoming(store) == []
    assert me.get(pin.id) == pin


def test_the_form_writes_one_exact_key_within_the_size_range(store: PinStore, alice: User) -> None:
    before = datetime.now(UTC)
    upload = store.as_user(alice).start_direct_upload(size=1000, expires_in=timedelta(minutes=5))
    assert len(upload.id) == 32
    int(upload.id, 16)  # 128 random bits, in hex
    assert upload.fields["key"] == f"prefix/incoming/{alice.id}/{upload.id}"
    assert before + timedelta(minutes=4) < upload.expires_at <= before + timedelta(minutes=5)

    policy = policy_of(upload)
    conditions = policy["conditions"]
    assert ["content-length-range", 1, 1000] in conditions
    assert {"key": f"prefix/incoming/{alice.id}/{upload.id}"} in conditions
    assert not any(isinstance(c, list) and c[0] == "starts-with" for c in conditions)
    signed_expiry = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ")
    assert upload.expires_at <= signed_expiry.replace(tzinfo=UTC)


def test_every_upload_gets_its_own_key(store: PinStore, alice: User) -> None:
    me = store.as_user(alice)
    ids = {me.start_direct_upload().id for _ in range(5)}
    assert len(ids) == 5


def test_without_a_size_the_limit_is_the_stores(store: PinStore, alice: User) -> None:
    upload = store.as_user(alice).start_direct_upload()
    assert upload.max_size == LIMIT
    assert ["content-length-range", 1, LIMIT] in policy_of(upload)["conditions"]


def test_sizes_and_expiries_out_of_range_are_refused(store: PinStore, alice: User) -> None:
    me = store.as_user(alice)
    with pytest.raises(TooLarge) as caught:
        me.start_direct_upload(size=LIMIT + 1)
    assert caught.value.limit == LIMIT
    for size in (0, -1, True, 1.5):
        with pytest.raises(InvalidInput):
            me.start_direct_upload(size=size)  # type: ignore[arg-type]
    for expires_in in (timedelta(0), MAX_EXPIRY + timedelta(seconds=1)):
        with pytest.raises(InvalidInput):
            me.start_direct_upload(expires_in=expires_in)


# -- what the service refuses -------------------------------------------------------------------


def test_an_oversized_object_is_refused_and_deleted(store: PinStore, alice: User) -> None:
    me = store.as_user(alice)
    upload = me.start_direct_upload(size=1000)
    # The bucket should refuse this itself (content-length-range), but moto does not check
    # policies: the service's own check must catch it.
    send(upload, png_bytes() + b"\0" * LIMIT)
    with pytest.raises(TooLarge):
        me.finish_direct_upload(upload.id)
    assert incoming(store) == []
    assert me.count() == 0
    assert list(store.blobs.keys("originals/")) == []


def test_an_object_written_behind_the_services_back_is_still_size_checked(
    store: PinStore, alice: User, endpoint: str, bucket: str
) -> None:
    me = store.as_user(alice)
    upload = me.start_direct_upload()
    s3_client(endpoint).put_object(
        Bucket=bucket, Key=upload.fields["key"], Body=jpeg_bytes() + b"\0" * LIMIT
    )
    with pytest.raises(TooLarge):
        me.finish_direct_upload(upload.id)
    assert incoming(store) == []


def test_html_named_png_is_refused_and_deleted(store: PinStore, alice: User) -> None:
    me = store.as_user(alice)
    upload = me.start_direct_upload()
    send(upload, HTML, name="cat.png")
    with pytest.raises(InvalidMedia) as caught:
        me.finish_direct_upload(upload.id, title="cat")
    assert caught.value.detected_type is None  # the sniffer knows only media types
    assert incoming(store) == []
    assert me.count() == 0
    assert list(store.blobs.keys("originals/")) == []


def test_a_corrupt_file_is_refused_and_deleted(store: PinStore, alice: User) -> None:
    me = store.as_user(alice)
    upload = me.start_direct_upload()
    send(upload, png_bytes()[:-20])
    with pytest.raises(InvalidMedia):
        me.finish_direct_upload(upload.id)
    assert incoming(store) == []
    assert list(store.blobs.keys("originals/")) == []


def test_bad_metadata_keeps_the_object_for_a_retry(store: PinStore, alice: User) -> None:
    me = store.as_user(alice)
    upload = me.start_direct_upload()
    send(upload, png_bytes())
    with pytest.raises(InvalidInput):
        me.finish_direct_upload(upload.id, tags=["bad\x00tag"])
    assert len(incoming(store)) == 1
    pin = me.finish_direct_upload(upload.id, tags=["good"])
    assert pin.tags == ("good",)
    assert incoming(store) == []


def test_nobody_finishes_another_users_upload(store: PinStore, alice: User, bob: User) -> None:
    upload = store.as_user(alice).start_direct_upload()
    send(upload, png_bytes())
    with pytest.raises(NotFound):
        store.as_user(bob).finish_direct_upload(upload.id)
    assert store.as_user(bob).count() == 0
    # Still there for its owner.
    pin = store.as_user(alice).finish_direct_upload(upload.id)
    assert pin.owner_id == alice.id


def test_finishing_twice_finds_nothing_the_second_time(store: PinStore, alice: User) -> None:
    me = store.as_user(alice)
    upload = me.start_direct_upload()
    send(upload, png_bytes())
    me.finish_direct_upload(upload.id)
    with pytest.raises(NotFound):
        me.finish_direct_upload(upload.id)
    assert me.count() == 1


def test_an_upload_never_sent_or_malformed_is_not_found(store: PinStore, alice: User) -> None:
    me = store.as_user(alice)
    upload = me.start_direct_upload()
    for upload_id in (upload.id, "0" * 32, "../../originals", upload.id.upper(), "", "x" * 32):
        with pytest.raises(NotFound):
            me.finish_direct_upload(upload_id)


def test_only_uploaders_may_start_or_finish(store: PinStore, alice: User) -> None:
    viewer = store.users.create("vera", password="vera-password", role="viewer")
    upload = store.as_user(alice).start_direct_upload()
    send(upload, png_bytes())
    for scope in (store.anonymous, store.as_user(viewer)):
        with pytest.raises(PermissionDenied):
            scope.start_direct_upload()
        with pytest.raises(PermissionDenied):
            scope.finish_direct_upload(upload.id)
    assert len(incoming(store)) == 1


# -- sweeping ---------------------------------------------------------------------------------


def test_unfinished_uploads_are_swept_after_the_grace_period(store: PinStore, alice: User) -> None:
    me = store.as_user(alice)
    kept = me.start_direct_upload()
    send(kept, png_bytes())
    finished = me.start_direct_upload()
    send(finished, jpeg_bytes())
    pin = me.finish_direct_upload(finished.id)

    report = store.sweep(older_than=timedelta(hours=1))
    assert report.incoming_removed == 0
    assert len(incoming(store)) == 1

    report = store.sweep(older_than=timedelta(0))
    assert report.incoming_removed == 1
    assert incoming(store) == []
    with pytest.raises(NotFound):
        me.finish_direct_upload(kept.id)
    with me.open(pin.id) as stored:  # a finished upload's pin is untouched
        assert stored.read(3) == b"\xff\xd8\xff"


# -- stores that cannot sign ------------------------------------------------------------------


def test_a_store_on_local_files_says_it_cannot(tmp_path: Path) -> None:
    with pinsphere.open(tmp_path / "data", settings=SETTINGS) as local:
        user = local.users.create("alice", password="alice-password")
        assert not local.blobs.capabilities.presigned_uploads
        with pytest.raises(DirectUploadsUnsupported, match=r"s3://") as caught:
            local.as_user(user).start_direct_upload()
        assert isinstance(caught.value, BackendUnavailable)
        assert local.blobs.presigned_upload("incoming/x", max_size=10) is None
        # Nothing to find either: the key is never one the client names.
        with pytest.raises(NotFound):
            local.as_user(user).finish_direct_upload("0" * 32)
        assert local.sweep(older_than=timedelta(0)).incoming_removed == 0


def test_the_s3_backend_checks_what_it_signs(endpoint: str, bucket: str) -> None:
    backend = S3BlobBackend.from_url(blobs_url(endpoint, bucket))
    try:
        assert backend.capabilities.presigned_uploads
        for key in ("../x", "/abs", ".staging/x", "incoming/${filename}"):
            with pytest.raises(InvalidInput):
                backend.presigned_upload(key, max_size=10)
        for max_size in (0, -5):
            with pytest.raises(InvalidInput):
                backend.presigned_upload("incoming/a", max_size=max_size)
        for expires_in in (0, 8 * 24 * 3600):
            with pytest.raises(InvalidInput):
                backend.presigned_upload("incoming/a", max_size=10, expires_in=expires_in)
    finally:
        backend.close()


def test_an_anonymous_s3_store_cannot_sign(endpoint: str, bucket: str) -> None:
    backend = S3BlobBackend.from_url(blobs_url(endpoint, bucket, "&anon=true"))
    try:
        with pytest.raises(BackendUnavailable, match="anon"):
            backend.presigned_upload("incoming/a", max_size=10)
    finally:
        backend.close()
