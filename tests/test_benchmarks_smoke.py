"""The benchmark suite runs end to end on a small data set, so that it cannot rot.

SQLite always runs; PostgreSQL runs when its server answers (``PINSPHERE_BENCH_POSTGRES_URL``
or the local default), and its absence fails the test on CI (``CI`` set) instead of skipping.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.runner import DEFAULT_POSTGRES_URL, main  # noqa: E402

QUESTIONS = (
    "newest 20, frequent tag",
    "newest 20, mid tag",
    "newest 20, two tags",
    "newest 20, free-text word",
    "page ",
)
SHARED_QUESTIONS = (
    "newest 20, frequent tag",
    "newest 20, two tags",
    "newest 20, free-text word",
    "page ",
)


def _postgres_url() -> str | None:
    url = os.environ.get("PINSPHERE_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    psycopg = pytest.importorskip("psycopg")
    from sqlalchemy.engine import make_url

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        psycopg.connect(conninfo, connect_timeout=3).close()
    except psycopg.OperationalError:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {url} and CI is set")
        return None
    return url


def test_benchmark_suite_runs_and_reports_ratios(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    databases = ["sqlite"]
    argv = [
        "--pins=2000",
        "--repeat=3",
        "--ingest-pins=2000",
        "--upload-files=6",
        f"--cache-dir={tmp_path}",
    ]
    url = _postgres_url()
    if url is not None:
        databases.append("postgresql")
        argv.append(f"--postgres-url={url}")
    argv.append("--databases=" + ",".join(databases))

    status = main(argv)
    out = capsys.readouterr().out

    assert status == 0, out
    for database in databases:
        rows = [line for line in out.splitlines() if f"| {database} " in line]
        plain = [row for row in rows if "shares" not in row.split("|")[0]]
        shared = [row for row in rows if "shares" in row.split("|")[0]]
        for question, among in [(q, plain) for q in QUESTIONS] + [
            (q, shared) for q in SHARED_QUESTIONS
        ]:
            matching = [row for row in among if row.startswith(question)]
            assert matching, f"no {question!r} row for {database}:\n{out}"
            ratio = matching[0].split("|")[4].strip()
            assert float(ratio) > 0
        assert len(shared) == len(SHARED_QUESTIONS), out
        # The shares decide part of some answer, so both sides' agreement means something.
        via = [
            int(line.split(": ")[-1].split(" of ")[0])
            for line in out.splitlines()
            if line.startswith(f"note: {database}: ") and "visible only through a share" in line
        ]
        assert len(via) == len(SHARED_QUESTIONS), out
        assert sum(via) > 0, out
        assert any(row.startswith(f"{database} ") for row in out.splitlines()), out
    assert "Ingest (ratio" in out
    assert "Upload (ratio" in out
    assert "error(s)" not in out
