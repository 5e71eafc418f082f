"""The SQL backends on SQLite and PostgreSQL: the conformance suites, plus what is SQL's own."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from pinsphere.backends.base import MetadataBackend, PinChanges, UserBackend
from pinsphere.backends.sql import schema_revision, upgrade_schema
from pinsphere.backends.sql.drivers import choose_driver
from pinsphere.backends.sql.engine import normalize_url
from pinsphere.backends.sql.metadata import SQLMetadataBackend
from pinsphere.backends.sql.migrate import head_revision
from pinsphere.backends.sql.terms import Driver
from pinsphere.backends.sql.users import SQLUserBackend
from pinsphere.errors import BackendUnavailable, Conflict, InvalidInput
from pinsphere.models import Pin, TagCount
from pinsphere.query import Query, TagTerm, TextTerm
from pinsphere.testing.factories import (
    ANONYMOUS,
    EVERYTHING,
    make_board,
    make_pin,
    make_user,
    now_ms,
)
from pinsphere.testing.metadata import MetadataBackendSuite
from pinsphere.testing.users import UserBackendSuite


class TestSQLUsers(UserBackendSuite):
    """The user suite on a fresh SQLite file and a fresh PostgreSQL schema."""

    @pytest.fixture
    def backend(self, database_url: str) -> Iterator[UserBackend]:
        backend = SQLUserBackend.from_url(database_url)
        yield backend
        backend.close()


class TestSQLMetadata(MetadataBackendSuite):
    """The metadata suite on a fresh SQLite file and a fresh PostgreSQL schema."""

    @pytest.fixture
    def backend(self, database_url: str) -> Iterator[MetadataBackend]:
        backend = SQLMetadataBackend.from_url(database_url)
        yield backend
        backend.close()


# -- what is SQL's own ---------------------------------------------------------------------------


def _driver(backend: SQLMetadataBackend, query: Query) -> Driver:
    """The index the backend would walk for a search."""
    dialect = "sqlite" if backend.engine.dialect.name == "sqlite" else "postgresql"
    with backend._db.reader() as reader:
        return choose_driver(reader, query, dialect)


def _plan(backend: SQLMetadataBackend, query: Query) -> str:
    """The plan of a search's page query (the cached SQL, its values bound as in a search)."""
    sql, parameters = backend._plans.search(
        query, ANONYMOUS, _driver(backend, query), limit=20, after=None
    )
    sqlite = backend.engine.dialect.name == "sqlite"
    prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (COSTS OFF) "
    with backend._db.reader() as reader:
        rows = reader.rows(prefix + sql, parameters)
    return "\n".join(str(row[-1] if sqlite else row[0]) for row in rows)


def _many_pins(count: int, **fields: Any) -> list[Pin]:
    start = datetime(2025, 3, 1, tzinfo=UTC)
    return [make_pin(created_at=start + timedelta(seconds=i), **fields) for i in range(count)]


_METADATA = head_revision("metadata")
_USERS = head_revision("users")


class TestSchemaVersions:
    """Migrations run on open, only for the backend's own branch, and are idempotent."""

    def test_opening_creates_only_its_own_tables(self, database_url: str) -> None:
        assert schema_revision(database_url) == {"metadata": None, "users": None}
        SQLMetadataBackend.from_url(database_url).close()
        assert schema_revision(database_url) == {"metadata": _METADATA, "users": None}
        SQLUserBackend.from_url(database_url).close()
        assert schema_revision(database_url) == {"metadata": _METADATA, "users": _USERS}

    def test_upgrade_is_idempotent_and_keeps_data(self, database_url: str) -> None:
        assert upgrade_schema(database_url) == {"metadata": _METADATA, "users": _USERS}
        backend = SQLMetadataBackend.from_url(database_url)
        pin = make_pin(tags=["kept"])
        backend.insert_pins([(pin, ())])
        backend.close()
        assert upgrade_schema(database_url) == {"metadata": _METADATA, "users": _USERS}
        assert upgrade_schema(database_url, "users") == {"users": _USERS}
        reopened = SQLMetadataBackend.from_url(database_url)
        try:
            assert reopened.get_pin(pin.id, EVERYTHING) == pin
        finally:
            reopened.close()

    def test_both_backends_share_one_sqlite_file(self, sqlite_url: str) -> None:
        metadata = SQLMetadataBackend.from_url(sqlite_url)
        users = SQLUserBackend.from_url(sqlite_url)
        try:
            users.create_user(make_user("alice"), None)
            metadata.insert_pins([(make_pin(), ())])
            assert metadata.count_pins(Query(), EVERYTHING) == 1
            assert users.find_user("ALICE") is not None
        finally:
            metadata.close()
            users.close()

    def test_migrations_ship_in_the_package(self) -> None:
        folder = resources.files("pinsphere") / "migrations"
        names = {entry.name for entry in folder.iterdir()}
        assert {"env.py", "script.py.mako", "versions"} <= names


