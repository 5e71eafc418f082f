"""The sign-in throttle: one behaviour in memory and in Redis, shared by workers through Redis,
and still counting while Redis is down.

The behavioural tests run against :class:`MemoryThrottle` and :class:`RedisThrottle` alike,
on a fake clock. Each Redis test keeps to its own key prefix (or its own usernames and client
address, through the app) and removes its keys afterwards; Redis comes from
``PINSPHERE_TEST_REDIS_URL`` and, as PostgreSQL, is skipped locally when unreachable but
required under CI.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import redis
from fastapi import FastAPI
from http_support import SECRET, assert_problem

import pinsphere
from pinsphere.errors import AuthenticationError, UnknownBackend
from pinsphere_http import HTTPSettings, create_app
from pinsphere_http.attempts import LoginAttempt
from pinsphere_http.context import ServiceContext
from pinsphere_http.problems import ProblemError
from pinsphere_http.redis_throttle import RedisThrottle
from pinsphere_http.throttle import DEFAULT_MAX_EVENTS, MemoryThrottle, Throttle, open_throttle
from store_support import redis_url, require_redis

WINDOW = 60.0


class FakeClock:
    """Seconds that move only when told to (wall-clock-like, as Redis scores are)."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


MakeThrottle = Callable[..., Throttle]


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _delete_prefix(url: str, prefix: str) -> None:
    with redis.Redis.from_url(url) as client:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own in the test Redis, emptied afterwards."""
    url = redis_url()
    require_redis(url)
    prefix = f"pinsphere-test:{uuid.uuid4().hex}:"
    yield prefix
    _delete_prefix(url, prefix)


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    """A plain client of the test Redis, to look at what the throttle stored."""
    url = redis_url()
    require_redis(url)
    with redis.Redis.from_url(url) as client:
        yield client


@pytest.fixture(params=["memory", "redis"])
def make_throttle(request: pytest.FixtureRequest) -> Iterator[MakeThrottle]:
    """Makes throttles of one kind: ``make(window, clock=..., max_events=...)``; every Redis
    throttle of a test shares the test's prefix, as workers share one Redis."""
    made: list[MemoryThrottle | RedisThrottle] = []
    prefix = request.getfixturevalue("redis_prefix") if request.param == "redis" else ""

    def make(
        window: float,
        *,
        clock: Callable[[], float] | None = None,
        max_events: int = DEFAULT_MAX_EVENTS,
    ) -> Throttle:
        throttle: MemoryThrottle | RedisThrottle
        if request.param == "memory":
            throttle = MemoryThrottle(window, max_events=max_events, clock=clock or time.monotonic)
        else:
            throttle = RedisThrottle.from_url(
                redis_url(), window, prefix=prefix, max_events=max_events, clock=clock
            )
        made.append(throttle)
        return throttle

    yield make
    for throttle in made:
        throttle.close()


# The same behaviour in memory and in Redis.


def test_the_limit_waits_for_the_window_to_slide(make_throttle: MakeThrottle) -> None:
    clock = FakeClock()
    throttle = make_throttle(WINDOW, clock=clock)
    assert throttle.retry_after("k", 2) is None
    throttle.hit("k")
    clock.advance(10)
    throttle.hit("k")
    clock.advance(10)
    assert throttle.retry_after("k", 3) is None
    # Until the oldest event that still counts against the limit leaves the window.
    assert throttle.retry_after("k", 2) == pytest.approx(40, abs=0.001)
    assert throttle.retry_after("k", 1) == pytest.approx(50, abs=0.001)
    clock.advance(40)  # the first event is exactly one window old: it no longer counts
    assert throttle.retry_after("k", 2) is None
    assert throttle.retry_after("k", 1) == pytest.approx(10, abs=0.001)
    clock.advance(10)
    assert throttle.retry_after("k", 1) is None


