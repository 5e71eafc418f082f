"""Where originals live in the blob store: their content address and its folder fan-out.

An original's key is its sha256 under ``originals/``, inside folders named after the first
hex pairs of the digest, so that no folder holds too many files. Stores made now use one
level, ``originals/ab/<sha256>`` (256 folders, as git's ``objects/``), which a fresh store
makes in advance; stores written before use two, ``originals/ab/cd/<sha256>``, and keep
them. Each store records its layout in a marker blob (:mod:`pinsphere.layout_marker`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import product

from pinsphere.errors import InvalidInput

__all__ = [
    "LAYOUTS",
    "NEW_STORE_LAYOUT",
    "ONE_LEVEL",
    "ORIGINALS_PREFIX",
    "TWO_LEVELS",
    "OriginalsLayout",
]

ORIGINALS_PREFIX = "originals/"
"""Where originals live in the blob store, whatever their layout."""

_HEX = "0123456789abcdef"
_PAIRS = tuple(a + b for a, b in product(_HEX, repeat=2))


@dataclass(frozen=True)
class OriginalsLayout:
    """How originals' keys are spread over folders.

    Attributes:
        levels: How many folders, each named after the next hex pair of the digest, lie
            between ``originals/`` and the file (1: ``originals/ab/<sha256>``).
    """

    levels: int

    def __post_init__(self) -> None:
        # Every level takes two of the digest's 64 hex digits.
        if not isinstance(self.levels, int) or not 1 <= self.levels <= 32:
            raise InvalidInput(f"a layout has 1 to 32 folder levels, not {self.levels!r}")

    def key(self, sha256: str) -> str:
        """The blob key of an original with this digest (lowercase hex)."""
        folders = "".join(f"{sha256[2 * level : 2 * level + 2]}/" for level in range(self.levels))
        return f"{ORIGINALS_PREFIX}{folders}{sha256}"

    def matches(self, key: str) -> bool:
        """Whether ``key`` is where this layout would put the original it names."""
        if not key.startswith(ORIGINALS_PREFIX):
            return False
        sha256 = key.rpartition("/")[2]
        return len(sha256) >= 2 * self.levels and self.key(sha256) == key

    def folders(self) -> Iterator[str]:
        """Every folder originals go in, as key prefixes (``originals/ab/``), in order.

        There are ``256 ** levels`` of them: worth making in advance for one level only.
        """
        for pairs in product(_PAIRS, repeat=self.levels):
            yield f"{ORIGINALS_PREFIX}{'/'.join(pairs)}/"


ONE_LEVEL = OriginalsLayout(levels=1)
"""``originals/ab/<sha256>``: the layout of stores made now."""

TWO_LEVELS = OriginalsLayout(levels=2)
"""``originals/ab/cd/<sha256>``: the layout of stores written before the layout marker."""

NEW_STORE_LAYOUT = ONE_LEVEL
"""What a fresh store uses: with 256 folders made in advance, an upload never makes one."""

LAYOUTS = (ONE_LEVEL, TWO_LEVELS)
"""The layouts this version reads and writes."""
