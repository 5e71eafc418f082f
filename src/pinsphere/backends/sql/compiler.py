"""Queries and the access rule, compiled into SQLAlchemy Core statements.

Every value a user typed reaches the database as a bound parameter; full-text queries are
bound as one parameter holding an FTS5 expression or a ``tsquery`` literal whose words are
quoted here, so no word can become query syntax.

A search is driven from the most selective index available (the "driver"), and every other
term is checked per candidate row while walking it in id order, so that "newest 20" stops
after finding 20:

* a positive tag: walk ``pin_tags`` for that exact tag backwards (already time ordered);
* SQLite free text: walk the FTS5 index in rowid (= pin id) order;
* otherwise: walk ``pins`` by id (or the owner index, as the planner sees fit).

When there are several candidates the backend asks for a capped count of each and drives
from the rarest (:func:`probe_count`). Other tags are probed with a correlated
``EXISTS (… LIMIT 1)``: the ``LIMIT`` keeps PostgreSQL from turning the probe into a hash join
that reads every row of a frequent tag.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from pinsphere.backends.sql.rows import PIN_COLUMNS
from pinsphere.backends.sql.tables import board_pins, boards, pin_tags, pins, pins_fts
from pinsphere.errors import InvalidInput
from pinsphere.ids import MAX_ID, id_at
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
    "Driver",
    "board_name_key",
    "candidate_drivers",
    "count_statement",
    "probe_count",
    "search_statement",
    "visible",
]

Dialect = Literal["sqlite", "postgresql"]
# A positive tag term, "text" (SQLite's FTS5 index), or None (the pins table).
Driver = TagTerm | Literal["text"] | None

# PostgreSQL refuses lexemes longer than this; the index leaves such words out.
_MAX_LEXEME_BYTES = 2046


def visible(
    access: AccessRule, owner_id: sa.ColumnElement[Any], visibility: sa.ColumnElement[Any]
) -> sa.ColumnElement[bool]:
    """The access rule as a SQL condition over an object's owner and visibility columns.

    The one place the rule is compiled, for pins, boards and the tag index alike.
    """
    if access.everything:
        return sa.true()
    allowed: list[sa.ColumnElement[bool]] = []
    if access.owner_id is not None:
        allowed.append(owner_id == access.owner_id)
    if access.visibilities:
        allowed.append(visibility.in_(sorted(access.visibilities)))
    if not allowed:
        return sa.false()
    return sa.or_(*allowed)


def board_name_key(name: str) -> str:
    """The case-insensitive key of a board name; a name that cannot exist still gets one."""
    try:
        return board_key(name)
    except InvalidInput:
        return name.casefold()


@dataclass
class _Source:
    """Where the candidate rows come from, and which columns checks should read."""

    key: sa.ColumnElement[int]
    owner_id: sa.ColumnElement[Any]
    visibility: sa.ColumnElement[Any]
    needs_pins: bool = False

    def pins_column(self, name: str) -> sa.ColumnElement[Any]:
        self.needs_pins = True
        return pins.c[name]


def candidate_drivers(query: Query, dialect: Dialect) -> list[Driver]:
    """The indexes a search could be driven from (empty: walk ``pins``)."""
    drivers: list[Driver] = [t for t in query.terms if isinstance(t, TagTerm) and not t.negated]
    if dialect == "sqlite" and any(isinstance(t, TextTerm) and not t.negated for t in query.terms):
        drivers.append("text")
    return drivers


def probe_count(driver: Driver, query: Query, access: AccessRule, cap: int) -> sa.Select[int]:
    """How many rows the driver's index holds for the query, counting at most ``cap``."""
    if isinstance(driver, TagTerm):
        inner = sa.select(sa.literal(1)).where(
            pin_tags.c.tag == driver.tag,
            visible(access, pin_tags.c.owner_id, pin_tags.c.visibility),
        )
    elif driver == "text":
        expression = _fts_expression(_positive_text(query))
        inner = sa.select(sa.literal(1)).select_from(pins_fts)
        inner = inner.where(
            sa.true() if expression is None else pins_fts.c.search_doc.bool_op("MATCH")(expression)
        )
    else:
        inner = sa.select(sa.literal(1)).select_from(pins)
    return sa.select(sa.func.count()).select_from(inner.limit(cap).subquery())


