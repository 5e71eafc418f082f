"""Blob keys: which strings are keys, and the folder reserved for writes in progress."""

from __future__ import annotations

import re
import secrets

from pinsphere.errors import InvalidInput

__all__ = [
    "MAX_KEY_LENGTH",
    "STAGING_FOLDER",
    "folder_of_prefix",
    "new_staged_name",
    "prefix_folder",
    "validate_key",
]

STAGING_FOLDER = ".staging"
"""The folder under the root that holds writes in progress; never a key."""

MAX_KEY_LENGTH = 1024
"""Longest key in UTF-8 bytes: the S3 limit, so that keys stay portable between stores."""

_FORBIDDEN_CHARACTERS = re.compile(r"[\x00-\x1f\x7f\\]")  # control characters, backslash


def validate_key(key: str) -> None:
    """Check that a key is a relative slash path that stays inside the store.

    Args:
        key: The key to check.

    Raises:
        InvalidInput: The key is empty, too long, absolute, uses backslashes, control
            characters, empty, ``.`` or ``..`` segments, or the reserved staging folder.
    """
    if not isinstance(key, str) or not key:
        raise InvalidInput("a blob key must be a non-empty string")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_LENGTH:
        raise InvalidInput(f"a blob key must be at most {MAX_KEY_LENGTH} bytes")
    if _FORBIDDEN_CHARACTERS.search(key):
        raise InvalidInput(f"bad blob key {key!r}: backslash or control character")
    segments = key.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        raise InvalidInput(f"bad blob key {key!r}: it must be a relative path without . or ..")
    if segments[0] == STAGING_FOLDER:
        raise InvalidInput(f"bad blob key {key!r}: {STAGING_FOLDER}/ is reserved")


def prefix_folder(prefix: str) -> str:
    """Check a ``keys()`` prefix and return the folder it lies in.

    Args:
        prefix: The start of the keys wanted (``"originals/ab"``).

    Returns:
        The part before the last slash (``"originals"``), or ``""`` for the root.

    Raises:
        InvalidInput: No valid key could start with the prefix.
    """
    if not isinstance(prefix, str):
        raise InvalidInput("a key prefix must be a string")
    folder, _, tail = prefix.rpartition("/")
    if folder:
        validate_key(folder)
    elif prefix.startswith("/"):
        raise InvalidInput(f"bad key prefix {prefix!r}: it must be relative")
    if _FORBIDDEN_CHARACTERS.search(tail):
        raise InvalidInput(f"bad key prefix {prefix!r}")
    return folder


def folder_of_prefix(prefix: str) -> str:
    """Check a folder prefix (``"originals/ab/"``) and return its folder (``"originals/ab"``).

    Raises:
        InvalidInput: The prefix does not end in a slash, or no key could lie in its folder.
    """
    if not isinstance(prefix, str) or not prefix.endswith("/"):
        raise InvalidInput(f"bad folder prefix {prefix!r}: it must end in a slash")
    folder = prefix[:-1]
    # A folder is named like a key: the same rules keep it inside the store.
    validate_key(folder)
    return folder


def new_staged_name() -> str:
    """A fresh file name for a write in progress, unguessable so writers never collide."""
    return secrets.token_hex(16)
