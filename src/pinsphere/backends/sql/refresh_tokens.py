"""Refresh tokens in SQL: the table and the operations the user backend offers on it.

Only a token's SHA-256 is stored. Rotation marks a row used with one conditional ``UPDATE``
(``used_at IS NULL AND NOT revoked``), so of two requests racing with the same token exactly
one wins — the database decides, not the process.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pinsphere.backends.base import RefreshTokenRecord, keyset_stream
from pinsphere.backends.sql.engine import Database
from pinsphere.backends.sql.rows import to_utc
from pinsphere.backends.sql.tables import users, users_schema
from pinsphere.errors import InvalidInput, NotFound

__all__ = ["RefreshTokenTable", "refresh_tokens"]

# Created by migration u0002 (with indexes on family_id, user_id and expires_at).
refresh_tokens = sa.Table(
    "refresh_tokens",
    users_schema,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("family_id", sa.Text, nullable=False),
    sa.Column(
        "user_id",
        sa.Text,
        sa.ForeignKey(users.c.id, ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True)),
    sa.Column("revoked", sa.Boolean, nullable=False),
)


def _record(row: sa.RowMapping) -> RefreshTokenRecord:
    used_at = row["used_at"]
    return RefreshTokenRecord(
        token_hash=row["token_hash"],
        family_id=row["family_id"],
        user_id=row["user_id"],
        created_at=to_utc(row["created_at"]),
        expires_at=to_utc(row["expires_at"]),
        used_at=None if used_at is None else to_utc(used_at),
        revoked=bool(row["revoked"]),
    )


class RefreshTokenTable:
    """The refresh-token operations of :class:`~pinsphere.backends.base.UserBackend`.

    Args:
        database: The user backend's database.
    """

    def __init__(self, database: Database) -> None:
        self._db = database

    def add(self, record: RefreshTokenRecord) -> None:
        """Insert a token.

        Raises:
            Conflict: The hash exists already (from the primary key).
            NotFound: The user does not exist.
        """
        # A new token is an exported one that was never used: one insert serves both.
        self.import_(record)

    def import_(self, record: RefreshTokenRecord) -> None:
        """Insert an exported token with its state (used, revoked).

        Raises:
            Conflict: The hash exists already.
            NotFound: The user does not exist.
        """
        values: dict[str, Any] = record.model_dump()
        for name in ("created_at", "expires_at", "used_at"):
            if values[name] is not None:
                values[name] = to_utc(values[name])
        with self._db.write("the refresh token exists already") as conn:
            exists = conn.execute(sa.select(users.c.id).where(users.c.id == record.user_id)).first()
            if exists is None:
                raise NotFound("no such user")
            conn.execute(refresh_tokens.insert().values(values))

    def export(self, page_size: int) -> Iterator[RefreshTokenRecord]:
        """Every token, in keyset pages by hash.

        Raises:
            InvalidInput: ``page_size`` is below 1.
        """
        return keyset_stream(self._page, lambda record: record.token_hash, page_size)

    def _page(self, after: str | None, limit: int) -> list[RefreshTokenRecord]:
        statement = sa.select(refresh_tokens).order_by(refresh_tokens.c.token_hash).limit(limit)
        if after is not None:
            statement = statement.where(refresh_tokens.c.token_hash > after)
        with self._db.read() as conn:
            rows = conn.execute(statement).mappings().all()
        return [_record(row) for row in rows]

    def get(self, token_hash: str) -> RefreshTokenRecord | None:
        """The token with this hash, or ``None``."""
        with self._db.read() as conn:
            row = (
                conn.execute(
                    sa.select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash)
                )
                .mappings()
                .first()
            )
        return None if row is None else _record(row)

    def use(self, token_hash: str, when: datetime) -> bool:
        """Mark a token used if it is unused and not revoked; ``True`` if this call did."""
        statement = (
            refresh_tokens.update()
            .where(
                refresh_tokens.c.token_hash == token_hash,
                refresh_tokens.c.used_at.is_(None),
                refresh_tokens.c.revoked.is_(False),
            )
            .values(used_at=to_utc(when))
        )
        with self._db.write() as conn:
            return conn.execute(statement).rowcount == 1

    def revoke(self, *, family_id: str | None, user_id: str | None) -> int:
        """Revoke a family's or a user's tokens; how many were newly revoked."""
        if family_id is None and user_id is None:
            raise InvalidInput("name a token family or a user")
        statement = refresh_tokens.update().where(refresh_tokens.c.revoked.is_(False))
        if family_id is not None:
            statement = statement.where(refresh_tokens.c.family_id == family_id)
        if user_id is not None:
            statement = statement.where(refresh_tokens.c.user_id == user_id)
        with self._db.write() as conn:
            return conn.execute(statement.values(revoked=True)).rowcount

    def purge(self, expired_before: datetime) -> int:
        """Delete tokens that expired before the given time."""
        statement = refresh_tokens.delete().where(
            refresh_tokens.c.expires_at < to_utc(expired_before)
        )
        with self._db.write() as conn:
            return conn.execute(statement).rowcount
