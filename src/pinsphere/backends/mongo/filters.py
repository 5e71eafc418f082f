"""The access rule and the search language, compiled into MongoDB filters.

Each public read builds one filter that says everything: who may see a pin, every search
term, and the keyset position. MongoDB then sorts by ``_id`` and applies ``limit``, so a
page is exact and nothing is filtered in Python afterwards.

Relations that live in other collections are read first, by small indexed lookups, and
enter the filter as values:

* the caller's shares (``shares`` by ``user_id``) become ``_id $in [pins shared with me]``
  and, per board owner, ``owner_id = owner AND board_ids $in [their boards shared with
  me]`` — a board share covers only its owner's pins on it;
* a board link becomes ``owner_id = board owner AND board_ids = board``;
* ``board:Name`` becomes ``board_ids $in [ids of visible boards with that name]``.

Every value from a query or the caller (tags, words, names, ids) is placed in a value
position under a key written here; phrase words go into a regular expression only after
:func:`re.escape`. No input can become an operator or a field name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pinsphere.backends.mongo.documents import Collections, plain
from pinsphere.errors import BackendUnavailable, InvalidInput
from pinsphere.ids import MAX_ID, decode_id, id_at
from pinsphere.policy import AccessRule
from pinsphere.query import (
    BoardTerm,
    DateTerm,
    DimensionTerm,
    OwnerTerm,
    Query,
    TagTerm,
    Term,
    TextTerm,
    TypeTerm,
    VisibilityTerm,
)
from pinsphere.tags import board_key
from pinsphere.text import words

__all__ = [
    "MAX_SHARED_TARGETS",
    "NOTHING",
    "AccessFilters",
    "all_of",
    "keyset",
    "query_filter",
]

Filter = dict[str, Any]

NOTHING: Filter = {"_id": {"$in": []}}
"""A filter no document matches (its negation matches every document)."""

MAX_SHARED_TARGETS = 50_000
"""The most pins and boards one user may have shared with them and still search.

The shares are part of every filter of that user; past this many the filter would approach
MongoDB's document size limit, and the search fails clearly instead.
"""

_COMPARISONS = {"<": "$lt", "<=": "$lte", "=": "$eq", ">=": "$gte", ">": "$gt"}


def all_of(*filters: Filter) -> Filter:
    """The conjunction of filters, leaving out empty ones (``{}`` matches everything)."""
    kept = [f for f in filters if f]
    if not kept:
        return {}
    return kept[0] if len(kept) == 1 else {"$and": kept}


def _any_of(filters: Sequence[Filter]) -> Filter:
    if not filters:
        return NOTHING
    return filters[0] if len(filters) == 1 else {"$or": list(filters)}


def keyset(after: int | None, newest: bool) -> Filter:
    """Only pins strictly after the position ``after`` in the order."""
    if after is None:
        return {}
    return {"_id": {"$lt" if newest else "$gt": after}}


class AccessFilters:
    """An access rule compiled into filters over pins and boards, for one operation.

    The caller's shares are read at most once, when a filter first needs them.

    Args:
        collections: Where shares and boards are read.
        access: Who is asking.
    """

    def __init__(self, collections: Collections, access: AccessRule) -> None:
        self._collections = collections
        self.access = access
        self._pins: Filter | None = None
        self._boards: Filter | None = None
        self._shared: tuple[list[int], dict[str, list[str]]] | None = None

    def pins(self) -> Filter:
        """The pins the rule allows."""
        if self._pins is None:
            self._pins = self._pin_filter()
        return self._pins

    def boards(self) -> Filter:
        """The boards the rule allows."""
        if self._boards is None:
            self._boards = self._board_filter()
        return self._boards

    def _pin_filter(self) -> Filter:
        access = self.access
        if access.everything:
            return {}
        if access.link_kind is not None:
            return self._link_pins()
        allowed: list[Filter] = []
        if access.owner_id is not None:
            allowed.append({"owner_id": plain(access.owner_id, "a user id")})
        if access.visibilities:
            allowed.append({"visibility": {"$in": sorted(access.visibilities)}})
        if access.shares and access.owner_id is not None:
            pin_keys, boards_by_owner = self._shares()
            if pin_keys:
                allowed.append({"_id": {"$in": pin_keys}})
            allowed.extend(
                {"owner_id": owner, "board_ids": {"$in": board_ids}}
                for owner, board_ids in sorted(boards_by_owner.items())
            )
        return _any_of(allowed)

    def _link_pins(self) -> Filter:
        link_id = self.access.link_id
        if link_id is None:
            return NOTHING
        if self.access.link_kind == "pin":
            key = decode_id(link_id)
            return NOTHING if key is None else {"_id": key}
        board = self._collections.boards.find_one(
            {"_id": plain(link_id, "a board id")}, {"owner_id": 1}
        )
        if board is None:
            return NOTHING
        # A board link shows the pins the board's owner put on it, no one else's.
        return {"owner_id": board["owner_id"], "board_ids": link_id}

    def _board_filter(self) -> Filter:
        access = self.access
        if access.everything:
            return {}
        if access.link_kind is not None:
            if access.link_kind != "board" or access.link_id is None:
                return NOTHING
            return {"_id": plain(access.link_id, "a board id")}
        allowed: list[Filter] = []
        if access.owner_id is not None:
            allowed.append({"owner_id": plain(access.owner_id, "a user id")})
        if access.visibilities:
            allowed.append({"visibility": {"$in": sorted(access.visibilities)}})
        if access.shares and access.owner_id is not None:
            _, boards_by_owner = self._shares()
            shared = sorted(b for ids in boards_by_owner.values() for b in ids)
            if shared:
                allowed.append({"_id": {"$in": shared}})
        return _any_of(allowed)

    def _shares(self) -> tuple[list[int], dict[str, list[str]]]:
        """The caller's shared pins (integer ids), and shared boards by their owner."""
        if self._shared is not None:
            return self._shared
        user_id = plain(self.access.owner_id, "a user id")
        found = list(
            self._collections.shares.find(
                {"user_id": user_id}, {"target_kind": 1, "target_id": 1, "_id": 0}
            ).limit(MAX_SHARED_TARGETS + 1)
        )
        if len(found) > MAX_SHARED_TARGETS:
            raise BackendUnavailable(
                f"more than {MAX_SHARED_TARGETS} pins and boards are shared with this user; "
                "the MongoDB backend cannot search that many shares"
            )
        pin_keys = sorted(
            {
                key
                for doc in found
                if doc["target_kind"] == "pin" and (key := decode_id(doc["target_id"])) is not None
            }
        )
        board_ids = sorted({doc["target_id"] for doc in found if doc["target_kind"] == "board"})
        boards_by_owner: dict[str, list[str]] = {}
        if board_ids:
            for board in self._collections.boards.find(
                {"_id": {"$in": board_ids}}, {"owner_id": 1}
            ).sort("_id", 1):
                boards_by_owner.setdefault(board["owner_id"], []).append(board["_id"])
        self._shared = (pin_keys, boards_by_owner)
        return self._shared


