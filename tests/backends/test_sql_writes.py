"""What a pin writes: its tag index rows (every tag and ancestor, direct or not), and its
values as SQLite stores them."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from pinsphere.backends.sql.metadata import SQLMetadataBackend
from pinsphere.backends.sql.writes import expand_tags
from pinsphere.testing.factories import EVERYTHING, make_pin

_SEGMENTS = st.sampled_from(["a", "b", "cats", "x"])
_TAGS = st.lists(st.lists(_SEGMENTS, min_size=1, max_size=3).map("/".join), max_size=6)


@given(_TAGS)
def test_every_ancestor_is_indexed_and_only_given_tags_are_direct(tags: list[str]) -> None:
    expected: dict[str, bool] = {}
    for tag in tags:
        parts = tag.split("/")
        for depth in range(1, len(parts) + 1):
            ancestor = "/".join(parts[:depth])
            expected[ancestor] = expected.get(ancestor, False) or ancestor in tags
    assert expand_tags(tags) == expected


def test_sqlite_stores_times_and_flags_as_sqlalchemy_would(sqlite_url: str) -> None:
    backend = SQLMetadataBackend.from_url(sqlite_url)
    try:
        at = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
        pin = make_pin(tags=["a/b"], created_at=at)
        backend.insert_pins([(pin, ())])
        with backend.engine.connect() as conn:
            stored = conn.exec_driver_sql("SELECT created_at, updated_at FROM pins").one()
            flags = conn.exec_driver_sql("SELECT tag, direct FROM pin_tags ORDER BY tag").all()
        assert tuple(stored) == ("2026-03-04 05:06:07.000000", "2026-03-04 05:06:07.000000")
        assert [tuple(row) for row in flags] == [("a", 0), ("a/b", 1)]
        assert backend.get_pin(pin.id, EVERYTHING) == pin
    finally:
        backend.close()
