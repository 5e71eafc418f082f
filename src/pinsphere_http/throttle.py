"""Throttling of sign-in and sign-up attempts.

:class:`Throttle` is the interface the service uses; :class:`MemoryThrottle` keeps a sliding
window per key in this process. That is the one piece of in-process state the service has:
with several workers each counts on its own (so the effective limit is multiplied by the
worker count) and a restart forgets. A shared implementation (Redis sorted sets, one per key)
plugs in through ``create_app(..., throttle=...)`` without other changes.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

__all__ = ["MemoryThrottle", "Throttle"]


class Throttle(Protocol):
    """Counts events per key in a sliding window."""

    def retry_after(self, key: str, limit: int) -> float | None:
        """Seconds until another event is allowed for ``key``, or ``None`` if it is now."""

    def hit(self, key: str) -> None:
        """Record an event for ``key``."""

    def reset(self, key: str) -> None:
        """Forget the events of ``key`` (after a successful sign-in)."""


class MemoryThrottle:
    """A sliding-window :class:`Throttle` in this process's memory.

    Args:
        window: The window length in seconds.
        max_keys: Keys kept at most; beyond it the stalest are dropped, so that attempts
            with endless made-up usernames cannot grow memory without bound.
        clock: Monotonic seconds (replaceable in tests).
    """

    def __init__(
        self,
        window: float,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._window = window
        self._max_keys = max_keys
        self._clock = clock
        self._events: dict[str, deque[float]] = {}
        # Sync endpoints run in a thread pool, so keys are changed from several threads.
        self._lock = threading.Lock()

    def _live(self, key: str, now: float) -> deque[float] | None:
        events = self._events.get(key)
        if events is None:
            return None
        horizon = now - self._window
        while events and events[0] <= horizon:
            events.popleft()
        if not events:
            del self._events[key]
            return None
        return events

    def retry_after(self, key: str, limit: int) -> float | None:
        """Seconds until another event is allowed for ``key``, or ``None`` if it is now."""
        with self._lock:
            now = self._clock()
            events = self._live(key, now)
            if events is None or len(events) < limit:
                return None
            # The window must slide past the oldest event that still counts against the limit.
            return max(events[-limit] + self._window - now, 0.0)

    def hit(self, key: str) -> None:
        """Record an event for ``key``."""
        with self._lock:
            now = self._clock()
            events = self._live(key, now)
            if events is None:
                if len(self._events) >= self._max_keys:
                    self._evict(now)
                events = self._events[key] = deque()
            events.append(now)

    def reset(self, key: str) -> None:
        """Forget the events of ``key``."""
        with self._lock:
            self._events.pop(key, None)

    def _evict(self, now: float) -> None:
        for key in list(self._events):
            self._live(key, now)
        if len(self._events) >= self._max_keys:
            stalest = sorted(self._events, key=lambda k: self._events[k][-1])
            for key in stalest[: len(stalest) // 10 + 1]:
                del self._events[key]
