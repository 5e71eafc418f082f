"""Row sets written for pins: the tag index rows and bulk inserts (COPY on PostgreSQL).

Every change to ``pin_tags`` here also changes ``tag_sizes`` in the same transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pinsphere.backends.sql.sizes import change_sizes
from pinsphere.backends.sql.tables import board_pins, pin_tags, pins, tsvector_literal
from pinsphere.tags import tag_ancestors

__all__ = ["expand_tags", "insert_rows", "tag_rows"]

# Below this many rows an INSERT costs less than setting up COPY.
_COPY_THRESHOLD = 64


def expand_tags(tags: Iterable[str]) -> dict[str, bool]:
    """Every tag and ancestor a pin is indexed under, each with whether it is direct."""
    expanded: dict[str, bool] = {}
    direct = set(tags)
    for tag in direct:
        for ancestor in tag_ancestors(tag):
            expanded[ancestor] = expanded.get(ancestor, False) or ancestor in direct
    return expanded


def tag_rows(key: int, tags: Iterable[str], owner_id: str, visibility: str) -> list[dict[str, Any]]:
    """The ``pin_tags`` rows of one pin."""
    return [
        {
            "tag": tag,
            "pin_id": key,
            "direct": direct,
            "owner_id": owner_id,
            "visibility": visibility,
        }
        for tag, direct in expand_tags(tags).items()
    ]


def insert_rows(
    conn: Connection,
    pin_rows: Sequence[dict[str, Any]],
    tag_index_rows: Sequence[dict[str, Any]],
    board_rows: Sequence[dict[str, Any]],
) -> None:
    """Insert pins with their tag index and board rows, in the caller's transaction."""
    if conn.dialect.name == "postgresql" and len(pin_rows) + len(tag_index_rows) >= (
        _COPY_THRESHOLD
    ):
        _copy(conn, pins, pin_rows, {"search_doc": tsvector_literal})
        _copy(conn, pin_tags, tag_index_rows, {})
        _copy(conn, board_pins, board_rows, {})
    else:
        for table, rows in (
            (pins, pin_rows),
            (pin_tags, tag_index_rows),
            (board_pins, board_rows),
        ):
            if not rows:
                continue
            if conn.dialect.name == "sqlite":
                _executemany(conn, table, rows)
            else:
                conn.execute(table.insert(), list(rows))
    change_sizes(conn, Counter(row["tag"] for row in tag_index_rows))


def _executemany(conn: Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """One driver-level ``executemany`` with the columns' own bind conversions.

    SQLAlchemy's per-row parameter handling costs more than SQLite's insert itself; the
    values are converted here exactly as SQLAlchemy would (the types' bind processors).
    """
    dialect = conn.dialect
    names = [column.name for column in table.columns]
    processors = [
        column.type.dialect_impl(dialect).bind_processor(dialect) for column in table.columns
    ]
    plan = list(zip(names, processors, strict=True))
    placeholders = ", ".join("?" for _ in names)
    columns = ", ".join(f'"{name}"' for name in names)
    statement = f'INSERT INTO "{table.name}" ({columns}) VALUES ({placeholders})'  # noqa: S608 - names are the schema's own
    conn.exec_driver_sql(
        statement,
        [
            tuple(row[name] if process is None else process(row[name]) for name, process in plan)
            for row in rows
        ],
    )


def _copy(
    conn: Connection,
    table: sa.Table,
    rows: Sequence[dict[str, Any]],
    convert: dict[str, Any],
) -> None:
    """Stream rows into a table with ``COPY … FROM STDIN`` on the connection's transaction."""
    if not rows:
        return
    names = [column.name for column in table.columns]
    raw: Any = conn.connection.driver_connection
    columns = ", ".join(f'"{name}"' for name in names)
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(
                [convert[name](row[name]) if name in convert else row[name] for name in names]
            )
