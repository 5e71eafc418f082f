"""Pins built from search rows without validation behave exactly like validated pins."""

from __future__ import annotations

from datetime import UTC, datetime

from pinsphere.backends.sql.rows import pin_from_record
from pinsphere.ids import encode_id, new_id
from pinsphere.models import Media, Pin

KEY = new_id()
CREATED = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
UPDATED = datetime(2026, 1, 3, 3, 4, 5, tzinfo=UTC)


def _sqlite_record(board_names: str | None) -> tuple[object, ...]:
    return (
        KEY,
        "u-1",
        "alice",
        "A title",
        "words",
        "public",
        "image/jpeg",
        1234,
        "a" * 64,
        640,
        480,
        None,
        "LEHV6nWB2yk8pyo0adR*.7kCMdnj",
        "animals/cats\nsunset",
        "320,640",
        "2026-01-02 03:04:05.123456",
        "2026-01-03 03:04:05",
        "ready",
        None,
        None,
        "Canon EOS",
        "2025-12-24T10:00:00+01:00",
        123456789,
        board_names,
    )


def _validated(boards: tuple[str, ...]) -> Pin:
    return Pin.model_validate(
        {
            "id": encode_id(KEY),
            "owner_id": "u-1",
            "owner": "alice",
            "title": "A title",
            "description": "words",
            "tags": ("animals/cats", "sunset"),
            "boards": boards,
            "visibility": "public",
            "media": Media(
                mime_type="image/jpeg",
                size=1234,
                sha256="a" * 64,
                width=640,
                height=480,
                blurhash="LEHV6nWB2yk8pyo0adR*.7kCMdnj",
                camera="Canon EOS",
                taken_at=datetime.fromisoformat("2025-12-24T10:00:00+01:00"),
            ),
            "thumbnails": (320, 640),
            "processing": "ready",
            "created_at": CREATED,
            "updated_at": UPDATED,
        }
    )


def test_a_built_pin_equals_the_validated_pin() -> None:
    built = pin_from_record(_sqlite_record("Trips\nCats"), sqlite=True)
    expected = _validated(("Cats", "Trips"))
    assert built == expected
    assert built.model_dump() == expected.model_dump()
    assert built.model_dump_json() == expected.model_dump_json()
    assert hash(built) == hash(expected)
    assert built.model_fields_set == expected.model_fields_set


def test_no_board_and_one_board() -> None:
    assert pin_from_record(_sqlite_record(None), sqlite=True).boards == ()
    assert pin_from_record(_sqlite_record("Trips"), sqlite=True).boards == ("Trips",)


def test_postgresql_values_come_as_objects() -> None:
    record = list(_sqlite_record(["Trips", "Cats"]))
    record[15], record[16] = CREATED, UPDATED
    built = pin_from_record(tuple(record), sqlite=False)
    assert built == _validated(("Cats", "Trips"))


def test_copies_do_not_share_what_they_change() -> None:
    first = pin_from_record(_sqlite_record(None), sqlite=True)
    second = pin_from_record(_sqlite_record(None), sqlite=True)
    changed = first.model_copy(update={"title": "Other"})
    assert changed.title == "Other"
    assert (first.title, second.title) == ("A title", "A title")
    assert first.model_fields_set == second.model_fields_set == set(Pin.model_fields)
