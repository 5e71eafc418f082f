"""One-word searches on PostgreSQL: the way to read them is chosen from ANALYZE's word
frequencies, and either way (served by a generic plan) answers exactly what the word asks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest

from pinsphere.backends.sql.metadata import SQLMetadataBackend
from pinsphere.backends.sql.words import (
    REFRESH_SECONDS,
    SORT_MATCHES,
    WALK_PINS,
    WordFrequencies,
    WordPlans,
    single_word,
    way_for,
)
from pinsphere.errors import BackendUnavailable
from pinsphere.policy import AccessRule
from pinsphere.search import parse_query
from pinsphere.testing.factories import EVERYTHING, make_pin, signed_in
from store_support import postgres_url

# -- the choice, without a database -----------------------------------------------------------


def test_a_frequent_word_walks_the_pins_and_a_rare_one_sorts_its_matches() -> None:
    assert way_for(0.5, 1_000_000, 21) is WALK_PINS
    assert way_for(0.027, 1_000_000, 21) is WALK_PINS
    assert way_for(0.0005, 1_000_000, 21) is SORT_MATCHES
    # The same share of a small table: sorting its few matches is cheaper.
    assert way_for(0.027, 1_000, 21) is SORT_MATCHES


def test_a_larger_page_tips_the_balance_towards_sorting() -> None:
    share = 0.003
    assert way_for(share, 1_000_000, 21) is WALK_PINS
    assert way_for(share, 1_000_000, 1_000) is SORT_MATCHES


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("cats", "cats"),
        ("CATS", "cats"),
        ("cats dogs", None),
        ('"sleepy cats"', None),
        ("-cats", None),
        ("tag:pets cats", None),
        ("cats before:2024-01-01", None),
        ("tag:pets", None),
        ("", None),
    ],
)
def test_only_a_search_of_one_positive_word_is_chosen_for(text: str, word: str | None) -> None:
    assert single_word(parse_query(text)) == word


def test_frequencies_are_read_from_a_pg_stats_row() -> None:
    # most_common_elem_freqs ends with the smallest and largest share and the empty share.
    found = WordFrequencies.from_statistics(["cats", "dogs"], [0.5, 0.25, 0.25, 0.5, 0.0], 400)
    assert found == WordFrequencies(shares={"cats": 0.5, "dogs": 0.25}, rows=400.0)
    assert WordFrequencies.from_statistics(None, None, 400) is None
    assert WordFrequencies.from_statistics([], [], 400) is None
    assert WordFrequencies.from_statistics(["cats"], [0.5, 0.5, 0.5, 0.0], 0) is None
    assert WordFrequencies.from_statistics(["cats"], [0.5, 0.5, 0.5, 0.0], -1) is None


class _Reader:
    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self._rows = rows

    def rows(self, sql: str, parameters: Any) -> list[tuple[Any, ...]]:
        assert "pg_stats" in sql
        return self._rows


class _Database:
    """Answers the statistics query with fixed rows and counts how often it was asked."""

    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self.rows = rows
        self.reads = 0

    @contextmanager
    def reader(self) -> Iterator[_Reader]:
        self.reads += 1
        yield _Reader(self.rows)


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_frequencies_are_read_once_then_again_when_due() -> None:
    database = _Database([(["cats"], [0.5, 0.5, 0.5, 0.0], 1_000_000.0)])
    clock = _Clock()
    plans = WordPlans(database, clock=clock)  # type: ignore[arg-type]
    assert plans.choose(parse_query("cats"), 21) is WALK_PINS
    assert plans.choose(parse_query("dogs"), 21) is SORT_MATCHES  # rarer than any listed
    assert database.reads == 1
    clock.now += REFRESH_SECONDS - 1
    plans.choose(parse_query("cats"), 21)
    assert database.reads == 1
    database.rows = [(["cats"], [0.00001, 0.00001, 0.00001, 0.0], 1_000_000.0)]
    clock.now += 1
    assert plans.choose(parse_query("cats"), 21) is SORT_MATCHES
    assert database.reads == 2
    plans.forget()
    plans.choose(parse_query("cats"), 21)
    assert database.reads == 3


def test_statistics_that_cannot_be_read_leave_searches_planned_for_their_word() -> None:
    class Refusing(_Database):
        @contextmanager
        def reader(self) -> Iterator[_Reader]:
            self.reads += 1
            raise BackendUnavailable("permission denied for pg_stats")
            yield _Reader([])  # pragma: no cover - never reached

    database = Refusing([])
    clock = _Clock()
    plans = WordPlans(database, clock=clock)  # type: ignore[arg-type]
    assert plans.choose(parse_query("cats"), 21) is None
    assert plans.choose(parse_query("cats"), 21) is None
    assert database.reads == 1  # not once per search
    clock.now += REFRESH_SECONDS
    assert plans.choose(parse_query("cats"), 21) is None
    assert database.reads == 2


def test_without_statistics_a_search_is_planned_for_its_word() -> None:
    database = _Database([])
    plans = WordPlans(database)  # type: ignore[arg-type]
    assert plans.choose(parse_query("cats"), 21) is None
    assert plans.choose(parse_query("tag:cats"), 21) is None
    assert database.reads == 1


# -- both ways on PostgreSQL, through generic plans ----------------------------------------------


def _analyze(url: str) -> None:
    plain = postgres_url().replace("postgresql+psycopg://", "postgresql://", 1)
    schema = url.rsplit("schema=", 1)[1].split("&", 1)[0]
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'ANALYZE "{schema}".pins')


def _titled(index: int) -> str:
    words = ["common"]
    if index % 5 == 0:
        words.append("middling")
    if index in (7, 150, 290):
        words.append("seldom")
    return " ".join(words)


def test_either_way_answers_exactly_the_word(postgres_schema_url: str) -> None:
    backend = SQLMetadataBackend.from_url(postgres_schema_url)
    try:
        made = [
            make_pin(
                title=_titled(index),
                owner_id="user-alice" if index % 3 else "user-bob",
                visibility="public" if index % 2 else "private",
            )
            for index in range(300)
        ]
        backend.insert_pins([(pin, ()) for pin in made])
        _analyze(postgres_schema_url)
        words = backend._words
        assert words is not None
        words.forget()
        assert words.choose(parse_query("common"), 21) is WALK_PINS
        assert words.choose(parse_query("middling"), 21) is WALK_PINS
        assert words.choose(parse_query("seldom"), 21) is SORT_MATCHES
        assert words.choose(parse_query("nowhere"), 21) is SORT_MATCHES

        bob = signed_in("user-bob")
        # psycopg prepares a statement after five runs; then the generic plan answers.
        for _ in range(7):
            for word in ("common", "middling", "seldom", "nowhere"):
                for access in (EVERYTHING, bob):
                    _check_word(backend, made, word, access)
    finally:
        backend.close()


def _check_word(
    backend: SQLMetadataBackend, made: list[Any], word: str, access: AccessRule
) -> None:
    seen = [
        p
        for p in made
        if word in p.title.split()
        and (access.everything or p.visibility == "public" or p.owner_id == access.owner_id)
    ]
    newest = sorted((p.id for p in seen), reverse=True)
    query = parse_query(word)
    page, more = backend.search_page(query, access, limit=7)
    assert [p.id for p in page] == newest[:7]
    assert more == (len(newest) > 7)
    if newest:
        after = backend.search_pins(query, access, limit=7, after=newest[0])
        assert [p.id for p in after] == newest[1:8]
    oldest = backend.search_pins(parse_query(f"{word} order:oldest"), access, limit=7)
    assert [p.id for p in oldest] == sorted(newest)[:7]
