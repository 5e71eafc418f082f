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

Forking: a process must never fork while the thread is inside SQLite (the child would
inherit SQLite's locks held, and hang on its next write), so a fork waits for a running
checkpoint to end. The child starts a thread of its own on its first write.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from contextlib import suppress

from pinsphere.backends.forks import ForkGuard

__all__ = ["BACKSTOP_PAGES", "Checkpointer"]

BACKSTOP_PAGES = 10_000
"""``wal_autocheckpoint`` of every connection: a commit checkpoints only past this many."""

_GATHER_SECONDS = 0.05
"""How long the thread waits after a commit before checkpointing, to take a burst at once."""

_log = logging.getLogger(__name__)


class Checkpointer:
    """Runs passive WAL checkpoints of one SQLite database on a background thread.

    It holds no reference to whoever made it, so a database dropped without being closed
    can still be collected; close the checkpointer then (``weakref.finalize``).

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
        self._closed = False
        self._start_failed = False
        self._reset()
        _forks.add(self)

    def _reset(self) -> None:
        # Everything a forked child must not share with its parent.
        self._lock = threading.Lock()  # guards starting and stopping the thread
        self._busy = threading.Lock()  # held by the thread while inside SQLite
        self._wanted = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._count = 0

    def written(self) -> None:
        """Note a commit: a checkpoint follows shortly. Never raises: the commit is done."""
        try:
            self._wanted.set()
            if self._thread is None:
                self._start()
        except Exception:  # a checkpoint may wait; the writer's commit must not fail
            _log.debug("could not schedule a background checkpoint", exc_info=True)

    def checkpoints(self) -> int:
        """How many checkpoints the thread has run (for tests and diagnostics)."""
        return self._count

    def close(self, *, wait: bool = True) -> None:
        """Stop the thread after one last checkpoint.

        Args:
            wait: Wait for the thread to end (up to 5 seconds).
        """
        with self._lock:
            self._closed = True
            thread = self._thread
        self._stop.set()
        self._wanted.set()
        if thread is None or thread.ident is None or not wait:
            return
        if thread is not threading.current_thread():  # a finalizer may run on it
            thread.join(5.0)

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None or self._closed:
                return
            thread = threading.Thread(
                target=self._run, name="pinsphere-sqlite-checkpoints", daemon=True
            )
            try:
                thread.start()
            except RuntimeError:  # no more threads: the backstop checkpoints meanwhile
                if not self._start_failed:
                    _log.warning("cannot start the background checkpoint thread", exc_info=True)
                self._start_failed = True
                return
            self._thread = thread

    def _run(self) -> None:
        # Every SQLite call of this thread (open and close too, which take SQLite's own
        # process-wide locks) is made holding _busy, which a fork waits for.
        wanted, stop, busy = self._wanted, self._stop, self._busy
        try:
            with busy:
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
                with busy:
                    self._checkpoint(connection)
                if stop.is_set():
                    return
        finally:
            with busy, suppress(sqlite3.Error):
                connection.close()

    def _checkpoint(self, connection: sqlite3.Connection) -> None:
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:  # busy, or the file went away: the next one may do
            _log.debug("background checkpoint failed: %s", exc)
            return
        self._count += 1


# A fork waits until every running checkpoint has left SQLite, and keeps the others out; the
# child has no thread and must not use the parent's connection: it starts afresh on its
# first write (the inherited locks are replaced, not released).
_forks: ForkGuard[Checkpointer] = ForkGuard(
    lock_of=lambda checkpointer: checkpointer._busy,
    reset_in_child=lambda checkpointer: checkpointer._reset(),
)
