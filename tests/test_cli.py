"""The pinsphere command line, on an embedded store in a temporary folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pinsphere.cli import cli
from pinsphere.testing.media import png_bytes

Invoke = Callable[..., Result]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    for name in ("PINSPHERE_METADATA_URL", "PINSPHERE_USERS_URL", "PINSPHERE_BLOBS_URL"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()
    data = str(tmp_path / "data")

    def invoke(*args: str, stdin: str | None = None, ok: bool = True) -> Result:
        result = runner.invoke(cli, ["--data", data, *args], input=stdin)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return invoke


def test_users_upload_search(run: Invoke, tmp_path: Path) -> None:
    created = run(
        "users", "create", "alice", "--role", "admin", "--password-stdin", stdin="a-long-password\n"
    )
    assert "created admin alice" in created.output
    assert "alice\tadmin" in run("users", "list").output

    image = tmp_path / "blue.png"
    image.write_bytes(png_bytes())
    uploaded = run(
        "upload", str(image), "--user", "alice", "--tag", "Colours/Blue", "--visibility", "public"
    )
    pin_id, mime_type, *_ = uploaded.output.split("\t")
    assert mime_type == "image/png"

    found = run("search", "tag:colours").output
    assert pin_id in found
    assert "colours/blue" in found
    assert run("search", "tag:nothing").output == ""


def test_prompted_password_must_match(run: Invoke) -> None:
    result = run("users", "create", "bob", stdin="pw-one-long\npw-two-long\n", ok=False)
    assert result.exit_code != 0
    assert "bob" not in run("users", "list").output


def test_errors_are_messages_not_tracebacks(run: Invoke) -> None:
    run("users", "create", "carol", "--password-stdin", stdin="long-enough-pw\n")
    duplicate = run(
        "users", "create", "CAROL", "--password-stdin", stdin="long-enough-pw\n", ok=False
    )
    assert duplicate.exit_code == 1
    assert "Error:" in duplicate.output
    bad_query = run("search", 'tag:"open', ok=False)
    assert "position" in bad_query.output


def test_db_upgrade_status_and_check(run: Invoke) -> None:
    upgraded = run("db", "upgrade").output
    assert "metadata: at revision" in upgraded
    assert "users: at revision" in upgraded
    status = run("db", "status").output
    assert "not created" not in status
    assert run("check").output.strip() == "ok"
    swept = run("sweep").output
    assert "removed 0 partial writes, 0 unused originals, 0 derived" in swept
    assert "0 unfinished direct uploads" in swept
