"""The physical schema, as SQLAlchemy Core sees it (the migrations create it).

Design, measured rather than guessed (see ``tests/backends/test_sql_backends.py`` for the
query plans the tests hold it to):

* ``pins`` is keyed by the 62-bit integer pin id (SQLite: ``INTEGER PRIMARY KEY``, the rowid),
  so "newest first" and keyset pages are a walk of the primary key. Direct tags and thumbnail
  widths are stored in the row, so a page of pins needs no query per pin for them; the owner's
  username is copied in at insert because users live in another backend.
* ``pin_tags`` holds one row per (tag or ancestor, pin), primary key ``(tag, pin_id)`` (SQLite
  ``WITHOUT ROWID``): ``tag:animals`` is one exact range, already in time order because pin ids
  are. ``direct`` tells explicit tags from ancestors (for tag counts). The pin's owner and
  visibility are copied into each row so that the access rule is checked inside the index
  walk and tag counts never touch ``pins``; the backend keeps them in step on update.
* ``tag_sizes`` holds the number of ``pin_tags`` rows of each tag, whatever their visibility,
  updated in the same transaction as ``pin_tags``: a search with several tags reads it (one
  primary-key lookup) to walk the rarest tag's index and probe the others, instead of
  counting index entries per search.
* Free text: SQLite has an external-content FTS5 table ``pins_fts`` (rowid = pin id, so
  ``ORDER BY rowid DESC`` walks time order) over ``pins.search_doc``, the space-joined
  :func:`pinsphere.text.search_words`, written with each batch of pins by the backend's one
  insert path (in bulk: a per-row trigger doubled the cost of an import) and kept in step
  on update and delete by triggers; its ``ascii`` tokenizer splits
  only on the spaces put there, so it indexes exactly those words. PostgreSQL stores a
  ``tsvector`` built from the same words (positions included, for phrases) with a GIN index.
* ``pins.revision`` is a random number drawn anew by every write of the row (and by a
  trigger when something else changes the row without drawing one), so that a reader who
  kept a pin built from the row knows from this one column whether it is still current.
* ``boards`` are unique per ``(owner_id, name_key)``; ``board_pins`` is keyed
  ``(board_id, pin_id)`` with a second index ``(pin_id, board_id)`` for a page's board names.
* ``users`` carry case-folded ``username_key`` and ``email_key`` columns with unique indexes.

On PostgreSQL the text columns that are sorted or compared by range use the ``C`` collation,
so that order is code-point order as in SQLite and in Python.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeDecorator

__all__ = [
    "BIGINT_KEY",
    "KEY_TEXT",
    "ExifTime",
    "SearchDocument",
    "board_pins",
    "boards",
    "metadata_schema",
    "pin_tags",
    "pins",
    "pins_fts",
    "tag_sizes",
    "tsvector_literal",
    "users",
    "users_schema",
]

# SQLite makes a column the rowid only when it is declared exactly "INTEGER PRIMARY KEY".
BIGINT_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Byte-order comparison on PostgreSQL too (SQLite's default BINARY collation already is).
KEY_TEXT = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")

# PostgreSQL refuses lexemes longer than this and positions above this.
_MAX_LEXEME_BYTES = 2046
_MAX_POSITION = 16383


def tsvector_literal(words: list[str]) -> str:
    """The ``tsvector`` input text for a word sequence, positions kept for phrase search.

    The words are written as quoted lexemes, so PostgreSQL's own parser never re-splits
    them: both backends index exactly :func:`pinsphere.text.search_words`. Words too long
    for PostgreSQL are left out (their positions stay taken so phrases around them hold).
    """
    positions: dict[str, list[int]] = {}
    for index, word in enumerate(words, start=1):
        if len(word.encode()) > _MAX_LEXEME_BYTES:
            continue
        positions.setdefault(word, []).append(min(index, _MAX_POSITION))
    return " ".join(
        "'" + _quote_lexeme(word) + "':" + ",".join(map(str, spots[:255]))
        for word, spots in positions.items()
    )


def _quote_lexeme(word: str) -> str:
    return word.replace("\\", "\\\\").replace("'", "''")


class SearchDocument(TypeDecorator[list[str]]):
    """The searchable words of a pin: space-joined text on SQLite, a ``tsvector`` elsewhere."""

    impl = sa.Text
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.TSVECTOR())
        return dialect.type_descriptor(sa.Text())

    def process_bind_param(self, value: list[str] | None, dialect: sa.Dialect) -> str | None:
        if value is None:
            return None
        if dialect.name == "postgresql":
            return tsvector_literal(value)
        return " ".join(value)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> list[str] | None:
        return None if value is None else str(value).split()


class ExifTime(TypeDecorator[datetime]):
    """A photo's EXIF time as ISO 8601 text, so that it reads back exactly as written.

    The camera's UTC offset is kept when it recorded one, and a naive (camera-local) time
    stays naive: a ``DateTime`` column would turn both into UTC (PostgreSQL) or drop the
    offset (SQLite), and a naive time has no UTC instant to turn into.
    """

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> str | None:
        return None if value is None else value.isoformat()

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> datetime | None:
        return None if value is None else datetime.fromisoformat(str(value))


metadata_schema = sa.MetaData()

pins = sa.Table(
    "pins",
    metadata_schema,
    sa.Column("id", BIGINT_KEY, primary_key=True, autoincrement=False),
    sa.Column("owner_id", KEY_TEXT, nullable=False),
    sa.Column("owner", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("visibility", sa.String(16), nullable=False),
    sa.Column("mime_type", sa.Text, nullable=False),
    sa.Column("media_kind", sa.String(8), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("width", sa.Integer),
    sa.Column("height", sa.Integer),
    sa.Column("duration", sa.Float),
    sa.Column("blurhash", sa.Text),
    sa.Column("tags", sa.Text, nullable=False),
    sa.Column("thumbnails", sa.Text, nullable=False),
    sa.Column("search_doc", SearchDocument, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("processing", sa.String(8), nullable=False, server_default="ready"),
    sa.Column("frame_count", sa.Integer),
    sa.Column("codec", sa.Text),
    sa.Column("camera", sa.Text),
    sa.Column("taken_at", ExifTime),
    sa.Column("revision", BIGINT_KEY, nullable=False, server_default="0"),
)

pin_tags = sa.Table(
    "pin_tags",
    metadata_schema,
    sa.Column("tag", KEY_TEXT, primary_key=True),
    sa.Column("pin_id", BIGINT_KEY, primary_key=True, autoincrement=False),
    sa.Column("direct", sa.Boolean, nullable=False),
    sa.Column("owner_id", sa.Text, nullable=False),
    sa.Column("visibility", sa.String(16), nullable=False),
    sqlite_with_rowid=False,
)

tag_sizes = sa.Table(
    "tag_sizes",
    metadata_schema,
    sa.Column("tag", KEY_TEXT, primary_key=True),
    sa.Column("pins", sa.BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

boards = sa.Table(
    "boards",
    metadata_schema,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("owner_id", KEY_TEXT, nullable=False),
    sa.Column("owner", KEY_TEXT, nullable=False),
    sa.Column("name", KEY_TEXT, nullable=False),
    sa.Column("name_key", KEY_TEXT, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("visibility", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

board_pins = sa.Table(
    "board_pins",
    metadata_schema,
    sa.Column("board_id", sa.Text, primary_key=True),
    sa.Column("pin_id", BIGINT_KEY, primary_key=True, autoincrement=False),
    sqlite_with_rowid=False,
)

# SQLite only, created by the migration as a virtual table; this stand-in lets queries name it.
pins_fts = sa.table("pins_fts", sa.column("rowid", sa.Integer), sa.column("search_doc", sa.Text))

users_schema = sa.MetaData()

users = sa.Table(
    "users",
    users_schema,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("username", sa.Text, nullable=False),
    sa.Column("username_key", KEY_TEXT, nullable=False, unique=True),
    sa.Column("email", sa.Text),
    sa.Column("email_key", KEY_TEXT, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.Column("password_hash", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
