"""Translation of pymongo's errors into :mod:`pinsphere.errors`.

Every public method of the MongoDB backend runs under :func:`translated`, so no pymongo or
BSON exception crosses the backend boundary; the native error stays as ``__cause__``.

==========================================  =============================================
pymongo / bson                              pinsphere
==========================================  =============================================
``DuplicateKeyError``, a ``BulkWriteError``  :class:`~pinsphere.errors.Conflict`
of duplicate keys
``ConnectionFailure`` (``AutoReconnect``,    :class:`~pinsphere.errors.BackendUnavailable`
``NetworkTimeout``,
``ServerSelectionTimeoutError``),
``ExecutionTimeout``, any other error
``ConfigurationError``, ``InvalidURI``      :class:`~pinsphere.errors.InvalidInput`
``BSONError``, an integer too large         :class:`~pinsphere.errors.InvalidInput`
for BSON
==========================================  =============================================
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from bson.errors import BSONError
from pymongo.errors import (
    BulkWriteError,
    ConfigurationError,
    ConnectionFailure,
    DuplicateKeyError,
    ExecutionTimeout,
    PyMongoError,
)

from pinsphere.errors import BackendUnavailable, Conflict, InvalidInput, PinsphereError

__all__ = ["DUPLICATE_KEY", "is_duplicate", "translate", "translated", "translating"]

DUPLICATE_KEY = 11000
"""The server's error code for a unique index violation."""

P = ParamSpec("P")
R = TypeVar("R")


def is_duplicate(exc: PyMongoError) -> bool:
    """Whether the error is (only) a unique-key violation."""
    if isinstance(exc, DuplicateKeyError):
        return True
    if isinstance(exc, BulkWriteError):
        errors = exc.details.get("writeErrors", [])
        return bool(errors) and all(e.get("code") == DUPLICATE_KEY for e in errors)
    return False


def translate(exc: Exception) -> PinsphereError:
    """The Pinsphere error for a native one (the caller raises it ``from exc``)."""
    if isinstance(exc, PyMongoError) and is_duplicate(exc):
        return Conflict("a record with this key exists already")
    if isinstance(exc, ConfigurationError):
        return InvalidInput(f"bad MongoDB configuration: {exc}")
    if isinstance(exc, ConnectionFailure | ExecutionTimeout):
        return BackendUnavailable(f"MongoDB cannot be reached: {exc}")
    if isinstance(exc, BSONError | OverflowError):
        return InvalidInput(f"a value cannot be stored in MongoDB: {exc}")
    return BackendUnavailable(f"MongoDB failed: {exc}")


@contextmanager
def translating() -> Iterator[None]:
    """Run a block, turning native errors into Pinsphere errors."""
    try:
        yield
    except PinsphereError:
        raise
    except (PyMongoError, BSONError, OverflowError) as exc:
        raise translate(exc) from exc


def translated(method: Callable[P, R]) -> Callable[P, R]:
    """Decorate a backend method so that native errors leave it translated."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with translating():
            return method(*args, **kwargs)

    return wrapper
