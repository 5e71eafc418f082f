"""How text is cut into words for free-text search, the same way in every backend.

Backends index :func:`search_words` of a pin and match the words of a
:class:`~pinsphere.query.TextTerm` against them. Doing the cutting here, not in SQLite's or
PostgreSQL's tokenizer, is what makes every backend agree on what matches.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

__all__ = ["normalize_text", "search_words", "words"]

# Letters and digits in any script; underscores and punctuation separate words.
_WORD = re.compile(r"[^\W_]+")


def normalize_text(text: str) -> str:
    """Unicode NFKC, case-folded: the form words are compared in."""
    return unicodedata.normalize("NFKC", text).casefold()


def words(text: str) -> list[str]:
    """The words of ``text`` in order, normalised."""
    return _WORD.findall(normalize_text(text))


def search_words(title: str, description: str, tags: Iterable[str]) -> list[str]:
    """The words a pin is found by: its title's, then its description's, then its tags'.

    A phrase matches when its words are consecutive in this sequence.
    """
    # One pass over the fields joined by a newline, which is no word character and combines
    # with nothing under NFKC, so the words and their order are those of the fields one by
    # one (a bulk import cuts the words of every pin).
    return words("\n".join((title, description, *tags)))
