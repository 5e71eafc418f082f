"""Choosing the index a search walks: the rarest of its positive tags (or its words).

Tag sizes come from the ``tag_sizes`` table (:mod:`pinsphere.backends.sql.sizes`), one
primary-key lookup for all the query's tags. SQLite's full-text index has no such table, so
when words compete with tags their matches are counted, stopping at the rarest tag's size.
"""

from __future__ import annotations

from typing import Any, Protocol

from pinsphere.backends.sql.terms import Dialect, Driver, fts_expression, positive_text
from pinsphere.query import Query, TagTerm

__all__ = ["Reader", "candidate_drivers", "choose_driver", "stable_plan"]

# Counting full-text matches stops here: enough to tell rare words from frequent ones.
_TEXT_CAP = 1000


class Reader(Protocol):
    """Runs one read statement on the driver level (see :meth:`Database.reader`)."""

    placeholder: str

    def rows(self, sql: str, parameters: Any) -> list[tuple[Any, ...]]:
        """All rows of the statement."""
        ...


def candidate_drivers(query: Query, dialect: Dialect) -> list[Driver]:
    """The indexes a search could be driven from (empty: walk ``pins``)."""
    drivers: list[Driver] = [
        index
        for index, term in enumerate(query.terms)
        if isinstance(term, TagTerm) and not term.negated
    ]
    if dialect == "sqlite" and positive_text(query):
        drivers.append("text")
    return drivers


def choose_driver(reader: Reader, query: Query, dialect: Dialect) -> Driver:
    """The rarest index to walk; the first of equals, so a query's own order breaks ties."""
    candidates = candidate_drivers(query, dialect)
    if len(candidates) < 2:
        return candidates[0] if candidates else None
    positions = [c for c in candidates if isinstance(c, int)]
    tags = sorted({query.terms[p].tag for p in positions})  # type: ignore[union-attr]
    best: Driver = None
    best_size = -1
    if tags:
        marks = ", ".join([reader.placeholder] * len(tags))
        sql = f"SELECT tag, pins FROM tag_sizes WHERE tag IN ({marks})"  # noqa: S608 - placeholders only
        sizes = {str(tag): int(pins) for tag, pins in reader.rows(sql, tuple(tags))}
        for position in positions:
            size = sizes.get(query.terms[position].tag, 0)  # type: ignore[union-attr]
            if best is None or size < best_size:
                best, best_size = position, size
    if "text" in candidates and (best is None or best_size > 0):
        expression = fts_expression(positive_text(query))
        if expression is None:
            return "text"  # a word no pin can hold: the search matches nothing at once
        cap = _TEXT_CAP if best is None else min(best_size, _TEXT_CAP)
        mark = reader.placeholder
        sql = f"SELECT count(*) FROM (SELECT 1 FROM pins_fts WHERE search_doc MATCH {mark} LIMIT {mark})"  # noqa: S608, E501 - placeholders only
        matches = int(reader.rows(sql, (expression, cap))[0][0])
        if best is None or matches < cap:
            return "text"
    return best


def stable_plan(query: Query) -> bool:
    """Whether a search has one best plan whatever its values: it is driven by a tag and
    has no other kind of term.

    Such a search walks ``pin_tags(tag, pin_id)`` in id order for any tag, frequent or rare,
    and probes the other tags by primary key, so a generic plan serves every tag (see
    :meth:`pinsphere.backends.sql.engine.Database.reader`). Words, dates, sizes, owners and
    the rest filter by how selective their values are, and are planned for those values
    (on PostgreSQL a search of one word alone is the exception: :mod:`.words` chooses its
    way before the SQL is written).
    """
    return (
        bool(query.terms)
        and all(isinstance(term, TagTerm) for term in query.terms)
        and any(not term.negated for term in query.terms)
    )
