"""Timing helpers: nanosecond wall-clock samples and their percentiles."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Samples", "percentile", "time_alternating", "time_interleaved", "timed"]


def percentile(sorted_values: list[int], fraction: float) -> int:
    """The nearest-rank percentile of already sorted values (``fraction`` in 0..1)."""
    if not sorted_values:
        raise ValueError("no samples")
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass
class Samples:
    """Durations of repeated runs of one operation, in nanoseconds."""

    values: list[int]

    @property
    def p50_ms(self) -> float:
        """The median, in milliseconds."""
        return percentile(sorted(self.values), 0.50) / 1e6

    @property
    def p99_ms(self) -> float:
        """The 99th percentile, in milliseconds."""
        return percentile(sorted(self.values), 0.99) / 1e6

    @property
    def total_s(self) -> float:
        """The sum of all durations, in seconds."""
        return sum(self.values) / 1e9


def timed(operation: Callable[[], object]) -> tuple[int, object]:
    """Run ``operation`` once; return its duration in nanoseconds and its result."""
    start = time.perf_counter_ns()
    result = operation()
    return time.perf_counter_ns() - start, result


def time_alternating(
    first: Callable[[], object],
    second: Callable[[], object],
    *,
    repeat: int,
    warmup: int = 5,
) -> tuple[Samples, Samples]:
    """Time two operations ``repeat`` times each, interleaved (see :func:`time_interleaved`)."""
    a, b = time_interleaved([first, second], repeat=repeat, warmup=warmup)
    return a, b


def time_interleaved(
    operations: list[Callable[[], object]], *, repeat: int, warmup: int = 5
) -> list[Samples]:
    """Time several operations ``repeat`` times each, one after the other in every round.

    Interleaving spreads the machine's noise (other processes, CPU frequency, cache state)
    evenly over all sides, which matters more for a ratio than for any figure alone.
    ``warmup`` untimed rounds come first; they also push psycopg past its prepare
    threshold, so the timed runs see the prepared statements a long-running service would.
    """
    for _ in range(warmup):
        for operation in operations:
            operation()
    samples: list[list[int]] = [[] for _ in operations]
    clock = time.perf_counter_ns
    for _ in range(repeat):
        for operation, durations in zip(operations, samples, strict=True):
            start = clock()
            operation()
            durations.append(clock() - start)
    return [Samples(durations) for durations in samples]
