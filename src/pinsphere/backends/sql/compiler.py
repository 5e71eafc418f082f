"""Queries and the access rule, compiled into SQLAlchemy Core statements.

Every value a user typed reaches the database as a bound parameter, named by a
:class:`Binder` in the order :func:`pinsphere.backends.sql.terms.search_values` lists them;
full-text queries are bound as one parameter holding an FTS5 expression or a ``tsquery``
literal whose words are quoted, so no word can become query syntax. The statements built
here are compiled once per shape and cached (:mod:`pinsphere.backends.sql.plans`).

A search is driven from the most selective index available (the "driver", chosen by
:mod:`pinsphere.backends.sql.drivers`), and every other term is checked per candidate row
while walking it in id order, so that "newest 20" stops after finding 20:

* a positive tag: walk ``pin_tags`` for that exact tag backwards (already time ordered);
* SQLite free text: walk the FTS5 index in rowid (= pin id) order;
* otherwise: walk ``pins`` by id (or the owner index, as the planner sees fit).

Other tags are probed with a correlated ``EXISTS (… LIMIT 1)``: the ``LIMIT`` keeps
PostgreSQL from turning the probe into a hash join that reads every row of a frequent tag.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from pinsphere.backends.sql.rows import PIN_COLUMNS, PROBE_COLUMNS, pin_key
from pinsphere.backends.sql.sharing import (
    ONE,
    board_shared_condition,
    link_condition,
    probe,
    shared_condition,
)
from pinsphere.backends.sql.tables import board_pins, boards, pin_tags, pins, pins_fts
from pinsphere.backends.sql.terms import (
    Dialect,
    Driver,
    board_name_key,
    clean,
    day_start,
    driven_by,
    fts_expression,
    positive_text,
    tsquery_literal,
)
from pinsphere.errors import InvalidInput
from pinsphere.models import TargetKind
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

__all__ = [
    "Bind",
    "Binder",
    "board_name_key",
    "count_statement",
    "pin_statement",
    "pins_by_key_statement",
    "search_statement",
    "visible",
]

# Turns a value into a parameter: an anonymous one holding the value, or a named one (a
# Binder, for statements compiled once and run with values bound later).
Bind = Callable[[Any], sa.BindParameter[Any]]


def _as_is(value: Any) -> sa.BindParameter[Any]:
    # Untyped, so that it takes the type of the column it is compared with.
    return sa.bindparam(None, value, type_=sa.types.NULLTYPE)


@dataclass
class Binder:
    """Names parameters ``p0``, ``p1``, … in the order they are bound, recording the values."""

    values: list[Any] = field(default_factory=list)

    def __call__(self, value: Any, type_: Any = None) -> sa.BindParameter[Any]:
        """A parameter without a value: the statement is compiled, and run with the values."""
        name = f"p{len(self.values)}"
        self.values.append(value)
        return sa.bindparam(name, type_=type_)


def visible(
    access: AccessRule,
    owner_id: sa.ColumnElement[Any],
    visibility: sa.ColumnElement[Any],
    bind: Bind = _as_is,
    *,
    key: sa.ColumnElement[Any],
    kind: TargetKind = "pin",
) -> sa.ColumnElement[bool]:
    """The access rule as a SQL condition over an object's key, owner and visibility columns.

    The one place the rule is compiled, for pins, boards and the tag index alike: owner,
    visibility, shares (primary-key probes of ``pin_shares``/``board_shares``, and for pins
    of the shares of their owner's boards), or the public link being followed. Values are
    bound in the order :func:`pinsphere.backends.sql.terms.access_values` lists them.

    Args:
        access: Who is asking.
        owner_id: The object's owner column.
        visibility: The object's visibility column.
        bind: Turns values into parameters.
        key: The object's key column (the integer pin key, or the board id).
        kind: ``pin`` or ``board``.
    """
    if access.everything:
        return sa.true()
    if access.link_kind is not None and access.link_id is not None:
        if kind == "board":
            if access.link_kind != "board":
                return sa.false()
            return key == bind(access.link_id)
        target = pin_key(access.link_id) if access.link_kind == "pin" else access.link_id
        return link_condition(access.link_kind, bind(target), key, owner_id)
    allowed: list[sa.ColumnElement[bool]] = []
    if access.owner_id is not None:
        allowed.append(owner_id == bind(access.owner_id))
    if access.visibilities:
        allowed.append(visibility.in_([bind(v) for v in sorted(access.visibilities)]))
    if access.shares and access.owner_id is not None:
        grantee = bind(access.owner_id)
        if kind == "pin":
            allowed.append(shared_condition(grantee, key, owner_id))
        else:
            allowed.append(board_shared_condition(grantee, key))
    if not allowed:
        return sa.false()
    return sa.or_(*allowed)


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


def _board_names(access: AccessRule, dialect: Dialect, bind: Bind) -> sa.ColumnElement[Any]:
    """Per returned pin, the names of the visible boards it is on (evaluated per row).

    SQLite gives the names separated by newlines, PostgreSQL an array; NULL when the pin is
    on no board the caller can see. Most pins are on none, so a probe of the
    ``(pin_id, board_id)`` index comes first and the aggregate runs only for the others.
    """
    aggregate = (
        sa.func.array_agg(boards.c.name)
        if dialect == "postgresql"
        # Board names hold no control characters, so a newline separates them safely (and
        # splitting is far cheaper than a JSON array's parsing).
        else sa.func.group_concat(boards.c.name, sa.literal_column("char(10)"))
    )
    names = (
        sa.select(aggregate)
        .select_from(board_pins.join(boards, boards.c.id == board_pins.c.board_id))
        .where(
            board_pins.c.pin_id == pins.c.id,
            visible(
                access, boards.c.owner_id, boards.c.visibility, bind, key=boards.c.id, kind="board"
            ),
        )
        .scalar_subquery()
    )
    # A probe, not EXISTS: PostgreSQL turns that EXISTS into a hashed subplan reading every
    # row of board_pins on every search.
    on_a_board = probe(sa.select(ONE).where(board_pins.c.pin_id == pins.c.id))
    return sa.case((on_a_board, names)).label("board_names")


def search_statement(
    query: Query,
    access: AccessRule,
    dialect: Dialect,
    driver: Driver,
    binder: Binder,
    *,
    limit: int,
    after: int | None,
    probe: bool = False,
) -> sa.Select[Any]:
    """The page of pins: columns :data:`~pinsphere.backends.sql.rows.PIN_COLUMNS`, then the
    names of the pin's visible boards.

    With ``probe``, the page's ids and revisions instead of the whole rows (then the board
    names): enough to tell which pins a caller holds already (see
    :mod:`pinsphere.backends.sql.pin_cache`).

    The keyset position (if any) and the limit are bound after the terms, in that order.
    """
    columns = PROBE_COLUMNS if probe else PIN_COLUMNS
    source, from_, conditions = _compile(query, access, dialect, driver, binder)
    if after is not None:
        position = binder(after, source.key.type)
        conditions.append(
            source.key < position if query.order == "newest" else source.key > position
        )
    page_size = binder(limit, sa.Integer())
    sort_key: sa.ColumnElement[int] = source.key
    if dialect == "postgresql" and driver == "text":
        # Sort the full-text index's matches instead of walking the pins index in id order
        # until enough of them turn up: an expression no index provides leaves the planner,
        # generic plans included, that one way (see pinsphere.backends.sql.words).
        sort_key = source.key + sa.literal_column("0")
    order = sort_key.desc() if query.order == "newest" else sort_key.asc()
    if dialect == "postgresql" and isinstance(driver, int) and not source.needs_pins:
        # Find the page's ids in the tag index alone, then fetch those rows: otherwise the
        # planner may merge-join against the whole pins index, newest first, to reach a tag
        # whose pins are all old.
        page = sa.select(source.key).select_from(from_).where(*conditions)
        page = page.order_by(order).limit(page_size)
        pin_order = pins.c.id.desc() if query.order == "newest" else pins.c.id.asc()
        names = _board_names(access, dialect, binder)
        return sa.select(*columns, names).where(pins.c.id.in_(page)).order_by(pin_order)
    if from_ is not pins:
        from_ = from_.join(pins, pins.c.id == source.key)
    names = _board_names(access, dialect, binder)
    return (
        sa.select(*columns, names)
        .select_from(from_)
        .where(*conditions)
        .order_by(order)
        .limit(page_size)
    )


def pins_by_key_statement(binder: Binder, keys: Sequence[int]) -> sa.Select[Any]:
    """The rows (:data:`~pinsphere.backends.sql.rows.PIN_COLUMNS`) of the pins with these
    keys, any order: a probed page's pins that a caller does not hold yet."""
    bound = [binder(key, pins.c.id.type) for key in keys]
    return sa.select(*PIN_COLUMNS).where(pins.c.id.in_(bound))