def test_keys_count_apart_and_reset_forgets_one(make_throttle: MakeThrottle) -> None:
    clock = FakeClock()
    throttle = make_throttle(WINDOW, clock=clock)
    throttle.hit("login:user:alice")
    throttle.hit("login:user:bob")
    assert throttle.retry_after("login:user:alice", 1) is not None
    assert throttle.retry_after("login:user:carol", 1) is None
    throttle.reset("login:user:alice")
    assert throttle.retry_after("login:user:alice", 1) is None
    assert throttle.retry_after("login:user:bob", 1) is not None
    throttle.reset("login:user:nobody")  # nothing to forget is fine


def test_acquire_records_under_every_key_or_under_none(make_throttle: MakeThrottle) -> None:
    clock = FakeClock()
    throttle = make_throttle(WINDOW, clock=clock)
    throttle.hit("user")
    clock.advance(5)
    # One key at its limit refuses the event for all of them, and records nothing.
    assert throttle.acquire({"user": 1, "addr": 5}, "e1") == pytest.approx(55, abs=0.001)
    assert throttle.retry_after("addr", 1) is None
    assert throttle.acquire({"user": 2, "addr": 5}, "e2") is None
    assert throttle.retry_after("user", 2) == pytest.approx(55, abs=0.001)
    assert throttle.retry_after("addr", 1) == pytest.approx(60, abs=0.001)
    clock.advance(1)
    # Refused by both: the longer wait is the one that matters.
    assert throttle.acquire({"user": 2, "addr": 1}, "e3") == pytest.approx(59, abs=0.001)


def test_acquiring_an_event_again_records_nothing_more(make_throttle: MakeThrottle) -> None:
    # A call repeated after its answer was lost (a Redis timeout, then a retry) must not
    # count one attempt twice, nor refuse the attempt it already admitted.
    clock = FakeClock()
    throttle = make_throttle(WINDOW, clock=clock)
    assert throttle.acquire({"user": 2, "addr": 5}, "once") is None
    clock.advance(1)
    assert throttle.acquire({"user": 2, "addr": 5}, "once") is None
    assert throttle.retry_after("user", 2) is None
    assert throttle.retry_after("user", 1) == pytest.approx(59, abs=0.001)
    assert throttle.acquire({"user": 2, "addr": 5}, "twice") is None
    assert throttle.acquire({"user": 2, "addr": 5}, "once") is None
    assert throttle.acquire({"user": 2, "addr": 5}, "third") == pytest.approx(59, abs=0.001)


def test_release_takes_back_only_that_event(make_throttle: MakeThrottle) -> None:
    clock = FakeClock()
    throttle = make_throttle(WINDOW, clock=clock)
    assert throttle.acquire({"k": 5, "j": 5}, "first") is None
    clock.advance(10)
    assert throttle.acquire({"k": 5}, "second") is None
    throttle.release(["k", "j"], "first")
    assert throttle.retry_after("k", 2) is None
    assert throttle.retry_after("k", 1) == pytest.approx(60, abs=0.001)  # "second" remains
    assert throttle.retry_after("j", 1) is None
    throttle.release(["k", "nothing-here"], "unknown")
    assert throttle.retry_after("k", 1) == pytest.approx(60, abs=0.001)


def test_a_key_keeps_only_its_newest_events(make_throttle: MakeThrottle) -> None:
    clock = FakeClock()
    throttle = make_throttle(WINDOW, clock=clock, max_events=3)
    for _ in range(5):
        throttle.hit("k")
        clock.advance(1)
    # Events at 0..4 s; the cap kept those at 2, 3 and 4.
    assert throttle.retry_after("k", 3) == pytest.approx(2 + WINDOW - 5, abs=0.001)
    # A limit the cap could never reach is a mistake, not a silently open door.
    with pytest.raises(ValueError, match="between 1 and 3"):
        throttle.retry_after("k", 4)
    with pytest.raises(ValueError, match="between 1 and 3"):
        throttle.acquire({"k": 0}, "e")


