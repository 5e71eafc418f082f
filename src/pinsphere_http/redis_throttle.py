"""A :class:`~pinsphere_http.throttle.Throttle` in Redis, shared by every worker.

Each throttle key is one sorted set: members are event ids, scores their times in
milliseconds. Checking and recording run in one Lua script, so the limit is exact across
processes, and times come from the Redis server's clock by default, so that workers on
machines whose clocks disagree still agree on one window.

When Redis cannot be reached the throttle does not fail the request (a sign-in must not
turn into a 500 because Redis blinked) and does not stop counting either (that would switch
brute-force protection off exactly when an attacker might be knocking Redis over): it
counts in a :class:`~pinsphere_http.throttle.MemoryThrottle` of this process, logs a
warning at most once a minute, and tries Redis again every few seconds, going back to it as
soon as it answers. Short socket timeouts keep a dead Redis from stalling sign-ins.
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from pinsphere_http.throttle import DEFAULT_MAX_EVENTS, MemoryThrottle, check_limit

__all__ = ["DEFAULT_PREFIX", "RedisThrottle"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_PREFIX = "pinsphere:throttle:"
"""Prepended to the digest of each key, so that throttle keys never collide with others."""

# Seconds. Redis on the same network answers in well under a millisecond; a socket that
# stays silent this long belongs to a Redis that is down or overloaded, and every sign-in
# waiting on it would wait as long. A URL's own socket_timeout=... wins.
DEFAULT_SOCKET_TIMEOUT = 0.5

# Why Lua rather than MULTI/EXEC: whether to record depends on what is read in the same
# step (is a key at its limit?). A MULTI/EXEC transaction cannot branch on its own reads,
# so it would need WATCH and a retry loop, which under contention (the very brute-force
# burst being throttled) keeps retrying; a script runs alone on the server in one round
# trip, with no other client's command in between. Calling TIME before writing needs
# Redis 5 or newer (scripts replicated by their effects).
#
# KEYS: one sorted set per throttle key.
# ARGV[1] window in ms; ARGV[2] the event id; ARGV[3] events kept per key at most;
# ARGV[4] now in ms, or '' for the server's clock; ARGV[5] '1' to record, '0' to only check;
# ARGV[5 + i] the limit of KEYS[i], 0 for none.
# Returns -1 when allowed (and recorded if asked), else the ms until every key allows one.
# Numbers are written with %.0f: Lua's default formatting has 14 digits and would round
# today's times in milliseconds.
_SCRIPT = """
local window = tonumber(ARGV[1])
local now
if ARGV[4] == '' then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
else
  now = tonumber(ARGV[4])
end
-- Recorded already (the client resent the script after a lost answer): nothing more.
if ARGV[5] == '1' and KEYS[1] and redis.call('ZSCORE', KEYS[1], ARGV[2]) then
  return -1
end
local wait = -1
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%.0f', now - window))
  local limit = tonumber(ARGV[5 + i])
  if limit > 0 then
    -- the limit-th newest event: the one the window must slide past (none if fewer)
    local oldest = redis.call('ZRANGE', key, -limit, -limit, 'WITHSCORES')
    if oldest[2] then
      wait = math.max(wait, tonumber(oldest[2]) + window - now, 0)
    end
  end
end
if wait >= 0 or ARGV[5] == '0' then
  return wait
end
local keep = tonumber(ARGV[3])
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, string.format('%.0f', now), ARGV[2])
  redis.call('ZREMRANGEBYRANK', key, 0, -keep - 1)
  redis.call('PEXPIRE', key, ARGV[1])
