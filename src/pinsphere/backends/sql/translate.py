"""Native database errors, translated into :mod:`pinsphere.errors` at the boundary."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc

from pinsphere.errors import BackendUnavailable, Conflict, InvalidInput, PinsphereError

__all__ = ["translate_errors"]

try:  # psycopg is optional; COPY raises its errors without SQLAlchemy's wrapping.
    import psycopg as _psycopg
except ImportError:  # pragma: no cover - the postgres extra is not installed
    _psycopg = None  # type: ignore[assignment]


@contextmanager
def translate_errors(conflict: str = "the value is already taken") -> Iterator[None]:
    """Re-raise SQLAlchemy and driver errors as Pinsphere errors, keeping the cause.

    Args:
        conflict: The message of the :class:`~pinsphere.errors.Conflict` raised for a
            violated unique or foreign key.
    """
    try:
        yield
    except PinsphereError:
        raise
    except sa_exc.IntegrityError as exc:
        raise Conflict(conflict) from exc
    except sa_exc.DataError as exc:
        raise InvalidInput(f"the database rejected a value: {exc.orig}") from exc
    except sa_exc.SQLAlchemyError as exc:
        raise BackendUnavailable(f"database error: {exc}") from exc
    except sqlite3.Error as exc:
        # Raised directly by the driver on the search path, which bypasses SQLAlchemy.
        if isinstance(exc, sqlite3.IntegrityError):
            raise Conflict(conflict) from exc
        if isinstance(exc, sqlite3.DataError):
            raise InvalidInput(f"the database rejected a value: {exc}") from exc
        raise BackendUnavailable(f"database error: {exc}") from exc
    except Exception as exc:
        # psycopg raises its own errors where SQLAlchemy is bypassed (COPY, the search path).
        if _psycopg is not None and isinstance(exc, _psycopg.Error):
            if isinstance(exc, _psycopg.IntegrityError):
                raise Conflict(conflict) from exc
            if isinstance(exc, _psycopg.DataError):
                raise InvalidInput(f"the database rejected a value: {exc}") from exc
            raise BackendUnavailable(f"database error: {exc}") from exc
        raise
