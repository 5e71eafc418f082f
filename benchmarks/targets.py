"""Where each side of a comparison lives: Pinsphere stores and baseline databases, cached.

Loading a million pins takes minutes, so loaded databases are kept and reused:

* SQLite: files under the cache folder (``benchmarks/.cache/`` by default), named by the pin
  count and seed; a ``.done`` file written after a complete load marks one usable;
* PostgreSQL: schemas in the dedicated database ``pinsphere_bench`` (created if missing),
  named by the pin count and seed; a row in ``public.bench_cache`` marks one usable.

A Pinsphere cache is also keyed by a digest of the SQL backend's tables and migrations and of
the data (the generator and :data:`LOAD_VERSION`), so a change to the backend's schema or to
the data rebuilds it instead of measuring stale tables; a baseline cache is keyed by
:data:`BASELINE_VERSION` and the same data digest.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from benchmarks.baseline_postgres import PostgresBaseline
from benchmarks.baseline_sqlite import SqliteBaseline
from benchmarks.datagen import (
    OWNER_NAMES,
    SHARER,
    START,
    PinRecord,
    Vocabulary,
    board_id,
    board_share_id,
    iter_batches,
    shared_boards,
    to_pin,
)
from pinsphere.ids import encode_id

__all__ = [
    "BASELINE_VERSION",
    "BENCH_DATABASE",
    "Loader",
    "PostgresBaseline",
    "PostgresPlace",
    "SqliteBaseline",
    "SqlitePlace",
    "backend_fingerprint",
    "baseline_loader",
    "baseline_schema",
    "data_fingerprint",
    "fill",
    "open_store",
    "owners_of",
    "remove_tree",
    "sqlite_place",
    "store_loader",
]

BENCH_DATABASE = "pinsphere_bench"
"""The PostgreSQL database the benchmarks own (never ``test``, which the test suite uses)."""

BASELINE_VERSION = "3"
"""Bump when the baseline schema changes, so cached baselines are rebuilt."""

LOAD_VERSION = "3"
"""Bump when the way generated data is loaded changes (e.g. how shares are written)."""

LOAD_BATCH = 10_000

_SRC = Path(__file__).resolve().parent.parent / "src" / "pinsphere"


def data_fingerprint() -> str:
    """A short digest of the generated data: the generator's source and :data:`LOAD_VERSION`."""
    digest = hashlib.sha256(LOAD_VERSION.encode())
    digest.update((Path(__file__).resolve().parent / "datagen.py").read_bytes())
    return digest.hexdigest()[:8]


def backend_fingerprint() -> str:
    """A short digest of the SQL backend's physical schema and of the generated data.

    Tables, migrations and generated data decide whether cached tables are still the ones
    the code expects.
    Query or insert-path changes do not invalidate the cache; a stale row format would show
    up as answers that differ from the baseline's, which the search benchmark reports.
    """
    digest = hashlib.sha256(data_fingerprint().encode())
    files = [
        _SRC / "backends" / "sql" / "tables.py",
        *sorted((_SRC / "migrations").rglob("*.py")),
    ]
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def baseline_schema(count: int, seed: int) -> str:
    """The PostgreSQL schema (and SQLite file stem) of a baseline for ``count`` and ``seed``."""
    return f"bl_n{count}_s{seed}_v{BASELINE_VERSION}_{data_fingerprint()}"


def _sql_backends() -> tuple[Any, Any]:
    from pinsphere.backends.sql.metadata import SQLMetadataBackend
    from pinsphere.backends.sql.users import SQLUserBackend

    return SQLMetadataBackend, SQLUserBackend


def open_store(  # type: ignore[no-untyped-def]
    metadata_url: str,
    users_url: str | None = None,
    blobs_url: str = "memory://",
    *,
    derive_media: bool = True,
):
    """A :class:`pinsphere.store.PinStore` over the SQL backends and fsspec blobs."""
    from pinsphere.backends.fsspec import FsspecBlobBackend
    from pinsphere.settings import PasswordHashing, StoreSettings
    from pinsphere.store import PinStore

    metadata_cls, users_cls = _sql_backends()
    settings = StoreSettings(
        password_hashing=PasswordHashing(time_cost=1, memory_cost_kib=8, parallelism=1),
        derive_media=derive_media,
    )
    return PinStore(
        metadata=metadata_cls.from_url(metadata_url),
        users=users_cls.from_url(users_url or metadata_url),
        blobs=FsspecBlobBackend.from_url(blobs_url),
        settings=settings,
    )