def pin_statement(access: AccessRule, dialect: Dialect, binder: Binder, key: int) -> sa.Select[Any]:
    """One visible pin by its key, as :func:`search_statement` returns pins.

    Values are bound in the order: the key, the access rule for pins, the access rule for
    the boards whose names are listed.
    """
    conditions = [pins.c.id == binder(key, pins.c.id.type)]
    if not access.everything:
        conditions.append(
            visible(access, pins.c.owner_id, pins.c.visibility, binder, key=pins.c.id)
        )
    return sa.select(*PIN_COLUMNS, _board_names(access, dialect, binder)).where(*conditions)


def count_statement(
    query: Query, access: AccessRule, dialect: Dialect, driver: Driver, binder: Binder
) -> sa.Select[int]:
    """How many visible pins match (joining ``pins`` only when a check needs its columns)."""
    source, from_, conditions = _compile(query, access, dialect, driver, binder)
    if from_ is not pins and source.needs_pins:
        from_ = from_.join(pins, pins.c.id == source.key)
    return sa.select(sa.func.count()).select_from(from_).where(*conditions)


def _compile(
    query: Query, access: AccessRule, dialect: Dialect, driver: Driver, bind: Bind
) -> tuple[_Source, sa.FromClause, list[sa.ColumnElement[bool]]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if isinstance(driver, int):
        term = query.terms[driver]
        if not isinstance(term, TagTerm) or term.negated:
            raise InvalidInput(f"a search cannot be driven by {term!r}")
        source = _Source(pin_tags.c.pin_id, pin_tags.c.owner_id, pin_tags.c.visibility)
        from_: sa.FromClause = pin_tags
        conditions.append(pin_tags.c.tag == bind(term.tag))
    elif driver == "text" and dialect == "sqlite":
        source = _Source(pins_fts.c.rowid, pins.c.owner_id, pins.c.visibility, needs_pins=True)
        from_ = pins_fts
        expression = fts_expression(positive_text(query))
        if expression is None:
            conditions.append(sa.false())
        else:
            conditions.append(pins_fts.c.search_doc.bool_op("MATCH")(bind(expression)))
    else:
        source = _Source(pins.c.id, pins.c.owner_id, pins.c.visibility, needs_pins=True)
        from_ = pins
    if not access.everything:
        conditions.append(visible(access, source.owner_id, source.visibility, bind, key=source.key))
    for index, term in enumerate(query.terms):
        if driven_by(index, term, driver, dialect):
            continue
        condition = _term(term, access, dialect, source, bind)
        if driver == "order" and isinstance(term, TextTerm) and not term.negated:
            # No index serves "(…) IS TRUE", so every plan of this text, a generic one too,
            # walks the pins index in order instead of reading all matches from GIN.
            condition = condition.is_(sa.true())
        conditions.append(condition)
    return source, from_, conditions


def _term(
    term: Term, access: AccessRule, dialect: Dialect, source: _Source, bind: Bind
) -> sa.ColumnElement[bool]:
    """One term as a condition, negation included."""
    matched = _matches(term, access, dialect, source, bind)
    return sa.not_(matched) if term.negated else matched


def _matches(
    term: Term, access: AccessRule, dialect: Dialect, source: _Source, bind: Bind
) -> sa.ColumnElement[bool]:
    if isinstance(term, TagTerm):
        # An alias: the driver may be pin_tags itself, which must not be correlated away.
        other = pin_tags.alias("probe_tags")
        probe = (
            sa.select(sa.literal(1))
            .where(other.c.tag == bind(term.tag), other.c.pin_id == source.key)
            .limit(1)
        )
        if dialect == "postgresql":
            # PostgreSQL drops the LIMIT of an EXISTS and may then hash-join the probe,
            # reading every row of a frequent tag; a scalar subquery stays a per-row probe.
            return probe.scalar_subquery().is_not(None)
        return probe.exists()
    if isinstance(term, TextTerm):
        return _text_matches(term, dialect, source, bind)
    if isinstance(term, BoardTerm):
        name_key = bind(board_name_key(term.name))
        on_board = (
            sa.select(board_pins.c.pin_id)
            .join(boards, boards.c.id == board_pins.c.board_id)
            .where(
                boards.c.name_key == name_key,
                visible(
                    access,
                    boards.c.owner_id,
                    boards.c.visibility,
                    bind,
                    key=boards.c.id,
                    kind="board",
                ),
            )
        )
        return source.key.in_(on_board)
    if isinstance(term, TypeTerm):
        checks: list[sa.ColumnElement[bool]] = []
        if term.media_kind is not None:
            checks.append(source.pins_column("media_kind") == bind(term.media_kind))
        if term.mime_type is not None:
            checks.append(source.pins_column("mime_type") == bind(term.mime_type))
        return sa.and_(sa.true(), *checks)
    if isinstance(term, OwnerTerm):
        if term.user_id is None:
            return sa.false()
        return source.owner_id == bind(term.user_id)
    if isinstance(term, VisibilityTerm):
        return source.visibility == bind(term.visibility)
    if isinstance(term, DateTerm):
        if term.op == "before":
            return source.key < bind(day_start(term.day))
        return source.key >= bind(day_start(term.day + timedelta(days=1)))
    if isinstance(term, DimensionTerm):
        column = source.pins_column(term.field)
        value = bind(term.value)
        compared = {
            "<": column < value,
            "<=": column <= value,
            "=": column == value,
            ">=": column >= value,
            ">": column > value,
        }[term.op]
        # An unknown size never matches, so its negation always does.
        return sa.and_(column.is_not(None), compared)
    raise InvalidInput(f"unsupported search term {term!r}")


def _text_matches(
    term: TextTerm, dialect: Dialect, source: _Source, bind: Bind
) -> sa.ColumnElement[bool]:
    if not clean(term):
        # A word no pin can contain: the oracle's reading is "never matches".
        return sa.false()
    if dialect == "postgresql":
        query = sa.cast(bind(tsquery_literal(term)), postgresql.TSQUERY)
        return source.pins_column("search_doc").bool_op("@@")(query)
    expression = fts_expression([term])
    fts = pins_fts.alias("probe_fts")
    hits = sa.select(fts.c.rowid).where(fts.c.search_doc.bool_op("MATCH")(bind(expression)))
    if term.negated:
        # Negated: the set of matches is read once, then checked per row.
        return source.key.in_(hits)
    # Positive, not the driver: probe the index for this one row.
    return hits.where(fts.c.rowid == source.key).exists()
