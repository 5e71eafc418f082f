"""Command line and orchestration: prepare each database, run the chosen benchmarks, report."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks import baseline_postgres, baseline_sqlite
from benchmarks.datagen import OWNER_NAMES, SHARER, make_vocabulary
from benchmarks.http_bench import add_arguments as add_http_arguments
from benchmarks.http_bench import options_from as http_options
from benchmarks.http_bench import run_http
from benchmarks.ingest_bench import ingest_postgres, ingest_sqlite
from benchmarks.report import Report
from benchmarks.search_bench import questions, run_questions
from benchmarks.targets import (
    PostgresBaseline,
    PostgresPlace,
    SqliteBaseline,
    backend_fingerprint,
    baseline_loader,
    baseline_schema,
    fill,
    open_store,
    sqlite_place,
    store_loader,
)
from benchmarks.upload_bench import run_upload

__all__ = ["build_parser", "main"]

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_CACHE = Path(__file__).resolve().parent / ".cache"
BENCHMARKS = ("search", "ingest", "upload", "http")
# The HTTP benchmark starts servers and moves gigabytes; it runs only when named.
DEFAULT_BENCHMARKS = ("search", "ingest", "upload")
DATABASES = ("sqlite", "postgresql")


def _csv(allowed: Sequence[str]):  # type: ignore[no-untyped-def]
    def parse(text: str) -> list[str]:
        items = [item.strip() for item in text.split(",") if item.strip()]
        wrong = [item for item in items if item not in allowed]
        if wrong or not items:
            raise argparse.ArgumentTypeError(
                f"choose from {', '.join(allowed)} (comma-separated), not {text!r}"
            )
        return items

    return parse


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m benchmarks``."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Pinsphere against the best hand-written SQL on the same data.",
    )
    parser.add_argument("--pins", type=int, default=1_000_000, help="pins per database")
    parser.add_argument(
        "--databases", type=_csv(DATABASES), default=list(DATABASES), help="sqlite,postgresql"
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("PINSPHERE_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="any database on the server; the benchmarks use their own database"
        " 'pinsphere_bench' there",
    )
    parser.add_argument(
        "--repeat", type=int, default=200, help="timed runs of each search question"
    )
    parser.add_argument(
        "--only",
        type=_csv(BENCHMARKS),
        default=list(DEFAULT_BENCHMARKS),
        help="search,ingest,upload (default) and/or http",
    )
    parser.add_argument("--seed", type=int, default=42, help="data generator seed")
    parser.add_argument(
        "--ingest-pins",
        type=int,
        default=None,
        help="pins loaded by the ingest benchmark (default: --pins, at most 100,000)",
    )
    parser.add_argument("--upload-files", type=int, default=1000, help="images uploaded")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--rebuild", action="store_true", help="reload the cached search databases")
    parser.add_argument("--quiet", action="store_true", help="print only the report")
    add_http_arguments(parser, prefix="http-")
    return parser


def _say(args: argparse.Namespace, message: str) -> None:
    if not args.quiet:
        print(message, flush=True)


def _search_sqlite(args: argparse.Namespace, report: Report) -> None:
    vocab = make_vocabulary(args.seed)
    place = sqlite_place(args.cache_dir, args.pins, args.seed)
    place.drop_stale()
    if args.rebuild:
        place.reset(place.store_path)
        place.reset(place.baseline_path)
    loaders = []
    for path in (place.store_path, place.baseline_path):
        if not place.is_ready(path):
            place.reset(path)
    store = open_store(f"sqlite:///{place.store_path}")
    baseline = SqliteBaseline(place.baseline_path)
    try:
        if not place.is_ready(place.store_path):
            loaders.append(store_loader("pinsphere", store))
        if not place.is_ready(place.baseline_path):
            loaders.append(baseline_loader("hand-written", baseline))
        if loaders:
            _say(args, f"sqlite: loading {args.pins:,} pins into {place.folder}")
            fill(loaders, args.pins, args.seed, vocab, quiet=args.quiet)
            for path in (place.store_path, place.baseline_path):
                place.mark_ready(path)
        else:
            _say(args, f"sqlite: using cached databases in {place.folder}")
        asked = questions(
            store.as_user(OWNER_NAMES[0]),
            baseline,
            vocab,
            baseline_sqlite.keyset_position,
            sharer=store.as_user(OWNER_NAMES[SHARER]),
            metadata=store.metadata,
        )
        run_questions("sqlite", asked, repeat=args.repeat, report=report, quiet=args.quiet)
    finally:
        store.close()
        baseline.close()


def _search_postgres(args: argparse.Namespace, place: PostgresPlace, report: Report) -> None:
    vocab = make_vocabulary(args.seed)
    prefix = f"ps_n{args.pins}_s{args.seed}_"
    ours = prefix + backend_fingerprint()
    theirs = baseline_schema(args.pins, args.seed)
    with place.lock(f"pinsphere-bench-{args.pins}-{args.seed}"):
        place.drop_stale(prefix, ours)
        place.drop_stale(f"bl_n{args.pins}_s{args.seed}_", theirs)
        for schema in (ours, theirs):
            if args.rebuild or not place.is_ready(schema):
                place.drop(schema)
        store = open_store(place.store_url(ours))
        baseline = PostgresBaseline(place.conninfo, theirs)
        try:
            loaders = []
            if not place.is_ready(ours):
                loaders.append(store_loader("pinsphere", store))
            if not place.is_ready(theirs):
                loaders.append(baseline_loader("hand-written", baseline))
            if loaders:
                _say(args, f"postgresql: loading {args.pins:,} pins into {ours}, {theirs}")
                fill(loaders, args.pins, args.seed, vocab, quiet=args.quiet)
                _say(args, "postgresql: VACUUM ANALYZE")
                for schema in (ours, theirs):
                    place.analyze(schema)
                    place.mark_ready(schema)
            else:
                _say(args, f"postgresql: using cached schemas {ours}, {theirs}")
        except BaseException:
            store.close()
            baseline.close()
            raise
    try:
        asked = questions(
            store.as_user(OWNER_NAMES[0]),
            baseline,
            vocab,
            baseline_postgres.keyset_position,
            sharer=store.as_user(OWNER_NAMES[SHARER]),
            metadata=store.metadata,
        )
        run_questions("postgresql", asked, repeat=args.repeat, report=report, quiet=args.quiet)
    finally:
        store.close()
        baseline.close()


def run(args: argparse.Namespace) -> Report:
    """Run the benchmarks the arguments choose; errors are collected in the report."""
    report = Report()
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    ingest_count = args.ingest_pins or min(args.pins, 100_000)
    vocab = make_vocabulary(args.seed)
    place: PostgresPlace | None = None
    if "postgresql" in args.databases and {"search", "ingest"} & set(args.only):
        try:
            place = PostgresPlace.prepare(args.postgres_url)
        except Exception as exc:
            report.error(f"postgresql: cannot reach {args.postgres_url}: {exc}")
    steps = []
    for database in args.databases:
        if database == "postgresql" and place is None:
            continue
        if "search" in args.only:
            if database == "sqlite":
                steps.append(("sqlite search", lambda: _search_sqlite(args, report)))
            else:
                steps.append(("postgresql search", lambda: _search_postgres(args, place, report)))
        if "ingest" in args.only:
            if database == "sqlite":
                steps.append(
                    (
                        "sqlite ingest",
                        lambda: ingest_sqlite(
                            args.cache_dir,
                            ingest_count,
                            args.seed,
                            vocab,
                            report,
                            quiet=args.quiet,
                        ),
                    )
                )
            else:
                steps.append(
                    (
                        "postgresql ingest",
                        lambda: ingest_postgres(
                            place, ingest_count, args.seed, vocab, report, quiet=args.quiet
                        ),
                    )
                )
    if "upload" in args.only:
        steps.append(
            (
                "upload",
                lambda: run_upload(
                    args.cache_dir, args.upload_files, args.seed, report, quiet=args.quiet
                ),
            )
        )
    if "http" in args.only:
        steps.append(("http", lambda: run_http(http_options(args), report)))
    for name, step in steps:
        _say(args, f"== {name}")
        started = time.monotonic()
        try:
            step()
        except Exception as exc:  # one broken step must not hide the others' figures
            report.error(f"{name}: {type(exc).__name__}: {exc}")
        _say(args, f"   ({time.monotonic() - started:.1f} s)")
    report.notes.append(
        f"{args.pins:,} pins, seed {args.seed}, {args.repeat} timed runs per question;"
        f" ingest {ingest_count:,} pins; upload {args.upload_files} files"
    )
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Run from the command line; the exit status is 1 only when something broke."""
    args = build_parser().parse_args(argv)
    report = run(args)
    report.print(sys.stdout)
    return 1 if report.errors else 0
