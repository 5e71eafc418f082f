"""Sweeping the staging folder: removing writes a crash left behind."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from pinsphere.backends.fsspec.timestamps import modified_time

__all__ = ["sweep_fsspec", "sweep_local"]


def sweep_local(staging: str, cutoff: datetime) -> int:
    """Remove the files of a local staging folder last written before ``cutoff``.

    Args:
        staging: The staging folder.
        cutoff: An aware datetime; files written at or after it stay.

    Returns:
        How many files were removed.
    """
    limit = cutoff.timestamp()
    removed = 0
    try:
        entries = list(os.scandir(staging))
    except FileNotFoundError:
        return 0
    for entry in entries:
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < limit:
                os.unlink(entry.path)
                removed += 1
        except FileNotFoundError:
            continue  # committed or discarded meanwhile
    return removed


def sweep_fsspec(fs: Any, staging: str, cutoff: datetime) -> int:
    """Remove the files of a staging folder on an fsspec filesystem written before ``cutoff``.

    Files whose filesystem reports no time are kept: without one, an upload in progress
    cannot be told from an abandoned one.

    Args:
        fs: The fsspec filesystem.
        staging: The staging folder on it.
        cutoff: An aware datetime; files written at or after it stay.

    Returns:
        How many files were removed.
    """
    removed = 0
    try:
        entries = fs.ls(staging, detail=True)
    except FileNotFoundError:
        return 0
    for info in entries:
        if info.get("type") != "file":
            continue
        path = str(info["name"])
        try:
            written = modified_time(fs, path, info)
            if written is None or written >= cutoff:
                continue
            fs.rm_file(path)
        except FileNotFoundError:
            continue  # committed or discarded meanwhile
        removed += 1
    return removed