def query_filter(query: Query, access: AccessFilters, collections: Collections) -> Filter:
    """The filter of every term of ``query`` (not the access rule).

    Args:
        query: The search.
        access: The caller's compiled rule (a board term needs the visible boards).
        collections: Where board names are looked up.
    """
    return all_of(*(_term(term, access, collections) for term in query.terms))


def _term(term: Term, access: AccessFilters, collections: Collections) -> Filter:
    matched = _matches(term, access, collections)
    return {"$nor": [matched]} if term.negated else matched


def _matches(term: Term, access: AccessFilters, collections: Collections) -> Filter:
    if isinstance(term, TagTerm):
        return {"tag_paths": plain(term.tag, "a tag")}
    if isinstance(term, TextTerm):
        return _text(term)
    if isinstance(term, BoardTerm):
        return _board(term, access, collections)
    if isinstance(term, TypeTerm):
        checks: list[Filter] = []
        if term.media_kind is not None:
            checks.append({"media.kind": plain(term.media_kind, "a media kind")})
        if term.mime_type is not None:
            checks.append({"media.mime_type": plain(term.mime_type, "a MIME type")})
        return all_of(*checks)
    if isinstance(term, OwnerTerm):
        if term.user_id is None:
            return NOTHING
        return {"owner_id": plain(term.user_id, "a user id")}
    if isinstance(term, VisibilityTerm):
        return {"visibility": plain(term.visibility, "a visibility")}
    if isinstance(term, DateTerm):
        return _date(term)
    if isinstance(term, DimensionTerm):
        if not isinstance(term.value, int):
            raise InvalidInput("a dimension is an integer")
        # Unknown (null) sizes never match; their negation (a $nor) then always does.
        return {f"media.{term.field}": {"$ne": None, _COMPARISONS[term.op]: term.value}}
    raise InvalidInput(f"unsupported search term {term!r}")


def _text(term: TextTerm) -> Filter:
    query_words = [plain(word, "a search word") for word in term.words]
    if not all(words(word) == [word] for word in query_words):
        # Not a word the tokenizer can produce: no pin contains it.
        return NOTHING
    found: Filter = {"words": {"$all": list(dict.fromkeys(query_words))}}
    if not term.phrase or len(query_words) == 1:
        return found
    # The words index finds candidates; the spaced sequence checks they are consecutive.
    phrase = re.escape(f" {' '.join(query_words)} ")
    return {**found, "word_text": {"$regex": phrase}}


def _board(term: BoardTerm, access: AccessFilters, collections: Collections) -> Filter:
    name = plain(term.name, "a board name")
    try:
        key = board_key(name)
    except InvalidInput:
        return NOTHING
    visible = collections.boards.find(all_of({"name_key": key}, access.boards()), {"_id": 1})
    board_ids = sorted(doc["_id"] for doc in visible)
    return {"board_ids": {"$in": board_ids}}


def _day_start(day: date) -> int:
    """The smallest pin id of a UTC day, clamped to the ids that can exist."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return min(id_at(start), MAX_ID + 1)


def _date(term: DateTerm) -> Filter:
    if term.op == "before":
        return {"_id": {"$lt": _day_start(term.day)}}
    try:
        next_day = term.day + timedelta(days=1)
    except OverflowError:
        return NOTHING
    return {"_id": {"$gte": _day_start(next_day)}}
