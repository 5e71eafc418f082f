"""SQLite: the words of new pins wait in ``pins_fts_pending`` and are indexed in batches.

FTS5 writes a new segment at every commit that changes its index: the segment's page, its
structure record, index rows and, every few commits, a merge. For an upload, which inserts
one pin per transaction, that was more than half of the pages its commit wrote. So a small
insert only notes its pins' ids in ``pins_fts_pending`` (migration ``m0008``), and FTS5
takes the whole list in one transaction:

* when an insert finds :data:`BATCH` pins waiting (it indexes them in its own transaction);
* before any search with a text term reads the index (:func:`index_pending_words`), so a
  search always sees every committed pin, its own process's or another's;
* a bulk insert of at least :data:`BATCH` pins indexes its words directly.

The list's ids are pins whose words were never indexed: the full-text triggers leave them
alone, and deleting such a pin takes it off the list. FTS5's ``integrity-check`` compares
the index with ``pins``, so it reports the waiting pins as missing until they are indexed.
PostgreSQL needs none of this (its GIN index keeps a pending list of its own).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

__all__ = ["ANY_PENDING", "BATCH", "index_pending_words", "note_new_words"]

BATCH = 64
"""How many pins' words wait at most before an insert indexes them."""

ANY_PENDING = "SELECT EXISTS (SELECT 1 FROM pins_fts_pending)"
"""One row: whether any pin's words wait to be indexed."""

_ADD = "INSERT INTO pins_fts_pending (pin_id) VALUES (?)"
_COUNT = "SELECT count(*) FROM pins_fts_pending"
_INDEX = (
    "INSERT INTO pins_fts (rowid, search_doc) SELECT p.id, p.search_doc "
    "FROM pins_fts_pending AS q JOIN pins AS p ON p.id = q.pin_id"
)
_CLEAR = "DELETE FROM pins_fts_pending"
_INDEX_NOW = "INSERT INTO pins_fts (rowid, search_doc) VALUES (?, ?)"


def note_new_words(connection: sqlite3.Connection, words: Sequence[tuple[int, str]]) -> None:
    """Have the words of newly inserted pins indexed, in the connection's open transaction.

    Args:
        connection: A SQLite driver connection inside a write transaction.
        words: Each new pin's id and its ``search_doc``.
    """
    if len(words) >= BATCH:
        connection.executemany(_INDEX_NOW, words)
        return
    connection.executemany(_ADD, [(key,) for key, _ in words])
    (waiting,) = connection.execute(_COUNT).fetchone()
    if waiting >= BATCH:
        index_pending_words(connection)


def index_pending_words(connection: sqlite3.Connection) -> None:
    """Index the words of every waiting pin, in the connection's open write transaction."""
    connection.execute(_INDEX)
    connection.execute(_CLEAR)
