"""SQLite: new pins' words wait in ``pins_fts_pending`` and are indexed in batches, yet every
text search sees every committed pin (see ``pinsphere.backends.sql.pending_words``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command

from pinsphere.backends.base import PinChanges
from pinsphere.backends.sql import migrate, upgrade_schema
from pinsphere.backends.sql.metadata import SQLMetadataBackend
from pinsphere.backends.sql.pending_words import BATCH
from pinsphere.backends.sql.rows import pin_key
from pinsphere.models import Pin
from pinsphere.search import parse_query
from pinsphere.testing.factories import EVERYTHING, make_pin


@pytest.fixture
def backend(sqlite_url: str) -> Iterator[SQLMetadataBackend]:
    opened = SQLMetadataBackend.from_url(sqlite_url)
    try:
        yield opened
    finally:
        opened.close()


def _waiting(backend: SQLMetadataBackend) -> list[int]:
    with backend.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT pin_id FROM pins_fts_pending ORDER BY pin_id")
        return [int(row[0]) for row in rows]


def _indexed(backend: SQLMetadataBackend, word: str) -> list[int]:
    """The ids the full-text index itself holds for a word (no search, so no indexing)."""
    with backend.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT rowid FROM pins_fts WHERE pins_fts MATCH ? ORDER BY rowid", (word,)
        )
        return [int(row[0]) for row in rows]


def _check_index(backend: SQLMetadataBackend) -> None:
    """FTS5's own check that the index matches ``pins`` exactly (raises when it does not)."""
    with backend.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO pins_fts(pins_fts, rank) VALUES ('integrity-check', 1)")


def _found(backend: SQLMetadataBackend, text: str) -> set[str]:
    return {pin.id for pin in backend.search_pins(parse_query(text), EVERYTHING, limit=100)}


def _key(pin: Pin) -> int:
    key = pin_key(pin.id)
    assert key is not None
    return key


def test_a_small_insert_waits_and_a_text_search_indexes_it_first(
    backend: SQLMetadataBackend,
) -> None:
    pin = make_pin(title="lighthouse at dusk")
    backend.insert_pins([(pin, ())])
    assert _waiting(backend) == [_key(pin)]
    assert _indexed(backend, "lighthouse") == []

    assert _found(backend, "lighthouse") == {pin.id}
    assert _waiting(backend) == []
    assert _indexed(backend, "lighthouse") == [_key(pin)]
    _check_index(backend)


def test_a_count_with_a_word_indexes_waiting_pins_too(backend: SQLMetadataBackend) -> None:
    backend.insert_pins([(make_pin(title="harbour"), ()), (make_pin(title="harbour"), ())])
    assert backend.count_pins(parse_query("harbour"), EVERYTHING) == 2
    assert _waiting(backend) == []


def test_searches_without_words_leave_the_list_alone(backend: SQLMetadataBackend) -> None:
    pin = make_pin(title="meadow", tags=["fields"])
    backend.insert_pins([(pin, ())])
    assert _found(backend, "tag:fields") == {pin.id}
    assert backend.count_pins(parse_query("tag:fields"), EVERYTHING) == 1
    assert _waiting(backend) == [_key(pin)]


def test_the_insert_that_fills_a_batch_indexes_it(backend: SQLMetadataBackend) -> None:
    pins = [make_pin(title=f"kite {n}") for n in range(BATCH)]
    for pin in pins[:-1]:
        backend.insert_pins([(pin, ())])
    assert len(_waiting(backend)) == BATCH - 1
    backend.insert_pins([(pins[-1], ())])
    assert _waiting(backend) == []
    assert _indexed(backend, "kite") == sorted(_key(pin) for pin in pins)
    _check_index(backend)


def test_a_bulk_insert_indexes_its_words_at_once(backend: SQLMetadataBackend) -> None:
    early = make_pin(title="pebble")
    backend.insert_pins([(early, ())])
    pins = [make_pin(title="pebble") for _ in range(BATCH)]
    backend.insert_pins((pin, ()) for pin in pins)
    assert _waiting(backend) == [_key(early)]
    assert _indexed(backend, "pebble") == sorted(_key(pin) for pin in pins)
    assert _found(backend, "pebble") == {pin.id for pin in [early, *pins]}


def test_deleting_or_changing_a_waiting_pin_keeps_the_index_exact(
    backend: SQLMetadataBackend,
) -> None:
    indexed, kept, changed, deleted = (make_pin(title=f"owl {n}") for n in range(4))
    backend.insert_pins([(indexed, ())])
    assert _found(backend, "owl") == {indexed.id}  # indexed now; the others will wait
    for pin in (kept, changed, deleted):
        backend.insert_pins([(pin, ())])
    now = datetime.now(UTC)
    backend.update_pin(changed.id, PinChanges(title="heron", updated_at=now))
    backend.update_pin(indexed.id, PinChanges(title="heron too", updated_at=now))
    backend.delete_pin(deleted.id)
    assert _waiting(backend) == sorted([_key(kept), _key(changed)])
    assert _found(backend, "owl") == {kept.id}
    assert _found(backend, "heron") == {changed.id, indexed.id}
    assert _found(backend, "-owl heron") == {changed.id, indexed.id}
    _check_index(backend)


def test_another_connection_sees_the_waiting_pins_of_this_one(sqlite_url: str) -> None:
    writer = SQLMetadataBackend.from_url(sqlite_url)
    reader = SQLMetadataBackend.from_url(sqlite_url)
    try:
        pin = make_pin(title="glacier")
        writer.insert_pins([(pin, ())])
        assert _found(reader, "glacier") == {pin.id}
        assert _waiting(writer) == []
    finally:
        writer.close()
        reader.close()


def test_a_downgrade_indexes_waiting_pins_and_an_upgrade_brings_the_list_back(
    sqlite_url: str,
) -> None:
    backend = SQLMetadataBackend.from_url(sqlite_url)
    try:
        waiting = make_pin(title="dune")
        backend.insert_pins([(waiting, ())])
        with backend._db.write() as conn:
            command.downgrade(migrate._config(conn, "metadata"), "m0007")
        with backend.engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
        assert "pins_fts_pending" not in tables
        assert _indexed(backend, "dune") == [_key(waiting)]
        _check_index(backend)

        upgrade_schema(sqlite_url, "metadata")
        backend.delete_pin(waiting.id)  # the upgraded triggers remove indexed words
        _check_index(backend)
        later = make_pin(title="dune")
        backend.insert_pins([(later, ())])
        assert _waiting(backend) == [_key(later)]
        assert _found(backend, "dune") == {later.id}
    finally:
        backend.close()
