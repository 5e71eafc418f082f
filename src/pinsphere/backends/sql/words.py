"""How PostgreSQL reads a one-word search, chosen from ANALYZE's word frequencies so that a
generic plan can serve it.

A one-word search has two good plans, and which one is better depends on the word: the
matches of a frequent word turn up at once when the pins index is walked newest first, while
a rare word's are best found all together in the GIN index and sorted. Planning the search
for its word every time costs more than running it (about 0.3 ms at a million pins, most of
it for the access rule's share probes); a generic plan, made once, picks one of the two for
every word and reads most of the table for the other kind. So the choice is made here, from
the frequencies ANALYZE keeps for ``pins.search_doc`` (``pg_stats.most_common_elems``), and
each way gets SQL that admits only its own plan (see
:func:`pinsphere.backends.sql.compiler.search_statement`), which a generic plan then serves.

A word missing from that list is rarer than every word on it, so sorting its matches costs
at most what sorting the rarest listed word's would. Until the table has statistics (a new
or never analysed database) searches are planned for their word as before.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pinsphere.backends.sql.engine import Database
from pinsphere.backends.sql.terms import Driver, clean
from pinsphere.errors import PinsphereError
from pinsphere.query import Query, TextTerm

__all__ = ["SORT_MATCHES", "WALK_PINS", "WordFrequencies", "WordPlan", "WordPlans", "way_for"]

_log = logging.getLogger(__name__)

REFRESH_SECONDS = 300.0
"""How long fetched frequencies are used before they are read again (ANALYZE runs after
enough changes, so they drift slowly)."""

# The frequencies of the current schema's pins.search_doc lexemes, and the table's row count.
_STATISTICS_SQL = """
SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs, c.reltuples
FROM pg_catalog.pg_stats s
JOIN pg_catalog.pg_namespace n ON n.nspname = s.schemaname
JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = s.tablename
WHERE s.schemaname = current_schema() AND s.tablename = 'pins' AND s.attname = 'search_doc'
"""


@dataclass(frozen=True, slots=True)
class WordPlan:
    """One way of reading a one-word search.

    Attributes:
        driver: What the search is driven by: ``"text"`` sorts the GIN index's matches,
            ``"order"`` walks the pins index in the search's order.
    """

    driver: Driver


SORT_MATCHES = WordPlan("text")
"""For a rare word: find every match in the GIN index, then sort them."""

WALK_PINS = WordPlan("order")
"""For a frequent word: walk the pins in order until a page of matches turned up."""


@dataclass(frozen=True, slots=True)
class WordFrequencies:
    """What ANALYZE found: the share of rows holding each of the most common words.

    Attributes:
        shares: Word → share of the table's rows (0 to 1) that hold it.
        rows: The table's estimated row count.
    """

    shares: Mapping[str, float]
    rows: float

    @classmethod
    def from_statistics(
        cls, words: list[str] | None, shares: list[float] | None, rows: float
    ) -> WordFrequencies | None:
        """Frequencies from a ``pg_stats`` row; ``None`` when it holds none.

        ``most_common_elem_freqs`` lists one share per word, then the smallest and largest
        share and the share of empty values.
        """
        if not words or not shares or len(shares) < len(words) or rows <= 0:
            return None
        listed = dict(zip(words, shares[: len(words)], strict=True))
        return cls(shares=listed, rows=float(rows))


SORTED_MATCH_COST = 5.0
"""What a match read through the GIN index and sorted costs, in pins walked in index order
(measured at a million pins: about 1.5 µs against 0.3 µs)."""


def way_for(share: float, rows: float, limit: int) -> WordPlan:
    """The cheaper way to read ``limit`` pins holding a word found in ``share`` of ``rows``.

    Walking the pins reads about ``limit / share`` rows; sorting the matches reads
    ``share * rows`` of them at :data:`SORTED_MATCH_COST` each. The two cost the same at
    ``share = sqrt(limit / (SORTED_MATCH_COST * rows))``.
    """
    return WALK_PINS if share >= math.sqrt(limit / (SORTED_MATCH_COST * rows)) else SORT_MATCHES


def single_word(query: Query) -> str | None:
    """The word of a search made of one positive word and nothing else."""
    if len(query.terms) != 1:
        return None
    term = query.terms[0]
    if not isinstance(term, TextTerm) or term.negated or len(term.words) != 1:
        return None
    return term.words[0] if clean(term) else None


class WordPlans:
    """Chooses the way of one-word searches on one PostgreSQL database.

    The frequencies are read on first use and again every :data:`REFRESH_SECONDS`, by one
    caller at a time while the others go on with the ones they have.

    Args:
        database: The database whose ``pins`` table is searched.
        clock: Seconds on a monotonic clock (tests pass their own).
    """

    def __init__(self, database: Database, *, clock: Callable[[], float] = time.monotonic):
        self._database = database
        self._clock = clock
        self._frequencies: WordFrequencies | None = None
        self._due = -math.inf
        self._refreshing = threading.Lock()

    def choose(self, query: Query, limit: int) -> WordPlan | None:
        """The way to read this search; ``None`` when it is not one word or the database has
        no statistics yet (the search is then planned for its values)."""
        word = single_word(query)
        if word is None:
            return None
        frequencies = self.frequencies()
        if frequencies is None:
            return None
        share = frequencies.shares.get(word)
        if share is None:
            return SORT_MATCHES  # rarer than every listed word
        return way_for(share, frequencies.rows, limit)

    def frequencies(self) -> WordFrequencies | None:
        """The current frequencies, read again when they are due."""
        if self._clock() >= self._due and self._refreshing.acquire(blocking=False):
            try:
                self._frequencies = self._read()
            except PinsphereError:
                # Searches go on, planned for their words; the next refresh tries again.
                _log.warning("cannot read word frequencies from pg_stats", exc_info=True)
                self._frequencies = None
            finally:
                self._due = self._clock() + REFRESH_SECONDS
                self._refreshing.release()
        return self._frequencies

    def forget(self) -> None:
        """Read the frequencies again on next use (after an ANALYZE, say)."""
        self._due = -math.inf

    def _read(self) -> WordFrequencies | None:
        with self._database.reader() as reader:
            found: list[tuple[Any, ...]] = reader.rows(_STATISTICS_SQL, ())
        if not found:
            return None
        words, shares, rows = found[0]
        return WordFrequencies.from_statistics(words, shares, rows)
