"""Rows to models and models to rows, cheaply.

Rows come from tables only this backend writes, after the models were validated on the way
in, so results are built without a second validation: ``model_construct``, or on the search
path (:func:`pin_from_record`) the same thing done directly, which costs a fifth as much; on
a page of pins, building results was most of the cost above the query itself.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from pinsphere.backends.sql.tables import boards, pins, users
from pinsphere.ids import decode_id, encode_id
from pinsphere.models import Board, Media, Pin, User
from pinsphere.text import search_words
from pinsphere.trusted import TrustedMaker

__all__ = [
    "BOARD_COLUMNS",
    "PIN_COLUMNS",
    "PROBE_COLUMNS",
    "USER_COLUMNS",
    "board_from_row",
    "join_tags",
    "new_revision",
    "pin_from_record",
    "pin_from_row",
    "pin_key",
    "pin_values",
    "pin_with_boards",
    "record_boards",
    "split_tags",
    "sqlite_pin_record",
    "to_utc",
    "user_from_row",
]

# Signed 64-bit columns on both databases; 62 random bits stay clear of the sign. A private
# generator, seeded from the system's entropy and again in every forked child, so that no
# random.seed() elsewhere in the process, nor a pre-forked server, can repeat a sequence.
_REVISION_BITS = 62
_revision_source = random.Random()
os.register_at_fork(after_in_child=_revision_source.seed)
_revisions = _revision_source.getrandbits

# Tags may not hold control characters, so a newline can never be part of one.
_TAG_SEPARATOR = "\n"

# What a Pin is made of: not the search document, nor the media kind (derived from the type).
PIN_COLUMNS: tuple[sa.Column[Any], ...] = tuple(
    column for column in pins.columns if column.name not in ("search_doc", "media_kind")
)
# What a search reads of pins a caller may hold already: the key and the revision.
PROBE_COLUMNS: tuple[sa.Column[Any], ...] = (pins.c.id, pins.c.revision)
BOARD_COLUMNS: tuple[sa.Column[Any], ...] = tuple(boards.columns)
# pin_from_record reads PIN_COLUMNS by position and sqlite_pin_record writes every column by
# position: a change to the table must change them too.
assert tuple(column.name for column in pins.columns) == (
    "id",
    "owner_id",
    "owner",
    "title",
    "description",
    "visibility",
    "mime_type",
    "media_kind",
    "size",
    "sha256",
    "width",
    "height",
    "duration",
    "blurhash",
    "tags",
    "thumbnails",
    "search_doc",
    "created_at",
    "updated_at",
    "processing",
    "frame_count",
    "codec",
    "camera",
    "taken_at",
    "revision",
), "the pins columns changed: update pin_from_record and sqlite_pin_record"
USER_COLUMNS: tuple[sa.Column[Any], ...] = tuple(
    column
    for column in users.columns
    if column.name not in ("password_hash", "username_key", "email_key")
)


def new_revision() -> int:
    """A fresh value for ``pins.revision``: random, so that no two writes of a pin (even of
    a pin deleted and imported again under its id) share one, in any process."""
    # 0 is what a row written without one holds (see PinCache): never drawn.
    return _revisions(_REVISION_BITS) or 1


def to_utc(value: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already.

    SQLite stores datetimes without their offset, so every value is written in UTC.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


pin_key = decode_id
"""The integer key of a public pin id, or ``None`` when it is not well-formed."""


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
        "processing": pin.processing,
        "frame_count": media.frame_count,
        "codec": media.codec,
        "camera": media.camera,
        "taken_at": media.taken_at,
        "revision": new_revision(),
    }


def sqlite_pin_record(pin: Pin, key: int) -> tuple[Any, ...]:
    """The ``pins`` row of a pin exactly as SQLite stores it, in column order.

    What :func:`pin_values` gives once the columns' bind conversions ran, made in one pass:
    a bulk import makes one per pin, and the dict and conversions cost more than SQLite's
    insert.
    """
    media = pin.media
    duration = media.duration
    taken_at = media.taken_at
    created = _sqlite_time(pin.created_at)
    updated = created if pin.updated_at == pin.created_at else _sqlite_time(pin.updated_at)
    return (
        key,
        pin.owner_id,
        pin.owner,
        pin.title,
        pin.description,
        pin.visibility,
        media.mime_type,
        media.kind,
        media.size,
        media.sha256,
        media.width,
        media.height,
        None if duration is None else float(duration),
        media.blurhash,
        join_tags(pin.tags),
        _join_ints(pin.thumbnails),
        " ".join(search_words(pin.title, pin.description, pin.tags)),
        created,
        updated,
        pin.processing,
        media.frame_count,
        media.codec,
        media.camera,
        None if taken_at is None else taken_at.isoformat(),
        new_revision(),
    )


def _sqlite_time(value: datetime) -> str:
    # SQLAlchemy's SQLite form: UTC fields, microseconds always, no offset.
    utc = value if value.tzinfo is UTC else to_utc(value)
    return utc.isoformat(" ", "microseconds")[:26]


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
        frame_count=row["frame_count"],
        codec=row["codec"],
        camera=row["camera"],
        taken_at=_exif_time(row["taken_at"]),
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
        processing=row["processing"],
        created_at=to_utc(row["created_at"]),
        updated_at=to_utc(row["updated_at"]),
    )


def _exif_time(stored: datetime | str | None) -> datetime | None:
    """A photo's EXIF time from its column: parsed already through
    :class:`~pinsphere.backends.sql.tables.ExifTime`, or its ISO text from the driver."""
    if stored is None or isinstance(stored, datetime):
        return stored
    return _from_iso(stored)


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


def user_from_row(row: Mapping[Any, Any]) -> User:
    """A user from its ``users`` row (columns :data:`USER_COLUMNS`), as SQLAlchemy or the
    driver returns it (SQLite's driver gives datetimes as text)."""
    created_at = row["created_at"]
    if isinstance(created_at, str):
        created_at = datetime.fromisoformat(created_at)
    return User.model_construct(
        id=row["id"],
        username=row["username"],
        email=row["email"],
        role=row["role"],
        disabled=bool(row["disabled"]),
        created_at=to_utc(created_at),
    )


_new_pin = TrustedMaker(Pin)
_new_media = TrustedMaker(Media)


def _board_names(stored: str | Sequence[str]) -> tuple[str, ...]:
    """Board names as SQLite (newline-separated text) or PostgreSQL (an array) return them."""
    names = stored.split(_TAG_SEPARATOR) if isinstance(stored, str) else stored
    return tuple(sorted(names)) if len(names) > 1 else tuple(names)


def record_boards(stored: str | Sequence[str] | None) -> tuple[str, ...]:
    """The board names of a search row's last column, as :attr:`Pin.boards` holds them."""
    return () if stored is None else _board_names(stored)


def pin_with_boards(pin: Pin, names: tuple[str, ...]) -> Pin:
    """``pin`` showing these board names (another caller sees other boards)."""
    values = dict(pin.__dict__)
    values["boards"] = names
    return _new_pin(values)


def pin_from_record(row: Sequence[Any], *, sqlite: bool) -> Pin:
    """A pin from a driver-level search row: :data:`PIN_COLUMNS`, then its board names.

    The hottest code of a search (once per pin of a page): instances are made directly, the
    common empty values tested inline.
    """
    (
        key,
        owner_id,
        owner,
        title,
        description,
        visibility,
        mime_type,
        size,
        sha256,
        width,
        height,
        duration,
        blurhash,
        tags,
        thumbnails,
        created_at,
        updated_at,
        processing,
        frame_count,
        codec,
        camera,
        taken_at,
        _revision,
        board_names,
    ) = row
    if sqlite:
        # SQLAlchemy writes SQLite datetimes as ISO text in UTC, without the offset.
        created = _from_iso(created_at + "+00:00")
        updated = created if updated_at == created_at else _from_iso(updated_at + "+00:00")
    else:
        # psycopg gives timestamptz in the session's time zone, which is set to UTC.
        created = created_at if created_at.tzinfo is UTC else to_utc(created_at)
        updated = updated_at if updated_at.tzinfo is UTC else to_utc(updated_at)
    media = _new_media(
        {
            "mime_type": mime_type,
            "size": size,
            "sha256": sha256,
            "width": width,
            "height": height,
            "duration": duration,
            "blurhash": blurhash,
            "frame_count": frame_count,
            "codec": codec,
            "camera": camera,
            "taken_at": None if taken_at is None else _exif_time(taken_at),
        }
    )
    return _new_pin(
        {
            "id": encode_id(key),
            "owner_id": owner_id,
            "owner": owner,
            "title": title,
            "description": description,
            "tags": tuple(tags.split(_TAG_SEPARATOR)) if tags else (),
            "boards": () if board_names is None else _board_names(board_names),
            "visibility": visibility,
            "media": media,
            "thumbnails": _split_ints(thumbnails) if thumbnails else (),
            "processing": processing,
            "created_at": created,
            "updated_at": updated,
        }
    )


_from_iso = datetime.fromisoformat
