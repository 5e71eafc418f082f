"""SQLite's WAL checkpoints on a background thread: they follow writes, copy the whole log,
stop with the database, start again in a forked child, and never stop the writers."""

from __future__ import annotations

import gc
import os
import signal
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from pinsphere.backends.sql.checkpoints import BACKSTOP_PAGES, Checkpointer
from pinsphere.backends.sql.engine import Database, open_database


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    opened, _ = open_database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with opened.sqlite_write() as connection:
        connection.execute("CREATE TABLE things (id INTEGER PRIMARY KEY, body BLOB)")
    yield opened
    opened.dispose()


def _checkpointer(database: Database) -> Checkpointer:
    checkpointer = database._checkpointer
    assert checkpointer is not None
    return checkpointer


def _wait_for(condition: object, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not callable(condition) or not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def _log_state(path: Path) -> tuple[int, int]:
    """Pages in the log and pages of it already copied, as a passive checkpoint sees them."""
    with sqlite3.connect(path) as probe:
        _busy, log, copied = probe.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return log, copied


def test_connections_checkpoint_by_themselves_only_past_the_backstop(
    database: Database,
) -> None:
    with database.reader() as reader:
        assert reader.rows("PRAGMA wal_autocheckpoint", ()) == [(BACKSTOP_PAGES,)]


def test_writes_are_followed_by_a_checkpoint_of_the_whole_log(
    database: Database, tmp_path: Path
) -> None:
    checkpointer = _checkpointer(database)
    before = checkpointer.checkpoints()
    for index in range(50):
        with database.sqlite_write() as connection:
            connection.execute("INSERT INTO things VALUES (?, ?)", (index, os.urandom(3000)))
    _wait_for(lambda: checkpointer.checkpoints() > before)
    # A write through SQLAlchemy's connections is followed by one too.
    count = checkpointer.checkpoints()
    with database.write() as conn:
        conn.exec_driver_sql("DELETE FROM things WHERE id < 10")
    _wait_for(lambda: checkpointer.checkpoints() > count)
    log, copied = _log_state(tmp_path / "db.sqlite")
    assert log == copied


def test_the_log_stays_small_under_steady_writes(database: Database, tmp_path: Path) -> None:
    # Without checkpoints 400 commits of 3 KB rows would leave a log of 400+ pages.
    for index in range(400):
        with database.sqlite_write() as connection:
            connection.execute("INSERT INTO things VALUES (?, ?)", (index, os.urandom(3000)))
        if index % 50 == 49:
            time.sleep(0.1)  # room for the thread, as between a server's uploads
    wal = tmp_path / "db.sqlite-wal"
    assert wal.stat().st_size < 300 * 4096


def _written_database(tmp_path: Path) -> tuple[Database, threading.Thread]:
    """A new database after its first write, and the checkpoint thread that write started."""
    database, _ = open_database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with database.sqlite_write() as connection:
        connection.execute("CREATE TABLE t (x)")
    thread = _checkpointer(database)._thread
    assert thread is not None
    return database, thread


def test_dispose_stops_the_thread(tmp_path: Path) -> None:
    database, thread = _written_database(tmp_path)
    _wait_for(thread.is_alive)
    database.dispose()
    assert not thread.is_alive()
    # Written after closing: nothing starts again.
    _checkpointer(database).written()
    assert _checkpointer(database)._thread is thread


def test_no_thread_before_the_first_write(tmp_path: Path) -> None:
    database, _ = open_database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        with database.reader() as reader:
            reader.rows("SELECT 1", ())
        assert _checkpointer(database)._thread is None
    finally:
        database.dispose()


def test_a_checkpointer_that_cannot_connect_leaves_the_writers_be(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def refuse() -> sqlite3.Connection:
        raise sqlite3.OperationalError("unable to open database file")

    checkpointer = Checkpointer(refuse, gather_seconds=0)
    checkpointer.written()
    thread = checkpointer._thread
    assert thread is not None
    thread.join(5)
    assert not thread.is_alive()
    assert "cannot open a connection for background checkpoints" in caplog.text
    checkpointer.written()  # still safe to call
    checkpointer.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is POSIX-only")
def test_a_forked_child_starts_its_own_thread(database: Database) -> None:
    # Forked at once after the first write, while the parent's new thread opens its
    # connection: the fork waits for that, or the child would inherit SQLite's locks held.
    with database.sqlite_write() as connection:
        connection.execute("INSERT INTO things VALUES (1, x'00')")
    parent_thread = _checkpointer(database)._thread
    assert parent_thread is not None
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            checkpointer = _checkpointer(database)
            checkpointer.written()  # as a write of the child's would
            child_thread = checkpointer._thread
            fresh = child_thread is not None and child_thread is not parent_thread
            started = time.monotonic()
            while checkpointer.checkpoints() == 0 and time.monotonic() - started < 10:
                time.sleep(0.01)
            code = 0 if fresh and checkpointer.checkpoints() > 0 else 2
        finally:
            os.write(write, bytes([code]))
            os._exit(code)
    os.close(write)
    assert os.read(read, 1) == b"\x00"
    os.close(read)
    os.waitpid(pid, 0)
    assert _checkpointer(database)._thread is parent_thread


def test_writers_are_not_held_up_by_a_running_checkpoint(database: Database) -> None:
    # Many writer threads and the checkpoint thread at once: every write lands.
    def write(offset: int) -> None:
        for index in range(100):
            with database.sqlite_write() as connection:
                connection.execute(
                    "INSERT INTO things VALUES (?, ?)", (offset + index, os.urandom(2000))
                )

    threads = [threading.Thread(target=write, args=(1000 * n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with database.reader() as reader:
        assert reader.rows("SELECT count(*) FROM things", ()) == [(400,)]


def test_a_database_dropped_unclosed_is_collected_and_its_thread_ends(tmp_path: Path) -> None:
    database, thread = _written_database(tmp_path)
    dropped = weakref.ref(database)
    del database
    gc.collect()
    assert dropped() is None  # the thread does not keep it alive
    thread.join(5)
    assert not thread.is_alive()


def test_closing_before_the_thread_starts_is_safe() -> None:
    checkpointer = Checkpointer(lambda: sqlite3.connect(":memory:"))
    checkpointer.close()
    checkpointer.written()
    assert checkpointer._thread is None


def test_a_thread_that_cannot_start_never_fails_the_write(
    database: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def no_threads(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    checkpointer = Checkpointer(lambda: sqlite3.connect(":memory:"))
    monkeypatch.setattr(threading.Thread, "start", no_threads)
    checkpointer.written()
    checkpointer.written()
    assert checkpointer._thread is None
    assert caplog.text.count("cannot start the background checkpoint thread") == 1
    monkeypatch.undo()
    checkpointer.written()  # tried again on a later write
    assert checkpointer._thread is not None
    checkpointer.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is POSIX-only")
def test_children_forked_while_checkpoints_run_can_write(database: Database) -> None:
    # Each round writes a burst, then forks somewhere in the next 80 ms, when the thread's
    # checkpoint of that burst may be running. Every child must write on connections of
    # its own and finish: none may hang on SQLite's locks inherited mid-checkpoint. (The
    # parent holds no transaction of its own at the fork: forking in the middle of one is
    # a mistake SQLite documents, whatever the checkpoints do.)
    checkpointer = _checkpointer(database)
    for child in range(15):
        for index in range(20):
            with database.sqlite_write() as connection:
                connection.execute(
                    "INSERT INTO things VALUES (?, ?)", (child * 100 + index, os.urandom(3000))
                )
        time.sleep(child * 0.005)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            signal.alarm(20)  # a hung child dies instead of hanging the test
            code = 1
            try:
                with database.sqlite_write() as connection:
                    connection.execute("INSERT INTO things VALUES (?, x'00')", (10**6 + child,))
                code = 0
            except BaseException as exc:
                os.write(2, f"child failed: {exc!r} {exc.__cause__!r}\n".encode())
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    assert checkpointer.checkpoints() > 0
    with database.reader() as reader:
        rows = reader.rows("SELECT count(*) FROM things WHERE id >= 1000000", ())
    assert rows == [(15,)]
