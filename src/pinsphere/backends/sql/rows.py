"""Rows to models and models to rows, cheaply.

Rows come from tables only this backend writes, after the models were validated on the way
in, so results are built with ``model_construct`` (no second validation): on a page of pins
that is most of the cost above the query itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from pinsphere.backends.sql.tables import boards, pins, users
from pinsphere.ids import decode_id, encode_id
from pinsphere.models import Board, Media, Pin, User
from pinsphere.text import search_words

__all__ = [
    "BOARD_COLUMNS",
    "PIN_COLUMNS",
    "USER_COLUMNS",
    "board_from_row",
    "join_tags",
    "pin_from_row",
    "pin_key",
    "pin_values",
    "split_tags",
    "to_utc",
    "user_from_row",
]

# Tags may not hold control characters, so a newline can never be part of one.
_TAG_SEPARATOR = "\n"

PIN_COLUMNS: tuple[sa.Column[Any], ...] = tuple(
    column for column in pins.columns if column.name != "search_doc"
)
BOARD_COLUMNS: tuple[sa.Column[Any], ...] = tuple(boards.columns)
USER_COLUMNS: tuple[sa.Column[Any], ...] = tuple(
    column
    for column in users.columns
    if column.name not in ("password_hash", "username_key", "email_key")
)


def to_utc(value: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already.

    SQLite stores datetimes without their offset, so every value is written in UTC.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def pin_key(pin_id: str) -> int | None:
    """The integer key of a public pin id, or ``None`` when it is not well-formed."""
    return decode_id(pin_id)


def join_tags(tags: Sequence[str]) -> str:
    """The stored form of a pin's direct tags."""
    return _TAG_SEPARATOR.join(tags)


def split_tags(stored: str) -> tuple[str, ...]:
    """The direct tags from their stored form."""
    return tuple(stored.split(_TAG_SEPARATOR)) if stored else ()


def _join_ints(values: Sequence[int]) -> str:
    return ",".join(str(value) for value in values)


def _split_ints(stored: str) -> tuple[int, ...]:
    return tuple(int(value) for value in stored.split(",")) if stored else ()


def pin_values(pin: Pin, key: int) -> dict[str, Any]:
    """The ``pins`` row of a pin."""
    media = pin.media
    return {
        "id": key,
        "owner_id": pin.owner_id,
        "owner": pin.owner,
        "title": pin.title,
        "description": pin.description,
        "visibility": pin.visibility,
        "mime_type": media.mime_type,
        "media_kind": media.kind,
        "size": media.size,
        "sha256": media.sha256,
        "width": media.width,
        "height": media.height,
        "duration": media.duration,
        "blurhash": media.blurhash,
        "tags": join_tags(pin.tags),
        "thumbnails": _join_ints(pin.thumbnails),
        "search_doc": search_words(pin.title, pin.description, pin.tags),
        "created_at": to_utc(pin.created_at),
        "updated_at": to_utc(pin.updated_at),
    }


def pin_from_row(row: RowMapping, boards_of_pin: Sequence[str] = ()) -> Pin:
    """A pin from its ``pins`` row (columns :data:`PIN_COLUMNS`) and its board names."""
    media = Media.model_construct(
        mime_type=row["mime_type"],
        size=row["size"],
        sha256=row["sha256"],
        width=row["width"],
        height=row["height"],
        duration=row["duration"],
        blurhash=row["blurhash"],
    )
    return Pin.model_construct(
        id=encode_id(row["id"]),
        owner_id=row["owner_id"],
        owner=row["owner"],
        title=row["title"],
        description=row["description"],
        tags=split_tags(row["tags"]),
        boards=tuple(boards_of_pin),
        visibility=row["visibility"],
        media=media,
        thumbnails=_split_ints(row["thumbnails"]),
        created_at=to_utc(row["created_at"]),
        updated_at=to_utc(row["updated_at"]),
    )


def board_from_row(row: RowMapping, pin_count: int) -> Board:
    """A board from its ``boards`` row and the number of pins the caller sees on it."""
    return Board.model_construct(
        id=row["id"],
        owner_id=row["owner_id"],
        owner=row["owner"],
        name=row["name"],
        description=row["description"],
        visibility=row["visibility"],
        pin_count=pin_count,
        created_at=to_utc(row["created_at"]),
    )


def user_from_row(row: RowMapping) -> User:
    """A user from its ``users`` row (columns :data:`USER_COLUMNS`)."""
    return User.model_construct(
        id=row["id"],
        username=row["username"],
        email=row["email"],
        role=row["role"],
        disabled=bool(row["disabled"]),
        created_at=to_utc(row["created_at"]),
    )
