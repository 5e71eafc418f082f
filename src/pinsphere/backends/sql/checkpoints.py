"""SQLite's WAL checkpoints, moved off the writers' path onto a thread of their own.

In WAL mode a commit appends pages to the ``-wal`` file; a *checkpoint* copies them into the
database file, with an ``fsync`` of each. By default SQLite runs one inside whichever commit
takes the log past 1,000 pages: every 75th upload or so then waited 2 to 5 ms for two
``fsync`` calls, which added about 40 % to the mean cost of recording a pin.

Here each database's connections leave that to :class:`Checkpointer`: writers call
:meth:`Checkpointer.written` after committing (setting an event), and a daemon thread,
started on the first write in each process, waits a moment for a burst of commits to end
and runs ``PRAGMA wal_checkpoint(PASSIVE)`` on its own connection. A passive checkpoint
never blocks readers or writers; it copies what no reader still needs, and once the log is
copied whole the next writer starts it again from the beginning, so it stays small.

The connections keep an automatic checkpoint as a backstop, at :data:`BACKSTOP_PAGES` (about
40 MB of log), for when the thread falls behind a bulk load or a reader holds an old
snapshot for long.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from contextlib import suppress

__all__ = ["BACKSTOP_PAGES", "Checkpointer"]

BACKSTOP_PAGES = 10_000
"""``wal_autocheckpoint`` of every connection: a commit checkpoints only past this many."""

_GATHER_SECONDS = 0.05
"""How long the thread waits after a commit before checkpointing, to take a burst at once."""

_log = logging.getLogger(__name__)


class Checkpointer:
    """Runs passive WAL checkpoints of one SQLite database on a background thread.

    Args:
        connect: Opens the thread's own connection to the database.
        gather_seconds: The wait between a commit and the checkpoint that follows it.
    """

    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        *,
        gather_seconds: float = _GATHER_SECONDS,
    ) -> None:
        self._connect = connect
        self._gather = gather_seconds
        self._lock = threading.Lock()
        self._closed = False
        self._reset()

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._wanted = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._count = 0

    def written(self) -> None:
        """Note a commit: a checkpoint follows shortly. Cheap enough for every commit."""
        if self._pid != os.getpid():
            # A forked child has no thread (nor may it use the parent's connection).
            self._reset()
        self._wanted.set()
        if self._thread is None:
            self._start()

    def checkpoints(self) -> int:
        """How many checkpoints the thread has run (for tests and diagnostics)."""
        return self._count

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread (after one last checkpoint) and close its connection."""
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is None:
            return
        self._stop.set()
        self._wanted.set()
        thread.join(timeout)

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None or self._closed:
                return
            thread = threading.Thread(
                target=self._run, name="pinsphere-sqlite-checkpoints", daemon=True
            )
            self._thread = thread
        thread.start()

    def _run(self) -> None:
        wanted, stop = self._wanted, self._stop
        try:
            connection = self._connect()
        except Exception:  # the writers' own automatic checkpoints take over
            _log.exception("cannot open a connection for background checkpoints")
            return
        try:
            while True:
                wanted.wait()
                # Let a burst of commits finish: one checkpoint copies them all.
                stop.wait(self._gather)
                wanted.clear()
                self._checkpoint(connection)
                if stop.is_set():
                    return
        finally:
            with suppress(sqlite3.Error):
                connection.close()

    def _checkpoint(self, connection: sqlite3.Connection) -> None:
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:  # busy, or the file went away: the next one may do
            _log.debug("background checkpoint failed: %s", exc)
            return
        self._count += 1