def owners_of(store: Any) -> list[Any]:
    """The store's users for :data:`OWNER_NAMES`, created when missing."""
    from pinsphere.errors import NotFound

    owners = []
    for name in OWNER_NAMES:
        try:
            owners.append(store.users.find(name))
        except NotFound:
            owners.append(store.users.create(name, role="member"))
    return owners


@dataclass
class Loader:
    """One destination for generated pins, with the time spent loading it.

    Attributes:
        name: Shown in progress lines.
        load: Inserts one batch of records.
        seconds: Time spent in ``load`` so far.
    """

    name: str
    load: Callable[[Sequence[PinRecord]], object]
    seconds: float = 0.0


def store_loader(name: str, store: Any) -> Loader:
    """A loader inserting pins through the store's metadata backend.

    The shared boards (:func:`~benchmarks.datagen.shared_boards`) are created and shared with
    the sharer at once (``create_board``, ``put_share``); pins go in with ``insert_pins``, each
    batch with its pins' board places, and each pin shared with the sharer is then shared
    with ``put_share`` (the backend's only way to write a share). The other members' shares,
    5 % of all pins, are written in bulk, one ``executemany`` per batch into the backend's
    ``pin_shares`` table, with the rows ``put_share`` would write.
    """
    from pinsphere.backends.sql.sharing import pin_shares
    from pinsphere.models import Board, Share

    owners = owners_of(store)
    sharer = owners[SHARER]
    metadata = store.metadata
    for plan in shared_boards():
        owner = owners[plan.owner]
        board = Board(
            id=board_id(plan.index),
            owner_id=owner.id,
            owner=owner.username,
            name=f"shared board {plan.index}",
            visibility="private",
            created_at=START,
        )
        metadata.create_board(board)
        metadata.put_share(
            Share(
                id=board_share_id(plan.index),
                target_kind="board",
                target_id=board.id,
                user_id=sharer.id,
                username=sharer.username,
                role="viewer",
                created_by=owner.id,
                created_at=START,
            )
        )

    def load(batch: Sequence[PinRecord]) -> None:
        metadata.insert_pins(
            [(to_pin(r, owners), (board_id(r.board),) if r.board >= 0 else ()) for r in batch]
        )
        background = [
            {
                "pin_id": r.id,
                "id": f"bg{encode_id(r.id)}",
                "user_id": owners[r.grantee].id,
                "username": owners[r.grantee].username,
                "role": "viewer",
                "created_by": owners[r.owner].id,
                "created_at": r.created_at,
            }
            for r in batch
            if r.grantee >= 0
        ]
        if background:
            with metadata.engine.begin() as conn:
                conn.execute(pin_shares.insert(), background)
        for r in batch:
            if r.shared:
                pin = to_pin(r, owners)
                metadata.put_share(
                    Share(
                        id=pin.id,
                        target_kind="pin",
                        target_id=pin.id,
                        user_id=sharer.id,
                        username=sharer.username,
                        role="viewer",
                        created_by=pin.owner_id,
                        created_at=pin.created_at,
                    )
                )

    return Loader(name, load)


def baseline_loader(name: str, baseline: Any) -> Loader:
    """A loader writing pins, shares and board places into a hand-written baseline."""
    baseline.create_boards(shared_boards())

    def load(batch: Sequence[PinRecord]) -> None:
        baseline.load(batch)
        baseline.load_shares(batch)

    return Loader(name, load)


def fill(
    loaders: Sequence[Loader], count: int, seed: int, vocabulary: Vocabulary, *, quiet: bool
) -> None:
    """Generate ``count`` pins once and load each batch into every loader, with progress."""
    if not loaders:
        return
    done = 0
    last_report = time.monotonic()
    for batch in iter_batches(count, seed, LOAD_BATCH, vocabulary=vocabulary):
        for loader in loaders:
            start = time.perf_counter()
            loader.load(batch)
            loader.seconds += time.perf_counter() - start
        done += len(batch)
        if not quiet and (time.monotonic() - last_report > 10 or done == count):
            last_report = time.monotonic()
            rates = ", ".join(
                f"{loader.name} {done / loader.seconds:,.0f} pins/s" for loader in loaders
            )
            print(f"  loaded {done:,} / {count:,} pins ({rates})", flush=True)


# -- SQLite ------------------------------------------------------------------------------------


