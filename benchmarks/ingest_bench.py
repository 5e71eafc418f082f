"""Bulk loading: ``MetadataBackend.insert_pins`` against raw ``executemany`` / ``COPY``.

Both sides load the same generated pins in batches of 10,000 into empty tables with their
indexes in place (as an import into a live store would). The Pinsphere side is handed ready
:class:`~pinsphere.models.Pin` objects, as ``insert_pins`` takes them, and only the call is
timed; the baseline is handed the raw records and its timing includes turning them into rows
(ancestor tags, search words), the work ``insert_pins`` does inside.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from benchmarks.baseline_postgres import PostgresBaseline
from benchmarks.baseline_sqlite import SqliteBaseline
from benchmarks.datagen import Vocabulary, iter_batches, to_pin
from benchmarks.report import IngestResult, Report
from benchmarks.targets import LOAD_BATCH, PostgresPlace, open_store, owners_of, remove_tree

__all__ = ["ingest_postgres", "ingest_sqlite"]


def _race(
    database: str,
    store: Any,
    baseline: Any,
    count: int,
    seed: int,
    vocab: Vocabulary,
    method: str,
    report: Report,
    quiet: bool,
) -> None:
    owners = owners_of(store)
    ours = theirs = 0.0
    done = 0
    for batch in iter_batches(count, seed, LOAD_BATCH, vocabulary=vocab):
        pins = [(to_pin(r, owners), ()) for r in batch]
        start = time.perf_counter()
        store.metadata.insert_pins(pins)
        ours += time.perf_counter() - start
        start = time.perf_counter()
        baseline.load(batch)
        theirs += time.perf_counter() - start
        done += len(batch)
    result = IngestResult(
        database=database,
        pins=done,
        pinsphere_pins_per_s=done / ours,
        hand_pins_per_s=done / theirs,
        hand_method=method,
    )
    report.ingests.append(result)
    if not quiet:
        print(
            f"  {database:10} ingest {done:,} pins: pinsphere {result.pinsphere_pins_per_s:,.0f}"
            f" pins/s, hand {result.hand_pins_per_s:,.0f} pins/s, ratio {result.ratio:.2f}",
            flush=True,
        )


def ingest_sqlite(
    cache: Path, count: int, seed: int, vocab: Vocabulary, report: Report, *, quiet: bool
) -> None:
    """Load ``count`` pins into fresh SQLite files, both ways, and report the rates."""
    folder = cache / f"ingest-{os.getpid()}"
    remove_tree(folder)
    folder.mkdir(parents=True)
    store = open_store(f"sqlite:///{folder / 'pinsphere.db'}")
    baseline = SqliteBaseline(folder / "baseline.db")
    try:
        _race("sqlite", store, baseline, count, seed, vocab, "executemany", report, quiet)
    finally:
        store.close()
        baseline.close()
        remove_tree(folder)


def ingest_postgres(
    place: PostgresPlace, count: int, seed: int, vocab: Vocabulary, report: Report, *, quiet: bool
) -> None:
    """Load ``count`` pins into fresh PostgreSQL schemas, both ways, and report the rates."""
    ours_schema = f"ingest_ps_{os.getpid()}"
    theirs_schema = f"ingest_bl_{os.getpid()}"
    place.drop(ours_schema)
    place.drop(theirs_schema)
    store = open_store(place.store_url(ours_schema))
    baseline = PostgresBaseline(place.conninfo, theirs_schema)
    try:
        _race("postgresql", store, baseline, count, seed, vocab, "COPY", report, quiet)
    finally:
        store.close()
        baseline.close()
        place.drop(ours_schema)
        place.drop(theirs_schema)
