"""What the SQL metadata and user backends share: opening a database at its current schema
revision, closing it, and answering a health check."""

from __future__ import annotations

from typing import ClassVar, Self

import sqlalchemy as sa

from pinsphere.backends.sql.engine import Database, open_database
from pinsphere.backends.sql.migrate import Branch, upgrade

__all__ = ["SQLConnected"]


class SQLConnected:
    """A backend holding one :class:`Database` whose tables of ``schema_branch`` are current.

    Subclasses set :attr:`schema_branch` and take the opened database in ``__init__``.
    """

    schema_branch: ClassVar[Branch]

    def __init__(self, database: Database) -> None:
        """Use an opened database whose schema is current; see :meth:`from_url`."""
        self._db = database

    @classmethod
    def from_url(cls, url: str) -> Self:
        """Open the database a URL names and bring this backend's tables up to date.

        Raises:
            InvalidInput: The URL or an option is not valid.
            BackendUnavailable: The database cannot be reached or upgraded.
        """
        database, _ = open_database(url)
        try:
            upgrade(database, cls.schema_branch)
        except BaseException:
            database.dispose()
            raise
        return cls(database)

    @property
    def engine(self) -> sa.Engine:
        """The SQLAlchemy engine, for diagnostics (query plans, health checks)."""
        return self._db.engine

    def close(self) -> None:
        """Release the pool's connections."""
        self._db.dispose()

    def ping(self) -> None:
        """Run a trivial query.

        Raises:
            BackendUnavailable: The database does not answer.
        """
        with self._db.read() as conn:
            conn.execute(sa.select(1))