class TestOptions:
    """URL options are strict, and each applies only to its own database."""

    @pytest.mark.parametrize(
        "url",
        [
            "sqlite:///{tmp}/x.db?bogus=1",
            "sqlite:///{tmp}/x.db?schema=tenant",
            "sqlite:///{tmp}/x.db?busy_timeout=soon",
            "sqlite:///{tmp}/x.db?synchronous=off",
            "sqlite://",
            "sqlite:///:memory:",
            "postgresql://localhost/x?busy_timeout=10",
            "postgresql://localhost/x?schema=bad-name",
            'postgresql://localhost/x?schema=a";drop',
            "mysql://localhost/x",
        ],
    )
    def test_bad_urls_are_invalid_input(self, url: str, tmp_path: Path) -> None:
        with pytest.raises(InvalidInput):
            SQLMetadataBackend.from_url(url.format(tmp=tmp_path))

    def test_plain_postgresql_means_psycopg(self) -> None:
        assert normalize_url("postgresql://h/db") == "postgresql+psycopg://h/db"
        assert normalize_url("postgres://h/db") == "postgresql+psycopg://h/db"

    def test_sqlite_runs_in_wal_mode_with_foreign_keys(self, tmp_path: Path) -> None:
        backend = SQLMetadataBackend.from_url(f"sqlite:///{tmp_path}/x.db?busy_timeout=1234")
        try:
            with backend.engine.connect() as conn:
                pragma = {
                    name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                    for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
                }
        finally:
            backend.close()
        assert pragma == {
            "journal_mode": "wal",
            "foreign_keys": 1,
            "busy_timeout": 1234,
            "synchronous": 1,
        }

    def test_postgresql_connections_never_use_generic_plans(self, postgres_schema_url: str) -> None:
        backend = SQLMetadataBackend.from_url(f"{postgres_schema_url}&pool_size=2")
        try:
            with backend.engine.connect() as conn:
                mode = conn.exec_driver_sql("SHOW plan_cache_mode").scalar()
                schema = conn.exec_driver_sql("SELECT current_schema()").scalar()
        finally:
            backend.close()
        assert mode == "force_custom_plan"
        assert schema is not None
        assert postgres_schema_url.endswith(f"schema={schema}")


class TestErrorTranslation:
    """Native errors leave the backend as Pinsphere errors with the original as the cause."""

    def test_unreachable_postgresql_is_backend_unavailable(self) -> None:
        with pytest.raises(BackendUnavailable) as caught:
            SQLUserBackend.from_url("postgresql://postgres@127.0.0.1:1/test?connect_timeout=2")
        assert caught.value.__cause__ is not None

    def test_unwritable_sqlite_file_is_backend_unavailable(self, tmp_path: Path) -> None:
        with pytest.raises(BackendUnavailable) as caught:
            SQLUserBackend.from_url(f"sqlite:///{tmp_path}/missing-folder/x.db")
        assert isinstance(caught.value.__cause__, sa.exc.OperationalError)

    def test_a_duplicate_keeps_the_integrity_error_as_cause(self, database_url: str) -> None:
        backend = SQLMetadataBackend.from_url(database_url)
        try:
            pin = make_pin()
            backend.insert_pins([(pin, ())])
            with pytest.raises(Conflict) as caught:
                backend.insert_pins([(pin, ())])
            assert caught.value.__cause__ is not None
        finally:
            backend.close()


