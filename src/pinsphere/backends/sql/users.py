"""User accounts in SQLite or PostgreSQL.

Usernames and e-mails are unique case-insensitively: each has a ``str.casefold`` key column
with a unique index, so the database itself refuses a duplicate even when two processes
race to create it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, ClassVar, cast

import sqlalchemy as sa

from pinsphere.backends.base import (
    RefreshTokenRecord,
    UserBackend,
    UserCapabilities,
    UserChanges,
)
from pinsphere.backends.sql.api_tokens import ApiTokenTable
from pinsphere.backends.sql.connected import SQLConnected
from pinsphere.backends.sql.engine import Database
from pinsphere.backends.sql.plans import compile_plan
from pinsphere.backends.sql.refresh_tokens import RefreshTokenTable
from pinsphere.backends.sql.rows import USER_COLUMNS, to_utc, user_from_row
from pinsphere.backends.sql.tables import users
from pinsphere.errors import InvalidInput
from pinsphere.models import ROLES, ApiToken, User

__all__ = ["SQLUserBackend"]

# The same words whichever value clashed, so that a conflict does not reveal which
# usernames or e-mails exist.
_TAKEN = "the username or e-mail is already taken"


_USER_NAMES = tuple(column.name for column in USER_COLUMNS)


def _key(text: str | None) -> str | None:
    return None if text is None else text.casefold()


class SQLUserBackend(SQLConnected, UserBackend):
    """User accounts in a SQL database (``sqlite:///…``, ``postgresql+psycopg://…``)."""

    capabilities: ClassVar[UserCapabilities] = UserCapabilities(shared_between_processes=True)

    schema_branch = "users"

    def __init__(self, database: Database) -> None:
        """Use an opened database whose schema is current; see :meth:`from_url`."""
        super().__init__(database)
        # Every authenticated request looks its user up: compiled once, run on the driver
        # outside a transaction (one statement reads a consistent row on its own).
        self._lookups = {
            column.name: compile_plan(
                sa.select(*USER_COLUMNS).where(column == sa.bindparam("p0")),
                database.engine.dialect,
                1,
            )
            for column in (users.c.id, users.c.username_key, users.c.email_key)
        }
        self._refresh = RefreshTokenTable(database)
        self._api_tokens = ApiTokenTable(database)

    def create_user(self, user: User, password_hash: str | None) -> User:
        """Store a new user.

        Raises:
            Conflict: The username or e-mail is taken (the message does not say which).
        """
        values = {
            "id": user.id,
            "username": user.username,
            "username_key": _key(user.username),
            "email": user.email,
            "email_key": _key(user.email),
            "role": user.role,
            "disabled": user.disabled,
            "password_hash": password_hash,
            "created_at": to_utc(user.created_at),
        }
        with self._db.write(_TAKEN) as conn:
            conn.execute(users.insert().values(values))
        return user

    def _find(self, column: str, value: str) -> User | None:
        plan = self._lookups[column]
        # A lookup by a unique key: one best plan whatever the value.
        with self._db.reader(stable_plan=True) as reader:
            rows = reader.rows(plan.sql, plan.parameters([value]))
        return None if not rows else user_from_row(dict(zip(_USER_NAMES, rows[0], strict=True)))

    def get_user(self, user_id: str) -> User | None:
        """The user with this id, or ``None``."""
        return self._find("id", user_id)

    def find_user(self, username: str) -> User | None:
        """The user with this username (case-insensitive), or ``None``."""
        return self._find("username_key", username.casefold())

    def find_user_by_email(self, email: str) -> User | None:
        """The user with this e-mail (case-insensitive), or ``None``."""
        return self._find("email_key", email.casefold())

    def get_password_hash(self, user_id: str) -> str | None:
        """The stored password hash, or ``None`` (none set, or no such user)."""
        with self._db.read() as conn:
            found = conn.execute(
                sa.select(users.c.password_hash).where(users.c.id == user_id)
            ).scalar_one_or_none()
        return cast("str | None", found)

    def update_user(self, user_id: str, changes: UserChanges) -> User | None:
        """Apply ``changes``; ``None`` when absent.

        Raises:
            Conflict: The new e-mail is taken.
            InvalidInput: The new role is not one of :data:`pinsphere.models.ROLES`.
        """
        if changes.role is not None and changes.role not in ROLES:
            raise InvalidInput(f"unknown role {changes.role!r}; one of {', '.join(ROLES)}")
        values: dict[str, Any] = {}
        if changes.email is not None:
            # An empty e-mail clears it.
            values["email"] = changes.email or None
            values["email_key"] = _key(changes.email or None)
        if changes.role is not None:
            values["role"] = changes.role
        if changes.disabled is not None:
            values["disabled"] = changes.disabled
        if changes.password_hash is not None:
            values["password_hash"] = changes.password_hash
        with self._db.write(_TAKEN) as conn:
            if values:
                done = conn.execute(users.update().where(users.c.id == user_id).values(values))
                if done.rowcount == 0:
                    return None
            row = (
                conn.execute(sa.select(*USER_COLUMNS).where(users.c.id == user_id))
                .mappings()
                .first()
            )
        return None if row is None else user_from_row(row)

    def delete_user(self, user_id: str) -> bool:
        """Delete the account (its refresh and API tokens go with it); ``False`` when absent."""
        with self._db.write() as conn:
            done = conn.execute(users.delete().where(users.c.id == user_id))
        return done.rowcount > 0

    def list_users(self, *, limit: int = 100, after: str | None = None) -> list[User]:
        """Users ordered by case-folded username, after the given username (keyset)."""
        statement = sa.select(*USER_COLUMNS).order_by(users.c.username_key).limit(max(limit, 0))
        if after is not None:
            statement = statement.where(users.c.username_key > after.casefold())
        with self._db.read() as conn:
            rows = conn.execute(statement).mappings().all()
        return [user_from_row(row) for row in rows]

    def add_refresh_token(self, record: RefreshTokenRecord) -> None:
        """Store a newly issued refresh token.

        Raises:
            Conflict: A token with this hash exists.
            NotFound: The user does not exist.
        """
        self._refresh.add(record)

    def get_refresh_token(self, token_hash: str) -> RefreshTokenRecord | None:
        """The token with this hash, or ``None``."""
        return self._refresh.get(token_hash)

    def use_refresh_token(self, token_hash: str, when: datetime) -> bool:
        """Mark a token used, atomically; ``False`` when used, revoked or absent."""
        return self._refresh.use(token_hash, when)

    def revoke_refresh_tokens(
        self, *, family_id: str | None = None, user_id: str | None = None
    ) -> int:
        """Revoke every token of a family or of a user; how many were newly revoked."""
        return self._refresh.revoke(family_id=family_id, user_id=user_id)

    def purge_refresh_tokens(self, expired_before: datetime) -> int:
        """Delete tokens that expired before ``expired_before``."""
        return self._refresh.purge(expired_before)

    def add_api_token(self, token: ApiToken, token_hash: str) -> None:
        """Store a new API token.

        Raises:
            NotFound: The user does not exist.
        """
        self._api_tokens.add(token, token_hash)

    def find_api_token(self, token_hash: str) -> ApiToken | None:
        """The token with this digest, or ``None``."""
        return self._api_tokens.find(token_hash)

    def touch_api_token(self, token_id: str, when: datetime) -> None:
        """Record that the token was used at ``when``."""
        self._api_tokens.touch(token_id, when)

    def list_api_tokens(self, user_id: str) -> list[ApiToken]:
        """A user's tokens, newest first."""
        return self._api_tokens.of_user(user_id)

    def delete_api_token(self, token_id: str, user_id: str) -> bool:
        """Delete one of a user's tokens."""
        return self._api_tokens.delete(token_id, user_id)

    def export_api_tokens(self, *, page_size: int = 500) -> Iterable[tuple[ApiToken, str]]:
        """Every API token with its digest, in keyset pages by id.

        Raises:
            InvalidInput: ``page_size`` is below 1.
        """
        return self._api_tokens.export(page_size)

    def import_api_token(self, token: ApiToken, token_hash: str) -> None:
        """Store an API token exactly as exported elsewhere (``last_used_at`` included).

        Raises:
            Conflict: A token with this id or digest exists.
            NotFound: The user does not exist.
        """
        self._api_tokens.import_(token, token_hash)

    def export_refresh_tokens(self, *, page_size: int = 500) -> Iterable[RefreshTokenRecord]:
        """Every refresh token, in keyset pages by hash.

        Raises:
            InvalidInput: ``page_size`` is below 1.
        """
        return self._refresh.export(page_size)

    def import_refresh_token(self, record: RefreshTokenRecord) -> None:
        """Store a refresh token exactly as exported elsewhere (used, revoked or not).

        Raises:
            Conflict: A token with this hash exists.
            NotFound: The user does not exist.
        """
        self._refresh.import_(record)