def test_concurrent_acquires_never_exceed_the_limit(make_throttle: MakeThrottle) -> None:
    throttle = make_throttle(WINDOW)
    admitted = _race(lambda event: throttle.acquire({"k": 7}, event) is None)
    assert admitted == 7


def _race(attempt: Callable[[str], bool], threads: int = 16, each: int = 5) -> int:
    """How many of ``threads * each`` attempts, started together, got in."""
    start = threading.Barrier(threads)
    results: list[bool] = []
    lock = threading.Lock()

    def run(worker: int) -> None:
        start.wait()
        for n in range(each):
            got_in = attempt(f"w{worker}-{n}")
            with lock:
                results.append(got_in)

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    assert len(results) == threads * each
    return sum(results)


# Redis: one limit for every worker.


def test_two_workers_share_one_limit(redis_prefix: str) -> None:
    clock = FakeClock()
    one, two = (
        RedisThrottle.from_url(redis_url(), WINDOW, prefix=redis_prefix, clock=clock)
        for _ in range(2)
    )
    try:
        assert one.acquire({"login:user:alice": 3}, "a") is None
        assert two.acquire({"login:user:alice": 3}, "b") is None
        two.hit("login:user:alice")
        assert one.acquire({"login:user:alice": 3}, "c") == pytest.approx(60, abs=0.001)
        one.release(["login:user:alice"], "a")
        assert two.acquire({"login:user:alice": 3}, "d") is None
        two.reset("login:user:alice")
        assert one.retry_after("login:user:alice", 1) is None
    finally:
        one.close()
        two.close()


def test_workers_racing_over_redis_never_exceed_the_limit(redis_prefix: str) -> None:
    workers = [RedisThrottle.from_url(redis_url(), WINDOW, prefix=redis_prefix) for _ in range(4)]
    try:
        admitted = _race(
            lambda event: workers[hash(event) % 4].acquire({"k": 11, "j": 50}, event) is None
        )
        assert admitted == 11
        assert workers[0].retry_after("j", 12) is None  # the refused were not counted
        assert workers[0].retry_after("j", 11) is not None
    finally:
        for worker in workers:
            worker.close()


def test_redis_keys_are_digests_with_the_window_as_ttl(
    redis_prefix: str, redis_client: redis.Redis
) -> None:
    throttle = RedisThrottle.from_url(redis_url(), WINDOW, prefix=redis_prefix, max_events=4)
    try:
        for _ in range(6):
            throttle.hit("login:user:Ünïcode-name@example.com")
        throttle.acquire({"login:addr:203.0.113.9": 3}, "e")
        stored = sorted(key.decode() for key in redis_client.scan_iter(match=f"{redis_prefix}*"))
        assert len(stored) == 2
        for key in stored:
            digest = key.removeprefix(redis_prefix)
            assert len(digest) == 64
            assert all(c in "0123456789abcdef" for c in digest)
            assert 0 < redis_client.pttl(key) <= WINDOW * 1000
        user_key = throttle.redis_key("login:user:Ünïcode-name@example.com")
        assert user_key in stored
        assert redis_client.zcard(user_key) == 4  # the cap on events per key
    finally:
        throttle.close()


def test_redis_windows_run_on_the_servers_clock(redis_prefix: str) -> None:
    throttle = RedisThrottle.from_url(redis_url(), 0.5, prefix=redis_prefix)
    try:
        assert throttle.acquire({"k": 1}, "a") is None
        wait = throttle.acquire({"k": 1}, "b")
        assert wait is not None
        assert 0 < wait <= 0.5
        time.sleep(wait + 0.05)
        assert throttle.acquire({"k": 1}, "c") is None
    finally:
        throttle.close()


# Redis down: count in the process, warn, come back.


