"""The sign-in throttle: its sliding windows, and sign-in attempts that race each other.

The behavioural tests take their throttles from the ``make_throttle`` fixture, on a fake
clock, so that every implementation can run the same ones.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from http_support import SECRET

import pinsphere
from pinsphere.errors import AuthenticationError
from pinsphere_http import HTTPSettings, create_app
from pinsphere_http.attempts import LoginAttempt
from pinsphere_http.context import ServiceContext
from pinsphere_http.problems import ProblemError
from pinsphere_http.throttle import DEFAULT_MAX_EVENTS, MemoryThrottle, Throttle

WINDOW = 60.0


class FakeClock:
    """Seconds that move only when told to."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


MakeThrottle = Callable[..., Throttle]


@pytest.fixture(params=["memory"])
def make_throttle(request: pytest.FixtureRequest) -> MakeThrottle:
    """Makes throttles of one kind: ``make(window, clock=..., max_events=...)``."""

    def make(
        window: float,
        *,
        clock: Callable[[], float] | None = None,
        max_events: int = DEFAULT_MAX_EVENTS,
    ) -> Throttle:
        return MemoryThrottle(window, max_events=max_events, clock=clock or time.monotonic)

    return make


# The behaviour every throttle shares.


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


# Sign-ins: attempts racing each other.


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
    """Remove what the workers' sign-ins left in their throttles."""
    for app in workers:
        throttle = _context(app).throttle
        throttle.reset(f"login:user:{username}")
        throttle.reset(f"login:addr:{address}")


def _unique_address() -> str:
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


@pytest.mark.anyio
async def test_wrong_passwords_sent_together_never_pass_the_limit(
    store: pinsphere.PinStore,
) -> None:
    settings = HTTPSettings(secret_key=SECRET, login_failures_per_user=3)
    name = f"u{uuid.uuid4().hex[:12]}"
    store.users.create(name, password="right-password")
    address = _unique_address()
    workers = [create_app(store, settings)]
    clients = [
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(address, 4000)), base_url="http://t"
        )
        for app in workers
    ]
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
