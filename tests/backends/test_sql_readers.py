"""The reader connections of the SQL backends: reused, replaced when broken or old, bounded."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest

from pinsphere.backends.sql.engine import Database, open_database
from pinsphere.errors import BackendUnavailable
from store_support import with_option


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    opened, _ = open_database(database_url)
    yield opened
    opened.dispose()


def _connection_of(database: Database) -> object:
    with database.reader() as reader:
        assert reader.rows("SELECT 1", ()) == [(1,)]
        return reader.connection


def test_a_connection_is_reused_between_reads(database: Database) -> None:
    assert _connection_of(database) is _connection_of(database)


def test_a_failed_statement_is_backend_unavailable_and_the_connection_stays(
    database: Database,
) -> None:
    first = _connection_of(database)
    with pytest.raises(BackendUnavailable) as caught, database.reader() as reader:
        reader.rows("SELECT * FROM no_such_table", ())
    assert caught.value.__cause__ is not None
    # The error was the statement's, not the connection's: it is kept.
    assert _connection_of(database) is first


def test_errors_of_the_caller_pass_through_unchanged(database: Database) -> None:
    with pytest.raises(KeyError), database.reader():
        raise KeyError("not a database error")


def test_idle_connections_are_bounded(sqlite_url: str) -> None:
    database, _ = open_database(with_option(sqlite_url, "pool_size", "1"))
    try:
        entered = threading.Barrier(2)
        seen: list[object] = []

        def read() -> None:
            with database.reader() as reader:
                entered.wait(timeout=10)  # both leases are out at once
                seen.append(reader.connection)

        threads = [threading.Thread(target=read) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert seen[0] is not seen[1]
        # One of the two was kept, the other closed.
        assert _connection_of(database) in seen
    finally:
        database.dispose()


def test_pool_recycle_replaces_old_connections(sqlite_url: str) -> None:
    database, _ = open_database(with_option(sqlite_url, "pool_recycle", "0"))
    try:
        first = _connection_of(database)
        assert _connection_of(database) is not first
    finally:
        database.dispose()


def test_dispose_closes_idle_connections(database: Database) -> None:
    first = _connection_of(database)
    database.dispose()
    assert _connection_of(database) is not first


def _terminate(database: Database, connection: object) -> None:
    """End a PostgreSQL session from another connection, as a server restart would."""
    assert isinstance(connection, psycopg.Connection)
    pid = connection.info.backend_pid
    with database.engine.connect() as other:
        other.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")


def test_a_broken_postgresql_connection_is_dropped(postgres_schema_url: str) -> None:
    database, _ = open_database(postgres_schema_url)
    try:
        broken = _connection_of(database)
        _terminate(database, broken)
        with pytest.raises(BackendUnavailable), database.reader() as reader:
            reader.rows("SELECT 1", ())
        replacement = _connection_of(database)
        assert replacement is not broken
    finally:
        database.dispose()


def test_pre_ping_replaces_a_broken_postgresql_connection_before_use(
    postgres_schema_url: str,
) -> None:
    database, _ = open_database(with_option(postgres_schema_url, "pool_pre_ping", "true"))
    try:
        broken = _connection_of(database)
        _terminate(database, broken)
        assert _connection_of(database) is not broken
    finally:
        database.dispose()