end
return -1
"""


class RedisThrottle:
    """A sliding-window throttle in Redis that several workers share.

    Keys are stored as ``prefix`` plus the SHA-256 of the key, so that usernames and
    addresses never appear in Redis verbatim and every key has the same bounded length; each
    expires one window after its newest event, so nothing piles up.

    Args:
        client: The Redis client; :meth:`close` closes it.
        window: The window length in seconds.
        prefix: Prepended to every Redis key (a deployment sharing one Redis between
            services, or tests, give each its own).
        max_events: Events kept per key at most (the oldest are dropped); limits above it
            are refused.
        fallback: Where events are counted while Redis is unreachable; by default a new
            :class:`~pinsphere_http.throttle.MemoryThrottle` with the same window.
        retry_interval: Seconds between attempts to reach Redis again while it is down.
        warning_interval: Seconds between warnings while Redis stays down.
        clock: Wall-clock seconds to use instead of the Redis server's clock (for tests);
            every worker must share it.
        monotonic: Monotonic seconds for ``retry_interval`` and ``warning_interval``.
    """

    def __init__(
        self,
        client: redis.Redis,
        window: float,
        *,
        prefix: str = DEFAULT_PREFIX,
        max_events: int = DEFAULT_MAX_EVENTS,
        fallback: MemoryThrottle | None = None,
        retry_interval: float = 5.0,
        warning_interval: float = 60.0,
        clock: Callable[[], float] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._script = client.register_script(_SCRIPT)
        self._window_ms = max(1, math.ceil(window * 1000))
        self._prefix = prefix
        self._max_events = max_events
        self._fallback = fallback or MemoryThrottle(window, max_events=max_events)
        self._retry_interval = retry_interval
        self._warning_interval = warning_interval
        self._clock = clock
        self._monotonic = monotonic
        self._where = _describe(client)
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._next_try = 0.0
        self._next_warning = 0.0

    @classmethod
    def from_url(cls, url: str, window: float, **options: Any) -> RedisThrottle:
        """A throttle over a new client for ``url``.

        Socket timeouts default to half a second, and a failed command is retried once at
        once (a pooled connection may have been closed by a Redis restart) rather than with
        redis-py's growing delays; ``socket_timeout`` and ``socket_connect_timeout`` in the
        URL's query override the timeouts.

        Args:
            url: ``redis://[[user]:password@]host[:port][/db]``, ``rediss://…`` or
                ``unix:///path?db=…``.
            window: The window length in seconds.
            **options: Passed on to :class:`RedisThrottle`.

        Returns:
            The throttle; it connects on first use.
        """
        client = redis.Redis.from_url(
            url,
            socket_timeout=DEFAULT_SOCKET_TIMEOUT,
            socket_connect_timeout=DEFAULT_SOCKET_TIMEOUT,
            retry=Retry(NoBackoff(), 1),
        )
        return cls(client, window, **options)

    @property
    def available(self) -> bool:
        """Whether the last call reached Redis (``False`` while counting in the fallback)."""
        return self._down_since is None

    def retry_after(self, key: str, limit: int) -> float | None:
        """Seconds until another event is allowed for ``key``, or ``None`` if it is now."""
        check_limit(limit, self._max_events)
        return self._guarded(
            lambda: self._run({key: limit}, "", record=False),
            lambda: self._fallback.retry_after(key, limit),
        )

    def hit(self, key: str) -> None:
        """Record an event for ``key``, whatever its count."""
        # A fresh id per event: a sorted set holds each member once.
        event = secrets.token_hex(8)
        self._guarded(
            lambda: self._run({key: 0}, event, record=True),
            lambda: self._fallback.hit(key),
        )

    def acquire(self, limits: Mapping[str, int], event: str) -> float | None:
        """Record ``event`` under every key unless one has reached its limit, atomically
        across every worker (see :meth:`~pinsphere_http.throttle.Throttle.acquire`)."""
        for limit in limits.values():
            check_limit(limit, self._max_events)
        return self._guarded(
            lambda: self._run(limits, event, record=True),
            lambda: self._fallback.acquire(limits, event),
        )

    def release(self, keys: Iterable[str], event: str) -> None:
        """Take back ``event`` from ``keys``."""
        keys = list(keys)
        # Also locally: the event may have been acquired there during an outage.
        self._fallback.release(keys, event)

        def remove() -> None:
            pipe = self._client.pipeline(transaction=False)
            for key in keys:
                pipe.zrem(self._name(key), event)
            pipe.execute()

        self._guarded(remove, lambda: None)

    def reset(self, key: str) -> None:
        """Forget the events of ``key``."""
        self._fallback.reset(key)
        self._guarded(lambda: self._client.delete(self._name(key)), lambda: 0)

    def close(self) -> None:
        """Close the Redis client and its connections."""
        self._client.close()

    def redis_key(self, key: str) -> str:
        """The Redis key holding the events of ``key``."""
        return self._name(key)

    def _name(self, key: str) -> str:
        return self._prefix + hashlib.sha256(key.encode()).hexdigest()

    def _run(self, limits: Mapping[str, int], event: str, *, record: bool) -> float | None:
        now = "" if self._clock is None else str(round(self._clock() * 1000))
        keys = [self._name(key) for key in limits]
        args: list[str | int] = [
            self._window_ms,
            event,
            self._max_events,
            now,
            int(record),
            *limits.values(),
        ]
        wait = int(self._script(keys=keys, args=args))
        return None if wait < 0 else wait / 1000

    def _guarded(self, remote: Callable[[], T], local: Callable[[], T]) -> T:
        """``remote()``, or ``local()`` when Redis is down or fails."""
        if not self._should_try():
            return local()
        try:
            result = remote()
        except RedisError as exc:
            self._failed(exc)
            return local()
        if self._down_since is not None:
            self._answered()
        return result

    def _should_try(self) -> bool:
        if self._down_since is None:
            return True
        with self._lock:
            if self._down_since is None:
                return True
            now = self._monotonic()
            if now < self._next_try:
                return False
            # This caller probes; the others keep to the fallback rather than all waiting
            # on a timeout together.
            self._next_try = now + self._retry_interval
            return True

    def _failed(self, exc: RedisError) -> None:
        with self._lock:
            now = self._monotonic()
            if self._down_since is None:
                self._down_since = now
            self._next_try = now + self._retry_interval
            if now < self._next_warning:
                return
            self._next_warning = now + self._warning_interval
        logger.warning(
            "the sign-in throttle cannot reach Redis at %s (%s: %s); counting attempts in "
            "this process until it answers, so each worker enforces the limits on its own",
            self._where,
            type(exc).__name__,
            exc,
        )

    def _answered(self) -> None:
        with self._lock:
            if self._down_since is None:
                return
            down_for = self._monotonic() - self._down_since
            self._down_since = None
            self._next_warning = 0.0
        logger.info(
            "the sign-in throttle reaches Redis at %s again after %.0f s; counting there again",
            self._where,
            down_for,
        )


def _describe(client: redis.Redis) -> str:
    """Where ``client`` connects, without its credentials (for log lines)."""
    options = client.connection_pool.connection_kwargs
    database = options.get("db", 0)
    if options.get("path"):
        return f"unix:{options['path']} db {database}"
    return f"{options.get('host', 'localhost')}:{options.get('port', 6379)} db {database}"
