"""The backend's URL options, and the options model each fsspec protocol uses."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from pinsphere.backends.base import BackendOptions, split_options

__all__ = ["OPTIONS_MODELS", "FsspecBlobOptions", "parse_url", "register_options_model"]


class FsspecBlobOptions(BackendOptions):
    """Options of the fsspec blob backend, from the URL's query string.

    Attributes:
        chunk_size: Read block size in bytes for opened blobs.
        fsync: Local folders only: flush each blob to the disk before committing it.
            ``None`` means the default (on).
        files_ahead: Local folders only: make the file of the next blob ahead of time, on
            a background thread (see :mod:`pinsphere.backends.fsspec.ahead`). ``None``
            means the default (on where the system supports it).
    """

    chunk_size: int = Field(default=1 << 20, ge=4096, le=1 << 28)
    fsync: bool | None = None
    files_ahead: bool | None = None

    def storage_options(self) -> dict[str, Any]:
        """Keyword arguments for the fsspec filesystem (none here; protocol models add some).

        Returns:
            Arguments for :func:`fsspec.url_to_fs`.
        """
        return {}


OPTIONS_MODELS: dict[str, type[FsspecBlobOptions]] = {}
"""Options model per protocol (e.g. one with ``endpoint_url`` for ``s3``); a protocol not
listed uses :class:`FsspecBlobOptions`."""


def register_options_model(protocol: str, model: type[FsspecBlobOptions]) -> None:
    """Parse the query strings of ``protocol://`` URLs with ``model``.

    Args:
        protocol: The fsspec protocol, lower case (``"s3"``).
        model: A subclass of :class:`FsspecBlobOptions` whose ``storage_options`` passes
            its extra fields to the filesystem.
    """
    OPTIONS_MODELS[protocol.lower()] = model


def parse_url(
    url: str, models: dict[str, type[FsspecBlobOptions]] | None = None
) -> tuple[str, str, FsspecBlobOptions]:
    """Split a blob store URL into its protocol, location and options.

    Args:
        url: e.g. ``file:///srv/blobs?fsync=false``; a plain path means ``file``.
        models: Options model per protocol; :data:`OPTIONS_MODELS` when omitted.

    Returns:
        The protocol (lower case), the URL without its query string, and the options.

    Raises:
        InvalidInput: An option is unknown or has a bad value.
    """
    head, sep, _ = url.partition("://")
    protocol = head.lower() if sep else "file"
    model = (OPTIONS_MODELS if models is None else models).get(protocol, FsspecBlobOptions)
    location, options = split_options(url, model)
    return protocol, location, options
