"""Native database errors, translated into :mod:`pinsphere.errors` at the boundary."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc

from pinsphere.errors import BackendUnavailable, Conflict, InvalidInput, PinsphereError

__all__ = ["translate_errors", "translated"]

try:  # psycopg is optional; COPY raises its errors without SQLAlchemy's wrapping.
    import psycopg as _psycopg
except ImportError:  # pragma: no cover - the postgres extra is not installed
    _psycopg = None  # type: ignore[assignment]

_DEFAULT_CONFLICT = "the value is already taken"
# Each family of errors: its base class, its unique-violation class, its bad-value class.
_FAMILIES: tuple[tuple[type[BaseException], type[BaseException], type[BaseException]], ...] = (
    (sa_exc.SQLAlchemyError, sa_exc.IntegrityError, sa_exc.DataError),
    (sqlite3.Error, sqlite3.IntegrityError, sqlite3.DataError),
    *(() if _psycopg is None else ((_psycopg.Error, _psycopg.IntegrityError, _psycopg.DataError),)),
)


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
    # SQLAlchemy's wrapped errors first, then the drivers' own (the search path and COPY
    # bypass SQLAlchemy).
    for error, integrity, data in _FAMILIES:
        if isinstance(exc, error):
            if isinstance(exc, integrity):
                return Conflict(conflict)
            if isinstance(exc, data):
                detail = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
                return InvalidInput(f"the database rejected a value: {detail}")
            return BackendUnavailable(f"database error: {exc}")
    return None
