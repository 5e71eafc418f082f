"""The values a search binds, and the shape that decides its SQL text.

A search's SQL text depends only on its *shape* (which kinds of term, negated or not, which
index drives it, the form of the access rule); the tags, words, dates and ids are bound
parameters. :func:`search_shape` is the key under which the compiled text is cached, and
:func:`search_values` lists the bound values in the order the compiler binds them, without
building any SQL: on a cache hit that is all a search costs above the query itself.

The compiler checks, whenever it compiles a shape, that the values it bound are exactly the
ones :func:`search_values` lists, so the two can never silently disagree.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from pinsphere.errors import InvalidInput
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
    "Dialect",
    "Driver",
    "access_shape",
    "access_values",
    "board_name_key",
    "clean",
    "day_start",
    "driven_by",
    "fts_expression",
    "positive_text",
    "search_shape",
    "search_values",
    "tsquery_literal",
]

Dialect = Literal["sqlite", "postgresql"]
# The index a search walks: the position of a positive tag term in ``query.terms``,
# "text" (the full-text index: on SQLite FTS5 is walked in rowid order; on PostgreSQL the
# GIN index finds every match, which are then sorted), "order" (PostgreSQL: the pins index,
# in the search's order, never the full-text index; see pinsphere.backends.sql.words), or
# None (the pins table, by whatever plan the database prefers).
Driver = int | Literal["text", "order"] | None

# PostgreSQL refuses lexemes longer than this; the index leaves such words out.
_MAX_LEXEME_BYTES = 2046


def board_name_key(name: str) -> str:
    """The case-insensitive key of a board name; a name that cannot exist still gets one."""
    try:
        return board_key(name)
    except InvalidInput:
        return name.casefold()


def day_start(day: date) -> int:
    """The smallest pin id of the UTC day, clamped to the ids that can exist."""
    try:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    except OverflowError:  # pragma: no cover - date arithmetic beyond year 9999
        return MAX_ID + 1
    return min(id_at(start), MAX_ID + 1)


def clean(term: TextTerm) -> bool:
    """Whether every word is one the index can hold (a word as :func:`words` cuts them)."""
    return all(
        words(word) == [word] and len(word.encode()) <= _MAX_LEXEME_BYTES for word in term.words
    )


def positive_text(query: Query) -> list[TextTerm]:
    """The query's text terms that are not negated."""
    return [t for t in query.terms if isinstance(t, TextTerm) and not t.negated]


