"""``pinsphere.open``: turn a folder or backend URLs into a :class:`~pinsphere.store.PinStore`."""

from __future__ import annotations

import os
from pathlib import Path

from pinsphere.backends.base import Backend
from pinsphere.errors import UnknownBackend
from pinsphere.plugins import get_hooks
from pinsphere.registry import scheme_of
from pinsphere.settings import StoreSettings
from pinsphere.store import PinStore

__all__ = [
    "DEFAULT_FOLDER",
    "ENV_BLOBS",
    "ENV_METADATA",
    "ENV_USERS",
    "folder_urls",
    "open_store",
    "resolve_urls",
]

DEFAULT_FOLDER = "./pinsphere-data"
ENV_METADATA = "PINSPHERE_METADATA_URL"
ENV_USERS = "PINSPHERE_USERS_URL"
ENV_BLOBS = "PINSPHERE_BLOBS_URL"


def folder_urls(folder: str | os.PathLike[str]) -> tuple[str, str]:
    """The embedded default for a folder: one SQLite file for metadata and users, and a
    ``blobs`` folder beside it."""
    root = Path(folder).expanduser().resolve()
    root.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{root / 'pinsphere.db'}", (root / "blobs").as_uri()


def resolve_urls(
    path: str | os.PathLike[str] | None,
    metadata: str | None,
    users: str | None,
    blobs: str | None,
) -> tuple[str, str, str]:
    """The metadata, users and blobs URLs a store opens, after defaults (see :func:`open_store`).

    Raises:
        UnknownBackend: A URL has no scheme.
    """
    metadata = metadata or os.environ.get(ENV_METADATA)
    users = users or os.environ.get(ENV_USERS)
    blobs = blobs or os.environ.get(ENV_BLOBS)
    user_schemes = get_hooks().registry.schemes("users")
    if users is None and metadata is not None and scheme_of(metadata) in user_schemes:
        users = metadata
    if metadata is None or users is None or blobs is None:
        default_sql, default_blobs = folder_urls(path or DEFAULT_FOLDER)
        metadata = metadata or default_sql
        users = users or default_sql
        blobs = blobs or default_blobs
    for url in (metadata, users, blobs):
        if "://" not in url:
            raise UnknownBackend(f"{url!r} is not a backend URL (scheme://...)", scheme="")
    return metadata, users, blobs


def open_store(
    path: str | os.PathLike[str] | None = None,
    *,
    metadata: str | None = None,
    users: str | None = None,
    blobs: str | None = None,
    settings: StoreSettings | None = None,
) -> PinStore:
    """Open a store.

    Each backend URL is taken from, in order: the argument, the environment
    (``PINSPHERE_METADATA_URL``, ``PINSPHERE_USERS_URL``, ``PINSPHERE_BLOBS_URL``), and the
    embedded default in ``path`` (``./pinsphere-data`` when no path is given). A users URL
    left out follows the metadata URL when that kind of database can also hold users.

    Args:
        path: A folder for the embedded default (SQLite and local files).
        metadata: e.g. ``sqlite:///pins.db``, ``postgresql+psycopg://host/db``, ``memory://``.
        users: As ``metadata``.
        blobs: e.g. ``file:///srv/pins``, ``memory://``, ``s3://bucket/prefix``.
        settings: Upload limits and the like; from ``PINSPHERE_*`` variables when not given
            (see :meth:`StoreSettings.from_env`).

    Raises:
        UnknownBackend: A URL's scheme has no backend (the message names what to install).
        UnknownLayout: The blob store's layout marker names a layout this version does not
            know (a :class:`BackendUnavailable`).
        BackendUnavailable: A backend cannot be reached.
    """
    registry = get_hooks().registry
    metadata, users, blobs = resolve_urls(path, metadata, users, blobs)
    opened: list[Backend] = []
    try:
        metadata_backend = registry.metadata_backend(metadata)
        opened.append(metadata_backend)
        user_backend = registry.user_backend(users)
        opened.append(user_backend)
        blob_backend = registry.blob_backend(blobs)
        opened.append(blob_backend)
        # Made inside the try: the store settles the blob layout, which can fail too.
        return PinStore(
            metadata=metadata_backend,
            users=user_backend,
            blobs=blob_backend,
            settings=settings or StoreSettings.from_env(),
        )
    except BaseException:
        for backend in opened:
            backend.close()
        raise