class TestBulkAndConcurrency:
    """Large batches (COPY on PostgreSQL) and concurrent writers."""

    def test_a_large_batch_round_trips(self, database_url: str) -> None:
        backend = SQLMetadataBackend.from_url(database_url)
        try:
            board = backend.create_board(make_board("Bulk", visibility="public"))
            pins = _many_pins(
                300, tags=["bulk/one", "two"], title="bulk words", visibility="public"
            )
            assert backend.insert_pins((pin, (board.id,)) for pin in pins) == 300
            assert backend.count_pins(Query(terms=(TagTerm(tag="bulk"),)), ANONYMOUS) == 300
            text = TextTerm(words=("bulk", "words"), phrase=True)
            assert backend.count_pins(Query(terms=(text,)), ANONYMOUS) == 300
            got = backend.get_pin(pins[123].id, ANONYMOUS)
            assert got == pins[123].model_copy(update={"boards": ("Bulk",)})
            assert backend.tag_counts(ANONYMOUS) == [
                TagCount(tag="bulk/one", count=300),
                TagCount(tag="two", count=300),
            ]
        finally:
            backend.close()

    def test_a_large_batch_with_a_duplicate_stores_nothing(self, database_url: str) -> None:
        backend = SQLMetadataBackend.from_url(database_url)
        try:
            pins = _many_pins(200, tags=["x"])
            backend.insert_pins([(pins[150], ())])
            with pytest.raises(Conflict):
                backend.insert_pins((pin, ()) for pin in pins)
            assert backend.count_pins(Query(), EVERYTHING) == 1
            backend.ping()  # the connection that failed went back to the pool usable
        finally:
            backend.close()

    def test_concurrent_tag_changes_all_land(self, database_url: str) -> None:
        backend = SQLMetadataBackend.from_url(database_url)
        try:
            pin = make_pin(tags=["base"])
            backend.insert_pins([(pin, ())])

            def add(tag: str) -> None:
                backend.update_pin(pin.id, PinChanges(add_tags=(tag,), updated_at=now_ms()))

            tags = [f"t{i}" for i in range(12)]
            with ThreadPoolExecutor(max_workers=4) as pool:
                list(pool.map(add, tags))
            got = backend.get_pin(pin.id, EVERYTHING)
            assert got is not None
            assert got.tags == tuple(sorted(["base", *tags]))
        finally:
            backend.close()


class TestTagSizes:
    """``tag_sizes`` stays equal to the tag index's row counts through every kind of write."""

    def test_sizes_follow_inserts_updates_and_deletes(self, database_url: str) -> None:
        backend = SQLMetadataBackend.from_url(database_url)
        try:
            pins = _many_pins(80, tags=["animals/cats", "funny"])
            backend.insert_pins((pin, ()) for pin in pins)
            backend.insert_pins([(make_pin(tags=["animals/dogs"]), ())])
            changes = PinChanges(
                add_tags=("animals/dogs", "new"),
                remove_tags=("funny",),
                visibility="public",
                updated_at=datetime.now(UTC),
            )
            backend.update_pin(pins[0].id, changes)
            backend.delete_pin(pins[1].id)
            with backend.engine.connect() as conn:
                sizes = dict(conn.exec_driver_sql("SELECT tag, pins FROM tag_sizes").all())
                counted = dict(
                    conn.exec_driver_sql("SELECT tag, count(*) FROM pin_tags GROUP BY tag").all()
                )
        finally:
            backend.close()
        assert {tag: n for tag, n in sizes.items() if n} == counted
        assert (counted["animals"], counted["funny"], counted["new"]) == (80, 78, 1)

    def test_the_rarest_tag_or_word_drives_the_search(self, sqlite_url: str) -> None:
        backend = SQLMetadataBackend.from_url(sqlite_url)
        try:
            pins = _many_pins(30, tags=["common"], title="sunny day")
            backend.insert_pins((pin, ()) for pin in pins)
            backend.insert_pins([(make_pin(tags=["common", "rare"], title="rainy day"), ())])
            word = TextTerm(words=("rainy",))
            assert _driver(backend, Query(terms=(TagTerm(tag="common"), word))) == "text"
            assert _driver(backend, Query(terms=(TagTerm(tag="rare"), word))) == 0
            absent = Query(terms=(TagTerm(tag="common"), TagTerm(tag="absent")))
            assert _driver(backend, absent) == 1
            assert backend.search_pins(absent, EVERYTHING, limit=5) == []
        finally:
            backend.close()


