"""Metadata: look shares up by user, not by target.

The primary keys of ``pin_shares`` and ``board_shares`` lead with the target, which serves
the per-row probe of a search ("is this pin shared with me"); listing or counting one user's
shares needs the user first. The single-column target indexes of m0003 duplicated the
primary keys' leading column and are dropped.

Revision ID: m0004
Revises: m0003
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "m0004"
down_revision: str | Sequence[str] | None = "m0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("pin_shares_pin", table_name="pin_shares")
    op.drop_index("board_shares_board", table_name="board_shares")
    op.create_index("pin_shares_user", "pin_shares", ["user_id", "pin_id"])
    op.create_index("board_shares_user", "board_shares", ["user_id", "board_id"])


def downgrade() -> None:
    op.drop_index("board_shares_user", table_name="board_shares")
    op.drop_index("pin_shares_user", table_name="pin_shares")
    op.create_index("board_shares_board", "board_shares", ["board_id"])
    op.create_index("pin_shares_pin", "pin_shares", ["pin_id"])
