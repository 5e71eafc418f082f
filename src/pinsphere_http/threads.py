"""One worker-thread hop for a request's store calls, at the lowest cost asyncio allows.

``anyio.to_thread.run_sync`` (what Starlette's ``run_in_threadpool`` uses) acquires a
capacity limiter, enters cancel scopes and yields to the event loop once before it even hands
the call over; under load that bookkeeping is several per cent of a small JSON request.
:func:`run_in_worker` hands the call straight to a thread pool of its own with
``loop.run_in_executor``, in a copy of the caller's context (so log records keep the request
id).

Unlike anyio's default, a cancelled await does not wait for the call: its result is dropped.
So it is only for calls whose result holds nothing that needs closing (pins, pages, users);
calls that open files stay with anyio.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Final, TypeVar

__all__ = ["WORKER_THREADS", "run_in_worker"]

T = TypeVar("T")

WORKER_THREADS: Final = 32
"""Threads of the pool: enough to overlap the store's waits (a PostgreSQL round trip), and
fewer than the SQL backends' connection pool, which the server's own thread pool shares."""

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _executor  # one pool per process, made on first use
    if _executor is None:
        with _lock:
            if _executor is None:
                _executor = ThreadPoolExecutor(WORKER_THREADS, thread_name_prefix="pinsphere")
    return _executor


async def run_in_worker(call: Callable[[], T]) -> T:
    """Run a blocking ``call`` in a worker thread and return (or raise) what it does."""
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    return await loop.run_in_executor(_pool(), context.run, call)
