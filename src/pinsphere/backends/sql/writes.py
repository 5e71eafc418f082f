"""Row sets written for pins: the tag index rows and bulk inserts (COPY on PostgreSQL).

Every change to ``pin_tags`` here also changes ``tag_sizes`` in the same transaction.
"""

from __future__ import annotations

import functools
import gc
import operator
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection

from pinsphere.backends.sql.sizes import change_sizes, change_sizes_sqlite
from pinsphere.backends.sql.tables import board_pins, pin_tags, pins, tsvector_literal
from pinsphere.tags import tag_ancestors

__all__ = [
    "TagRow",
    "bulk_allocation",
    "expand_tags",
    "insert_rows",
    "insert_sqlite_rows",
    "tag_row_dicts",
    "tag_rows",
]

# Below this many rows an INSERT costs less than setting up COPY.
_COPY_THRESHOLD = 64
# The SQLite dialect, for the bind conversions of inserts made on the driver connection.
_SQLITE = sqlite.dialect()


@contextmanager
def bulk_allocation() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a bulk insert builds its rows.

    A batch of pins makes hundreds of thousands of short-lived, acyclic tuples and dicts;
    each few hundred allocations the collector would walk them (and everything else alive)
    to find no cycles, which cost a third of an import's time. Reference counting still
    frees everything; the collector is switched back on only if it was on before.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def expand_tags(tags: Iterable[str]) -> dict[str, bool]:
    """Every tag and ancestor a pin is indexed under, each with whether it is direct."""
    direct = set(tags)
    # Direct tags first; then the ancestors of hierarchical ones that are not direct too.
    expanded = dict.fromkeys(direct, True)
    for tag in direct:
        if "/" in tag:
            for ancestor in tag_ancestors(tag)[:-1]:
                expanded.setdefault(ancestor, False)
    return expanded


# One pin_tags row, in the table's column order: tag, pin_id, direct, owner_id, visibility.
TagRow = tuple[str, int, bool, str, str]


def tag_rows(key: int, tags: Iterable[str], owner_id: str, visibility: str) -> list[TagRow]:
    """The ``pin_tags`` rows of one pin, as tuples (a bulk insert makes many of them)."""
    return [(tag, key, direct, owner_id, visibility) for tag, direct in expand_tags(tags).items()]


def tag_row_dicts(rows: Iterable[TagRow]) -> list[dict[str, Any]]:
    """Tag rows as SQLAlchemy's ``insert()`` takes them."""
    names = [column.name for column in pin_tags.columns]
    return [dict(zip(names, row, strict=True)) for row in rows]


def insert_rows(
    conn: Connection,
    pin_rows: Sequence[Any],
    tag_index_rows: Sequence[TagRow],
    board_rows: Sequence[dict[str, Any]],
) -> None:
    """Insert pins with their tag index and board rows, in the caller's transaction, on
    PostgreSQL (SQLite inserts on its driver connection: :func:`insert_sqlite_rows`).

    ``pin_rows`` are :func:`~pinsphere.backends.sql.rows.pin_values` dicts.
    """
    if len(pin_rows) + len(tag_index_rows) >= _COPY_THRESHOLD:
        _copy(conn, pins, _records(pins, pin_rows), {"search_doc": tsvector_literal})
        _copy(conn, pin_tags, tag_index_rows, {})
        _copy(conn, board_pins, _records(board_pins, board_rows), {})
    else:
        if pin_rows:
            conn.execute(pins.insert(), list(pin_rows))
        if tag_index_rows:
            conn.execute(pin_tags.insert(), tag_row_dicts(tag_index_rows))
        if board_rows:
            conn.execute(board_pins.insert(), list(board_rows))
    change_sizes(conn, Counter(row[0] for row in tag_index_rows))


def insert_sqlite_rows(
    connection: sqlite3.Connection,
    pin_rows: Sequence[Sequence[Any]],
    tag_index_rows: Sequence[TagRow],
    board_rows: Sequence[dict[str, Any]],
) -> None:
    """:func:`insert_rows` on a SQLite driver connection, in its open transaction.

    SQLAlchemy's per-row parameter handling costs more than SQLite's insert itself; the
    values are converted here exactly as SQLAlchemy would (the types' bind processors).
    """
    statement, _ = _insert_plan(pins, _SQLITE)
    connection.executemany(statement, pin_rows)
    # The pins' words to the full-text index, in bulk (see tables.py).
    key, words = _position(pins, "id"), _position(pins, "search_doc")
    connection.executemany(
        "INSERT INTO pins_fts (rowid, search_doc) VALUES (?, ?)",
        [(values[key], values[words]) for values in pin_rows],
    )
    _sqlite_executemany(connection, pin_tags, tag_index_rows)
    _sqlite_executemany(connection, board_pins, _records(board_pins, board_rows))
    change_sizes_sqlite(connection, Counter(row[0] for row in tag_index_rows))


@functools.cache
def _position(table: sa.Table, name: str) -> int:
    return [column.name for column in table.columns].index(name)


def _records(table: sa.Table, rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Rows as tuples in the table's column order."""
    pick = operator.itemgetter(*[column.name for column in table.columns])
    return [pick(row) for row in rows]


def _sqlite_executemany(
    connection: sqlite3.Connection, table: sa.Table, records: Sequence[Sequence[Any]]
) -> None:
    """One driver-level ``executemany`` with the columns' own bind conversions."""
    if not records:
        return
    statement, convert = _insert_plan(table, _SQLITE)
    if convert:
        converted: list[Sequence[Any]] = []
        for record in records:
            values = list(record)
            for at, process in convert:
                values[at] = process(values[at])
            converted.append(tuple(values))
        records = converted
    connection.executemany(statement, records)


@functools.cache
def _insert_plan(
    table: sa.Table, dialect: sa.Dialect
) -> tuple[str, list[tuple[int, Callable[[Any], Any]]]]:
    """The driver-level INSERT of every column of ``table`` and the bind conversions its
    columns' types need (by column position), worked out once per table and dialect."""
    convert: list[tuple[int, Callable[[Any], Any]]] = []
    for at, column in enumerate(table.columns):
        process = column.type.dialect_impl(dialect).bind_processor(dialect)
        if process is None:
            continue
        if dialect.name == "sqlite" and isinstance(column.type, sa.Boolean):
            continue  # sqlite3 stores True and False as 1 and 0 itself
        convert.append((at, process))
    names = [column.name for column in table.columns]
    placeholder = "?" if dialect.paramstyle == "qmark" else "%s"
    placeholders = ", ".join(placeholder for _ in names)
    columns = ", ".join(f'"{name}"' for name in names)
    statement = f'INSERT INTO "{table.name}" ({columns}) VALUES ({placeholders})'  # noqa: S608 - names are the schema's own
    return statement, convert


def _copy(
    conn: Connection,
    table: sa.Table,
    records: Sequence[Sequence[Any]],
    convert: dict[str, Any],
) -> None:
    """Stream rows (in column order) into a table with ``COPY … FROM STDIN``, in the
    connection's transaction."""
    if not records:
        return
    names = [column.name for column in table.columns]
    plan = [(at, convert[name]) for at, name in enumerate(names) if name in convert]
    raw: Any = conn.connection.driver_connection
    columns = ", ".join(f'"{name}"' for name in names)
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
        for record in records:
            if plan:
                values = list(record)
                for at, process in plan:
                    values[at] = process(values[at])
                copy.write_row(values)
            else:
                copy.write_row(record)
