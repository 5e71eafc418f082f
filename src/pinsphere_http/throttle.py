"""Throttling of sign-in and sign-up attempts.

:class:`Throttle` is the interface the service uses. Two implementations ship:

- :class:`MemoryThrottle` keeps a sliding window per key in this process. With several
  workers each counts on its own (so the effective limit is multiplied by the worker count)
  and a restart forgets; it is the default, right for a single worker.
- :class:`~pinsphere_http.redis_throttle.RedisThrottle` keeps the windows in Redis, one
  sorted set per key, so that every worker enforces one limit; chosen with
  ``PINSPHERE_THROTTLE_URL=redis://…`` (the ``redis`` extra).

:func:`open_throttle` makes the one a URL asks for; ``create_app(..., throttle=...)`` takes
any other implementation.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from pinsphere.errors import UnknownBackend

if TYPE_CHECKING:
    from pinsphere_http.redis_throttle import RedisThrottle

__all__ = [
    "DEFAULT_MAX_EVENTS",
    "THROTTLE_SCHEMES",
    "MemoryThrottle",
    "Throttle",
    "check_limit",
    "open_throttle",
]

DEFAULT_MAX_EVENTS = 1_000
"""Events kept per key at most: well above any sensible limit, so that a key under attack
costs bounded memory while every limit up to it stays exact."""

THROTTLE_SCHEMES = ("redis", "rediss", "unix")
"""URL schemes :func:`open_throttle` accepts (Redis over TCP, TLS, or a Unix socket)."""


class Throttle(Protocol):
    """Counts events per key in a sliding window.

    Events older than the window no longer count. ``limit`` arguments must lie between 1 and
    the implementation's per-key cap on stored events.
    """

    def retry_after(self, key: str, limit: int) -> float | None:
        """Seconds until another event is allowed for ``key``, or ``None`` if it is now."""

    def hit(self, key: str) -> None:
        """Record an event for ``key``, whatever its count."""

    def acquire(self, limits: Mapping[str, int], event: str) -> float | None:
        """Record ``event`` under every key unless one of them has reached its limit.

        Checking and recording are one atomic step: callers racing each other (threads of
        one worker, or several workers sharing the throttle) can never all pass a check
        before any of them has recorded, so together they never exceed a limit.

        Args:
            limits: Each key with its limit.
            event: An id for the event, unique among the keys' events, for :meth:`release`.

        Returns:
            ``None`` when the event was recorded (or was already: a call repeated after a
            lost answer records nothing more); otherwise the seconds until every key allows
            another event, and nothing was recorded.
        """

    def release(self, keys: Iterable[str], event: str) -> None:
        """Take back ``event`` from ``keys`` (an acquired attempt that did not count after all)."""

    def reset(self, key: str) -> None:
        """Forget the events of ``key`` (after a successful sign-in)."""


def check_limit(limit: int, max_events: int) -> None:
    """Refuse a limit the per-key cap on events would make unreachable.

    Raises:
        ValueError: ``limit`` is below 1 or above ``max_events``.
    """
    if not 1 <= limit <= max_events:
        raise ValueError(f"a throttle limit must lie between 1 and {max_events}, not {limit}")


class MemoryThrottle:
    """A sliding-window :class:`Throttle` in this process's memory.

    Args:
        window: The window length in seconds.
        max_keys: Keys kept at most; beyond it the stalest are dropped, so that attempts
            with endless made-up usernames cannot grow memory without bound.
        max_events: Events kept per key at most (the oldest are dropped); limits above it
            are refused.
        clock: Monotonic seconds (replaceable in tests).
    """

    def __init__(
        self,
        window: float,
        *,
        max_keys: int = 100_000,
        max_events: int = DEFAULT_MAX_EVENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._window = window
        self._max_keys = max_keys
        self._max_events = max_events
        self._clock = clock
        # Per key, (time, event id) oldest first; plain hits have the empty id.
        self._events: dict[str, deque[tuple[float, str]]] = {}
        # Sync endpoints run in a thread pool, so keys are changed from several threads.
        self._lock = threading.Lock()

    def _live(self, key: str, now: float) -> deque[tuple[float, str]] | None:
        events = self._events.get(key)
        if events is None:
            return None
        horizon = now - self._window
        while events and events[0][0] <= horizon:
            events.popleft()
        if not events:
            del self._events[key]
            return None
        return events

    def _wait(self, key: str, limit: int, now: float) -> float | None:
        check_limit(limit, self._max_events)
        events = self._live(key, now)
        if events is None or len(events) < limit:
            return None
        # The window must slide past the oldest event that still counts against the limit.
        return max(events[-limit][0] + self._window - now, 0.0)

    def _record(self, key: str, now: float, event: str) -> None:
        events = self._live(key, now)
        if events is None:
            if len(self._events) >= self._max_keys:
                self._evict(now)
            events = self._events[key] = deque(maxlen=self._max_events)
        events.append((now, event))

    def retry_after(self, key: str, limit: int) -> float | None:
        """Seconds until another event is allowed for ``key``, or ``None`` if it is now."""
        with self._lock:
            return self._wait(key, limit, self._clock())

    def hit(self, key: str) -> None:
        """Record an event for ``key``, whatever its count."""
        with self._lock:
            self._record(key, self._clock(), "")

    def acquire(self, limits: Mapping[str, int], event: str) -> float | None:
        """Record ``event`` under every key unless one has reached its limit (see
        :meth:`Throttle.acquire`)."""
        with self._lock:
            now = self._clock()
            first = next(iter(limits), None)
            live = None if first is None else self._live(first, now)
            if live is not None and any(recorded == event for _, recorded in live):
                return None  # recorded already, under every key at once
            waits = [self._wait(key, limit, now) for key, limit in limits.items()]
            longest = max((wait for wait in waits if wait is not None), default=None)
            if longest is not None:
                return longest
            for key in limits:
                self._record(key, now, event)
            return None

    def release(self, keys: Iterable[str], event: str) -> None:
        """Take back ``event`` from ``keys``."""
        with self._lock:
            for key in keys:
                events = self._events.get(key)
                if events is None:
                    continue
                for recorded in events:
                    if recorded[1] == event:
                        events.remove(recorded)
                        break
                if not events:
                    del self._events[key]

    def reset(self, key: str) -> None:
        """Forget the events of ``key``."""
        with self._lock:
            self._events.pop(key, None)

    def close(self) -> None:
        """Nothing to release; here so that every throttle :func:`open_throttle` makes closes."""

    def _evict(self, now: float) -> None:
        for key in list(self._events):
            self._live(key, now)
        if len(self._events) >= self._max_keys:
            stalest = sorted(self._events, key=lambda k: self._events[k][-1][0])
            for key in stalest[: len(stalest) // 10 + 1]:
                del self._events[key]


def open_throttle(
    url: str | None, window: float, *, max_events: int = DEFAULT_MAX_EVENTS
) -> MemoryThrottle | RedisThrottle:
    """The throttle ``url`` names: in this process's memory when it is ``None``, else Redis.

    Args:
        url: ``redis://``, ``rediss://`` or ``unix://`` (redis-py's URL forms), or ``None``.
        window: The window length in seconds.
        max_events: Events kept per key at most.

    Returns:
        A throttle the caller closes when done with it.

    Raises:
        UnknownBackend: The scheme is not Redis's, or the ``redis`` extra is not installed.
    """
    if url is None:
        return MemoryThrottle(window, max_events=max_events)
    scheme = urlsplit(url).scheme
    if scheme not in THROTTLE_SCHEMES:
        raise UnknownBackend(
            f"no throttle for the URL scheme {scheme!r}; use redis://, rediss:// or unix://",
            scheme=scheme,
        )
    try:
        from pinsphere_http.redis_throttle import RedisThrottle
    except ImportError as exc:
        if exc.name != "redis" and not (exc.name or "").startswith("redis."):
            raise
        raise UnknownBackend(
            "a Redis throttle needs the redis package",
            scheme=scheme,
            hint="pip install 'pinsphere[redis]'",
        ) from exc
    return RedisThrottle.from_url(url, window, max_events=max_events)
