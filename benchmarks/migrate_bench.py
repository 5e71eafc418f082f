"""Migration throughput: ``migrate_store`` from SQLite + files to PostgreSQL + S3, beside a
plain fsspec copy of the same bytes to the same S3 server.

```sh
python -m benchmarks.migrate_bench                  # 10,000 pins of 32 KiB
python -m benchmarks.migrate_bench --pins 2000 --blob-kib 100 --jobs 8
```

S3 is moto's server, run in a process of its own on loopback (so that it does not share this
process's interpreter lock) and reached through ``endpoint_url`` as MinIO would be.
PostgreSQL comes from ``PINSPHERE_BENCH_POSTGRES_URL`` (else ``PINSPHERE_TEST_POSTGRES_URL``,
else the local test server); the target lives in a fresh schema, dropped afterwards.

Three copies of the same blob files are timed, each into an empty bucket:

* **migrate**: :func:`pinsphere.migrate.migrate_store` — users, boards, pins, shares and every
  blob, each blob streamed and verified by its sha256 on the way;
* **fsspec put**: ``s3.put(files, paths)``, fsspec's own batched, concurrent upload of the
  bytes alone (no metadata, no verification);
* **fsspec put_file loop**: one ``put_file`` after another, the simplest plain copy.

The ratio printed is migration throughput over plain-copy throughput (1.0: as fast).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pinsphere
from pinsphere.backends.base import BlobBackend
from pinsphere.ids import encode_id, id_time, new_id
from pinsphere.layout import OriginalsLayout
from pinsphere.migrate import migrate_store
from pinsphere.models import Board, Media, Pin, Share, User

OWNERS = ("ana", "bo", "cy", "dee", "eve")
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


# -- servers ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's S3 server in a child process; yields its endpoint URL."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("moto's server did not start") from None
                time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A URL of a fresh PostgreSQL schema, dropped afterwards."""
    import psycopg

    url = os.environ.get(
        "PINSPHERE_BENCH_POSTGRES_URL",
        os.environ.get("PINSPHERE_TEST_POSTGRES_URL", DEFAULT_POSTGRES),
    )
    schema = f"migrate_bench_{uuid.uuid4().hex[:10]}"
    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        yield f"{url}{'&' if '?' in url else '?'}schema={schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


# -- the source store -------------------------------------------------------------------------


