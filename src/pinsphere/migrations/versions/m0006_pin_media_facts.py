"""Metadata: the media facts derivation reads, kept on each pin for its owner.

* ``pins.frame_count``: frames of an animation or a video (when its container records it).
* ``pins.codec``: a video's codec (``h264``, ``vp9``...).
* ``pins.camera``: the camera's make and model, from EXIF.
* ``pins.taken_at``: when the photo was taken, from EXIF, as ISO 8601 text: with the
  camera's UTC offset when it recorded one, naive (camera-local time) otherwise, each read
  back exactly as written.

All are nullable: existing pins, and media that say nothing of them, have none. The GPS
position is deliberately not among them.

Revision ID: m0006
Revises: m0005
Create Date: 2026-12-09
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "m0006"
down_revision: str | Sequence[str] | None = "m0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    ("frame_count", sa.Integer),
    ("codec", sa.Text),
    ("camera", sa.Text),
    ("taken_at", sa.Text),
)


def upgrade() -> None:
    # Plain ADD COLUMNs (no batch copy): SQLite keeps the table, its FTS triggers and
    # indexes as they are.
    for name, kind in _COLUMNS:
        op.add_column("pins", sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    for name, _kind in reversed(_COLUMNS):
        op.drop_column("pins", name)