@dataclass
class SqlitePlace:
    """The cached SQLite files for one pin count and seed."""

    folder: Path
    fingerprint: str

    @property
    def store_path(self) -> Path:
        """The Pinsphere database file."""
        return self.folder / f"pinsphere-{self.fingerprint}.db"

    @property
    def baseline_path(self) -> Path:
        """The baseline database file."""
        return self.folder / f"baseline-v{BASELINE_VERSION}-{data_fingerprint()}.db"

    @staticmethod
    def _done(path: Path) -> Path:
        return path.with_name(path.name + ".done")

    def is_ready(self, path: Path) -> bool:
        """Whether ``path`` holds a complete load."""
        return self._done(path).exists() and path.exists()

    def mark_ready(self, path: Path) -> None:
        """Record that ``path`` holds a complete load."""
        self._done(path).write_text("complete\n")

    def reset(self, path: Path) -> None:
        """Remove a database file and its companions, to load it afresh."""
        for suffix in ("", "-wal", "-shm", ".done"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)

    def drop_stale(self) -> None:
        """Remove databases made by other versions of the backend, baseline or data."""
        for current in (self.store_path, self.baseline_path):
            stem = current.name.split("-", 1)[0]
            for path in self.folder.glob(f"{stem}-*.db*"):
                if not path.name.startswith(current.name):
                    path.unlink(missing_ok=True)


def sqlite_place(cache: Path, count: int, seed: int) -> SqlitePlace:
    """The cache folder for SQLite databases of ``count`` pins from ``seed``."""
    folder = cache / f"sqlite-n{count}-s{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    return SqlitePlace(folder, backend_fingerprint())


# -- PostgreSQL --------------------------------------------------------------------------------


@dataclass
class PostgresPlace:
    """The benchmark database on a PostgreSQL server.

    Attributes:
        sqlalchemy_url: The benchmark database's URL for Pinsphere (``postgresql+psycopg``).
        conninfo: The same database for raw psycopg.
    """

    sqlalchemy_url: str
    conninfo: str

    @classmethod
    def prepare(cls, url: str) -> PostgresPlace:
        """Create the benchmark database if missing, connecting first to the URL's database.

        Raises:
            psycopg.OperationalError: The server cannot be reached.
        """
        from sqlalchemy.engine import make_url

        given = make_url(url)
        admin = given.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (BENCH_DATABASE,)
            ).fetchone()
            if not exists:
                conn.execute(f"CREATE DATABASE {BENCH_DATABASE}")
        bench = given.set(database=BENCH_DATABASE, query={})
        place = cls(
            sqlalchemy_url=bench.set(drivername="postgresql+psycopg").render_as_string(
                hide_password=False
            ),
            conninfo=bench.set(drivername="postgresql").render_as_string(hide_password=False),
        )
        with psycopg.connect(place.conninfo, autocommit=True) as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS public.bench_cache (name text PRIMARY KEY, info text)"
            )
        return place

    @contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """Hold a server-wide advisory lock, so concurrent runs do not load one schema twice."""
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (name,))
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (name,))

    def store_url(self, schema: str) -> str:
        """The Pinsphere URL of a schema in the benchmark database."""
        return f"{self.sqlalchemy_url}?schema={schema}"

    def is_ready(self, schema: str) -> bool:
        """Whether ``schema`` holds a complete load."""
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            row = conn.execute(
                "SELECT 1 FROM public.bench_cache c JOIN pg_namespace n ON n.nspname = c.name"
                " WHERE c.name = %s",
                (schema,),
            ).fetchone()
        return row is not None

    def mark_ready(self, schema: str) -> None:
        """Record that ``schema`` holds a complete load."""
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO public.bench_cache VALUES (%s, 'complete') ON CONFLICT DO NOTHING",
                (schema,),
            )

    def drop(self, schema: str) -> None:
        """Drop a schema and forget it was loaded."""
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            conn.execute("DELETE FROM public.bench_cache WHERE name = %s", (schema,))

    def drop_stale(self, prefix: str, keep: str) -> None:
        """Drop schemas starting with ``prefix`` other than ``keep`` (older backend versions)."""
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            names = [
                row[0]
                for row in conn.execute(
                    "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s",
                    (prefix.replace("_", r"\_") + "%",),
                )
            ]
        for name in names:
            if name != keep:
                self.drop(name)

    def analyze(self, schema: str) -> None:
        """``VACUUM ANALYZE`` every table of a schema, as autovacuum would after a bulk load."""
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            tables = [
                row[0]
                for row in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
                )
            ]
            for table in tables:
                conn.execute(f'VACUUM ANALYZE {schema}."{table}"')


def remove_tree(path: Path) -> None:
    """Remove a folder if it exists."""
    shutil.rmtree(path, ignore_errors=True)
