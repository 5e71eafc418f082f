"""The seed's own layout: metadata in MongoDB, users in PostgreSQL, files in S3.

MongoDB is mongomock here (no server can run on these machines; set
``PINSPHERE_TEST_MONGODB_URL`` to use a real one), PostgreSQL is the test server, and S3 is
moto's server on loopback addressed through ``endpoint_url`` exactly as MinIO would be.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import boto3
import mongomock
import pymongo
import pytest

import pinsphere
from pinsphere import errors
from pinsphere.backends.mongo.metadata import MongoMetadataBackend
from pinsphere.plugins import get_hooks
from pinsphere.testing.media import jpeg_bytes, png_bytes
from store_support import FAST_SETTINGS


@pytest.fixture
def store(s3_endpoint: str, postgres_schema_url: str) -> Iterator[pinsphere.PinStore]:
    bucket = f"pins-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(
        Bucket=bucket
    )
    real_mongo = os.environ.get("PINSPHERE_TEST_MONGODB_URL")
    database = f"mixed{uuid.uuid4().hex[:12]}"
    client = pymongo.MongoClient(real_mongo) if real_mongo else mongomock.MongoClient()
    registry = get_hooks().registry
    store = pinsphere.PinStore(
        metadata=MongoMetadataBackend(client, database=database),
        users=registry.user_backend(postgres_schema_url),
        blobs=registry.blob_backend(
            f"s3://{bucket}/pins?endpoint_url={s3_endpoint}&max_attempts=1"
        ),
        settings=FAST_SETTINGS,
    )
    with store:
        yield store
    if real_mongo:
        client.drop_database(database)


def test_the_seed_layout_end_to_end(store: pinsphere.PinStore) -> None:
    alice = store.users.create("alice", password="alice-password")
    store.users.create("bob", password="bob-password")
    me = store.as_user(store.users.authenticate("alice", "alice-password"))

    public = me.upload(jpeg_bytes((800, 600)), tags=["animals/cats"], visibility="public")
    private = me.upload(png_bytes(), tags=["plans"], board="Secret")
    assert public.thumbnails
    assert [p.id for p in store.anonymous.search("tag:animals").items] == [public.id]
    with store.anonymous.open(public.id) as original:
        assert original.read(2) == b"\xff\xd8"
    with store.anonymous.open_thumbnail(public.id, width=256) as thumbnail:
        assert thumbnail.read(4) == b"RIFF"
    assert store.blobs.presigned_url(f"originals/{public.media.sha256[:2]}") is not None

    bob = store.as_user("bob")
    with pytest.raises(errors.NotFound):
        bob.get(private.id)
    me.share(me.boards.get("Secret").id, "bob")
    assert bob.get(private.id).boards == ("Secret",)
    link = me.create_link(private.id)
    assert store.open_link(link.token).target.id == private.id

    me.delete(public.id)
    assert list(store.blobs.keys(f"derived/{public.id}/")) == []
    assert store.users.get(alice.id).username == "alice"
