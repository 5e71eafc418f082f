"""Pins a process built from search rows, kept with the revision of the row they came from.

On SQLite the best hand-written tag query answers in about 35 µs, and turning its twenty
rows into :class:`~pinsphere.models.Pin` models costs as much again; reading the twenty-odd
columns of each row is most of the rest. A service asks the same pages over and over (the
newest pins of a popular tag, a board, the front page), so this module keeps the pins it
built, and a search that expects to find most of its page here asks the database only for
the page's ids, revisions and board names (a *probe*), then reads the rows of the pins it
does not hold.

Nothing here can serve a stale pin. ``pins.revision`` is drawn anew by every write of a
row, in any process (a trigger covers writes that forget), and a kept pin is used only
when the revision read *in the same statement that checked the caller's access* is the one
it was built from. Access is never cached: it is decided by that statement each time, and
the board names a pin shows (which depend on the caller) come from it too.

The search decides per call whether to probe from the recent share of pins it found here:
a probe saves reading whole rows, but costs a second statement when pins are missing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from itertools import islice

from pinsphere.models import Pin

__all__ = ["DEFAULT_PIN_CACHE_SIZE", "UNKNOWN_REVISION", "PinCache"]

UNKNOWN_REVISION = 0
"""The column's default: what a row inserted without a revision holds until the insert
trigger draws one. A pin built from it is never kept."""

DEFAULT_PIN_CACHE_SIZE = 4096
"""Pins kept per metadata backend unless the URL says otherwise (``?pin_cache_size=N``):
about 2.5 KB each, so some 10 MB per process at this size."""

# Probe when at least this share of recent pages' pins was found current. Measured on
# SQLite: a probe with every pin held costs about 40 % of a full read; each missing pin
# adds its row read and a second statement, so below about half held the full read wins.
_PROBE_ABOVE = 0.75
# Weight of the newest page in the running share (about the last ten searches count).
_NEWEST = 0.2
# When full, the oldest quarter is dropped at once, so eviction is rare and cheap.
_DROP_SHARE = 4


class PinCache:
    """Built pins by key, each with the revision of the row it was built from.

    Lookups are plain dictionary reads (atomic in CPython); insertions and evictions take a
    lock. Pins are frozen models, so one instance can be handed to any number of callers.

    Args:
        capacity: Pins kept at most; 0 keeps none (every search reads whole rows).
    """

    __slots__ = ("_capacity", "_held", "_lock", "found_share")

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._held: dict[int, tuple[int, Pin]] = {}
        self._lock = threading.Lock()
        self.found_share = 0.0
        """The running share of searched pins that were held and current."""

    @property
    def enabled(self) -> bool:
        """Whether pins are kept at all."""
        return self._capacity > 0

    @property
    def worth_probing(self) -> bool:
        """Whether the next search should read ids and revisions first."""
        return self.found_share >= _PROBE_ABOVE

    def get(self, key: int, revision: int) -> Pin | None:
        """The pin kept for ``key`` if it was built from this revision of its row."""
        held = self._held.get(key)
        if held is None or held[0] != revision:
            return None
        return held[1]

    def put_many(self, built: Iterable[tuple[int, int, Pin]]) -> None:
        """Keep pins, each with its key and the revision it was built from (one lock)."""
        if not self._capacity:
            return
        with self._lock:
            held = self._held
            for key, revision, pin in built:
                if revision == UNKNOWN_REVISION:
                    continue  # a row written without a revision: nothing tells its writes apart
                if len(held) >= self._capacity and key not in held:
                    # Insertion order: the first keys are the oldest kept.
                    for old in list(islice(held, max(1, self._capacity // _DROP_SHARE))):
                        del held[old]
                held[key] = (revision, pin)

    def forget(self, key: int) -> None:
        """Drop the pin kept for ``key`` (it was changed or deleted here)."""
        with self._lock:
            self._held.pop(key, None)

    def clear(self) -> None:
        """Drop every kept pin and start counting what searches find afresh."""
        with self._lock:
            self._held.clear()
            self.found_share = 0.0

    def count_found(self, found: int, searched: int) -> None:
        """Record that a search found ``found`` of its ``searched`` pins held and current."""
        if searched:
            share = self.found_share
            self.found_share = share + _NEWEST * (found / searched - share)

    def __len__(self) -> int:
        return len(self._held)
