"""Metadata: pins, the tag index, boards, and the full-text index.

Revision ID: m0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "m0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("metadata",)
depends_on: str | Sequence[str] | None = None

# Copied, not imported: a migration must keep meaning what it meant when it was written.
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_KEY = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    search_doc = (
        sa.Column("search_doc", sa.dialects.postgresql.TSVECTOR(), nullable=False)
        if postgres
        else sa.Column("search_doc", sa.Text(), nullable=False)
    )
    op.create_table(
        "pins",
        sa.Column("id", _ID, primary_key=True, autoincrement=False),
        sa.Column("owner_id", _KEY, nullable=False),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("visibility", sa.String(16), nullable=False),
        sa.Column("mime_type", sa.Text(), nullable=False),
        sa.Column("media_kind", sa.String(8), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("width", sa.Integer()),
        sa.Column("height", sa.Integer()),
        sa.Column("duration", sa.Float()),
        sa.Column("blurhash", sa.Text()),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("thumbnails", sa.Text(), nullable=False),
        search_doc,
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    # by:user and account deletion walk one owner's pins in time order.
    op.create_index("pins_owner", "pins", ["owner_id", "id"])
    op.create_index("pins_sha256", "pins", ["sha256"])

    # No foreign key to pins: the backend deletes these rows by primary key, and a foreign
    # key would make every pin delete search this table by pin_id.
    op.create_table(
        "pin_tags",
        sa.Column("tag", _KEY, primary_key=True),
        sa.Column("pin_id", _ID, primary_key=True, autoincrement=False),
        sa.Column("direct", sa.Boolean(), nullable=False),
        sa.Column("owner_id", sa.Text(), nullable=False),
        sa.Column("visibility", sa.String(16), nullable=False),
        sqlite_with_rowid=False,
    )

    op.create_table(
        "boards",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("owner_id", _KEY, nullable=False),
        sa.Column("owner", _KEY, nullable=False),
        sa.Column("name", _KEY, nullable=False),
        sa.Column("name_key", _KEY, nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("visibility", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("owner_id", "name_key", name="boards_owner_name"),
    )
    # board:Name matches boards of every owner with that name.
    op.create_index("boards_name", "boards", ["name_key"])

    op.create_table(
        "board_pins",
        sa.Column(
            "board_id",
            sa.Text(),
            sa.ForeignKey("boards.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "pin_id",
            _ID,
            sa.ForeignKey("pins.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        sqlite_with_rowid=False,
    )
    op.create_index("board_pins_pin", "board_pins", ["pin_id", "board_id"])

    if postgres:
        op.create_index("pins_search", "pins", ["search_doc"], postgresql_using="gin")
    else:
        # External content: the words live once, in pins.search_doc; the index is kept in
        # step by triggers, so no code path can forget it. The ascii tokenizer splits only
        # on the single spaces that join the words (they hold no ASCII punctuation).
        op.execute(
            "CREATE VIRTUAL TABLE pins_fts USING fts5("
            "search_doc, content='pins', content_rowid='id', tokenize='ascii', detail=full)"
        )
        op.execute(
            "CREATE TRIGGER pins_fts_insert AFTER INSERT ON pins BEGIN "
            "INSERT INTO pins_fts(rowid, search_doc) VALUES (new.id, new.search_doc); END"
        )
        op.execute(
            "CREATE TRIGGER pins_fts_delete AFTER DELETE ON pins BEGIN "
            "INSERT INTO pins_fts(pins_fts, rowid, search_doc) "
            "VALUES ('delete', old.id, old.search_doc); END"
        )
        op.execute(
            "CREATE TRIGGER pins_fts_update AFTER UPDATE OF search_doc ON pins BEGIN "
            "INSERT INTO pins_fts(pins_fts, rowid, search_doc) "
            "VALUES ('delete', old.id, old.search_doc); "
            "INSERT INTO pins_fts(rowid, search_doc) VALUES (new.id, new.search_doc); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        for trigger in ("pins_fts_update", "pins_fts_delete", "pins_fts_insert"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS pins_fts")
    op.drop_table("board_pins")
    op.drop_table("boards")
    op.drop_table("pin_tags")
    op.drop_table("pins")
