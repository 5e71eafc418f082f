"""Metadata: a revision number on each pin, so a kept copy of a pin can be checked cheaply.

* ``pins.revision``: a random 62-bit number drawn by the backend on every insert and update
  of the row. A process that keeps pins it built reads only this column (with the id) to
  know whether its copy is current; see :mod:`pinsphere.backends.sql.pin_cache`. Existing
  rows are given one here (a single pass over the table).
* Triggers draw a new one whenever a row is updated without a new revision, or inserted
  without one (a deployer's hand-written SQL, a process still running the previous
  version during an upgrade), so a kept copy can never outlive a change it did not see.
  0, the column's default, is never kept.

Revision ID: m0007
Revises: m0006
Create Date: 2026-12-16
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "m0007"
down_revision: str | Sequence[str] | None = "m0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Random non-zero revisions, spelled out in full (no SQL is assembled here): SQLite's
# random() is a signed 64-bit integer, 0 mapped to 1; PostgreSQL's is scaled to 62 bits.
_SQLITE_DRAW_ALL = "UPDATE pins SET revision = coalesce(nullif(random(), 0), 1)"
_SQLITE_TRIGGERS = (
    "CREATE TRIGGER pins_revision AFTER UPDATE ON pins FOR EACH ROW"
    " WHEN new.revision = old.revision BEGIN"
    " UPDATE pins SET revision = coalesce(nullif(random(), 0), 1) WHERE id = new.id; END",
    "CREATE TRIGGER pins_revision_insert AFTER INSERT ON pins FOR EACH ROW"
    " WHEN new.revision = 0 BEGIN"
    " UPDATE pins SET revision = coalesce(nullif(random(), 0), 1) WHERE id = new.id; END",
)
_POSTGRES_DRAW_ALL = (
    "UPDATE pins SET revision = (1 + floor(random() * 4611686018427387903))::bigint"
)
_POSTGRES_FUNCTION = """
CREATE FUNCTION pins_new_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.revision = OLD.revision THEN
        NEW.revision := (1 + floor(random() * 4611686018427387903))::bigint;
    END IF;
    RETURN NEW;
END
$$
"""
_POSTGRES_TRIGGERS = (
    "CREATE TRIGGER pins_revision BEFORE UPDATE ON pins FOR EACH ROW"
    " EXECUTE FUNCTION pins_new_revision()",
    # The condition is checked without calling the function: free for the backend's inserts.
    "CREATE TRIGGER pins_revision_insert BEFORE INSERT ON pins FOR EACH ROW"
    " WHEN (NEW.revision = 0) EXECUTE FUNCTION pins_new_revision()",
)


def upgrade() -> None:
    # A constant default: a plain ADD COLUMN on both databases, then one pass to draw.
    kind = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.add_column("pins", sa.Column("revision", kind, nullable=False, server_default="0"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_POSTGRES_DRAW_ALL)
        op.execute(_POSTGRES_FUNCTION)
        for trigger in _POSTGRES_TRIGGERS:
            op.execute(trigger)
    else:
        op.execute(_SQLITE_DRAW_ALL)
        for trigger in _SQLITE_TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS pins_revision_insert ON pins")
        op.execute("DROP TRIGGER IF EXISTS pins_revision ON pins")
        op.execute("DROP FUNCTION IF EXISTS pins_new_revision()")
    else:
        op.execute("DROP TRIGGER IF EXISTS pins_revision_insert")
        op.execute("DROP TRIGGER IF EXISTS pins_revision")
    op.drop_column("pins", "revision")
