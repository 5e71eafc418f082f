"""SQLite writes on the driver connection (``Database.sqlite_write``): committed on success,
rolled back on error, the write lock never kept, native errors translated; and the pin
inserts that go through it."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator

import pytest

from pinsphere.backends.sql.engine import Database, open_database
from pinsphere.backends.sql.metadata import SQLMetadataBackend
from pinsphere.errors import BackendUnavailable, Conflict, NotFound
from pinsphere.testing.factories import EVERYTHING, make_board, make_pin
from store_support import with_option


@pytest.fixture
def database(sqlite_url: str) -> Iterator[Database]:
    opened, _ = open_database(sqlite_url)
    with opened.sqlite_write() as connection:
        connection.execute("CREATE TABLE things (name TEXT PRIMARY KEY)")
    yield opened
    opened.dispose()


def _names(database: Database) -> list[str]:
    with database.reader() as reader:
        return [row[0] for row in reader.rows("SELECT name FROM things ORDER BY name", ())]


def test_a_write_is_committed_and_seen_by_other_connections(database: Database) -> None:
    with database.sqlite_write() as connection:
        connection.execute("INSERT INTO things VALUES ('a')")
        assert connection.in_transaction
    assert not connection.in_transaction
    with database.engine.connect() as other:
        assert other.exec_driver_sql("SELECT name FROM things").scalars().all() == ["a"]


def _insert(database: Database, *names: str, conflict: str = "taken") -> sqlite3.Connection:
    """Insert the names in one write transaction; the connection it ran on."""
    with database.sqlite_write(conflict) as connection:
        for name in names:
            connection.execute("INSERT INTO things VALUES (?)", (name,))
    return connection


def _insert_then_fail(database: Database) -> None:
    with database.sqlite_write() as connection:
        connection.execute("INSERT INTO things VALUES ('a')")
        raise KeyError("not a database error")


def test_a_unique_violation_is_a_conflict_with_the_callers_message_and_rolls_back(
    database: Database,
) -> None:
    connection = _insert(database, "a")
    with pytest.raises(Conflict, match="that thing exists") as caught:
        _insert(database, "b", "a", conflict="that thing exists")
    assert isinstance(caught.value.__cause__, sqlite3.IntegrityError)
    # 'b' went with the failed transaction, and the connection holds no lock any more.
    assert not connection.in_transaction
    assert _names(database) == ["a"]


def test_an_error_of_the_caller_rolls_back_and_passes_through(database: Database) -> None:
    with pytest.raises(KeyError):
        _insert_then_fail(database)
    assert _names(database) == []


def test_a_bad_statement_is_backend_unavailable(database: Database) -> None:
    with pytest.raises(BackendUnavailable), database.sqlite_write() as connection:
        connection.execute("INSERT INTO no_such_table VALUES (1)")


def test_the_write_lock_is_free_for_another_writer_after_a_failure(database: Database) -> None:
    with pytest.raises(Conflict):
        _insert(database, "a", "a")
    # A writer on another connection (SQLAlchemy's) would wait out the busy timeout and
    # fail if the failed transaction had kept the lock.
    with database.write() as other:
        other.exec_driver_sql("INSERT INTO things VALUES ('z')")
    assert _names(database) == ["z"]


def test_writers_on_several_threads_all_land(sqlite_url: str) -> None:
    database, _ = open_database(with_option(sqlite_url, "pool_size", "2"))
    try:
        with database.sqlite_write() as connection:
            connection.execute("CREATE TABLE things (name TEXT PRIMARY KEY)")

        def write(prefix: str) -> None:
            for index in range(50):
                with database.sqlite_write() as connection:
                    connection.execute("INSERT INTO things VALUES (?)", (f"{prefix}{index}",))

        threads = [threading.Thread(target=write, args=(prefix,)) for prefix in "abcd"]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(_names(database)) == 200
    finally:
        database.dispose()


def test_sqlite_write_is_for_sqlite_only(postgres_schema_url: str) -> None:
    database, _ = open_database(postgres_schema_url)
    try:
        with pytest.raises(TypeError, match="SQLite"):
            database.sqlite_write()
    finally:
        database.dispose()


def test_inserted_pins_may_name_thousands_of_boards(sqlite_url: str) -> None:
    # More board ids than SQLite takes as separate parameters in older builds (999).
    backend = SQLMetadataBackend.from_url(sqlite_url)
    try:
        board_ids = [
            backend.create_board(make_board(f"board {index}")).id for index in range(1_200)
        ]
        pins = [make_pin() for _ in range(3)]
        count = backend.insert_pins([(pin, board_ids[index::3]) for index, pin in enumerate(pins)])
        assert count == 3
        for index, pin in enumerate(pins):
            stored = backend.get_pin(pin.id, EVERYTHING)
            assert stored is not None
            assert len(stored.boards) == len(board_ids[index::3])
    finally:
        backend.close()


def test_a_missing_board_inserts_nothing(sqlite_url: str) -> None:
    backend = SQLMetadataBackend.from_url(sqlite_url)
    try:
        pin = make_pin()
        board = backend.create_board(make_board("kept"))
        with pytest.raises(NotFound, match="no-such-board"):
            backend.insert_pins([(pin, [board.id, "no-such-board"])])
        assert backend.get_pin(pin.id, EVERYTHING) is None
        with pytest.raises(Conflict, match="exists already"):
            backend.insert_pins([(pin, [board.id]), (pin, [board.id])])
        assert backend.get_pin(pin.id, EVERYTHING) is None
    finally:
        backend.close()
