"""Personal API tokens in SQL (table made by migration u0003): secrets kept only as SHA-256
digests, deleted with their user by the foreign key."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pinsphere.backends.base import keyset_stream
from pinsphere.backends.sql.engine import Database
from pinsphere.backends.sql.rows import to_utc
from pinsphere.backends.sql.tables import users, users_schema
from pinsphere.errors import NotFound
from pinsphere.models import ApiToken

__all__ = ["ApiTokenTable", "api_tokens"]

api_tokens = sa.Table(
    "api_tokens",
    users_schema,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column("user_id", sa.Text, sa.ForeignKey(users.c.id, ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("scopes", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Column("last_used_at", sa.DateTime(timezone=True)),
)


def _token(row: sa.RowMapping) -> ApiToken:
    return ApiToken(
        id=row["id"],
        user_id=row["user_id"],
        name=row["name"],
        scopes=tuple(row["scopes"].split()),
        created_at=to_utc(row["created_at"]),
        expires_at=None if row["expires_at"] is None else to_utc(row["expires_at"]),
        last_used_at=None if row["last_used_at"] is None else to_utc(row["last_used_at"]),
    )


class ApiTokenTable:
    """The API-token operations of the SQL user backend.

    Args:
        database: The user backend's database.
    """

    def __init__(self, database: Database) -> None:
        self._db = database

    def add(self, token: ApiToken, token_hash: str) -> None:
        """Insert a token.

        Raises:
            NotFound: The user does not exist.
        """
        values: dict[str, Any] = token.model_dump()
        values["scopes"] = " ".join(token.scopes)
        values["created_at"] = to_utc(token.created_at)
        if token.expires_at is not None:
            values["expires_at"] = to_utc(token.expires_at)
        with self._db.write() as conn:
            if (
                conn.execute(sa.select(users.c.id).where(users.c.id == token.user_id)).first()
                is None
            ):
                raise NotFound("no such user")
            conn.execute(api_tokens.insert().values(token_hash=token_hash, **values))

    def import_(self, token: ApiToken, token_hash: str) -> None:
        """Insert an exported token with every part of its state.

        Raises:
            Conflict: A token with this id or digest exists (the table's unique keys).
            NotFound: The user does not exist.
        """
        values: dict[str, Any] = token.model_dump()
        values["scopes"] = " ".join(token.scopes)
        for name in ("created_at", "expires_at", "last_used_at"):
            if values[name] is not None:
                values[name] = to_utc(values[name])
        with self._db.write("an API token with this id or digest exists already") as conn:
            if (
                conn.execute(sa.select(users.c.id).where(users.c.id == token.user_id)).first()
                is None
            ):
                raise NotFound("no such user")
            conn.execute(api_tokens.insert().values(token_hash=token_hash, **values))

    def export(self, page_size: int) -> Iterator[tuple[ApiToken, str]]:
        """Every token with its digest, in keyset pages by id.

        Raises:
            InvalidInput: ``page_size`` is below 1.
        """
        return keyset_stream(self._page, lambda record: record[0].id, page_size)

    def _page(self, after: str | None, limit: int) -> list[tuple[ApiToken, str]]:
        statement = sa.select(api_tokens).order_by(api_tokens.c.id).limit(limit)
        if after is not None:
            statement = statement.where(api_tokens.c.id > after)
        with self._db.read() as conn:
            rows = conn.execute(statement).mappings().all()
        return [(_token(row), row["token_hash"]) for row in rows]

    def find(self, token_hash: str) -> ApiToken | None:
        """The token with this digest."""
        with self._db.read() as conn:
            row = (
                conn.execute(sa.select(api_tokens).where(api_tokens.c.token_hash == token_hash))
                .mappings()
                .first()
            )
        return None if row is None else _token(row)

    def touch(self, token_id: str, when: datetime) -> None:
        """Record a use."""
        with self._db.write() as conn:
            conn.execute(
                api_tokens.update()
                .where(api_tokens.c.id == token_id)
                .values(last_used_at=to_utc(when))
            )

    def of_user(self, user_id: str) -> list[ApiToken]:
        """A user's tokens, newest first."""
        with self._db.read() as conn:
            rows = (
                conn.execute(
                    sa.select(api_tokens)
                    .where(api_tokens.c.user_id == user_id)
                    .order_by(api_tokens.c.created_at.desc(), api_tokens.c.id.desc())
                )
                .mappings()
                .all()
            )
        return [_token(row) for row in rows]

    def delete(self, token_id: str, user_id: str) -> bool:
        """Delete one of a user's tokens."""
        with self._db.write() as conn:
            done = conn.execute(
                api_tokens.delete().where(
                    api_tokens.c.id == token_id, api_tokens.c.user_id == user_id
                )
            )
        return done.rowcount > 0
