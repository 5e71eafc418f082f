"""Metadata: each pin's processing state, for media derived in the background.

* ``pins.processing``: ``pending`` while a worker derives the pin's thumbnails and facts,
  ``ready`` once they exist, ``failed`` when deriving failed (retried later). Existing pins
  were derived inline at upload, so they are ``ready``.
* ``pins_processing``: a partial index of the pins not ``ready`` — the few a worker looks
  for — so finding them never scans the table and costs nothing for the rest.

Revision ID: m0005
Revises: m0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "m0005"
down_revision: str | Sequence[str] | None = "m0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOT_READY = sa.text("processing <> 'ready'")


def upgrade() -> None:
    op.add_column(
        "pins",
        sa.Column("processing", sa.String(8), nullable=False, server_default="ready"),
    )
    op.create_index(
        "pins_processing",
        "pins",
        ["processing", "id"],
        sqlite_where=_NOT_READY,
        postgresql_where=_NOT_READY,
    )


def downgrade() -> None:
    op.drop_index("pins_processing", table_name="pins")
    op.drop_column("pins", "processing")
