"""Metadata (SQLite): the words of newly inserted pins wait in a short list before FTS5
indexes them, in batches.

FTS5 writes a new segment, with its structure record and index rows, at every commit: more
than half of the pages a one-pin insert wrote. ``pins_fts_pending`` holds the ids of pins
whose words are not indexed yet; an insert adds its ids there (one small page), and the
index takes the whole list at once when it is long enough or when a text search is about to
read it. See :mod:`pinsphere.backends.sql.pending_words`.

The full-text triggers now leave a pending pin's words alone: they were never indexed, and
the batch reads them from ``pins`` when it runs. Deleting a pending pin takes it off the list.

Revision ID: m0008
Revises: m0007
Create Date: 2026-12-20
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "m0008"
down_revision: str | Sequence[str] | None = "m0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Copied, not imported: a migration must keep meaning what it meant when it was written.
_NEW_TRIGGERS = (
    "CREATE TRIGGER pins_fts_delete AFTER DELETE ON pins BEGIN "
    "INSERT INTO pins_fts(pins_fts, rowid, search_doc) "
    "SELECT 'delete', old.id, old.search_doc "
    "WHERE NOT EXISTS (SELECT 1 FROM pins_fts_pending WHERE pin_id = old.id); "
    "DELETE FROM pins_fts_pending WHERE pin_id = old.id; END",
    "CREATE TRIGGER pins_fts_update AFTER UPDATE OF search_doc ON pins BEGIN "
    "INSERT INTO pins_fts(pins_fts, rowid, search_doc) "
    "SELECT 'delete', old.id, old.search_doc "
    "WHERE NOT EXISTS (SELECT 1 FROM pins_fts_pending WHERE pin_id = old.id); "
    "INSERT INTO pins_fts(rowid, search_doc) SELECT new.id, new.search_doc "
    "WHERE NOT EXISTS (SELECT 1 FROM pins_fts_pending WHERE pin_id = new.id); END",
)
_OLD_TRIGGERS = (
    "CREATE TRIGGER pins_fts_delete AFTER DELETE ON pins BEGIN "
    "INSERT INTO pins_fts(pins_fts, rowid, search_doc) "
    "VALUES ('delete', old.id, old.search_doc); END",
    "CREATE TRIGGER pins_fts_update AFTER UPDATE OF search_doc ON pins BEGIN "
    "INSERT INTO pins_fts(pins_fts, rowid, search_doc) "
    "VALUES ('delete', old.id, old.search_doc); "
    "INSERT INTO pins_fts(rowid, search_doc) VALUES (new.id, new.search_doc); END",
)
_INDEX_PENDING = (
    "INSERT INTO pins_fts(rowid, search_doc) SELECT p.id, p.search_doc "
    "FROM pins_fts_pending AS q JOIN pins AS p ON p.id = q.pin_id"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        return  # PostgreSQL's GIN index keeps a pending list of its own (fastupdate)
    op.execute("CREATE TABLE pins_fts_pending (pin_id INTEGER PRIMARY KEY)")
    op.execute("DROP TRIGGER pins_fts_delete")
    op.execute("DROP TRIGGER pins_fts_update")
    for trigger in _NEW_TRIGGERS:
        op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        return
    # The older schema indexes every pin at once: index the waiting ones first.
    op.execute(_INDEX_PENDING)
    op.execute("DROP TRIGGER pins_fts_delete")
    op.execute("DROP TRIGGER pins_fts_update")
    for trigger in _OLD_TRIGGERS:
        op.execute(trigger)
    op.execute("DROP TABLE pins_fts_pending")