class TestQueryPlans:
    """The searches walk the indexes they were designed for, without sorting."""

    def test_sqlite_tag_search_walks_the_tag_index_in_order(self, sqlite_url: str) -> None:
        backend = SQLMetadataBackend.from_url(sqlite_url)
        try:
            plan = _plan(backend, Query(terms=(TagTerm(tag="animals"),)))
        finally:
            backend.close()
        assert "SEARCH pin_tags USING PRIMARY KEY (tag=?)" in plan
        assert "SEARCH pins USING INTEGER PRIMARY KEY (rowid=?)" in plan
        assert "TEMP B-TREE" not in plan

    def test_sqlite_two_tags_walk_one_and_probe_the_other(self, sqlite_url: str) -> None:
        backend = SQLMetadataBackend.from_url(sqlite_url)
        try:
            pins = _many_pins(30, tags=["common"], visibility="public")
            backend.insert_pins((pin, ()) for pin in pins)
            backend.insert_pins([(make_pin(tags=["common", "rare"], visibility="public"), ())])
            query = Query(terms=(TagTerm(tag="common"), TagTerm(tag="rare")))
            assert _driver(backend, query) == 1
            plan = _plan(backend, query)
        finally:
            backend.close()
        assert "SEARCH pin_tags USING PRIMARY KEY (tag=?)" in plan
        assert "USING PRIMARY KEY (tag=? AND pin_id=?)" in plan
        assert "TEMP B-TREE" not in plan

    def test_sqlite_text_search_walks_fts_in_rowid_order(self, sqlite_url: str) -> None:
        backend = SQLMetadataBackend.from_url(sqlite_url)
        try:
            plan = _plan(backend, Query(terms=(TextTerm(words=("cat",)),)))
        finally:
            backend.close()
        assert "pins_fts VIRTUAL TABLE INDEX" in plan
        assert "SEARCH pins USING INTEGER PRIMARY KEY (rowid=?)" in plan
        assert "TEMP B-TREE" not in plan

    def test_postgresql_tag_search_reads_the_tag_index_backwards(
        self, postgres_schema_url: str
    ) -> None:
        backend = SQLMetadataBackend.from_url(postgres_schema_url)
        try:
            pins = _many_pins(2000, tags=["common"], visibility="public")
            backend.insert_pins((pin, ()) for pin in pins)
            with backend.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
            plan = _plan(backend, Query(terms=(TagTerm(tag="common"),)))
        finally:
            backend.close()
        # The page's ids come from walking the tag index newest first under a LIMIT; only
        # those rows are fetched (and the final few sorted), never the whole tag.
        assert "Index Scan Backward using pin_tags_pkey" in plan, plan
        limit_at = plan.index("Limit")
        assert limit_at < plan.index("Index Scan Backward using pin_tags_pkey"), plan
        assert "Bitmap" not in plan, plan
        assert "Hash Join" not in plan, plan

    def test_postgresql_second_tag_is_a_per_row_probe(self, postgres_schema_url: str) -> None:
        backend = SQLMetadataBackend.from_url(postgres_schema_url)
        try:
            pins = _many_pins(2000, tags=["common", "other"], visibility="public")
            backend.insert_pins((pin, ()) for pin in pins)
            with backend.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
            plan = _plan(backend, Query(terms=(TagTerm(tag="common"), TagTerm(tag="other"))))
        finally:
            backend.close()
        assert "SubPlan" in plan, plan
        assert "Hash Join" not in plan, plan
        assert "Hash Semi Join" not in plan, plan
