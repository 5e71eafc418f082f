"""Starting a file's write-out to the disk early, so that its ``fsync`` has less to wait for.

A blob's ``fsync`` waits for its bytes to reach the disk and then for the filesystem's
journal. Asking the kernel to start writing the bytes as soon as they are written lets the
disk work while the upload hashes them and checks the image; the ``fsync`` that follows
then mostly waits for the journal (measured on ext4: about 200 µs instead of 380 µs for
100 KB, with 150 µs of work in between). PostgreSQL does the same for its data files
(``backend_flush_after``).

Linux's ``sync_file_range(2)`` does this without waiting and without changing what
``fsync`` guarantees; Python's :mod:`os` does not offer it, so it is called through
:mod:`ctypes`. Elsewhere, or when the C library lacks it, :func:`start_writeback` does
nothing and ``fsync`` does all the work, as before.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable

__all__ = ["start_writeback", "writeback_supported"]

# <linux/fs.h>: start write-out of the range's dirty pages, without waiting for it.
_SYNC_FILE_RANGE_WRITE = 2


def _load() -> Callable[[int, int, int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        function = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    function.restype = ctypes.c_int
    call: Callable[[int, int, int, int], int] = function
    return call


_sync_file_range = _load()


def writeback_supported() -> bool:
    """Whether :func:`start_writeback` can do anything on this platform."""
    return _sync_file_range is not None


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Ask the kernel to start writing ``length`` bytes of ``fd`` from ``offset`` to disk.

    Only a hint: it never waits for the disk, and a failure is ignored (the ``fsync`` that
    must follow reports any real write error).
    """
    if _sync_file_range is not None and length > 0:
        # ctypes releases the GIL for the call; the result is deliberately unused.
        _sync_file_range(fd, offset, length, _SYNC_FILE_RANGE_WRITE)
