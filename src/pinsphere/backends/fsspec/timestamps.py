"""Modification times as filesystems report them, normalised to aware UTC datetimes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = ["as_utc", "modified_time"]

# Where filesystems without a modified() method put the time in their info() dicts: local
# and most POSIX-like ones say "mtime", botocore-based ones "LastModified". A write-once
# blob's creation is its last write, so "created" serves when nothing else is there.
_INFO_FIELDS = ("mtime", "LastModified", "created")


def as_utc(value: object) -> datetime | None:
    """Read a time a filesystem reported, in whatever form, as an aware UTC datetime.

    Args:
        value: A datetime, POSIX seconds, or an ISO 8601 string.

    Returns:
        The time in UTC, or ``None`` when ``value`` is none of those.
    """
    if isinstance(value, datetime):
        # Read a naive time as UTC: this machine's zone says nothing about the server's clock.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            return as_utc(datetime.fromisoformat(value))
        except ValueError:
            return None
    return None


def modified_time(fs: Any, path: str, info: Mapping[str, Any]) -> datetime | None:
    """When the file at ``path`` was last written, if the filesystem says.

    Args:
        fs: The fsspec filesystem.
        path: The file's path on it.
        info: The file's ``fs.info``/``fs.ls`` entry, consulted when ``fs`` has no
            ``modified`` method.

    Returns:
        The time in UTC, or ``None`` when the filesystem does not report one.

    Raises:
        FileNotFoundError: The file went away meanwhile.
    """
    try:
        return as_utc(fs.modified(path))
    except NotImplementedError:
        pass
    for field in _INFO_FIELDS:
        when = as_utc(info.get(field))
        if when is not None:
            return when
    return None
