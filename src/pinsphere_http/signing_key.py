"""Where the key that signs tokens comes from.

Every worker must sign with the same key, and a restart must not sign everyone out, so a
generated key is kept in a file when there is somewhere to keep it.
"""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from pathlib import Path

from pinsphere_http.settings import HTTPSettings

__all__ = ["resolve_secret_key"]

logger = logging.getLogger("pinsphere_http")


def resolve_secret_key(settings: HTTPSettings) -> str:
    """The signing key: configured, read from ``secret_key_file``, or generated.

    Returns:
        The key text.
    """
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    if settings.secret_key_file is not None:
        return _load_or_create(settings.secret_key_file)
    logger.warning(
        "PINSPHERE_SECRET_KEY is not set: using a key generated for this process only; "
        "tokens will not survive a restart nor work across workers"
    )
    return secrets.token_urlsafe(48)


def _load_or_create(path: Path) -> str:
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Written aside and linked into place, so that workers starting together never read a
    # half-written file and exactly one generated key wins.
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".key-")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key + "\n")
        os.chmod(temporary, 0o600)
        try:
            os.link(temporary, path)
        except FileExistsError:
            return _read(path)
    finally:
        os.unlink(temporary)
    logger.warning("generated a token signing key in %s; keep it secret", path)
    return key


def _read(path: Path) -> str:
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise ValueError(f"the secret key in {path} is shorter than 32 characters")
    return key
