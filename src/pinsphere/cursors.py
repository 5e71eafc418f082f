"""Opaque keyset cursors for paging through search results.

A cursor records where the previous page ended (the id of its last pin) so that the next page
starts strictly after it, whatever was added or deleted in between. It carries everything it
needs, so any worker can serve the next page without shared state.

The cursor is URL-safe base64 (without padding) of compact JSON::

    {"v": 1, "id": "<last pin id>", "o": "newest", "c": "<check>"}

``c`` is the first 12 bytes of a SHA-256 over the version, the last id, the order, the
canonical text of the query (:func:`pinsphere.search.format_query`) and the viewer's id. A
cursor is accepted only when ``c`` matches the search and the viewer it is used with, so a
cursor from another search or another user is rejected, and so is one with a character
changed by accident.

The check is a plain digest, not a signature: there is no server secret, and none is needed.
Someone who forges a cursor can only choose where their own page starts, because permissions
are compiled into every backend query (see :mod:`pinsphere.policy`); a cursor never grants
access to anything, it only moves the position within results the caller may already see.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import re
from typing import Final

from pinsphere.errors import InvalidQuery
from pinsphere.ids import decode_id
from pinsphere.query import Query
from pinsphere.search import format_query

__all__ = ["CURSOR_VERSION", "MAX_CURSOR_LENGTH", "decode_cursor", "encode_cursor"]

CURSOR_VERSION: Final = 1
"""The payload format written by :func:`encode_cursor`; others are rejected."""

MAX_CURSOR_LENGTH: Final = 512
"""Longer cursors are rejected before any decoding work is done."""

_CHECK_BYTES: Final = 12
_BASE64URL: Final = re.compile(r"[A-Za-z0-9_-]+")
_FIELDS: Final = frozenset({"v", "id", "o", "c"})
# The payload exactly as encode_cursor writes it; anything else goes through the JSON parser.
_COMMON_FORM: Final = re.compile(
    rb'\{"v":([0-9]{1,3}),"id":"([0-9a-z]{13})","o":"(newest|oldest)","c":"([A-Za-z0-9_-]{16})"\}'
)


def encode_cursor(last_id: str, query: Query, viewer_id: str | None) -> str:
    """The cursor for the page after the one ending with pin ``last_id``.

    Args:
        last_id: The id of the last pin on the current page.
        query: The search being paged through.
        viewer_id: The id of the user searching, or ``None`` for anonymous access.

    Returns:
        An opaque, URL-safe string of at most :data:`MAX_CURSOR_LENGTH` characters.

    Raises:
        ValueError: ``last_id`` is not a pin id, or ``query`` cannot be written as search text
            (see :func:`pinsphere.search.format_query`).
    """
    if decode_id(last_id) is None:
        raise ValueError(f"not a pin id: {last_id!r}")
    check = _check(CURSOR_VERSION, last_id, query, viewer_id)
    # The JSON text written directly: every part is plain ASCII that needs no escaping (a
    # pin id, an order name, URL-safe base64), and this runs for every page served.
    raw = f'{{"v":{CURSOR_VERSION},"id":"{last_id}","o":"{query.order}","c":"{check}"}}'
    return base64.urlsafe_b64encode(raw.encode("ascii")).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str, query: Query, viewer_id: str | None) -> str:
    """The last pin id recorded in a cursor made by :func:`encode_cursor`.

    Args:
        cursor: The cursor a previous page returned.
        query: The search it is used with; must be the one it was made for.
        viewer_id: The user searching; must be the one it was made for.

    Returns:
        The id of the pin the next page starts after.

    Raises:
        InvalidQuery: The cursor is malformed, or belongs to another search or viewer
            (``position`` is ``None``).
    """
    payload = _payload(cursor)
    version = payload.get("v")
    last_id = payload.get("id")
    order = payload.get("o")
    check = payload.get("c")
    # ``type(...) is int`` because JSON ``true`` would compare equal to 1.
    if type(version) is not int or version != CURSOR_VERSION:
        raise InvalidQuery("this cursor comes from an incompatible version")
    if not isinstance(last_id, str) or decode_id(last_id) is None:
        raise InvalidQuery("malformed cursor")
    if not isinstance(order, str) or not isinstance(check, str):
        raise InvalidQuery("malformed cursor")
    # A plain comparison is enough: the check is not a secret (see the module docstring).
    if order != query.order or check != _check(version, last_id, query, viewer_id):
        raise InvalidQuery("this cursor belongs to another search")
    return last_id


def _payload(cursor: str) -> dict[str, object]:
    """The JSON object inside a cursor, with exactly the expected fields.

    Raises:
        InvalidQuery: It is not URL-safe base64 of such an object.
    """
    if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidQuery("malformed cursor")
    if not _BASE64URL.fullmatch(cursor):
        raise InvalidQuery("malformed cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        common = _COMMON_FORM.fullmatch(raw)
        if common is not None:
            # What encode_cursor writes, read without a JSON parser.
            version, last_id, order, check = common.groups()
            return {
                "v": int(version),
                "id": last_id.decode("ascii"),
                "o": order.decode("ascii"),
                "c": check.decode("ascii"),
            }
        payload = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError) as exc:
        # UnicodeDecodeError and JSONDecodeError are both ValueErrors.
        raise InvalidQuery("malformed cursor") from exc
    if not isinstance(payload, dict) or payload.keys() != _FIELDS:
        raise InvalidQuery("malformed cursor")
    return payload


@functools.lru_cache(maxsize=1024)
def _material_tail(query: Query, viewer_id: str | None) -> str:
    # Every page of a search binds the same (immutable) query and viewer: write them once.
    return json.dumps([query.order, format_query(query), viewer_id])[1:]


def _check(version: int, last_id: str, query: Query, viewer_id: str | None) -> str:
    """The digest binding a cursor's contents to its search and viewer."""
    # The material is the JSON array [version, last_id, order, query text, viewer]: an array
    # keeps the parts apart unambiguously (no separator can be forged by a username or board
    # name), and ensure_ascii keeps odd strings such as lone surrogates encodable. The id is
    # a checked pin id, so writing it in by hand gives the same text json.dumps would.
    tail = _material_tail(query, viewer_id)
    material = f'[{version}, "{last_id}", {tail}'
    digest = hashlib.sha256(material.encode("ascii")).digest()[:_CHECK_BYTES]
    return base64.urlsafe_b64encode(digest).decode("ascii")
