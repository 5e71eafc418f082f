"""Collects results and prints them as plain-text tables.

Missed targets are reported, never raised: a benchmark run fails only when something broke
(an exception, or the two sides returning different pins).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TextIO

__all__ = ["IngestResult", "Report", "SearchResult", "UploadResult"]


@dataclass(frozen=True)
class SearchResult:
    """One search question on one database, Pinsphere against the hand-written query."""

    question: str
    database: str
    pinsphere_p50_ms: float
    pinsphere_p99_ms: float
    hand_p50_ms: float
    hand_p99_ms: float
    rows_p50_ms: float | None = None
    target: float | None = 1.5

    @property
    def ratio(self) -> float:
        """Pinsphere p50 over hand-written p50 (lower is better)."""
        return self.pinsphere_p50_ms / self.hand_p50_ms if self.hand_p50_ms else float("inf")

    @property
    def rows_ratio(self) -> float | None:
        """The facade's statement alone (rows, no results built) over hand-written, at p50."""
        if self.rows_p50_ms is None or not self.hand_p50_ms:
            return None
        return self.rows_p50_ms / self.hand_p50_ms

    @property
    def met(self) -> bool:
        """Whether the ratio is within the target (a question shown for information has
        none)."""
        return self.target is None or self.ratio <= self.target


@dataclass(frozen=True)
class IngestResult:
    """Bulk loading on one database: ``insert_pins`` against raw ``executemany``/``COPY``."""

    database: str
    pins: int
    pinsphere_pins_per_s: float
    hand_pins_per_s: float
    hand_method: str
    target: float = 0.5

    @property
    def ratio(self) -> float:
        """Pinsphere throughput over hand-written throughput (higher is better)."""
        return self.pinsphere_pins_per_s / self.hand_pins_per_s if self.hand_pins_per_s else 0.0

    @property
    def met(self) -> bool:
        """Whether the ratio reaches the target."""
        return self.ratio >= self.target


@dataclass(frozen=True)
class UploadResult:
    """Uploading files through the facade against hashing and writing them by hand."""

    database: str
    files: int
    pinsphere_files_per_s: float
    hand_files_per_s: float
    target: float | None = 1.3

    @property
    def ratio(self) -> float:
        """Pinsphere time over hand-written time (lower is better)."""
        if not self.pinsphere_files_per_s:
            return float("inf")
        return self.hand_files_per_s / self.pinsphere_files_per_s

    @property
    def met(self) -> bool:
        """Whether the ratio is within the target (a figure without one is only shown)."""
        return self.target is None or self.ratio <= self.target


def _table(headers: list[str], rows: list[list[str]], out: TextIO) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "-+-".join("-" * w for w in widths)
    print(" | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)), file=out)
    print(line, file=out)
    for row in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)), file=out)


def _ms(p50: float, p99: float) -> str:
    return f"{p50:.3f} / {p99:.3f} ms"


def _statement(result: SearchResult) -> str:
    if result.rows_p50_ms is None or result.rows_ratio is None:
        return "-"
    return f"{result.rows_p50_ms:.3f} ms ({result.rows_ratio:.2f})"


def _verdict(met: bool) -> str:
    return "ok" if met else "MISSED"


@dataclass
class Report:
    """Everything one run measured, plus the errors it met."""

    searches: list[SearchResult] = field(default_factory=list)
    ingests: list[IngestResult] = field(default_factory=list)
    uploads: list[UploadResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def error(self, message: str) -> None:
        """Record an error and say so at once."""
        self.errors.append(message)
        print(f"ERROR: {message}", file=sys.stderr, flush=True)

    def print(self, out: TextIO = sys.stdout) -> None:
        """Print every table, the notes and the errors."""
        if self.searches:
            print(
                "\nSearch (p50 / p99 per call; ratio = pinsphere p50 / hand p50; statement"
                " alone = the facade's whole-row SQL run on the same driver, rows only, no"
                " results built; 'no pins kept' = the metadata backend's kept pins dropped"
                " before each call, as for a page nobody asked for lately)\n",
                file=out,
            )
            _table(
                [
                    "question",
                    "database",
                    "pinsphere p50/p99",
                    "hand-written p50/p99",
                    "ratio (p50)",
                    "target",
                    "",
                    "statement alone (p50, ratio)",
                ],
                [
                    [
                        r.question,
                        r.database,
                        _ms(r.pinsphere_p50_ms, r.pinsphere_p99_ms),
                        _ms(r.hand_p50_ms, r.hand_p99_ms),
                        f"{r.ratio:.2f}",
                        "-" if r.target is None else f"<= {r.target}",
                        "" if r.target is None else _verdict(r.met),
                        _statement(r),
                    ]
                    for r in self.searches
                ],
                out,
            )
        if self.ingests:
            print("\nIngest (ratio = pinsphere pins/s / hand pins/s)\n", file=out)
            _table(
                ["database", "pins", "pinsphere", "hand-written", "ratio", "target", ""],
                [
                    [
                        r.database,
                        f"{r.pins:,}",
                        f"{r.pinsphere_pins_per_s:,.0f} pins/s (insert_pins)",
                        f"{r.hand_pins_per_s:,.0f} pins/s ({r.hand_method})",
                        f"{r.ratio:.2f}",
                        f">= {r.target}",
                        _verdict(r.met),
                    ]
                    for r in self.ingests
                ],
                out,
            )
        if self.uploads:
            print("\nUpload (ratio = pinsphere time / hand time)\n", file=out)
            _table(
                ["database", "files", "pinsphere", "hand-written", "ratio", "target", ""],
                [
                    [
                        r.database,
                        str(r.files),
                        f"{r.pinsphere_files_per_s:,.0f} files/s (scope.upload)",
                        f"{r.hand_files_per_s:,.0f} files/s (sha256+fsync+rename+fsync dir)",
                        f"{r.ratio:.2f}",
                        "-" if r.target is None else f"<= {r.target}",
                        "" if r.target is None else _verdict(r.met),
                    ]
                    for r in self.uploads
                ],
                out,
            )
        for note in self.notes:
            print(f"note: {note}", file=out)
        if self.errors:
            print(f"\n{len(self.errors)} error(s):", file=out)
            for message in self.errors:
                print(f"  - {message}", file=out)
        out.flush()
