"""Translation of the native errors of filesystems into :mod:`pinsphere.errors`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pinsphere.errors import BackendUnavailable, NotFound, PinsphereError

__all__ = ["MISSING", "translated"]

MISSING = (FileNotFoundError, NotADirectoryError, IsADirectoryError)
"""Errors meaning "nothing at that path" (a file where a folder was expected counts too)."""


@contextmanager
def translated(action: str, *, missing: str | None = None) -> Iterator[None]:
    """Turn native errors into :mod:`pinsphere.errors`, keeping them as ``__cause__``.

    Args:
        action: What was being done, for the message ("read blob 'x'").
        missing: The message for a :class:`NotFound` when the path does not exist; without
            it, a missing path is a :class:`BackendUnavailable` like any other failure.

    Yields:
        Nothing; the body runs inside the translation.
    """
    try:
        yield
    except PinsphereError:
        raise
    except MISSING as exc:
        if missing is not None:
            raise NotFound(missing) from exc
        raise BackendUnavailable(f"blob store failed to {action}: {exc}") from exc
    # Filesystems behind fsspec raise their own types (aiohttp, paramiko, botocore...), so
    # anything they throw is a backend failure; the original stays as __cause__.
    except Exception as exc:
        raise BackendUnavailable(f"blob store failed to {action}: {exc}") from exc
