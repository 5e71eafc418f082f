"""Helpers of the browser tests: the served app, console watching, sign-in, screenshots."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Page

__all__ = [
    "CHROMIUM_ARGS",
    "CLI",
    "MAX_UPLOAD_BYTES",
    "PASSWORDS",
    "Console",
    "Service",
    "chromium_path",
    "free_port",
    "missing_browser",
    "screenshot",
    "sign_in",
]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORDS = {"alice": "alice-password", "bob": "bob-password"}
MAX_UPLOAD_BYTES = 1024 * 1024
SCREENSHOTS = Path(__file__).parent / "screenshots"

CLI = [sys.executable, "-c", "from pinsphere.cli import main; main()"]


def chromium_path() -> str | None:
    """Debian's chromium, if installed."""
    for candidate in ("/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def missing_browser() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install playwright)"
    if chromium_path() is None:
        return "chromium is not installed (apt-get install -y chromium)"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Service:
    """A running ``pinsphere serve``."""

    base: str
    data: Path
    environment: dict[str, str]

    def create_user(self, name: str, password: str, role: str = "member") -> None:
        """Create an account with the CLI (as an operator would)."""
        subprocess.run(
            [
                *CLI,
                "--data",
                str(self.data),
                "users",
                "create",
                name,
                "--role",
                role,
                "--password-stdin",
            ],
            input=f"{password}\n".encode(),
            env=self.environment,
            check=True,
            capture_output=True,
        )

    def bearer(self, name: str) -> dict[str, str]:
        """An Authorization header for a user (to seed data through the API)."""
        answer = httpx.post(
            f"{self.base}/api/v1/auth/token",
            data={"username": name, "password": PASSWORDS[name]},
            timeout=10,
        )
        answer.raise_for_status()
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@dataclass
class Console:
    """Errors a page reported (console errors and uncaught exceptions)."""

    errors: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> Page:
        """Collect the page's errors."""

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                self.errors.append(f"{page.url}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        return page

    def unexpected(self, *allowed: str) -> list[str]:
        """The errors that contain none of the ``allowed`` texts."""
        return [error for error in self.errors if not any(text in error for text in allowed)]


def sign_in(page: Page, name: str) -> None:
    """Sign in through the form."""
    page.goto("/signin")
    page.fill("#username", name)
    page.fill("#password", PASSWORDS[name])
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_selector(".who", state="attached")


def screenshot(page: Page, name: str) -> Path:
    """Save a screenshot under tests/ui/screenshots (git-ignored)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