def _blobs(count: int, size: int, seed: int) -> Iterator[bytes]:
    rng = random.Random(seed)
    for _ in range(count):
        yield rng.randbytes(rng.randint(size // 2, size * 3 // 2))


def _put(blobs: BlobBackend, layout: OriginalsLayout, data: bytes) -> tuple[str, int]:
    sha256 = hashlib.sha256(data).hexdigest()
    with blobs.writer() as writer:
        writer.write(data)
        writer.commit(layout.key(sha256))
    return sha256, len(data)


def build_source(folder: Path, pins: int, blob_size: int, seed: int) -> list[Path]:
    """An embedded store of ``pins`` pins; returns the blob files (for the plain copies)."""
    database = f"sqlite:///{folder / 'pinsphere.db'}"
    blobs_url = (folder / "blobs").as_uri() + "?fsync=false"
    with pinsphere.open(metadata=database, users=database, blobs=blobs_url) as store:
        password_hash = store.passwords.hash("benchmark-password")
        users = []
        for name in OWNERS:
            user = User(id=encode_id(new_id()), username=name, created_at=_now())
            users.append(store.user_backend.create_user(user, password_hash))
        boards = [
            store.metadata.create_board(
                Board(
                    id=encode_id(new_id()),
                    owner_id=user.id,
                    owner=user.username,
                    name=f"Board {index}",
                    visibility="internal",
                    created_at=_now(),
                )
            )
            for user in users
            for index in range(4)
        ]
        batch: list[tuple[Pin, list[str]]] = []
        shares: list[Share] = []
        for index, data in enumerate(_blobs(pins, blob_size, seed)):
            sha256, size = _put(store.blobs, store.layout, data)
            owner = users[index % len(users)]
            pin_id = new_id()
            pin = Pin(
                id=encode_id(pin_id),
                owner_id=owner.id,
                owner=owner.username,
                title=f"pin {index}",
                tags=(f"tag/{index % 50}", "bench"),
                visibility=("public", "internal", "private")[index % 3],
                media=Media(mime_type="image/png", size=size, sha256=sha256, width=64, height=48),
                created_at=id_time(pin_id),
                updated_at=id_time(pin_id),
            )
            mine = [board.id for board in boards if board.owner_id == owner.id]
            batch.append((pin, [mine[index % 4]] if index % 3 == 0 else []))
            if len(batch) == 1000:
                store.metadata.insert_pins(batch)
                batch = []
            if index % 100 == 0:
                shares.append(
                    Share(
                        id=encode_id(new_id()),
                        target_kind="pin",
                        target_id=pin.id,
                        user_id=users[(index + 1) % len(users)].id,
                        username=users[(index + 1) % len(users)].username,
                        role="viewer",
                        created_by=owner.id,
                        created_at=_now(),
                    )
                )
        if batch:
            store.metadata.insert_pins(batch)
        for share in shares:
            store.metadata.put_share(share)
    return sorted(path for path in (folder / "blobs").rglob("*") if path.is_file())


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


# -- the copies -------------------------------------------------------------------------------


def _s3fs(endpoint: str) -> Any:
    import s3fs

    return s3fs.S3FileSystem(endpoint_url=endpoint, skip_instance_cache=True)


def _bucket(fs: Any, name: str) -> str:
    fs.call_s3("create_bucket", Bucket=name)
    return name


def plain_put(endpoint: str, root: Path, files: list[Path]) -> float:
    fs = _s3fs(endpoint)
    bucket = _bucket(fs, "plain-put")
    remote = [f"{bucket}/{path.relative_to(root).as_posix()}" for path in files]
    started = time.perf_counter()
    fs.put([str(path) for path in files], remote)
    elapsed = time.perf_counter() - started
    fs.rm(bucket, recursive=True)  # moto keeps everything in memory
    return elapsed


def plain_loop(endpoint: str, root: Path, files: list[Path]) -> float:
    fs = _s3fs(endpoint)
    bucket = _bucket(fs, "plain-loop")
    started = time.perf_counter()
    for path in files:
        fs.put_file(str(path), f"{bucket}/{path.relative_to(root).as_posix()}")
    elapsed = time.perf_counter() - started
    fs.rm(bucket, recursive=True)
    return elapsed


def migrate(endpoint: str, source: Path, jobs: int) -> tuple[float, Any]:
    _bucket(_s3fs(endpoint), "migrated")
    database = f"sqlite:///{source / 'pinsphere.db'}"
    with (
        postgres_schema() as postgres,
        pinsphere.open(metadata=database, users=database, blobs=(source / "blobs").as_uri()) as src,
        pinsphere.open(
            metadata=postgres,
            users=postgres,
            blobs=f"s3://migrated/pins?endpoint_url={endpoint}",
        ) as target,
    ):
        started = time.perf_counter()
        report = migrate_store(src, target, jobs=jobs)
        elapsed = time.perf_counter() - started
        # Spot-check what landed: digests of a sample of blobs read back from S3.
        keys = list(src.blobs.keys("originals/"))
        for key in keys[:: max(1, len(keys) // 200)]:
            digest = hashlib.sha256()
            with target.blobs.open(key) as blob:
                digest.update(blob.read())
            if digest.hexdigest() != key.rsplit("/", 1)[-1]:
                raise RuntimeError(f"blob {key} differs after the migration")
    return elapsed, report


# -- entry point ------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Build a store, copy its bytes plainly and migrate it; print throughputs and ratios."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.migrate_bench")
    parser.add_argument("--pins", type=int, default=10_000)
    parser.add_argument("--blob-kib", type=int, default=32, help="mean blob size")
    parser.add_argument("--jobs", type=int, default=4, help="blobs the migration copies at once")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    for name, value in (("AWS_ACCESS_KEY_ID", "bench"), ("AWS_SECRET_ACCESS_KEY", "bench")):
        os.environ.setdefault(name, value)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

    with tempfile.TemporaryDirectory(prefix="migrate-bench-") as tmp, moto_server() as endpoint:
        source = Path(tmp)
        started = time.perf_counter()
        files = build_source(source, args.pins, args.blob_kib * 1024, args.seed)
        total = sum(path.stat().st_size for path in files)
        print(
            f"source: {args.pins} pins, {len(files)} blobs, {total / 1e6:.1f} MB "
            f"(built in {time.perf_counter() - started:.1f} s)"
        )
        root = source / "blobs"
        put_seconds = plain_put(endpoint, root, files)
        loop_seconds = plain_loop(endpoint, root, files)
        migrate_seconds, report = migrate(endpoint, source, args.jobs)
        if not report.ok or report.copied.get("pins") != args.pins:
            print(report.summary())
            return 1

    def line(name: str, seconds: float) -> str:
        return (
            f"{name:<22} {seconds:7.1f} s  {len(files) / seconds:8.0f} blobs/s  "
            f"{total / seconds / 1e6:7.1f} MB/s"
        )

    print(line("fsspec put (batched)", put_seconds))
    print(line("fsspec put_file loop", loop_seconds))
    print(line(f"migrate (jobs={args.jobs})", migrate_seconds))
    print(f"ratio migrate / fsspec put:           {put_seconds / migrate_seconds:.2f}")
    print(f"ratio migrate / fsspec put_file loop: {loop_seconds / migrate_seconds:.2f}")
    print(report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
