"""Backend URLs, their options, and the engines made from them.

``sqlite:///path/file.db`` opens a file in WAL mode with a busy timeout and foreign keys on;
``postgresql+psycopg://…`` (or plain ``postgresql://``, which means psycopg 3 here) opens a
pool whose connections never use generic plans, and reader connections that do, for the
statements whose best plan does not depend on their values (see :meth:`Database.reader`).
"""

from __future__ import annotations

import functools
import os
import re
import sqlite3
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from types import TracebackType
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import Field, field_validator
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from pinsphere.backends.base import BackendOptions, split_options
from pinsphere.backends.sql.checkpoints import BACKSTOP_PAGES, Checkpointer
from pinsphere.backends.sql.pin_cache import DEFAULT_PIN_CACHE_SIZE
from pinsphere.backends.sql.translate import translate_errors, translated
from pinsphere.errors import BackendUnavailable, InvalidInput

__all__ = [
    "Database",
    "DriverReader",
    "ReaderLease",
    "ReaderPool",
    "SQLOptions",
    "SQLiteWriteLease",
    "driver_executemany",
    "open_database",
]

_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
# Options that only mean something to one dialect; given to the other they are an error.
_SQLITE_ONLY = ("busy_timeout", "synchronous")
_POSTGRES_ONLY = ("schema", "connect_timeout", "sslmode", "application_name")


class SQLOptions(BackendOptions):
    """Options of the SQL backends, read from the URL's query string.

    The pool options apply to each pool of a backend: SQLAlchemy's, for transactions, and
    the reader pools of :meth:`Database.reader` (one on SQLite; two on PostgreSQL, planned
    per value and generic). A PostgreSQL backend may so hold up to three times
    ``pool_size + max_overflow`` connections at its busiest (45 with the defaults); size
    ``max_connections`` for that, per worker process.

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
        pin_cache_size: Pins a metadata backend keeps, built, for searches to use again
            while their rows are unchanged (0: none); see
            :mod:`pinsphere.backends.sql.pin_cache`.
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
    pin_cache_size: int = Field(default=DEFAULT_PIN_CACHE_SIZE, ge=0)

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
        pin_cache_size: How many built pins a metadata backend keeps (the option).
    """

    def __init__(
        self, engine: Engine, schema: str | None, options: SQLOptions | None = None
    ) -> None:
        self.engine = engine
        _engines.add(engine)
        self.dialect: str = engine.dialect.name
        self.schema = schema
        options = options or SQLOptions()
        self.pin_cache_size = options.pin_cache_size
        sqlite = self.dialect == "sqlite"
        size = options.pool_size or (_SQLITE_POOL_SIZE if sqlite else _POSTGRES_READERS)

        # As SQLAlchemy's pool: pool_size kept, max_overflow more under load, then a wait.
        overflow = options.max_overflow if options.max_overflow is not None else _OVERFLOW

        def readers(settings: tuple[str, ...] = ()) -> ReaderPool:
            return ReaderPool(
                engine,
                size=size,
                limit=size + overflow,
                timeout=options.pool_timeout or _POOL_TIMEOUT,
                recycle=options.pool_recycle,
                pre_ping=options.pool_pre_ping,
                settings=settings,
            )

        self._readers = readers()
        # SQLite's WAL checkpoints run on a thread of their own (see .checkpoints), which
        # must not keep this object alive: it is stopped when this is collected unclosed.
        self._checkpointer: Checkpointer | None = None
        if sqlite:
            self._checkpointer = Checkpointer(
                functools.partial(
                    sqlite3.connect,
                    engine.url.database or "",
                    isolation_level=None,
                    check_same_thread=False,
                )
            )
            weakref.finalize(self, self._checkpointer.close, wait=False)
        # SQLite prepares each statement once and keeps it; PostgreSQL needs a say.
        self._stable_readers = (
            self._readers if sqlite else readers(("SET plan_cache_mode = force_generic_plan",))
        )

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
        if self._checkpointer is not None:
            self._checkpointer.written()

    def sqlite_write(self, conflict: str = "the value is already taken") -> SQLiteWriteLease:
        """A SQLite driver connection in a write transaction (``BEGIN IMMEDIATE``), committed
        on success and rolled back on error, for the hot single-statement-set writes.

        An upload inserts one pin: SQLAlchemy's checkout, ``begin`` hook and commit cost
        about 100 µs there, as much as SQLite's own inserts and commit. The connection comes
        from the pool of :meth:`reader` and is given back with no transaction open.

        Use as ``with database.sqlite_write(conflict) as connection: connection.execute(…)``.

        Args:
            conflict: The message of the :class:`~pinsphere.errors.Conflict` raised when a
                unique key is violated.

        Raises:
            TypeError: The database is not SQLite.
        """
        if self._checkpointer is None:
            raise TypeError("sqlite_write is for SQLite databases")
        return SQLiteWriteLease(self._readers, conflict, self._checkpointer)

    def reader(self, *, stable_plan: bool = False) -> ReaderLease:
        """The driver's own connection, for reads of one statement each, outside a transaction.

        For the hot read paths (search, a pin, a user): a single statement reads one
        consistent snapshot on its own, so no ``BEGIN``/``COMMIT`` round trips are needed
        (PostgreSQL connections of this kind stay in autocommit; SQLite's never open
        transactions by themselves). The connections come from :class:`ReaderPool` rather
        than SQLAlchemy's pool, whose checkout and reset cost more than the query. Native
        errors are translated; a connection that broke is closed instead of kept.

        Use as ``with database.reader() as reader: reader.rows(sql, parameters)``.

        Args:
            stable_plan: The statements to run have one best plan whatever their values
                (a tag-driven search walks ``pin_tags(tag, pin_id)`` in id order for any
                tag; a pin is read by its key; a one-word search's SQL admits only the way
                chosen for its word, see :mod:`.words`). On PostgreSQL they then run on connections
                that keep generic plans: psycopg prepares a statement after a few runs, and
                PostgreSQL stops planning it again. Planning a search with its share and
                board subqueries took longer than running it (0.5 to 0.8 ms against 0.2 to
                0.4 ms at 100,000 pins). Every other statement is planned for its values
                (``force_custom_plan``): a generic plan that ignores a word's or a date
                range's selectivity can be a thousand times slower.
        """
        return ReaderLease(self._stable_readers if stable_plan else self._readers)

    def dispose(self) -> None:
        """Close every pooled connection (and stop the checkpoint thread)."""
        if self._checkpointer is not None:
            self._checkpointer.close()
        self._readers.close()
        self._stable_readers.close()
        self.engine.dispose()