def search_statement(
    query: Query,
    access: AccessRule,
    dialect: Dialect,
    driver: Driver,
    *,
    limit: int,
    after: int | None,
) -> sa.Select[Any]:
    """The page of pins (columns :data:`~pinsphere.backends.sql.rows.PIN_COLUMNS`)."""
    source, from_, conditions = _compile(query, access, dialect, driver)
    if after is not None:
        conditions.append(source.key < after if query.order == "newest" else source.key > after)
    order = source.key.desc() if query.order == "newest" else source.key.asc()
    if dialect == "postgresql" and isinstance(driver, TagTerm) and not source.needs_pins:
        # Find the page's ids in the tag index alone, then fetch those rows: otherwise the
        # planner may merge-join against the whole pins index, newest first, to reach a tag
        # whose pins are all old.
        page = sa.select(source.key).select_from(from_).where(*conditions)
        page = page.order_by(order).limit(limit)
        pin_order = pins.c.id.desc() if query.order == "newest" else pins.c.id.asc()
        return sa.select(*PIN_COLUMNS).where(pins.c.id.in_(page)).order_by(pin_order)
    if driver is not None:
        from_ = from_.join(pins, pins.c.id == source.key)
    return (
        sa.select(*PIN_COLUMNS).select_from(from_).where(*conditions).order_by(order).limit(limit)
    )


def count_statement(
    query: Query, access: AccessRule, dialect: Dialect, driver: Driver
) -> sa.Select[int]:
    """How many visible pins match (joining ``pins`` only when a check needs its columns)."""
    source, from_, conditions = _compile(query, access, dialect, driver)
    if driver is not None and source.needs_pins:
        from_ = from_.join(pins, pins.c.id == source.key)
    return sa.select(sa.func.count()).select_from(from_).where(*conditions)


