"""The reader connections of the SQL backends: reused, replaced when broken or old, bounded,
and on PostgreSQL planned per statement or kept generic where one plan suits every value."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest

from pinsphere.backends.sql.drivers import stable_plan
from pinsphere.backends.sql.engine import Database, open_database
from pinsphere.backends.sql.metadata import SQLMetadataBackend
from pinsphere.errors import BackendUnavailable
from pinsphere.search import parse_query
from pinsphere.testing.factories import EVERYTHING, make_pin
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


def test_connections_lent_at_once_are_bounded(sqlite_url: str) -> None:
    url = with_option(
        with_option(with_option(sqlite_url, "pool_size", "1"), "max_overflow", "0"),
        "pool_timeout",
        "0.2",
    )
    database, _ = open_database(url)
    try:
        busy = pytest.raises(BackendUnavailable, match="no database connection came free")
        with database.reader(), busy:
            database.reader().__enter__()
        # Given back: the next read gets it.
        assert _connection_of(database) is not None
        with pytest.raises(BackendUnavailable), database.reader() as reader:
            reader.rows("SELECT * FROM nowhere", ())
        assert _connection_of(database) is not None  # an error gave its connection back too
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


def _plan_cache_mode(database: Database, *, stable_plan: bool) -> str:
    with database.reader(stable_plan=stable_plan) as reader:
        return str(reader.rows("SHOW plan_cache_mode", ())[0][0])


def test_postgresql_plans_searches_for_their_values_unless_the_plan_is_stable(
    postgres_schema_url: str,
) -> None:
    database, _ = open_database(postgres_schema_url)
    try:
        assert _plan_cache_mode(database, stable_plan=False) == "force_custom_plan"
        assert _plan_cache_mode(database, stable_plan=True) == "force_generic_plan"
    finally:
        database.dispose()


def test_postgresql_connections_never_compile_with_jit(postgres_schema_url: str) -> None:
    # A generic plan's unknown LIMIT inflates its estimated cost past jit_above_cost, and
    # compiling took 200 ms for a statement that runs in 0.4 ms.
    database, _ = open_database(postgres_schema_url)
    try:
        for stable in (False, True):
            with database.reader(stable_plan=stable) as reader:
                assert reader.rows("SHOW jit", ()) == [("off",)]
        with database.write() as conn:
            assert conn.exec_driver_sql("SHOW jit").scalar() == "off"
    finally:
        database.dispose()


@pytest.mark.parametrize(
    ("text", "stable"),
    [
        ("tag:cats", True),
        ("tag:cats tag:dogs -tag:birds", True),
        ("-tag:birds", False),
        ("", False),
        ("tag:cats sleepy", False),
        ("tag:cats before:2024-01-01", False),
        ("tag:cats by:alice", False),
        ("tag:cats width>=100", False),
        ('tag:cats board:"Trips"', False),
    ],
)
def test_only_tag_driven_searches_have_a_stable_plan(text: str, stable: bool) -> None:
    assert stable_plan(parse_query(text)) is stable


def test_a_generic_plan_answers_every_tag(postgres_schema_url: str) -> None:
    # psycopg prepares a statement after five runs; from then on PostgreSQL reuses one plan
    # for every tag, frequent or rare, with or without a keyset position.
    backend = SQLMetadataBackend.from_url(postgres_schema_url)
    try:
        frequent = [make_pin(tags=["common"]) for _ in range(30)]
        rare = [make_pin(tags=["common", "rare"]) for _ in range(2)]
        backend.insert_pins([(pin, ()) for pin in [*frequent, *rare]])
        newest_common = sorted((p.id for p in [*frequent, *rare]), reverse=True)
        rare_ids = sorted((p.id for p in rare), reverse=True)
        for _ in range(4):
            for tag, expected in (("common", newest_common), ("rare", rare_ids)):
                query = parse_query(f"tag:{tag}")
                page, more = backend.search_page(query, EVERYTHING, limit=5)
                assert [p.id for p in page] == expected[:5]
                assert more == (len(expected) > 5)
                after = backend.search_pins(query, EVERYTHING, limit=5, after=expected[0])
                assert [p.id for p in after] == expected[1:6]
            two = backend.search_pins(parse_query("tag:common tag:rare"), EVERYTHING, limit=5)
            assert [p.id for p in two] == rare_ids
    finally:
        backend.close()
