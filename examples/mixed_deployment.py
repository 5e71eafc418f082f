"""Pinsphere on the seed's own layout: metadata in MongoDB, users in PostgreSQL, files in S3.

Needs the servers (and ``pip install 'pinsphere[mongo,postgres,s3]'``)::

    export PINSPHERE_METADATA_URL="mongodb://127.0.0.1:27017/pinsphere"
    export PINSPHERE_USERS_URL="postgresql+psycopg://postgres@127.0.0.1:5432/pinsphere"
    export PINSPHERE_BLOBS_URL="s3://pins/prod?endpoint_url=http://127.0.0.1:9000"  # MinIO
    export AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=...
    python examples/mixed_deployment.py

The same code runs on the embedded default when the variables are not set: only the URLs
change, never the program. ``tests/backends/test_mixed_deployment.py`` runs this layout
against mongomock, the test PostgreSQL server and moto's S3 server.
"""

from __future__ import annotations

import uuid

import pinsphere
from pinsphere import errors
from pinsphere.testing.media import jpeg_bytes


def main() -> None:
    """Create a user, upload, search, share and link on whatever backends are configured."""
    with pinsphere.open() as store:  # PINSPHERE_*_URL, else ./pinsphere-data
        for name, state in store.health().items():
            print(f"{name:<9} {'ok' if state is None else state}")
        name = f"demo-{uuid.uuid4().hex[:6]}"
        user = store.users.create(name, password="a demo password")
        me = store.as_user(user)
        pin = me.upload(jpeg_bytes((640, 480)), title="Hello", tags=["demo"], visibility="internal")
        print(
            f"uploaded {pin.id}: {pin.media.width}x{pin.media.height}, thumbnails {pin.thumbnails}"
        )
        print("found:", [p.title for p in me.search("tag:demo").items])
        link = me.create_link(pin.id)
        print("public link opens:", store.open_link(link.token).target.id == pin.id)
        try:
            store.anonymous.get(pin.id)
        except errors.NotFound:
            print("anonymous callers cannot see an internal pin")
        store.delete_user(user)


if __name__ == "__main__":
    main()
