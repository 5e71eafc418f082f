"""Native database errors become Pinsphere errors, whichever layer raised them."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from sqlalchemy import exc as sa_exc

from pinsphere.backends.sql.translate import translate_errors, translated
from pinsphere.errors import BackendUnavailable, Conflict, InvalidInput, NotFound


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (sqlite3.IntegrityError("UNIQUE constraint failed"), Conflict),
        (sqlite3.DataError("string or blob too big"), InvalidInput),
        (sqlite3.OperationalError("database is locked"), BackendUnavailable),
        (psycopg.errors.UniqueViolation("duplicate key"), Conflict),
        (psycopg.errors.NumericValueOutOfRange("out of range"), InvalidInput),
        (psycopg.OperationalError("server closed the connection"), BackendUnavailable),
        (sa_exc.IntegrityError("INSERT", {}, sqlite3.IntegrityError("dup")), Conflict),
        (sa_exc.DataError("INSERT", {}, sqlite3.DataError("too big")), InvalidInput),
        (
            sa_exc.OperationalError("SELECT", {}, sqlite3.OperationalError("gone")),
            BackendUnavailable,
        ),
    ],
)
def test_native_errors_are_translated(raised: Exception, expected: type[Exception]) -> None:
    assert isinstance(translated(raised, "taken"), expected)
    with pytest.raises(expected) as caught, translate_errors("taken"):
        raise raised
    assert caught.value.__cause__ is raised


def test_the_conflict_message_is_the_callers() -> None:
    assert (
        str(translated(sqlite3.IntegrityError("x"), "that name is taken")) == "that name is taken"
    )


@pytest.mark.parametrize("raised", [KeyError("k"), NotFound("no pin")])
def test_other_errors_pass_through(raised: Exception) -> None:
    assert translated(raised) is None
    with pytest.raises(type(raised)) as caught, translate_errors():
        raise raised
    assert caught.value is raised
