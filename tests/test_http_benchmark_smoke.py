"""The HTTP benchmark runs end to end with tiny sizes, so that it cannot rot.

It starts real uvicorn servers on 127.0.0.1 and a load client in other processes, with a
few hundred pins and files of a few MiB; the whole run takes well under 30 seconds.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("uvicorn")
pytest.importorskip("httpx")

ROOT = Path(__file__).resolve().parent.parent

QUESTIONS = (
    "GET one pin's JSON, 1 worker",
    "tag search, 20 pins, 1 worker",
    "download 4 MiB video",
    "download 1 MiB ranges",
    "peak RSS growth, 6 MiB upload",
    "peak RSS growth, 6 MiB download",
)


def _cells(out: str, question: str) -> list[str]:
    rows = [line for line in out.splitlines() if line.startswith(question + " ")]
    assert rows, f"no {question!r} row:\n{out}"
    return [cell.strip() for cell in rows[0].split("|")]


def test_http_benchmark_runs_and_reports_ratios(tmp_path: Path) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--only=http",
            "--databases=sqlite",
            "--quiet",
            "--http-pins=200",
            "--http-file-mib=4",
            "--http-range-mib=1",
            "--http-big-mib=6",
            "--http-duration=1",
            "--http-rounds=1",
            "--http-downloads=2",
            "--http-connections=16",
            "--http-max-requests=20000",
            "--http-workers=1",
            f"--http-work-dir={tmp_path}",
            f"--cache-dir={tmp_path / 'cache'}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = completed.stdout

    assert completed.returncode == 0, out + completed.stderr
    assert "HTTP (ratio = pinsphere / bare" in out
    for question in QUESTIONS[:4]:
        ratio = _cells(out, question)[3]
        assert float(ratio) > 0, out
    for question in QUESTIONS[4:]:
        assert re.match(r"[+-]\d+\.\d MB", _cells(out, question)[1]), out
    assert "error(s)" not in out
    # The temporary store (with its blobs and upload spool) is gone afterwards.
    assert not any(path.name.startswith("pinsphere-http-bench-") for path in tmp_path.iterdir())
