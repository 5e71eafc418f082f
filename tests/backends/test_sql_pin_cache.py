"""Pins kept between searches: used again only while their rows are unchanged, whoever
changed them, and never deciding what a caller may see."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from pinsphere.backends.base import MetadataBackend, PinChanges
from pinsphere.backends.sql import migrate, tables, upgrade_schema
from pinsphere.backends.sql.metadata import SQLMetadataBackend
from pinsphere.backends.sql.pin_cache import UNKNOWN_REVISION, PinCache
from pinsphere.backends.sql.rows import new_revision, pin_key
from pinsphere.models import Pin
from pinsphere.policy import AccessRule
from pinsphere.search import parse_query
from pinsphere.testing.factories import EVERYTHING, make_board, make_pin, now_ms, signed_in
from pinsphere.testing.metadata import MetadataBackendSuite
from store_support import AlwaysProbing, with_option

ALICE = signed_in("user-alice")
BOB = signed_in("user-bob")


# -- the cache alone ------------------------------------------------------------------------------


def test_a_pin_is_given_back_only_for_the_revision_it_was_built_from() -> None:
    cache = PinCache(10)
    pin = make_pin(title="kept")
    cache.put_many([(1, 111, pin)])
    assert cache.get(1, 111) is pin
    assert cache.get(1, 112) is None
    assert cache.get(2, 111) is None
    cache.forget(1)
    assert cache.get(1, 111) is None


def test_a_full_cache_drops_its_oldest_pins() -> None:
    cache = PinCache(8)
    for key in range(8):
        cache.put_many([(key, key + 100, make_pin())])
    cache.put_many([(8, 108, make_pin())])
    assert len(cache) == 7  # the oldest quarter (2) went, the new one came
    assert cache.get(0, 100) is None
    assert cache.get(1, 101) is None
    assert cache.get(2, 102) is not None
    assert cache.get(8, 108) is not None
    cache.put_many([(8, 109, make_pin())])  # a newer revision of a kept pin replaces it in place
    assert len(cache) == 7
    assert cache.get(8, 109) is not None


def test_a_cache_of_size_zero_keeps_nothing() -> None:
    cache = PinCache(0)
    cache.put_many([(1, 1, make_pin())])
    assert not cache.enabled
    assert len(cache) == 0
    assert cache.get(1, 1) is None


def test_searches_probe_once_most_pins_are_found_and_stop_when_they_are_not() -> None:
    cache = PinCache(10)
    assert not cache.worth_probing
    for _ in range(10):
        cache.count_found(20, 20)
    assert cache.worth_probing
    for _ in range(3):
        cache.count_found(0, 20)
    assert not cache.worth_probing
    cache.count_found(0, 0)  # an empty page says nothing
    cache.clear()
    assert cache.found_share == 0.0


# -- on a database --------------------------------------------------------------------------------


@pytest.fixture
def backend(database_url: str) -> Iterator[SQLMetadataBackend]:
    """The searching backend, with a cache that probes."""
    backend = SQLMetadataBackend.from_url(database_url)
    backend._pin_cache = AlwaysProbing(4096)
    yield backend
    backend.close()


@pytest.fixture
def elsewhere(database_url: str) -> Iterator[SQLMetadataBackend]:
    """The same database through another backend: as another process would change it."""
    backend = SQLMetadataBackend.from_url(database_url)
    yield backend
    backend.close()


@pytest.fixture
def uncached(database_url: str) -> Iterator[SQLMetadataBackend]:
    """The same database through a backend that keeps no pins (the URL option)."""
    backend = SQLMetadataBackend.from_url(with_option(database_url, "pin_cache_size", "0"))
    assert not backend._pin_cache.enabled
    yield backend
    backend.close()


def _fill(backend: MetadataBackend, count: int = 30) -> list[Pin]:
    start = now_ms() - timedelta(seconds=count)
    made = [
        make_pin(
            owner_id="user-alice" if index % 3 else "user-bob",
            owner="alice" if index % 3 else "bob",
            title=f"pin {index}",
            tags=["cats"] if index % 2 else ["cats", "dogs"],
            visibility="private" if index % 5 == 0 else "public",
            created_at=start + timedelta(seconds=index),
        )
        for index in range(count)
    ]
    board = backend.create_board(make_board("Trips", visibility="private"))
    backend.insert_pins(
        [
            (pin, [board.id] if pin.owner_id == "user-alice" and n % 4 == 0 else [])
            for n, pin in enumerate(made)
        ]
    )
    return made


def _every_page(
    backend: MetadataBackend, text: str, access: AccessRule, limit: int = 7
) -> list[tuple[list[Pin], bool]]:
    """Every page of a search, with whether it said more follow."""
    query = parse_query(text)
    pages: list[tuple[list[Pin], bool]] = []
    after = None
    while True:
        items, more = backend.search_page(query, access, limit=limit, after=after)
        pages.append((items, more))
        if not more:
            return pages
        after = items[-1].id


@pytest.mark.parametrize("access", [ALICE, BOB, EVERYTHING], ids=["alice", "bob", "admin"])
@pytest.mark.parametrize("text", ["tag:cats", "tag:cats tag:dogs", "pin", "order:oldest"])
def test_probed_pages_are_the_pages_read_whole(
    backend: SQLMetadataBackend, uncached: SQLMetadataBackend, access: AccessRule, text: str
) -> None:
    _fill(backend)
    expected = _every_page(uncached, text, access)
    assert expected
    first = _every_page(backend, text, access)  # nothing kept yet: every row read
    again = _every_page(backend, text, access)  # everything kept: ids and revisions only
    assert first == expected
    assert again == expected
    assert len(expected) > 1  # several pages, the last saying no more follow
    assert [pin.boards for items, _ in again for pin in items] == [
        pin.boards for items, _ in expected for pin in items
    ]


def test_a_kept_pin_shows_the_boards_each_caller_may_see(backend: SQLMetadataBackend) -> None:
    _fill(backend)
    query = parse_query("tag:cats")
    as_alice, _ = backend.search_page(query, ALICE, limit=50)
    on_board = [pin for pin in as_alice if pin.boards]
    assert on_board
    assert all(pin.boards == ("Trips",) for pin in on_board)
    as_bob, _ = backend.search_page(query, BOB, limit=50)
    seen_by_bob = {pin.id: pin for pin in as_bob}
    for pin in on_board:
        if pin.id in seen_by_bob:  # public: Bob sees the pin, not Alice's private board
            assert seen_by_bob[pin.id].boards == ()
            assert seen_by_bob[pin.id].title == pin.title
    as_alice_again, _ = backend.search_page(query, ALICE, limit=50)
    assert as_alice_again == as_alice


@pytest.mark.parametrize("probing", [True, False], ids=["probing", "reading-rows"])
def test_a_change_made_by_another_process_is_seen_at_once(
    backend: SQLMetadataBackend, elsewhere: SQLMetadataBackend, probing: bool
) -> None:
    if not probing:
        backend._pin_cache = PinCache(4096)
    pins = _fill(backend)
    query = parse_query("tag:cats")
    before, _ = backend.search_page(query, EVERYTHING, limit=50)
    target = pins[-1]
    assert before[0].id == target.id
    elsewhere.update_pin(
        target.id,
        PinChanges(title="renamed", thumbnails=(320,), processing="ready", updated_at=now_ms()),
    )
    after, _ = backend.search_page(query, EVERYTHING, limit=50)
    assert after[0].title == "renamed"
    assert after[0].thumbnails == (320,)
    assert after[1:] == before[1:]
    elsewhere.update_pin(target.id, PinChanges(visibility="private", updated_at=now_ms()))
    as_bob, _ = backend.search_page(query, BOB, limit=50)
    assert target.id not in {pin.id for pin in as_bob}
    elsewhere.delete_pin(pins[-2].id)
    remaining, _ = backend.search_page(query, EVERYTHING, limit=50)
    assert pins[-2].id not in {pin.id for pin in remaining}


def test_an_update_written_by_hand_draws_a_new_revision(
    backend: SQLMetadataBackend, database_url: str
) -> None:
    pins = _fill(backend)
    query = parse_query("tag:cats")
    backend.search_page(query, EVERYTHING, limit=50)
    engine = backend._db.engine
    with engine.begin() as conn:
        key = conn.execute(sa.text("SELECT max(id) FROM pins")).scalar_one()
        old = conn.execute(sa.text("SELECT revision FROM pins WHERE id = :k"), {"k": key})
        revision = old.scalar_one()
        conn.execute(sa.text("UPDATE pins SET title = 'fixed by hand' WHERE id = :k"), {"k": key})
        new = conn.execute(sa.text("SELECT revision FROM pins WHERE id = :k"), {"k": key})
        assert new.scalar_one() != revision
    after, _ = backend.search_page(query, EVERYTHING, limit=50)
    assert after[0].id == pins[-1].id
    assert after[0].title == "fixed by hand"


def test_a_row_changed_between_probe_and_read_is_read_again(
    backend: SQLMetadataBackend, elsewhere: SQLMetadataBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    pins = _fill(backend)
    query = parse_query("tag:cats")
    plans = backend._plans
    real = plans.pins_by_key
    changed: list[int] = []

    def change_then_read(keys: Any) -> Any:
        # Another process writes one of the missing pins after the probe read its revision.
        if not changed:
            changed.append(keys[0])
            elsewhere.update_pin(pins[-1].id, PinChanges(title="raced", updated_at=now_ms()))
        return real(keys)

    monkeypatch.setattr(plans, "pins_by_key", change_then_read)
    items, _ = backend.search_page(query, EVERYTHING, limit=5)
    assert changed
    assert items[0].id == pins[-1].id
    assert items[0].title == "raced"


def test_pins_built_again_for_new_revisions_replace_the_old(backend: SQLMetadataBackend) -> None:
    pins = _fill(backend, count=5)
    query = parse_query("")
    backend.search_page(query, EVERYTHING, limit=10)
    assert len(backend._pin_cache) == 5
    backend.update_pin(pins[0].id, PinChanges(title="new", updated_at=now_ms()))
    assert len(backend._pin_cache) == 4  # forgotten here at once
    backend.search_page(query, EVERYTHING, limit=10)
    assert len(backend._pin_cache) == 5


class TestSQLMetadataProbing(MetadataBackendSuite):
    """The whole metadata suite with every search reading ids and revisions first."""

    @pytest.fixture
    def backend(self, database_url: str) -> Iterator[MetadataBackend]:
        backend = SQLMetadataBackend.from_url(database_url)
        backend._pin_cache = AlwaysProbing(4096)
        yield backend
        backend.close()


def test_a_pin_built_from_an_unknown_revision_is_not_kept() -> None:
    cache = PinCache(10)
    cache.put_many([(1, UNKNOWN_REVISION, make_pin())])
    assert len(cache) == 0


def test_revisions_do_not_follow_the_process_random_seed() -> None:
    random.seed(7)
    first = [new_revision() for _ in range(3)]
    random.seed(7)
    again = [new_revision() for _ in range(3)]
    assert first != again
    assert all(0 < value < 2**62 for value in first + again)


def test_searches_start_probing_once_they_find_their_pins(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = SQLMetadataBackend.from_url(database_url)
    try:
        _fill(backend)
        probes: list[bool] = []
        real = backend._plans.search

        def spy(*args: Any, **kwargs: Any) -> Any:
            probes.append(kwargs.get("probe", False))
            return real(*args, **kwargs)

        monkeypatch.setattr(backend._plans, "search", spy)
        query = parse_query("tag:cats")
        answers = [backend.search_page(query, ALICE, limit=5) for _ in range(12)]
        assert probes[0] is False  # nothing kept yet
        assert probes[-1] is True  # every pin found kept, again and again
        assert all(answer == answers[0] for answer in answers)
    finally:
        backend.close()


def test_rows_inserted_without_a_revision_get_one(backend: SQLMetadataBackend) -> None:
    pins = _fill(backend, count=3)
    query = parse_query("")
    backend.search_page(query, EVERYTHING, limit=10)
    with backend._db.engine.begin() as conn:
        # A process of the previous version deletes a pin and imports it again, changed,
        # without knowing the column.
        row = dict(
            conn.execute(sa.select(tables.pins).where(tables.pins.c.id == _key(pins[0])))
            .mappings()
            .one()
        )
        conn.execute(tables.pins.delete().where(tables.pins.c.id == row["id"]))
        row.pop("revision")
        row["title"] = "imported again"
        conn.execute(tables.pins.insert().values(row))
        revision = conn.execute(
            sa.select(tables.pins.c.revision).where(tables.pins.c.id == row["id"])
        ).scalar_one()
    assert revision != UNKNOWN_REVISION
    items, _ = backend.search_page(query, EVERYTHING, limit=10)
    assert {pin.id: pin.title for pin in items}[pins[0].id] == "imported again"


def test_an_upgrade_gives_existing_pins_distinct_revisions(database_url: str) -> None:
    backend = SQLMetadataBackend.from_url(database_url)
    try:
        _fill(backend, count=5)
        database = backend._db
        with database.write() as conn:
            command.downgrade(migrate._config(conn, "metadata"), "m0006")
        upgrade_schema(database_url, "metadata")
        with database.read() as conn:
            revisions = conn.execute(sa.select(tables.pins.c.revision)).scalars().all()
        assert len(revisions) == 5
        assert UNKNOWN_REVISION not in revisions
        assert len(set(revisions)) == 5
    finally:
        backend.close()


def _key(pin: Pin) -> int:
    key = pin_key(pin.id)
    assert key is not None
    return key