def test_unreachable_redis_falls_back_to_counting_in_the_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    throttle = RedisThrottle.from_url(url, WINDOW)
    caplog.set_level(logging.WARNING, logger="pinsphere_http.redis_throttle")
    try:
        started = time.monotonic()
        assert throttle.acquire({"k": 2}, "a") is None
        assert throttle.acquire({"k": 2}, "b") is None
        assert throttle.acquire({"k": 2}, "c") is not None
        throttle.hit("j")
        assert throttle.retry_after("j", 1) is not None
        throttle.release(["k"], "a")
        assert throttle.retry_after("k", 2) is None
        throttle.reset("j")
        assert throttle.retry_after("j", 1) is None
        assert time.monotonic() - started < 2  # nobody waits on a dead Redis for long
    finally:
        throttle.close()
    assert not throttle.available
    warnings = [r for r in caplog.records if r.name == "pinsphere_http.redis_throttle"]
    assert len(warnings) == 1  # once, not on every attempt
    assert "cannot reach Redis at 127.0.0.1" in warnings[0].getMessage()
    assert "counting attempts in this process" in warnings[0].getMessage()


def test_a_redis_that_never_answers_stalls_a_sign_in_once_and_briefly() -> None:
    # The kernel completes connections to a listening socket nobody accepts from, so this is
    # a Redis that is up but hangs.
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen()
        throttle = RedisThrottle.from_url(f"redis://127.0.0.1:{hung.getsockname()[1]}/0", WINDOW)
        try:
            started = time.monotonic()
            assert throttle.acquire({"k": 1}, "a") is None
            first = time.monotonic() - started
            assert first < 2.5  # half-second timeouts, one retry
            started = time.monotonic()
            assert throttle.acquire({"k": 1}, "b") is not None  # counted in the process
            assert time.monotonic() - started < 0.1  # not asked again until the retry interval
        finally:
            throttle.close()


