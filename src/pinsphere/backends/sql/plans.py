"""Compiled search SQL, cached by shape and run on the driver level.

Building and compiling a SQLAlchemy statement costs several times what SQLite needs to
answer a search from the right index, so a search's SQL text is compiled once per shape
(:func:`~pinsphere.backends.sql.terms.search_shape`: the kinds of term, the driver, the form
of the access rule) and reused with that search's values bound as parameters. Only
statements made by this package are cached, and the number of shapes is bounded by the
query language (at most 50 terms of a few kinds), so the cache stays small.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from pinsphere.backends.sql import compiler
from pinsphere.backends.sql.terms import (
    Dialect,
    Driver,
    access_shape,
    access_values,
    search_shape,
    search_values,
)
from pinsphere.policy import AccessRule
from pinsphere.query import Query

__all__ = ["Plan", "Plans", "compile_plan"]

# More shapes than this (a flood of odd queries) empties the cache rather than growing it.
_MAX_SHAPES = 2048
# Searches whose parameters are remembered (each user's recent questions), likewise.
_MAX_ASKED = 4096
_BOUND = re.compile(r"p[0-9]+")


@dataclass(frozen=True, slots=True)
class Plan:
    """A statement's SQL text in the driver's parameter style.

    Attributes:
        sql: The text.
        constants: The values of parameters the statement holds itself (``LIMIT 1`` of a
            probe), never a search's values; by name.
        order: For positional styles, for each placeholder in order of appearance, the index
            of its value in a search's values followed by the constants; ``None`` when the
            driver takes parameters by name.
    """

    sql: str
    constants: dict[str, Any]
    order: tuple[int, ...] | None

    def parameters(self, values: Sequence[Any]) -> Sequence[Any] | Mapping[str, Any]:
        """The values as the driver takes them."""
        if self.order is None:
            named = {f"p{index}": value for index, value in enumerate(values)}
            named.update(self.constants)
            return named
        every = [*values, *self.constants.values()]
        return tuple([every[index] for index in self.order])


def _with_position(
    parameters: Sequence[Any] | Mapping[str, Any], slot: int | str | None, after: int | None
) -> Sequence[Any] | Mapping[str, Any]:
    """Remembered parameters with this search's keyset position in its slot."""
    if slot is None:
        return parameters
    if isinstance(slot, str):
        named = dict(parameters)
        named[slot] = after
        return named
    positional = list(parameters)
    positional[slot] = after
    return tuple(positional)


def compile_plan(statement: sa.Select[Any], dialect: sa.Dialect, value_count: int) -> Plan:
    """Compile a statement whose values are parameters named ``p0``, ``p1``, … once.

    Args:
        statement: The statement.
        dialect: The engine's dialect (so the driver's parameter style is used).
        value_count: How many ``pN`` parameters it has.
    """
    compiled = statement.compile(dialect=dialect)
    # The values' names are p0, p1, …; any other parameter is one the statement holds.
    constants = {
        name: value for name, value in compiled.params.items() if not _BOUND.fullmatch(name)
    }
    order: tuple[int, ...] | None = None
    if compiled.positional:
        slots = {f"p{index}": index for index in range(value_count)}
        slots.update({name: value_count + at for at, name in enumerate(constants)})
        order = tuple(slots[name] for name in compiled.positiontup or ())
    return Plan(compiled.string, constants, order)


class Plans:
    """The compiled searches and counts of one database."""

    def __init__(self, dialect: sa.Dialect) -> None:
        """Compile for ``dialect`` (the engine's, so the driver's parameter style is used)."""
        self._dialect = dialect
        self._name: Dialect = "sqlite" if dialect.name == "sqlite" else "postgresql"
        self._cache: dict[Hashable, Plan] = {}
        self._asked: dict[Hashable, tuple[str, Sequence[Any] | Mapping[str, Any], int | str | None]]
        self._asked = {}
        self._lock = threading.Lock()

    def search(
        self,
        query: Query,
        access: AccessRule,
        driver: Driver,
        *,
        limit: int,
        after: int | None,
        probe: bool = False,
    ) -> tuple[str, Sequence[Any] | Mapping[str, Any]]:
        """The SQL of a page of pins (with ``probe``, of its ids and revisions) and its
        parameters.

        The parameters of a search asked again (the next page, another visitor of the same
        tag page) are remembered apart from its keyset position, which is patched in.
        """
        asked = (query, access, driver, after is not None, limit, probe)
        known = self._asked.get(asked)
        if known is not None:
            return known[0], _with_position(known[1], known[2], after)
        values = search_values(query, access, self._name, driver, after=after, limit=limit)
        kind = "probe" if probe else "search"
        key = search_shape(query, access, driver, paged=after is not None, kind=kind)
        plan = self._cache.get(key)
        if plan is None:
            binder = compiler.Binder()
            statement = compiler.search_statement(
                query, access, self._name, driver, binder, limit=limit, after=after, probe=probe
            )
            plan = self._remember(key, statement, binder, values)
        parameters = plan.parameters(values)
        slot: int | str | None = None
        if after is not None:
            # The position is the value bound just before the limit (see search_values).
            index = len(values) - len(access_values(access, "board")) - 2
            slot = f"p{index}" if plan.order is None else plan.order.index(index)
        with self._lock:
            if len(self._asked) >= _MAX_ASKED:
                self._asked.clear()
            self._asked[asked] = (plan.sql, parameters, slot)
        return plan.sql, parameters

    def pin(self, access: AccessRule, key: int) -> tuple[str, Sequence[Any] | Mapping[str, Any]]:
        """The SQL reading one visible pin (with its visible boards' names) and its parameters."""
        values = [key, *access_values(access, "pin"), *access_values(access, "board")]
        shape = ("pin", access_shape(access))
        plan = self._cache.get(shape)
        if plan is None:
            binder = compiler.Binder()
            statement = compiler.pin_statement(access, self._name, binder, key)
            plan = self._remember(shape, statement, binder, values)
        return plan.sql, plan.parameters(values)

    def pins_by_key(self, keys: Sequence[int]) -> tuple[str, Sequence[Any] | Mapping[str, Any]]:
        """The SQL reading the rows of the pins with these keys, and its parameters."""
        shape = ("pins_by_key", len(keys))
        plan = self._cache.get(shape)
        values = list(keys)
        if plan is None:
            binder = compiler.Binder()
            statement = compiler.pins_by_key_statement(binder, keys)
            plan = self._remember(shape, statement, binder, values)
        return plan.sql, plan.parameters(values)

    def count(
        self, query: Query, access: AccessRule, driver: Driver
    ) -> tuple[str, Sequence[Any] | Mapping[str, Any]]:
        """The SQL counting a search's visible pins and its parameters."""
        values = search_values(query, access, self._name, driver, after=None, limit=None)
        key = search_shape(query, access, driver, paged=False, kind="count")
        plan = self._cache.get(key)
        if plan is None:
            binder = compiler.Binder()
            statement = compiler.count_statement(query, access, self._name, driver, binder)
            plan = self._remember(key, statement, binder, values)
        return plan.sql, plan.parameters(values)

    def _remember(
        self, key: Hashable, statement: sa.Select[Any], binder: compiler.Binder, values: list[Any]
    ) -> Plan:
        if binder.values != values:
            # The light listing of values and the compiler disagree: a bug, never data.
            raise RuntimeError(
                f"search values out of step with the compiler: {binder.values!r} != {values!r}"
            )
        plan = compile_plan(statement, self._dialect, len(values))
        with self._lock:
            if len(self._cache) >= _MAX_SHAPES:
                self._cache.clear()
            self._cache[key] = plan
        return plan
