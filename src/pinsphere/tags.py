"""Tag and board-name normalisation and validation.

Tags are hierarchical: ``animals/cats`` is a child of ``animals``. A tag is stored
normalised (Unicode NFC, case-folded, inner whitespace collapsed, no space around ``/``) so
that ``Animals / Cats`` and ``animals/cats`` are the same tag.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

from pinsphere.errors import InvalidInput

__all__ = [
    "MAX_BOARD_NAME_LENGTH",
    "MAX_TAGS_PER_PIN",
    "MAX_TAG_DEPTH",
    "MAX_TAG_LENGTH",
    "board_key",
    "normalize_board_name",
    "normalize_tag",
    "normalize_tags",
    "tag_ancestors",
]

MAX_TAG_LENGTH = 100
MAX_TAG_DEPTH = 8
MAX_TAGS_PER_PIN = 64
MAX_BOARD_NAME_LENGTH = 100

_SPACE = re.compile(r"\s+")
# Characters that would make a tag ambiguous in the search language or in URLs.
_FORBIDDEN = set('":,\\*?<>|#')


def _check_chars(text: str, what: str) -> None:
    for char in text:
        if char in _FORBIDDEN or unicodedata.category(char)[0] == "C":
            raise InvalidInput(f"{what} may not contain {char!r}")


def normalize_tag(raw: str) -> str:
    """The canonical form of a tag.

    Raises:
        InvalidInput: The tag is empty, too long, too deep, or has forbidden characters.
    """
    if not isinstance(raw, str):
        raise InvalidInput("a tag must be a string")
    if len(raw) > _CACHED_LENGTH:
        # Whitespace collapses, so a long text may still make a valid tag; never keep one.
        return _normalize(raw)
    return _normalize_cached(raw)


def _normalize(raw: str) -> str:
    text = unicodedata.normalize("NFC", raw).casefold()
    segments = [_SPACE.sub(" ", part).strip() for part in text.split("/")]
    if any(not segment for segment in segments):
        raise InvalidInput(f"tag {raw!r} has an empty part")
    tag = "/".join(segments)
    _check_chars(tag, "a tag")
    if tag.startswith("-"):
        raise InvalidInput("a tag may not start with '-'")
    if len(tag) > MAX_TAG_LENGTH:
        raise InvalidInput(f"a tag is at most {MAX_TAG_LENGTH} characters")
    if len(segments) > MAX_TAG_DEPTH:
        raise InvalidInput(f"a tag is at most {MAX_TAG_DEPTH} levels deep")
    return tag


# Tags repeat (a vocabulary follows Zipf's law, and a client sends the same ones with every
# upload), and normalising one means Unicode tables and a regex: keep the frequent ones.
# Invalid tags raise, and lru_cache never keeps a raised call.
_normalize_cached = functools.lru_cache(maxsize=4096)(_normalize)
_CACHED_LENGTH = 2 * MAX_TAG_LENGTH


def normalize_tags(raw: Iterable[str]) -> tuple[str, ...]:
    """Normalise, de-duplicate and sort tags.

    Raises:
        InvalidInput: A tag is invalid, or there are more than :data:`MAX_TAGS_PER_PIN`.
    """
    if isinstance(raw, str):
        raise InvalidInput("tags must be a list of strings, not one string")
    tags = sorted({normalize_tag(tag) for tag in raw})
    if len(tags) > MAX_TAGS_PER_PIN:
        raise InvalidInput(f"a pin has at most {MAX_TAGS_PER_PIN} tags")
    return tuple(tags)


def tag_ancestors(tag: str) -> list[str]:
    """The tag and every ancestor: ``a/b/c`` -> ``["a", "a/b", "a/b/c"]``.

    Backends index these so that ``tag:a`` is one exact lookup, not a prefix scan.
    """
    if "/" not in tag:
        return [tag]  # most tags are flat, and a bulk import expands every pin's tags
    parts = tag.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def normalize_board_name(raw: str) -> str:
    """A board name as stored: NFC, trimmed, inner whitespace collapsed; case is kept.

    Board names are compared case-insensitively (see :func:`board_key`).

    Raises:
        InvalidInput: The name is empty, too long or has control characters.
    """
    if not isinstance(raw, str):
        raise InvalidInput("a board name must be a string")
    name = _SPACE.sub(" ", unicodedata.normalize("NFC", raw)).strip()
    if not name:
        raise InvalidInput("a board name may not be empty")
    if len(name) > MAX_BOARD_NAME_LENGTH:
        raise InvalidInput(f"a board name is at most {MAX_BOARD_NAME_LENGTH} characters")
    for char in name:
        if unicodedata.category(char)[0] == "C":
            raise InvalidInput("a board name may not contain control characters")
    return name


def board_key(name: str) -> str:
    """The case-insensitive key a board name is unique and searched by."""
    return normalize_board_name(name).casefold()
