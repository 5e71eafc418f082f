"""Metadata: a revision number on each pin, so a kept copy of a pin can be checked cheaply.

* ``pins.revision``: a random 62-bit number drawn by the backend on every insert and update
  of the row. A process that keeps pins it built reads only this column (with the id) to
  know whether its copy is current; see :mod:`pinsphere.backends.sql.pin_cache`. Existing
  rows start at 0.
* A trigger draws a new one whenever the row is updated without a new revision (a
  deployer's hand-written ``UPDATE``, a future code path), so a kept copy can never outlive
  a change it did not see.

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

_SQLITE_TRIGGER = (
    "CREATE TRIGGER pins_revision AFTER UPDATE ON pins FOR EACH ROW"
    " WHEN new.revision = old.revision BEGIN"
    " UPDATE pins SET revision = random() WHERE id = new.id; END"
)
_POSTGRES_FUNCTION = """
CREATE FUNCTION pins_new_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.revision = OLD.revision THEN
        NEW.revision := floor(random() * 4611686018427387904)::bigint;
    END IF;
    RETURN NEW;
END
$$
"""
_POSTGRES_TRIGGER = (
    "CREATE TRIGGER pins_revision BEFORE UPDATE ON pins FOR EACH ROW"
    " EXECUTE FUNCTION pins_new_revision()"
)


def upgrade() -> None:
    # A constant default: a plain ADD COLUMN on both databases, no table rewrite.
    kind = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.add_column("pins", sa.Column("revision", kind, nullable=False, server_default="0"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_POSTGRES_FUNCTION)
        op.execute(_POSTGRES_TRIGGER)
    else:
        op.execute(_SQLITE_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS pins_revision ON pins")
        op.execute("DROP FUNCTION IF EXISTS pins_new_revision()")
    else:
        op.execute("DROP TRIGGER IF EXISTS pins_revision")
    op.drop_column("pins", "revision")
