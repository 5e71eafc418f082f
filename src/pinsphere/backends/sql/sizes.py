"""Keeping ``tag_sizes`` exact: how many index rows each tag has, changed by every write.

A search with several positive tags walks the rarest one's index and probes the others per
row, so it needs the sizes before it starts (:mod:`pinsphere.backends.sql.drivers`); reading
them is one primary-key lookup, where counting index entries costs as much as the search.
Sizes ignore visibility: they only pick an index, the search applies the access rule.

Writers change sizes in the same transaction as ``pin_tags``, always in tag order, so that
concurrent writers on PostgreSQL lock the rows they share in one order and cannot deadlock.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

from sqlalchemy.engine import Connection

from pinsphere.backends.sql.engine import driver_executemany

__all__ = ["change_sizes", "change_sizes_sqlite"]

_UPSERT = (
    "INSERT INTO tag_sizes (tag, pins) VALUES ({0}, {0}) "
    "ON CONFLICT (tag) DO UPDATE SET pins = tag_sizes.pins + excluded.pins"
)


def change_sizes(conn: Connection, deltas: Mapping[str, int]) -> None:
    """Add each delta to its tag's size, in the caller's transaction."""
    rows = _size_rows(deltas)
    if rows:
        placeholder = "?" if conn.dialect.name == "sqlite" else "%s"
        driver_executemany(conn, _UPSERT.format(placeholder), rows)


def change_sizes_sqlite(connection: sqlite3.Connection, deltas: Mapping[str, int]) -> None:
    """:func:`change_sizes` on a SQLite driver connection, in its open transaction."""
    rows = _size_rows(deltas)
    if rows:
        connection.executemany(_UPSERT.format("?"), rows)


def _size_rows(deltas: Mapping[str, int]) -> list[tuple[str, int]]:
    # In tag order: see the module's docstring.
    return [(tag, delta) for tag, delta in sorted(deltas.items()) if delta]
