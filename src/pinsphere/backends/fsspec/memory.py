"""Direct access to fsspec's in-process memory filesystem.

Its files are entries of one dict shared by the whole process. Going to the dict, under one
lock, makes "check, then move" a single step and avoids fsspec calls that scan every entry
(``info``) or copy the bytes (``mv``).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

__all__ = ["MEMORY_LOCK", "lookup", "move_if_absent", "remove", "remove_tree"]

MEMORY_LOCK = threading.Lock()
"""Serialises changes to the memory filesystem's dict across every backend in the process."""


def lookup(fs: Any, path: str) -> Any | None:
    """The memory file at ``path`` (a ``BytesIO`` with timestamps), or ``None``."""
    return fs.store.get(path)


def move_if_absent(fs: Any, source: str, target: str) -> bool:
    """Move the file at ``source`` to ``target`` unless ``target`` exists.

    Returns:
        ``False`` when ``target`` existed; ``source`` is then removed.
    """
    with MEMORY_LOCK:
        store = fs.store
        if target in store:
            del store[source]
            return False
        entry = store.pop(source)
        entry.path = target
        # The file's own time is when its writer opened it; the blob was written when it
        # appeared under its key, and the orphan sweeper's grace period counts from then.
        entry.modified = datetime.now(UTC)
        store[target] = entry
    return True


def remove(fs: Any, path: str) -> None:
    """Remove the file at ``path``, if there is one."""
    with MEMORY_LOCK:
        fs.store.pop(path, None)


def remove_tree(fs: Any, root: str) -> None:
    """Remove ``root`` and everything under it, files and empty folders alike."""
    inside = root + "/"
    with MEMORY_LOCK:
        for path in [p for p in fs.store if p.startswith(inside)]:
            del fs.store[path]
        fs.pseudo_dirs[:] = [p for p in fs.pseudo_dirs if p != root and not p.startswith(inside)]
