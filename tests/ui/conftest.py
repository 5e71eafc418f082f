"""Fixtures for the browser tests: a real ``pinsphere serve`` on loopback and Chromium.

The browser is Debian's ``chromium`` driven by Playwright through ``executable_path``
(Playwright's own browser downloads are never used). Without chromium or playwright the
browser tests are skipped with the reason, unless ``CI`` is set: there they must run.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from ui_support import (
    CHROMIUM_ARGS,
    CLI,
    MAX_UPLOAD_BYTES,
    PASSWORDS,
    Console,
    Service,
    chromium_path,
    free_port,
    missing_browser,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """``pinsphere serve`` over a fresh embedded store, with alice (admin) and bob."""
    data = tmp_path_factory.mktemp("ui") / "data"
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("PINSPHERE_") or name == "PINSPHERE_DISABLED_PLUGINS"
    }
    # Cheap password hashing and a small upload limit (to see the "too large" message).
    environment |= {
        "PINSPHERE_ARGON2_TIME_COST": "1",
        "PINSPHERE_ARGON2_MEMORY_KIB": "64",
        "PINSPHERE_ARGON2_PARALLELISM": "1",
        "PINSPHERE_MAX_UPLOAD_BYTES": str(MAX_UPLOAD_BYTES),
    }
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [*CLI, "--data", str(data), "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise AssertionError(f"serve exited: {process.communicate()[1].decode()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("serve did not become healthy within 30 s")
            time.sleep(0.1)
        served = Service(base, data, environment)
        served.create_user("alice", PASSWORDS["alice"], role="admin")
        served.create_user("bob", PASSWORDS["bob"])
        yield served
    finally:
        process.terminate()
        try:
            process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium (Debian's), or a skip when it cannot run here outside CI."""
    missing = missing_browser()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run under CI: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def console() -> Console:
    """The errors of the pages a test watches."""
    return Console()


@pytest.fixture
def new_context(browser: Browser, service: Service) -> Iterator[Any]:
    """Make fresh browser contexts (separate cookie jars) at a viewport width."""
    made: list[BrowserContext] = []

    def make(width: int = 1440, height: int = 900) -> BrowserContext:
        context = browser.new_context(
            base_url=service.base,
            viewport={"width": width, "height": height},
            device_scale_factor=1,
        )
        context.set_default_timeout(10_000)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()