def _compile(
    query: Query, access: AccessRule, dialect: Dialect, driver: Driver
) -> tuple[_Source, sa.FromClause, list[sa.ColumnElement[bool]]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if isinstance(driver, TagTerm):
        source = _Source(pin_tags.c.pin_id, pin_tags.c.owner_id, pin_tags.c.visibility)
        from_: sa.FromClause = pin_tags
        conditions.append(pin_tags.c.tag == driver.tag)
    elif driver == "text":
        source = _Source(pins_fts.c.rowid, pins.c.owner_id, pins.c.visibility, needs_pins=True)
        from_ = pins_fts
        expression = _fts_expression(_positive_text(query))
        if expression is None:
            conditions.append(sa.false())
        else:
            conditions.append(pins_fts.c.search_doc.bool_op("MATCH")(expression))
    else:
        source = _Source(pins.c.id, pins.c.owner_id, pins.c.visibility, needs_pins=True)
        from_ = pins
    if not access.everything:
        conditions.append(visible(access, source.owner_id, source.visibility))
    for term in query.terms:
        if term is driver or (driver == "text" and isinstance(term, TextTerm) and not term.negated):
            continue
        conditions.append(_term(term, access, dialect, source))
    return source, from_, conditions


def _term(
    term: Term, access: AccessRule, dialect: Dialect, source: _Source
) -> sa.ColumnElement[bool]:
    """One term as a condition, negation included."""
    matched = _matches(term, access, dialect, source)
    return sa.not_(matched) if term.negated else matched


def _matches(
    term: Term, access: AccessRule, dialect: Dialect, source: _Source
) -> sa.ColumnElement[bool]:
    if isinstance(term, TagTerm):
        # An alias: the driver may be pin_tags itself, which must not be correlated away.
        other = pin_tags.alias("probe_tags")
        probe = (
            sa.select(sa.literal(1))
            .where(other.c.tag == term.tag, other.c.pin_id == source.key)
            .limit(1)
        )
        if dialect == "postgresql":
            # PostgreSQL drops the LIMIT of an EXISTS and may then hash-join the probe,
            # reading every row of a frequent tag; a scalar subquery stays a per-row probe.
            return probe.scalar_subquery().is_not(None)
        return probe.exists()
    if isinstance(term, TextTerm):
        return _text_matches(term, dialect, source)
    if isinstance(term, BoardTerm):
        on_board = (
            sa.select(board_pins.c.pin_id)
            .join(boards, boards.c.id == board_pins.c.board_id)
            .where(
                boards.c.name_key == board_name_key(term.name),
                visible(access, boards.c.owner_id, boards.c.visibility),
            )
        )
        return source.key.in_(on_board)
    if isinstance(term, TypeTerm):
        checks: list[sa.ColumnElement[bool]] = []
        if term.media_kind is not None:
            checks.append(source.pins_column("media_kind") == term.media_kind)
        if term.mime_type is not None:
            checks.append(source.pins_column("mime_type") == term.mime_type)
        return sa.and_(sa.true(), *checks)
    if isinstance(term, OwnerTerm):
        if term.user_id is None:
            return sa.false()
        return source.owner_id == term.user_id
    if isinstance(term, VisibilityTerm):
        return source.visibility == term.visibility
    if isinstance(term, DateTerm):
        if term.op == "before":
            return source.key < _day_start(term.day)
        return source.key >= _day_start(term.day + timedelta(days=1))
    if isinstance(term, DimensionTerm):
        column = source.pins_column(term.field)
        compared = {
            "<": column < term.value,
            "<=": column <= term.value,
            "=": column == term.value,
            ">=": column >= term.value,
            ">": column > term.value,
        }[term.op]
        # An unknown size never matches, so its negation always does.
        return sa.and_(column.is_not(None), compared)
    raise InvalidInput(f"unsupported search term {term!r}")


def _day_start(day: date) -> int:
    """The smallest pin id of the UTC day, clamped to the ids that can exist."""
    try:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    except OverflowError:  # pragma: no cover - date arithmetic beyond year 9999
        return MAX_ID + 1
    return min(id_at(start), MAX_ID + 1)


def _clean(term: TextTerm) -> bool:
    """Whether every word is one the index can hold (a word as :func:`words` cuts them)."""
    return all(
        words(word) == [word] and len(word.encode()) <= _MAX_LEXEME_BYTES for word in term.words
    )


def _positive_text(query: Query) -> list[TextTerm]:
    return [t for t in query.terms if isinstance(t, TextTerm) and not t.negated]


def _quote_fts(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _fts_expression(terms: list[TextTerm]) -> str | None:
    """One FTS5 expression for all the terms; ``None`` when one of them cannot match."""
    parts: list[str] = []
    for term in terms:
        if not _clean(term):
            return None
        if term.phrase:
            parts.append(_quote_fts(" ".join(term.words)))
        else:
            parts.extend(_quote_fts(word) for word in term.words)
    return " AND ".join(parts)


def _tsquery_literal(term: TextTerm) -> str:
    joiner = " <-> " if term.phrase else " & "
    return joiner.join("'" + w.replace("\\", "\\\\").replace("'", "''") + "'" for w in term.words)


def _text_matches(term: TextTerm, dialect: Dialect, source: _Source) -> sa.ColumnElement[bool]:
    if not _clean(term):
        # A word no pin can contain: the oracle's reading is "never matches".
        return sa.false()
    if dialect == "postgresql":
        query = sa.cast(sa.literal(_tsquery_literal(term), sa.Text), postgresql.TSQUERY)
        return source.pins_column("search_doc").bool_op("@@")(query)
    expression = _fts_expression([term])
    assert expression is not None
    fts = pins_fts.alias("probe_fts")
    hits = sa.select(fts.c.rowid).where(fts.c.search_doc.bool_op("MATCH")(expression))
    if term.negated:
        # Negated: the set of matches is read once, then checked per row.
        return source.key.in_(hits)
    # Positive, not the driver: probe the index for this one row.
    return hits.where(fts.c.rowid == source.key).exists()
