"""``pinsphere serve`` as a real process on a loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from pinsphere.testing import media

_CLI = [sys.executable, "-c", "from pinsphere.cli import main; main()"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_healthy(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _, stderr = process.communicate()
            raise AssertionError(f"serve exited with {process.returncode}: {stderr.decode()}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("serve did not become healthy within 30 s")


@pytest.fixture
def environment() -> dict[str, str]:
    """The environment without store or service settings from the outside."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("PINSPHERE_") or name == "PINSPHERE_DISABLED_PLUGINS"
    }


def test_serve_signs_in_and_uploads(tmp_path: Path, environment: dict[str, str]) -> None:
    data = tmp_path / "data"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [*_CLI, "--data", str(data), "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_until_healthy(base, process)
        subprocess.run(
            [
                *_CLI,
                "--data",
                str(data),
                "users",
                "create",
                "admin",
                "--role",
                "admin",
                "--password-stdin",
            ],
            input=b"admin-password\n",
            env=environment,
            check=True,
            capture_output=True,
        )
        with httpx.Client(base_url=base, timeout=10) as client:
            assert client.get("/readyz").status_code == 200
            tokens = client.post(
                "/api/v1/auth/token", data={"username": "admin", "password": "admin-password"}
            ).json()
            headers = {"Authorization": f"Bearer {tokens['access_token']}"}
            content = media.jpeg_bytes()
            created = client.post(
                "/api/v1/pins",
                files={"file": ("photo.jpg", content, "image/jpeg")},
                data={"title": "Over the wire", "tags": "net"},
                headers=headers,
            )
            assert created.status_code == 201, created.text
            pin_id = created.json()["id"]
            download = client.get(f"/api/v1/pins/{pin_id}/media", headers=headers)
            assert download.content == content
            assert download.headers["x-request-id"]
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=15)
    log = stderr.decode()
    assert "users create NAME --role admin" in log  # the first-run hint
    assert (data / "http-secret.key").exists()  # the generated key, next to the store


def test_serve_without_the_http_extra_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from click.testing import CliRunner

    from pinsphere.cli import cli

    monkeypatch.setitem(sys.modules, "uvicorn", None)  # makes "import uvicorn" fail
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 1
    assert "pip install 'pinsphere[http]'" in result.output


def test_several_workers_need_a_shared_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from pinsphere.cli import cli

    for name in ("PINSPHERE_SECRET_KEY", "PINSPHERE_SECRET_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name in ("PINSPHERE_METADATA_URL", "PINSPHERE_USERS_URL", "PINSPHERE_BLOBS_URL"):
        monkeypatch.setenv(name, "memory://")  # restored afterwards, whatever serve sets
    stores = ["--metadata", "memory://", "--users", "memory://", "--blobs", "memory://"]
    result = CliRunner().invoke(cli, [*stores, "serve", "--workers", "2"])
    assert result.exit_code == 1
    assert "PINSPHERE_SECRET_KEY" in result.output


def _serve_memory_store(monkeypatch: pytest.MonkeyPatch, *arguments: str) -> tuple[int, str]:
    """Run ``serve`` over memory backends with uvicorn stubbed out; its exit code and output."""
    import uvicorn
    from click.testing import CliRunner

    from pinsphere.cli import cli

    monkeypatch.setenv("PINSPHERE_SECRET_KEY", "a-key-long-enough-for-several-workers-0123")
    for name in ("PINSPHERE_METADATA_URL", "PINSPHERE_USERS_URL", "PINSPHERE_BLOBS_URL"):
        monkeypatch.setenv(name, "memory://")  # restored afterwards, whatever serve sets
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    stores = ["--metadata", "memory://", "--users", "memory://", "--blobs", "memory://"]
    result = CliRunner().invoke(cli, [*stores, "serve", *arguments])
    return result.exit_code, result.output


def test_several_workers_without_a_shared_throttle_are_warned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PINSPHERE_THROTTLE_URL", raising=False)
    code, output = _serve_memory_store(monkeypatch, "--workers", "3")
    assert code == 0
    assert "3 times as many" in output
    assert "PINSPHERE_THROTTLE_URL" in output
    code, output = _serve_memory_store(monkeypatch)
    assert code == 0
    assert "PINSPHERE_THROTTLE_URL" not in output
    monkeypatch.setenv("PINSPHERE_THROTTLE_URL", "redis://127.0.0.1:6379/0")
    code, output = _serve_memory_store(monkeypatch, "--workers", "3")
    assert code == 0
    assert "PINSPHERE_THROTTLE_URL" not in output


def test_a_redis_throttle_without_the_redis_extra_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PINSPHERE_THROTTLE_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setitem(sys.modules, "redis", None)  # makes it look not installed
    code, output = _serve_memory_store(monkeypatch, "--workers", "2")
    assert code == 1
    assert "pip install 'pinsphere[redis]'" in output
