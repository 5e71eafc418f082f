"""Metadata: shares of pins and boards, public links, and the audit trail.

* ``pin_shares`` / ``board_shares``: keyed ``(user_id, target)`` so that "is this pin
  shared with me" is one primary-key probe per row while a search walks its index.
* ``links``: only a SHA-256 of each token is kept (unique), with expiry, use counts and an
  optional password hash.
* ``audit_events``: keyed by a time-ordered integer id (newest first = descending key).

Revision ID: m0003
Revises: m0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "m0003"
down_revision: str | Sequence[str] | None = "m0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Copied, not imported: a migration must keep meaning what it meant when it was written.
_KEY = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
_BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _share_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Text(), nullable=False, unique=True),
        sa.Column("user_id", _KEY, primary_key=True),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "pin_shares",
        sa.Column("pin_id", _BIGINT, primary_key=True, autoincrement=False),
        *_share_columns(),
        sqlite_with_rowid=False,
    )
    op.create_index("pin_shares_pin", "pin_shares", ["pin_id"])
    op.create_table(
        "board_shares",
        sa.Column("board_id", _KEY, primary_key=True),
        *_share_columns(),
        sqlite_with_rowid=False,
    )
    op.create_index("board_shares_board", "board_shares", ["board_id"])
    op.create_table(
        "links",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("target_kind", sa.String(8), nullable=False),
        sa.Column("target_id", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("max_uses", sa.Integer()),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.Text()),
        sa.Column("allow_download", sa.Boolean(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_index("links_target", "links", ["target_kind", "target_id"])
    op.create_index("links_created_by", "links", ["created_by"])
    op.create_table(
        "audit_events",
        sa.Column("id", _BIGINT, primary_key=True, autoincrement=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Text()),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("target_kind", sa.Text(), nullable=False),
        sa.Column("target_id", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    for table in ("audit_events", "links", "board_shares", "pin_shares"):
        op.drop_table(table)
