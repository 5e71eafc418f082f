"""Native database errors, translated into :mod:`pinsphere.errors` at the boundary."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import exc as sa_exc

from pinsphere.errors import BackendUnavailable, Conflict, InvalidInput, PinsphereError

__all__ = ["translate_errors", "translated"]

try:  # psycopg is optional; COPY raises its errors without SQLAlchemy's wrapping.
    import psycopg as _psycopg
except ImportError:  # pragma: no cover - the postgres extra is not installed
    _psycopg = None  # type: ignore[assignment]

_DEFAULT_CONFLICT = "the value is already taken"
# DBAPI modules: each has Error, IntegrityError and DataError.
_DRIVERS: tuple[Any, ...] = (sqlite3,) if _psycopg is None else (sqlite3, _psycopg)


@contextmanager
def translate_errors(conflict: str = _DEFAULT_CONFLICT) -> Iterator[None]:
    """Re-raise SQLAlchemy and driver errors as Pinsphere errors, keeping the cause.

    Args:
        conflict: The message of the :class:`~pinsphere.errors.Conflict` raised for a
            violated unique or foreign key.
    """
    try:
        yield
    except Exception as exc:
        replacement = translated(exc, conflict)
        if replacement is None:
            raise
        raise replacement from exc


def translated(exc: BaseException, conflict: str = _DEFAULT_CONFLICT) -> PinsphereError | None:
    """The Pinsphere error a native database error stands for; ``None`` for any other error.

    Args:
        exc: The error raised.
        conflict: The message of the :class:`~pinsphere.errors.Conflict` for a violated
            unique or foreign key.
    """
    if isinstance(exc, PinsphereError):
        return None
    if isinstance(exc, sa_exc.SQLAlchemyError):
        if isinstance(exc, sa_exc.IntegrityError):
            return Conflict(conflict)
        if isinstance(exc, sa_exc.DataError):
            return InvalidInput(f"the database rejected a value: {exc.orig}")
        return BackendUnavailable(f"database error: {exc}")
    # The driver's own errors: the search path and COPY bypass SQLAlchemy.
    for driver in _DRIVERS:
        if isinstance(exc, driver.Error):
            if isinstance(exc, driver.IntegrityError):
                return Conflict(conflict)
            if isinstance(exc, driver.DataError):
                return InvalidInput(f"the database rejected a value: {exc}")
            return BackendUnavailable(f"database error: {exc}")
    return None