class Outage:
    """A TCP relay to the test Redis that can be cut and restored, as a network would."""

    def __init__(self, target: tuple[str, int], database: int) -> None:
        self._target = target
        self._database = database
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []
        self.port = 0
        self.restore()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/{self._database}"

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        assert self._listener is not None
        # Shut down first: closing alone would not wake the thread waiting in accept(), and
        # the port would go on listening.
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        for sock in self._open:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                near, _ = listener.accept()
            except OSError:
                return  # cut
            far = socket.create_connection(self._target)
            self._open += [near, far]
            for source, sink in ((near, far), (far, near)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


def test_the_throttle_goes_back_to_redis_when_it_answers(
    redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    with redis.Redis.from_url(redis_url()) as probe:
        options = probe.connection_pool.connection_kwargs
        target = (options.get("host", "localhost"), options.get("port", 6379))
        outage = Outage(target, options.get("db", 0))
    monotonic = FakeClock()
    throttle = RedisThrottle.from_url(outage.url, WINDOW, prefix=redis_prefix, monotonic=monotonic)
    caplog.set_level(logging.INFO, logger="pinsphere_http.redis_throttle")
    try:
        assert throttle.acquire({"k": 2}, "in-redis") is None
        outage.cut()
        assert throttle.acquire({"k": 2}, "local-1") is None  # counted in the process
        assert not throttle.available
        # Back, but not asked again before the retry interval has passed.
        outage.restore()
        assert throttle.acquire({"k": 2}, "local-2") is None
        assert throttle.acquire({"k": 2}, "local-3") is not None
        assert not throttle.available
        monotonic.advance(5)
        # Redis still holds its one event; what was counted in the process stays there.
        assert throttle.acquire({"k": 2}, "in-redis-2") is None
        assert throttle.available
        assert throttle.acquire({"k": 2}, "in-redis-3") is not None
    finally:
        throttle.close()
        outage.cut()
    messages = [r.getMessage() for r in caplog.records if r.name == "pinsphere_http.redis_throttle"]
    assert len(messages) == 2
    assert "cannot reach Redis" in messages[0]
    assert "reaches Redis at" in messages[1]
    assert "again" in messages[1]


# Configuration.


def test_redis_urls_need_the_redis_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "pinsphere_http.redis_throttle")
    monkeypatch.setitem(sys.modules, "redis", None)  # makes "import redis" fail
    with pytest.raises(UnknownBackend, match=r"pip install 'pinsphere\[redis\]'") as raised:
        open_throttle("redis://127.0.0.1:6379/0", WINDOW)
    assert raised.value.scheme == "redis"
    store = pinsphere.open(metadata="memory://", users="memory://", blobs="memory://")
    with store, pytest.raises(UnknownBackend, match=r"pinsphere\[redis\]"):
        create_app(store, HTTPSettings(secret_key=SECRET, throttle_url="redis://127.0.0.1"))


def test_the_throttle_url_must_be_a_redis_url() -> None:
    with pytest.raises(ValueError, match="redis://, rediss:// or unix://"):
        HTTPSettings(secret_key=SECRET, throttle_url="memcached://127.0.0.1")
    with pytest.raises(UnknownBackend, match="memcached"):
        open_throttle("memcached://127.0.0.1", WINDOW)
    settings = HTTPSettings(secret_key=SECRET, throttle_url="redis://:pw@127.0.0.1:6379/2")
    assert "pw" not in repr(settings)  # the URL may carry Redis's password
    assert isinstance(open_throttle(None, WINDOW), MemoryThrottle)


def test_the_throttle_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINSPHERE_THROTTLE_URL", "redis://127.0.0.1:6379/3")
    settings = HTTPSettings()
    assert settings.throttle_url is not None
    assert settings.throttle_url.get_secret_value() == "redis://127.0.0.1:6379/3"
    monkeypatch.setenv("PINSPHERE_THROTTLE_URL", "")
    assert HTTPSettings().throttle_url is None


# Sign-ins: attempts racing each other, and several workers, through the service.


def _context(app: FastAPI) -> ServiceContext:
    context = app.state.pinsphere
    assert isinstance(context, ServiceContext)
    return context


def test_a_login_attempt_counts_only_when_it_fails(store: pinsphere.PinStore) -> None:
    settings = HTTPSettings(
        secret_key=SECRET, login_failures_per_user=2, login_failures_per_address=3
    )
    context = _context(create_app(store, settings))

    def fail(username: str, address: str) -> None:
        with pytest.raises(AuthenticationError), LoginAttempt(context, username, address):
            raise AuthenticationError("invalid username or password")

    def refused(username: str, address: str, *, reset: bool = False) -> bool:
        try:
            with LoginAttempt(context, username, address, reset_on_success=reset):
                pass
        except ProblemError as error:
            return error.status == 429
        return False

    # Neither an error other than wrong credentials (a backend outage) nor a success is a
    # guess, for the username or for the address.
    for _ in range(3):
        with pytest.raises(RuntimeError), LoginAttempt(context, "alice", "192.0.2.1"):
            raise RuntimeError("the user backend is down")
        assert not refused("alice", "192.0.2.1")
    fail("alice", "192.0.2.1")
    assert not refused("alice", "192.0.2.1")  # without reset_on_success the failure stays
    fail("ALICE", "192.0.2.2")  # usernames compare case-insensitively
    assert refused("alice", "192.0.2.3")
    # A success that resets clears the username's failures, not the address's.
    fail("bob", "192.0.2.4")
    assert not refused("bob", "192.0.2.4", reset=True)
    fail("bob", "192.0.2.4")
    assert not refused("bob", "192.0.2.5")
    fail("carol", "192.0.2.4")
    assert refused("dave", "192.0.2.4")


def _forget(workers: list[FastAPI], username: str, address: str) -> None:
    """Remove what the workers' sign-ins left in their throttles (Redis outlives the test)."""
    for app in workers:
        throttle = _context(app).throttle
        throttle.reset(f"login:user:{username}")
        throttle.reset(f"login:addr:{address}")
        if isinstance(throttle, RedisThrottle):
            throttle.close()


def _redis_settings(**changes: Any) -> HTTPSettings:
    return HTTPSettings(secret_key=SECRET, throttle_url=redis_url(), **changes)


def _unique_address() -> str:
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


def _clients(apps: list[Any], address: str) -> list[httpx.AsyncClient]:
    """One client per app (worker), all calling from ``address``."""
    return [
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(address, 4000)), base_url="http://t"
        )
        for app in apps
    ]


