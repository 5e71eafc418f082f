#!/usr/bin/env python3
"""Set up and run the project with nothing but Python 3.11+.

    python3 dev.py serve   # make .venv, install, serve ./pinsphere-data on http://127.0.0.1:8000
    python3 dev.py test    # make .venv, install everything, run ruff, mypy and pytest
    python3 dev.py demo    # make .venv, install, run the embedded library example end to end

The virtual environment is made once in ``.venv`` and re-installed only when
``pyproject.toml`` changes. Extra arguments go to ``pinsphere serve`` (``--port 9000``), to
pytest (``-k search``) or to the example.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
EXTRAS = {"serve": "http,media", "demo": "dev", "test": "all,dev"}


def run(*args: str | os.PathLike[str]) -> None:
    """Run a command from the repository root; stop with its exit code if it fails."""
    print("+", " ".join(str(a) for a in args), flush=True)
    try:
        code = subprocess.call([str(a) for a in args], cwd=ROOT)  # noqa: S603 - our own tools
    except KeyboardInterrupt:  # Ctrl-C stops the server: the child got it too
        code = 130
    if code != 0:
        sys.exit(code)


def ensure_venv(extras: str) -> None:
    """Create ``.venv`` and install the project with ``extras`` unless already current."""
    if not PYTHON.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".installed-{extras.replace(',', '-')}"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted:
        return
    run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(PYTHON, "-m", "pip", "install", "--quiet", "-e", f".[{extras}]")
    stamp.write_text(wanted)


def main() -> None:
    """Dispatch ``demo`` or ``test``."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this script must explain, not crash
        sys.exit("Pinsphere needs Python 3.11 or newer")
    if len(sys.argv) < 2 or sys.argv[1] not in EXTRAS:
        sys.exit(__doc__)
    task, rest = sys.argv[1], sys.argv[2:]
    ensure_venv(EXTRAS[task])
    if task == "serve":
        run(BIN / "pinsphere", "--data", "pinsphere-data", "serve", *rest)
        return
    if task == "demo":
        run(PYTHON, "examples/embedded.py", *rest)
        return
    run(BIN / "ruff", "check", "src", "tests", "benchmarks", "examples", "dev.py")
    run(BIN / "ruff", "format", "--check", "src", "tests", "benchmarks", "examples", "dev.py")
    run(BIN / "mypy")
    run(PYTHON, "-m", "pytest", "-n", "2", "-p", "no:cacheprovider", *rest)


if __name__ == "__main__":
    main()
