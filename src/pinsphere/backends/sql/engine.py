"""Backend URLs, their options, and the engines made from them.

``sqlite:///path/file.db`` opens a file in WAL mode with a busy timeout and foreign keys on;
``postgresql+psycopg://…`` (or plain ``postgresql://``, which means psycopg 3 here) opens a
pool whose connections never use generic plans.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import Field, field_validator
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from pinsphere.backends.base import BackendOptions, split_options
from pinsphere.backends.sql.translate import translate_errors
from pinsphere.errors import InvalidInput

__all__ = ["Database", "DriverReader", "SQLOptions", "open_database"]

_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
# Options that only mean something to one dialect; given to the other they are an error.
_SQLITE_ONLY = ("busy_timeout", "synchronous")
_POSTGRES_ONLY = ("schema", "connect_timeout", "sslmode", "application_name")


class SQLOptions(BackendOptions):
    """Options of the SQL backends, read from the URL's query string.

    Attributes:
        echo: Log every statement (SQLAlchemy's ``echo``).
        pool_size: Connections kept open in the pool.
        max_overflow: Extra connections allowed beyond ``pool_size`` under load.
        pool_timeout: Seconds to wait for a free connection.
        pool_recycle: Reconnect connections older than this many seconds (-1: never).
        pool_pre_ping: Test each connection on checkout (survives database restarts).
        busy_timeout: SQLite: milliseconds to wait for another writer's lock.
        synchronous: SQLite: ``normal`` (safe with WAL; a power cut may lose the last commits)
            or ``full`` (every commit reaches the disk).
        schema: PostgreSQL: the schema holding the tables (created if missing); lets tests and
            tenants share one database.
        connect_timeout: PostgreSQL: seconds to wait for a connection.
        sslmode: PostgreSQL: libpq's ``sslmode``.
        application_name: PostgreSQL: shown in ``pg_stat_activity``.
    """

    echo: bool = False
    pool_size: int | None = Field(default=None, ge=1)
    max_overflow: int | None = Field(default=None, ge=0)
    pool_timeout: float | None = Field(default=None, gt=0)
    pool_recycle: int | None = None
    pool_pre_ping: bool = False
    busy_timeout: int | None = Field(default=None, ge=0)
    synchronous: Literal["normal", "full"] | None = None
    schema_: str | None = Field(default=None, alias="schema")
    connect_timeout: int | None = Field(default=None, ge=1)
    sslmode: str | None = None
    application_name: str | None = None

    @field_validator("schema_")
    @classmethod
    def _plain_identifier(cls, value: str | None) -> str | None:
        if value is not None and not _SCHEMA_NAME.match(value):
            raise ValueError("schema must be a plain identifier (letters, digits, _)")
        return value


class Database:
    """An engine with the dialect-specific ways the backends open transactions.

    Attributes:
        engine: The SQLAlchemy engine.
        dialect: ``sqlite`` or ``postgresql``.
        schema: The PostgreSQL schema in use, if one was asked for.
    """

    def __init__(self, engine: Engine, schema: str | None) -> None:
        self.engine = engine
        self.dialect: str = engine.dialect.name
        self.schema = schema

    @property
    def is_sqlite(self) -> bool:
        """Whether this is SQLite."""
        return self.dialect == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection in a read transaction; native errors are translated."""
        with translate_errors(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self, conflict: str = "the value is already taken") -> Iterator[Connection]:
        """A connection in a write transaction, committed on success, rolled back on error.

        Args:
            conflict: The message of the :class:`~pinsphere.errors.Conflict` raised when a
                unique key is violated.

        On SQLite the transaction takes the write lock at once (``BEGIN IMMEDIATE``): a
        deferred transaction that reads and then writes can deadlock with another writer in a
        way no busy timeout resolves.
        """
        with translate_errors(conflict), self.engine.connect() as conn:
            if self.is_sqlite:
                conn = conn.execution_options(pinsphere_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def reader(self) -> Iterator[DriverReader]:
        """The driver's own connection, for reads of one statement each, outside a transaction.

        For the search path: a single statement reads one consistent snapshot on its own, so
        no ``BEGIN``/``COMMIT`` round trips are needed (PostgreSQL runs it in autocommit; the
        SQLite connections never open transactions by themselves). Native errors are
        translated; a connection that broke is dropped from the pool.
        """
        with translate_errors():
            pooled = self.engine.raw_connection()
            try:
                driver: Any = pooled.driver_connection
                if not self.is_sqlite:
                    driver.autocommit = True
                try:
                    yield DriverReader(driver, "?" if self.is_sqlite else "%s")
                finally:
                    if not self.is_sqlite:
                        # The pool's other users (SQLAlchemy) expect transactions again.
                        driver.autocommit = False
            except BaseException as exc:
                if not _usable(pooled.driver_connection, self.is_sqlite):
                    pooled.invalidate(exc if isinstance(exc, Exception) else None)
                raise
            finally:
                pooled.close()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


class DriverReader:
    """Runs read statements on a driver (DBAPI) connection.

    Attributes:
        placeholder: The driver's positional parameter marker (``?`` or ``%s``).
    """

    def __init__(self, connection: Any, placeholder: str) -> None:
        self._connection = connection
        self.placeholder = placeholder

    def rows(self, sql: str, parameters: Any) -> list[tuple[Any, ...]]:
        """All rows of one statement."""
        rows: list[tuple[Any, ...]] = self._connection.execute(sql, parameters).fetchall()
        return rows


def _usable(connection: Any, sqlite: bool) -> bool:
    """Whether a driver connection may go back to the pool after an error."""
    if sqlite:
        return True  # an SQLite connection does not break; its errors are per statement
    return not connection.closed and not connection.broken


def normalize_url(url: str) -> str:
    """Map ``postgresql://`` (and ``postgres://``) to the psycopg 3 driver.

    Raises:
        InvalidInput: The scheme is not one the SQL backends serve.
    """
    scheme, sep, rest = url.partition("://")
    lowered = scheme.lower()
    if not sep:
        raise InvalidInput(f"not a database URL: {url!r}")
    if lowered in ("postgresql", "postgres", "postgresql+psycopg"):
        return f"postgresql+psycopg://{rest}"
    if lowered == "sqlite":
        return f"sqlite://{rest}"
    raise InvalidInput(f"the SQL backends do not serve {scheme}:// URLs")


_SQLITE_POOL_SIZE = 40


def open_database(url: str) -> tuple[Database, SQLOptions]:
    """Make the engine a backend URL names (no connection is opened yet).

    Raises:
        InvalidInput: The URL or one of its options is not valid.
    """
    base, options = split_options(url, SQLOptions)
    bare = normalize_url(base)
    sqlite = bare.startswith("sqlite")
    wrong = _POSTGRES_ONLY if sqlite else _SQLITE_ONLY
    given = options.model_fields_set
    bad = [name for name in wrong if (name if name != "schema" else "schema_") in given]
    if bad:
        dialect = "SQLite" if sqlite else "PostgreSQL"
        raise InvalidInput(f"option(s) {', '.join(bad)} do not apply to {dialect}")
    if sqlite and (bare.rstrip("/") in ("sqlite:", "sqlite:/") or ":memory:" in bare):
        # An in-memory database lives in one connection, which a pool cannot share.
        raise InvalidInput("the SQLite backends need a file: sqlite:///path/to/file.db")

    kwargs: dict[str, Any] = {"echo": options.echo, "pool_pre_ping": options.pool_pre_ping}
    if sqlite:
        # A SQLite connection is a file handle, cheap to keep; opening one costs its PRAGMAs.
        # Keep as many as a threaded server runs at once (uvicorn's pool has 40 threads), so
        # requests never open and close connections under load.
        kwargs["pool_size"] = _SQLITE_POOL_SIZE
    for name in ("pool_size", "max_overflow", "pool_timeout", "pool_recycle"):
        value = getattr(options, name)
        if value is not None:
            kwargs[name] = value
    connect_args: dict[str, Any] = {}
    if sqlite:
        # The driver must not open transactions on its own: the "begin" hook below does.
        connect_args["isolation_level"] = None
        connect_args["check_same_thread"] = False
    else:
        for name in ("connect_timeout", "sslmode", "application_name"):
            value = getattr(options, name)
            if value is not None:
                connect_args[name] = value
        connect_args.setdefault("connect_timeout", 10)
    try:
        engine = sa.create_engine(bare, connect_args=connect_args, **kwargs)
    except (sa.exc.ArgumentError, ValueError) as exc:
        raise InvalidInput(f"bad database URL: {exc}") from exc
    except ImportError as exc:  # the driver is missing
        raise InvalidInput(f"cannot open {bare.split(':', 1)[0]}: {exc}") from exc
    if sqlite:
        _prepare_sqlite(engine, options)
    else:
        _prepare_postgres(engine, options.schema_)
    return Database(engine, options.schema_), options


def _prepare_sqlite(engine: Engine, options: SQLOptions) -> None:
    busy = options.busy_timeout if options.busy_timeout is not None else 5000
    synchronous = (options.synchronous or "normal").upper()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute(f"PRAGMA synchronous = {synchronous}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("pinsphere_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _prepare_postgres(engine: Engine, schema: str | None) -> None:
    settings = [
        # After five executions psycopg prepares a statement, and PostgreSQL may then pick a
        # generic plan that ignores the searched tag: seconds instead of milliseconds.
        "SET plan_cache_mode = force_custom_plan",
        "SET TIME ZONE 'UTC'",
    ]
    if schema is not None:
        # The name is a validated plain identifier; quoting keeps its case.
        settings.append(f'SET search_path TO "{schema}"')

    # insert=True: run before SQLAlchemy inspects the first connection (default schema).
    @event.listens_for(engine, "connect", insert=True)
    def _on_connect(dbapi_conn: Any, _record: object) -> None:
        autocommit = dbapi_conn.autocommit
        dbapi_conn.autocommit = True
        with dbapi_conn.cursor() as cursor:
            for statement in settings:
                cursor.execute(statement)
        dbapi_conn.autocommit = autocommit