@pytest.mark.anyio
async def test_the_sign_in_limit_holds_across_two_workers(store: pinsphere.PinStore) -> None:
    require_redis(redis_url())
    name = f"u{uuid.uuid4().hex[:12]}"
    store.users.create(name, password="right-password")
    address = _unique_address()
    workers = [create_app(store, _redis_settings(login_failures_per_user=4)) for _ in range(2)]
    clients = _clients(workers, address)
    wrong = {"username": name, "password": "wrong-password"}
    try:
        statuses = [
            (await clients[n % 2].post("/api/v1/auth/token", data=wrong)).status_code
            for n in range(6)
        ]
        # Four failures in all, not four per worker.
        assert statuses == [401, 401, 401, 401, 429, 429]
        right = {"username": name, "password": "right-password"}
        for client in clients:
            refused = await client.post("/api/v1/auth/token", data=right)
            assert_problem(refused, 429)
            assert 0 < int(refused.headers["retry-after"]) <= 15 * 60
    finally:
        for client in clients:
            await client.aclose()
        _forget(workers, name, address)


@pytest.mark.anyio
@pytest.mark.parametrize("shared", [False, True], ids=["one-worker", "two-workers-over-redis"])
async def test_wrong_passwords_sent_together_never_pass_the_limit(
    store: pinsphere.PinStore, shared: bool
) -> None:
    settings = HTTPSettings(secret_key=SECRET, login_failures_per_user=3)
    if shared:
        require_redis(redis_url())
        settings = _redis_settings(login_failures_per_user=3)
    name = f"u{uuid.uuid4().hex[:12]}"
    store.users.create(name, password="right-password")
    address = _unique_address()
    workers = [create_app(store, settings) for _ in range(2 if shared else 1)]
    clients = _clients(workers, address)
    wrong = {"username": name, "password": "wrong-password"}
    try:
        # Each sign-in checks the password in a worker thread, so these are in flight
        # together; checked first and counted after a failure, all of them would get in.
        responses = await asyncio.gather(
            *(clients[n % len(clients)].post("/api/v1/auth/token", data=wrong) for n in range(12))
        )
        statuses = sorted(response.status_code for response in responses)
        assert statuses == [401] * 3 + [429] * 9
    finally:
        for client in clients:
            await client.aclose()
        _forget(workers, name, address)


@pytest.mark.anyio
async def test_sign_in_answers_and_still_counts_while_redis_is_down(
    store: pinsphere.PinStore, users: dict[str, pinsphere.User]
) -> None:
    settings = HTTPSettings(
        secret_key=SECRET,
        throttle_url=f"redis://127.0.0.1:{_closed_port()}/0",
        login_failures_per_user=2,
    )
    app = create_app(store, settings)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            good = {"username": "alice", "password": "alice-password"}
            assert (await client.post("/api/v1/auth/token", data=good)).status_code == 200
            bad = {"username": "bob", "password": "wrong-password"}
            statuses = [
                (await client.post("/api/v1/auth/token", data=bad)).status_code for _ in range(3)
            ]
            assert statuses == [401, 401, 429]
    finally:
        throttle = _context(app).throttle
        assert isinstance(throttle, RedisThrottle)
        assert not throttle.available
        throttle.close()
