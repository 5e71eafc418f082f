"""Users: accounts with case-insensitive unique usernames and e-mails.

Revision ID: u0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "u0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("users",)
depends_on: str | Sequence[str] | None = None

_KEY = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("username_key", _KEY, nullable=False),
        sa.Column("email", sa.Text()),
        sa.Column("email_key", _KEY),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    # The keyset listing walks this index; uniqueness is what makes usernames unique.
    op.create_index("users_username_key", "users", ["username_key"], unique=True)
    op.create_index("users_email_key", "users", ["email_key"], unique=True)


def downgrade() -> None:
    op.drop_table("users")
