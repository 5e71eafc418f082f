"""Time-ordered identifiers for pins and other records.

A pin id is a 62-bit integer: the creation time in milliseconds since the Unix epoch in the
high 42 bits and a counter that starts at a random value in the low 20 bits. Ordering by id is
therefore ordering by creation time, which lets every backend serve "newest first" and keyset
pagination from one integer column (SQLite's rowid, an FTS5 rowid, a Mongo ``_id``).

Publicly an id is written as 13 characters of lowercase Crockford base-32, fixed width, so
that string order equals numeric order.
"""

from __future__ import annotations

import secrets
import threading
import time
from datetime import UTC, datetime

__all__ = [
    "decode_id",
    "encode_id",
    "id_at",
    "id_time",
    "new_id",
    "new_token",
]

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_WIDTH = 13
_COUNTER_BITS = 20
_TIME_BITS = 42
MAX_ID = (1 << (_TIME_BITS + _COUNTER_BITS)) - 1

_lock = threading.Lock()
_last = 0


# Ids are encoded and decoded on every row of every page, so both go through tables rather
# than a loop per character: 15 bits (three characters) at a time one way (a 32,768-entry
# table, about 2 MB), and Python's own base-32 parser (after mapping our alphabet onto its
# digits) the other.
_PAIRS = [first + second for first in _ALPHABET for second in _ALPHABET]
_TRIPLES = tuple(first + pair for first in _ALPHABET for pair in _PAIRS)
del _PAIRS
_TO_PYTHON_DIGITS = str.maketrans(
    _ALPHABET + _ALPHABET.upper(), "0123456789abcdefghijklmnopqrstuv" * 2
)
_ID_CHARS = frozenset(_ALPHABET + _ALPHABET.upper())


def encode_id(value: int) -> str:
    """Write an integer id as its fixed-width public string."""
    if not 0 <= value <= MAX_ID:
        raise ValueError(f"id out of range: {value}")
    triples = _TRIPLES
    return (
        f"{_ALPHABET[value >> 60]}{triples[(value >> 45) & 32767]}"
        f"{triples[(value >> 30) & 32767]}{triples[(value >> 15) & 32767]}"
        f"{triples[value & 32767]}"
    )


def decode_id(text: str) -> int | None:
    """Read a public id string (either case); ``None`` when it is not a well-formed id."""
    if not isinstance(text, str) or len(text) != _WIDTH or not _ID_CHARS.issuperset(text):
        return None
    value = int(text.translate(_TO_PYTHON_DIGITS), 32)
    return value if value <= MAX_ID else None


def id_at(when: datetime, *, low: bool = True) -> int:
    """The smallest (or largest) integer id that can carry the time ``when``.

    Backends use it to turn ``before:``/``after:`` into a range over ids.
    """
    millis = max(0, int(when.timestamp() * 1000))
    base = millis << _COUNTER_BITS
    return base if low else base | ((1 << _COUNTER_BITS) - 1)


def id_time(value: int) -> datetime:
    """The creation time carried by an integer id (millisecond precision, UTC)."""
    return datetime.fromtimestamp((value >> _COUNTER_BITS) / 1000, tz=UTC)


def new_id(when: datetime | None = None) -> int:
    """A new integer id for a record created at ``when`` (now by default).

    Ids made in one process never repeat and never go backwards: within one millisecond the
    counter is incremented instead of drawing a new random value.
    """
    global _last
    millis = int((when.timestamp() if when else time.time()) * 1000)
    candidate = (millis << _COUNTER_BITS) | secrets.randbelow(1 << (_COUNTER_BITS - 1))
    with _lock:
        if when is None and candidate <= _last:
            candidate = _last + 1
        if when is None:
            _last = candidate
    return candidate


def new_token(nbytes: int = 24) -> str:
    """A random URL-safe token with ``nbytes`` of entropy (for users, boards and links)."""
    return secrets.token_urlsafe(nbytes)