def _quote_fts(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def fts_expression(terms: list[TextTerm]) -> str | None:
    """One FTS5 expression for all the terms; ``None`` when one of them cannot match.

    Every word is quoted, so no word can become FTS5 query syntax.
    """
    parts: list[str] = []
    for term in terms:
        if not clean(term):
            return None
        if term.phrase:
            parts.append(_quote_fts(" ".join(term.words)))
        else:
            parts.extend(_quote_fts(word) for word in term.words)
    return " AND ".join(parts)


def tsquery_literal(term: TextTerm) -> str:
    """The ``tsquery`` input text of a term, every word a quoted lexeme."""
    joiner = " <-> " if term.phrase else " & "
    return joiner.join("'" + w.replace("\\", "\\\\").replace("'", "''") + "'" for w in term.words)


def driven_by(index: int, term: Term, driver: Driver, dialect: Dialect) -> bool:
    """Whether the driver's own walk already checks this term (so it is not checked again).

    SQLite's full-text driver matches every positive text term in its own table; PostgreSQL
    keeps them as conditions on ``pins`` (its driver changes only how the matches are read).
    """
    if driver == "text":
        return dialect == "sqlite" and isinstance(term, TextTerm) and not term.negated
    return index == driver


def access_shape(access: AccessRule) -> Hashable:
    """What of an access rule decides the SQL text (not who the caller is)."""
    return (
        access.everything,
        access.owner_id is None,
        len(access.visibilities),
        access.shares,
        access.link_kind,
    )


def access_values(access: AccessRule, kind: Literal["pin", "board"] = "pin") -> list[Any]:
    """The values the access rule binds for a pin or a board, in the order
    :func:`pinsphere.backends.sql.compiler.visible` binds them."""
    if access.everything:
        return []
    if access.link_kind is not None and access.link_id is not None:
        if kind == "board":
            return [access.link_id] if access.link_kind == "board" else []
        return [decode_id(access.link_id) if access.link_kind == "pin" else access.link_id]
    found: list[Any] = [] if access.owner_id is None else [access.owner_id]
    found.extend(sorted(access.visibilities))
    if access.shares and access.owner_id is not None:
        found.append(access.owner_id)
    return found


def _term_shape(term: Term) -> Hashable:
    if isinstance(term, TextTerm):
        return ("text", term.negated, clean(term))
    if isinstance(term, TypeTerm):
        return ("type", term.negated, term.media_kind is None, term.mime_type is None)
    if isinstance(term, OwnerTerm):
        return ("owner", term.negated, term.user_id is None)
    if isinstance(term, DateTerm):
        return ("date", term.negated, term.op)
    if isinstance(term, DimensionTerm):
        return ("dimension", term.negated, term.field, term.op)
    return (term.kind, term.negated)


def search_shape(
    query: Query, access: AccessRule, driver: Driver, *, paged: bool, kind: str = "search"
) -> Hashable:
    """The cache key of a search's SQL text.

    Args:
        query: The search.
        access: Who is asking.
        driver: The index the search walks.
        paged: Whether a keyset position is given.
        kind: ``search`` (a page of pins), ``probe`` (a page's ids and revisions) or
            ``count``.
    """
    return (
        kind,
        query.order,
        driver,
        paged,
        access_shape(access),
        tuple(_term_shape(term) for term in query.terms),
    )


def _term_values(term: Term, access: AccessRule, dialect: Dialect) -> list[Any]:
    """The values one term binds, in the compiler's order."""
    if isinstance(term, TagTerm):
        return [term.tag]
    if isinstance(term, TextTerm):
        if not clean(term):
            return []
        if dialect == "postgresql":
            return [tsquery_literal(term)]
        return [fts_expression([term])]
    if isinstance(term, BoardTerm):
        return [board_name_key(term.name), *access_values(access, "board")]
    if isinstance(term, TypeTerm):
        return [v for v in (term.media_kind, term.mime_type) if v is not None]
    if isinstance(term, OwnerTerm):
        return [] if term.user_id is None else [term.user_id]
    if isinstance(term, VisibilityTerm):
        return [term.visibility]
    if isinstance(term, DateTerm):
        return [day_start(term.day if term.op == "before" else term.day + timedelta(days=1))]
    if isinstance(term, DimensionTerm):
        return [term.value]
    raise InvalidInput(f"unsupported search term {term!r}")


def search_values(
    query: Query,
    access: AccessRule,
    dialect: Dialect,
    driver: Driver,
    *,
    after: int | None,
    limit: int | None,
) -> list[Any]:
    """The values a search binds, in the order the compiler binds them.

    Args:
        query: The search.
        access: Who is asking.
        dialect: The database.
        driver: The index the search walks.
        after: The keyset position, if any.
        limit: The page size; ``None`` for a count.
    """
    found: list[Any] = []
    if isinstance(driver, int):
        found.append(query.terms[driver].tag)  # type: ignore[union-attr]
    elif driver == "text" and dialect == "sqlite":
        expression = fts_expression(positive_text(query))
        if expression is not None:
            found.append(expression)
    found.extend(access_values(access))
    for index, term in enumerate(query.terms):
        if driven_by(index, term, driver, dialect):
            continue
        found.extend(_term_values(term, access, dialect))
    if after is not None:
        found.append(after)
    if limit is not None:
        found.append(limit)
        # The names of the visible boards each returned pin is on.
        found.extend(access_values(access, "board"))
    return found