class DriverReader:
    """Runs read statements on a driver (DBAPI) connection.

    Attributes:
        placeholder: The driver's positional parameter marker (``?`` or ``%s``).
        connection: The driver connection.
        born: When it was opened (:func:`time.monotonic`), for ``pool_recycle``.
    """

    __slots__ = ("born", "connection", "placeholder")

    def __init__(self, connection: Any, placeholder: str) -> None:
        self.connection = connection
        self.placeholder = placeholder
        self.born = time.monotonic()

    def rows(self, sql: str, parameters: Any) -> list[tuple[Any, ...]]:
        """All rows of one statement."""
        rows: list[tuple[Any, ...]] = self.connection.execute(sql, parameters).fetchall()
        return rows


class ReaderPool:
    """Driver connections kept for single-statement reads.

    Connections are opened through the engine (so its ``connect`` hooks set the PRAGMAs or
    session settings) and then detached from SQLAlchemy's pool; idle ones wait in a deque,
    whose ``append``/``pop`` are atomic. At most ``limit`` are lent at once (a semaphore; the
    next caller waits up to ``timeout`` seconds) and at most ``size`` kept idle: those opened
    beyond ``size`` under load are closed when given back, as in SQLAlchemy's pool.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        size: int,
        limit: int | None = None,
        timeout: float = 30.0,
        recycle: int | None,
        pre_ping: bool,
        settings: tuple[str, ...] = (),
    ) -> None:
        """Keep up to ``size`` idle connections of ``engine``, lend at most ``limit``.

        Args:
            engine: Opens the connections.
            size: The most idle connections kept.
            limit: The most connections lent at once (default ``size``); one more waits.
            timeout: Seconds to wait for a connection when ``limit`` are lent.
            recycle: Seconds after which a connection is replaced (``None`` or negative:
                never), as SQLAlchemy's ``pool_recycle``.
            pre_ping: Test each connection before use, as SQLAlchemy's ``pool_pre_ping``.
            settings: Statements run once on each new connection (after the engine's own).
        """
        self._engine = engine
        self._settings = settings
        self._sqlite = engine.dialect.name == "sqlite"
        self._size = size
        self._recycle = recycle if recycle is not None and recycle >= 0 else None
        self._pre_ping = pre_ping
        self._limit = limit or size
        self._idle: deque[DriverReader] = deque()
        self._lendable = threading.BoundedSemaphore(self._limit)
        self._timeout = timeout
        _pools.add(self)

    def _forget_inherited(self) -> None:
        """In a forked child: drop the parent's connections (never use, nor close, them)
        and the parent's count of lent ones."""
        self._idle = deque()
        self._lendable = threading.BoundedSemaphore(self._limit)

    def take(self) -> DriverReader:
        """An idle connection, or a new one.

        Raises:
            BackendUnavailable: ``limit`` connections stayed lent for ``timeout`` seconds.
        """
        if not self._lendable.acquire(timeout=self._timeout):
            raise BackendUnavailable(f"no database connection came free within {self._timeout:g} s")
        try:
            while True:
                try:
                    reader = self._idle.pop()
                except IndexError:
                    return self._open()
                if self._fresh(reader):
                    return reader
                _close(reader)
        except BaseException:
            self._lendable.release()
            raise

    def give(self, reader: DriverReader) -> None:
        """Return a connection that is still usable."""
        if len(self._idle) < self._size:
            self._idle.append(reader)
        else:
            _close(reader)
        self._lendable.release()

    def forget(self) -> None:
        """Count a lent connection as returned after closing it (it is not kept)."""
        self._lendable.release()

    def discard(self, reader: DriverReader) -> None:
        """Return a connection after an error: kept only when the error left it usable."""
        if _usable(reader.connection, self._sqlite):
            self.give(reader)
        else:
            _close(reader)
            self._lendable.release()

    def close(self) -> None:
        """Close every idle connection."""
        while True:
            try:
                reader = self._idle.pop()
            except IndexError:
                return
            _close(reader)

    def _fresh(self, reader: DriverReader) -> bool:
        if self._recycle is not None and time.monotonic() - reader.born > self._recycle:
            return False
        if not self._pre_ping:
            return True
        try:
            reader.connection.execute("SELECT 1").fetchall()
        except Exception:  # any failure means: open another one
            return False
        return True

    def _open(self) -> DriverReader:
        pooled = self._engine.raw_connection()
        connection: Any = pooled.driver_connection
        # Ours from now on: SQLAlchemy's pool forgets it and opens another when it needs one.
        pooled.detach()
        if not self._sqlite:
            connection.autocommit = True
        try:
            for statement in self._settings:
                connection.execute(statement)
        except BaseException:
            with suppress(Exception):
                connection.close()
            raise
        return DriverReader(connection, "?" if self._sqlite else "%s")


_pools: weakref.WeakSet[ReaderPool] = weakref.WeakSet()
_engines: weakref.WeakSet[Engine] = weakref.WeakSet()


def _forget_inherited_connections() -> None:
    for pool in list(_pools):
        pool._forget_inherited()
    for engine in list(_engines):
        # SQLAlchemy's own advice for a child process: new pools, the parent's left alone.
        engine.dispose(close=False)


if hasattr(os, "register_at_fork"):
    # A SQLite or PostgreSQL connection must not be shared by two processes.
    os.register_at_fork(after_in_child=_forget_inherited_connections)


def _close(reader: DriverReader) -> None:
    with suppress(Exception):  # closing a broken connection may fail; it is gone either way
        reader.connection.close()


class ReaderLease:
    """One use of a :class:`ReaderPool` connection, as a context manager.

    A class rather than a generator-based context manager: it is entered on every search.
    """

    __slots__ = ("_pool", "_reader")

    def __init__(self, pool: ReaderPool) -> None:
        self._pool = pool

    def __enter__(self) -> DriverReader:
        try:
            self._reader = self._pool.take()
        except Exception as exc:
            replacement = translated(exc)
            if replacement is None:
                raise
            raise replacement from exc
        return self._reader

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is None:
            self._pool.give(self._reader)
            return
        self._pool.discard(self._reader)
        replacement = translated(exc)
        if replacement is not None:
            raise replacement from exc


class SQLiteWriteLease:
    """One write transaction on a :class:`ReaderPool` connection of SQLite, as a context
    manager; see :meth:`Database.sqlite_write`."""

    __slots__ = ("_checkpointer", "_conflict", "_pool", "_reader")

    def __init__(self, pool: ReaderPool, conflict: str, checkpointer: Checkpointer) -> None:
        self._pool = pool
        self._conflict = conflict
        self._checkpointer = checkpointer

    def __enter__(self) -> sqlite3.Connection:
        with translate_errors(self._conflict):
            reader = self._pool.take()
            try:
                reader.connection.execute("BEGIN IMMEDIATE")
            except BaseException:
                self._pool.give(reader)
                raise
        self._reader = reader
        connection: sqlite3.Connection = reader.connection
        return connection

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        connection: sqlite3.Connection = self._reader.connection
        if exc is None:
            try:
                connection.execute("COMMIT")
            except Exception as failure:
                self._abandon(connection)
                replacement = translated(failure, self._conflict)
                if replacement is None:
                    raise
                raise replacement from failure
            self._pool.give(self._reader)
            self._checkpointer.written()
            return
        self._abandon(connection)
        replacement = translated(exc, self._conflict)
        if replacement is not None:
            raise replacement from exc

    def _abandon(self, connection: sqlite3.Connection) -> None:
        # A failed statement may have ended the transaction already (SQLite rolls back on
        # some errors by itself); only an open one needs the ROLLBACK.
        if connection.in_transaction:
            with suppress(sqlite3.Error):
                connection.execute("ROLLBACK")
        if connection.in_transaction:
            # Never lend a connection that still holds the write lock.
            _close(self._reader)
            self._pool.forget()
        else:
            self._pool.give(self._reader)


def driver_executemany(conn: Connection, statement: str, rows: Sequence[Sequence[Any]]) -> None:
    """Run one statement for many rows on the connection's driver, in its transaction.

    On SQLite the driver connection is called directly: a single upload inserts into four
    tables, and SQLAlchemy's execution context cost more per statement than SQLite's work.
    """
    if conn.dialect.name == "sqlite":
        conn.connection.driver_connection.executemany(statement, rows)  # type: ignore[union-attr]
    else:
        conn.exec_driver_sql(statement, list(rows))


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
# SQLAlchemy's default pool size: idle reader connections kept beside the pool's own.
_POSTGRES_READERS = 5
# SQLAlchemy's defaults for the connections lent beyond those kept, and the wait for one.
_OVERFLOW = 10
_POOL_TIMEOUT = 30.0


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
    return Database(engine, options.schema_, options), options


def _prepare_sqlite(engine: Engine, options: SQLOptions) -> None:
    busy = options.busy_timeout if options.busy_timeout is not None else 5000
    synchronous = (options.synchronous or "normal").upper()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute(f"PRAGMA synchronous = {synchronous}")
        cursor.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP_PAGES}")
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
        # Every statement here reads or writes a few rows; compiling one with JIT takes 100
        # to 200 ms, and a generic plan's unknown LIMIT inflates its estimated cost past
        # jit_above_cost even when it reads a page of rows.
        "SET jit = off",
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
