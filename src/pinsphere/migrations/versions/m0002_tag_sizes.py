"""Metadata: tag sizes for choosing a search's driver; SQLite's FTS rows written in bulk.

* ``tag_sizes``: how many index rows each tag (or ancestor) has.
* SQLite: the backend writes a batch's full-text rows with one statement after the pins
  (a per-row trigger made bulk inserts twice as slow); update and delete triggers stay.

Revision ID: m0002
Revises: m0001
Create Date: 2025-01-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "m0002"
down_revision: str | Sequence[str] | None = "m0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Copied, not imported: a migration must keep meaning what it meant when it was written.
_KEY = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "tag_sizes",
        sa.Column("tag", _KEY, primary_key=True),
        sa.Column("pins", sa.BigInteger(), nullable=False),
        sqlite_with_rowid=False,
    )
    # Existing stores start from the exact figures; from here on the backend keeps them in
    # step in the same transaction as every change to pin_tags.
    op.execute("INSERT INTO tag_sizes (tag, pins) SELECT tag, count(*) FROM pin_tags GROUP BY tag")
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TRIGGER pins_fts_insert")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute(
            "CREATE TRIGGER pins_fts_insert AFTER INSERT ON pins BEGIN "
            "INSERT INTO pins_fts(rowid, search_doc) VALUES (new.id, new.search_doc); END"
        )
    op.drop_table("tag_sizes")
