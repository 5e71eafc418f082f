"""What a pin writes: its tag index rows (every tag and ancestor, direct or not), and its
values as SQLite stores them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from pinsphere.backends.sql.metadata import SQLMetadataBackend
from pinsphere.backends.sql.rows import pin_key, pin_values, sqlite_pin_record
from pinsphere.backends.sql.tables import pins
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


@pytest.mark.parametrize(
    "media_facts",
    [
        {},
        {
            "duration": 12,
            "blurhash": "LEHV6nWB2yk8pyo0adR*.7kCMdnj",
            "frame_count": 300,
            "codec": "h264",
            "camera": "Canon EOS",
            "taken_at": datetime(2025, 12, 24, 10, 0, tzinfo=timezone(timedelta(hours=1))),
        },
        {"taken_at": datetime(2025, 12, 24, 10, 0)},
    ],
)
def test_the_one_pass_sqlite_record_is_the_converted_row(media_facts: dict[str, Any]) -> None:
    pin = make_pin(
        title="Sleepy cat",
        description="on a sofa",
        tags=["animals/cats", "sofa"],
        created_at=datetime(2026, 3, 4, 5, 6, 7, 890, tzinfo=timezone(timedelta(hours=2))),
    )
    pin = pin.model_copy(
        update={
            "media": pin.media.model_copy(update=media_facts),
            "thumbnails": (320, 640),
            "processing": "pending",
        }
    )
    key = pin_key(pin.id)
    assert key is not None
    dialect = sa.create_engine("sqlite://").dialect
    values = pin_values(pin, key)
    expected = tuple(
        (column.type.dialect_impl(dialect).bind_processor(dialect) or (lambda value: value))(
            values[column.name]
        )
        for column in pins.columns
    )
    record = sqlite_pin_record(pin, key)
    # Every write draws its own revision: the rest is the same.
    assert record[:-1] == expected[:-1]
    assert pins.columns.keys()[-1] == "revision"
    assert {type(record[-1]), type(expected[-1])} == {int}
    assert 0 <= record[-1] < 2**62
    assert record[-1] != expected[-1]
