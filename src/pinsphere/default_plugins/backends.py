"""Registers the built-in backends. Paths, not classes, so drivers load only when used."""

from __future__ import annotations

from pinsphere.hookspecs import hookimpl
from pinsphere.registry import BackendRegistry

_SQL_METADATA = "pinsphere.backends.sql.metadata:SQLMetadataBackend"
_SQL_USERS = "pinsphere.backends.sql.users:SQLUserBackend"
_FSSPEC = "pinsphere.backends.fsspec:FsspecBlobBackend"
_MONGO_METADATA = "pinsphere.backends.mongo.metadata:MongoMetadataBackend"


@hookimpl
def pinsphere_register_backends(registry: BackendRegistry) -> None:
    """Register memory, SQLite, PostgreSQL, file and memory-blob backends."""
    registry.add_metadata_backend(
        "memory", "pinsphere.backends.memory.metadata:MemoryMetadataBackend"
    )
    registry.add_user_backend("memory", "pinsphere.backends.memory.users:MemoryUserBackend")
    for scheme, extra in (
        ("sqlite", None),
        ("postgresql", "postgres"),
        ("postgresql+psycopg", "postgres"),
    ):
        registry.add_metadata_backend(scheme, _SQL_METADATA, extra=extra)
        registry.add_user_backend(scheme, _SQL_USERS, extra=extra)
    for scheme in ("file", "memory"):
        registry.add_blob_backend(scheme, _FSSPEC)
    for scheme in ("mongodb", "mongodb+srv"):
        registry.add_metadata_backend(scheme, _MONGO_METADATA, extra="mongo")
    registry.add_blob_backend("s3", "pinsphere.backends.fsspec.s3:S3BlobBackend", extra="s3")
