"""The search language: parse it into a :class:`~pinsphere.query.Query`, and write one back.

A search is a list of terms separated by whitespace; a pin must match every term::

    tag:animals -tag:animals/dogs type:gif board:"My Board" "sleepy cat" width>=1000

Terms:

=============================  ==============================================================
``tag:animals``                the tag or a descendant (normalised like stored tags)
``board:Name``                 on a visible board of that name (case-insensitive)
``type:gif``                   ``image``, ``gif``, ``video``, or an exact MIME type
                               such as ``type:image/png``
``by:alice``                   owned by that user
``visibility:public``          ``private``, ``internal`` or ``public``
``before:2026-01-31``          created before that UTC day (``after:`` for on or after the
                               next day)
``width>=1000``                compare ``width`` or ``height`` with ``<``, ``<=``, ``=``,
                               ``>=`` or ``>``; ``width:1000`` means ``width=1000``
``"sleepy cat"``               a phrase: these words, consecutive
``sleepy``                     a free word, matched against title, description and tags
``order:oldest``               oldest first (``newest`` is the default); not a condition
=============================  ==============================================================

Rules of the grammar, each chosen to keep the language small and unsurprising:

* Any term except ``order:`` may be negated with a leading ``-``: ``-tag:dogs``,
  ``-"hot dog"``. A ``-`` with nothing after it is an error.
* Keys are ASCII letters and case-insensitive (``TAG:x`` is ``tag:x``); so are the values of
  ``type:``, ``visibility:`` and ``order:``.
* A value may be quoted, ``tag:"big cats"``, ``board:"My Board"``. Inside quotes ``\\"`` is
  a quote and ``\\\\`` a backslash; any other backslash is kept as it is. A closing quote must
  be followed by whitespace or the end of the search.
* A quote opens a quoted string only at the start of a term or right after ``key:``; elsewhere
  (``5"``) it is an ordinary character.
* A ``word:value`` whose word is not a known key is free text, not an error, so that pasting
  ``http://example.com`` or ``10:30`` searches for those words. A known key used with the wrong
  operator (``tag>=x``, ``before<2026-01-01``) is an error, because it is almost certainly a
  mistyped condition rather than text.
* A free word is cut into words with :func:`pinsphere.text.words`; one token gives one
  :class:`~pinsphere.query.TextTerm` even when it holds several words (``cat's`` gives
  ``cat`` and ``s``). A token with no words at all (``!!!``, ``""``) is ignored.
* If ``order:`` appears more than once, the last one wins.

Every syntax error is an :class:`~pinsphere.errors.InvalidQuery` whose ``position`` is the
0-based character offset of the problem: the ``-`` of a lone minus, the opening quote of an
unterminated string, the first character of a bad or missing value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Final, get_args

from pinsphere.errors import InvalidInput, InvalidQuery
from pinsphere.models import VISIBILITIES, Visibility
from pinsphere.query import (
    MAX_DIMENSION,
    MAX_TERMS,
    MIME_TYPE_PATTERN,
    BoardTerm,
    Comparison,
    DateTerm,
    DimensionTerm,
    MediaKind,
    Order,
    OwnerTerm,
    Query,
    TagTerm,
    Term,
    TextTerm,
    TypeTerm,
    VisibilityTerm,
)
from pinsphere.tags import normalize_board_name, normalize_tag
from pinsphere.text import words

__all__ = [
    "MAX_DIMENSION",
    "MAX_QUERY_LENGTH",
    "MAX_QUERY_TERMS",
    "format_query",
    "parse_query",
]

MAX_QUERY_LENGTH: Final = 1000
"""The longest search text accepted, in characters."""

MAX_QUERY_TERMS: Final = MAX_TERMS
"""The most conditions one search may have (``order:`` and ignored tokens do not count)."""

# Lookups from lowercased text to the typed literal, so values need no cast.
_ORDERS: Final[dict[str, Order]] = {order: order for order in get_args(Order)}
_MEDIA_KINDS: Final[dict[str, MediaKind]] = {kind: kind for kind in get_args(MediaKind)}
_VISIBILITIES: Final[dict[str, Visibility]] = {name: name for name in VISIBILITIES}

# Keys that take ``key:value``, and the subset that also takes a comparison.
_COLON_KEYS: Final = frozenset(
    {"tag", "board", "type", "by", "visibility", "before", "after", "width", "height", "order"}
)
_COMPARED_KEYS: Final = frozenset({"width", "height"})

# Longest operators first, so ``<=`` is not read as ``<`` followed by a value ``=...``.
_KEY: Final = re.compile(r"([A-Za-z]+)(<=|>=|<|>|=|:)")
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NUMBER: Final = re.compile(r"[0-9]+")
# RFC 6838 "restricted-name" for both halves, lowercase only because values are lowercased.
_MIME: Final = re.compile(MIME_TYPE_PATTERN)


@dataclass(frozen=True)
class _Token:
    """One whitespace-separated term of the search text, not yet interpreted.

    Attributes:
        start: Offset of the term's first character (its ``-`` when negated).
        negated: Whether the term began with ``-``.
        key: The known key, lowercased, or ``None`` for free text and phrases.
        op: The operator after the key (``:``, ``<=``...), or ``None``.
        value: The value (or the free text) with quotes and escapes removed.
        value_start: Offset of the value's first character (its opening quote if quoted).
        quoted: Whether the value was written in quotes.
    """

    start: int
    negated: bool
    key: str | None
    op: str | None
    value: str
    value_start: int
    quoted: bool


def parse_query(text: str, *, order: str | None = None) -> Query:
    """Parse a search into a typed query.

    Args:
        text: The search, in the language described in this module.
        order: ``newest`` or ``oldest``; when given it overrides any ``order:`` in ``text``.

    Returns:
        The query; owner terms carry the username only (the facade resolves user ids).

    Raises:
        InvalidQuery: The text does not parse, is longer than :data:`MAX_QUERY_LENGTH`, has
            more than :data:`MAX_QUERY_TERMS` conditions, or ``order`` is not a known order.
            ``position`` is the offset of the problem in ``text`` (``None`` for ``order``).
    """
    if not isinstance(text, str):
        raise InvalidQuery("a search must be a string")
    if order is not None and (not isinstance(order, str) or order not in _ORDERS):
        raise InvalidQuery(f"order must be 'newest' or 'oldest', not {order!r}")
    if len(text) > MAX_QUERY_LENGTH:
        raise InvalidQuery(
            f"a search is at most {MAX_QUERY_LENGTH} characters", position=MAX_QUERY_LENGTH
        )

    terms: list[Term] = []
    text_order: Order = "newest"
    for token in _tokenize(text):
        if token.key == "order":
            text_order = _order_of(token)
            continue
        term = _term_of(token)
        if term is None:
            continue
        if len(terms) == MAX_QUERY_TERMS:
            raise InvalidQuery(
                f"a search has at most {MAX_QUERY_TERMS} terms", position=token.start
            )
        terms.append(term)

    chosen = text_order if order is None else _ORDERS[order]
    return Query(terms=tuple(terms), order=chosen)


def format_query(query: Query) -> str:
    """The canonical search text of a query.

    For every query :func:`parse_query` can return, ``parse_query(format_query(q)) == q``.
    Terms are written in order, separated by one space; a value is quoted when it is empty or
    holds whitespace, quotes or backslashes; ``order:oldest`` comes last (``order:newest`` is
    the default and is left out).

    Details the language cannot express are dropped: an :class:`~pinsphere.query.OwnerTerm`'s
    ``user_id`` (the facade fills it in again), and a
    :class:`~pinsphere.query.TypeTerm` with both a kind and a MIME type is written with its
    MIME type only. A hand-built query whose text would exceed :data:`MAX_QUERY_LENGTH` or
    hold more than :data:`MAX_QUERY_TERMS` terms is still written, but does not parse back.

    Raises:
        ValueError: A :class:`~pinsphere.query.TypeTerm` names neither a kind nor a MIME type,
            which no search text can say.
    """
    parts = [_format_term(term) for term in query.terms]
    if query.order != "newest":
        parts.append(f"order:{query.order}")
    return " ".join(parts)


def _tokenize(text: str) -> Iterator[_Token]:
    """Cut the search into tokens, resolving quotes, escapes and known keys.

    A generator, so that the caller interprets each token before the next is read and the
    first error in the text is the one reported.

    Raises:
        InvalidQuery: A lone ``-``, an unterminated quote, or text glued to a closing quote.
    """
    length = len(text)
    pos = 0
    while True:
        while pos < length and text[pos].isspace():
            pos += 1
        if pos == length:
            return
        start = pos
        negated = text[pos] == "-"
        if negated:
            pos += 1
            if pos == length or text[pos].isspace():
                raise InvalidQuery("'-' must be followed by a term", position=start)

        key: str | None = None
        op: str | None = None
        match = _KEY.match(text, pos)
        if match is not None and match[1].lower() in _COLON_KEYS:
            key, op = match[1].lower(), match[2]
            if op != ":" and key not in _COMPARED_KEYS:
                raise InvalidQuery(
                    f"{key!r} is written {key}:value, not with {op!r}", position=match.start(2)
                )
            pos = match.end()

        value_start = pos
        quoted = pos < length and text[pos] == '"'
        if quoted:
            value, pos = _read_quoted(text, pos)
            if pos < length and not text[pos].isspace():
                raise InvalidQuery("a closing quote must be followed by a space", position=pos)
        else:
            while pos < length and not text[pos].isspace():
                pos += 1
            value = text[value_start:pos]
        yield _Token(start, negated, key, op, value, value_start, quoted)


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """Read the quoted string opening at ``start``.

    Returns:
        The unescaped content and the offset just past the closing quote.

    Raises:
        InvalidQuery: There is no closing quote.
    """
    chars: list[str] = []
    pos = start + 1
    while pos < len(text):
        char = text[pos]
        if char == "\\" and pos + 1 < len(text) and text[pos + 1] in '"\\':
            chars.append(text[pos + 1])
            pos += 2
        elif char == '"':
            return "".join(chars), pos + 1
        else:
            chars.append(char)
            pos += 1
    raise InvalidQuery("unterminated quote", position=start)


def _order_of(token: _Token) -> Order:
    """The order an ``order:`` token asks for.

    Raises:
        InvalidQuery: The token is negated or names no known order.
    """
    if token.negated:
        raise InvalidQuery("order: cannot be negated", position=token.start)
    order = _ORDERS.get(_require_value(token).lower())
    if order is not None:
        return order
    raise InvalidQuery(
        f"order is 'newest' or 'oldest', not {token.value!r}", position=token.value_start
    )


def _term_of(token: _Token) -> Term | None:
    """The query term a token stands for; ``None`` for free text without any words.

    Raises:
        InvalidQuery: The value is missing or is not valid for its key.
    """
    negated = token.negated
    if token.key is None:
        found = tuple(words(token.value))
        if not found:
            return None
        return TextTerm(words=found, phrase=token.quoted, negated=negated)

    value = _require_value(token)
    if token.key == "tag":
        try:
            tag = normalize_tag(value)
        except InvalidInput as exc:
            raise InvalidQuery(f"invalid tag: {exc}", position=token.value_start) from exc
        return TagTerm(tag=tag, negated=negated)
    if token.key == "board":
        try:
            name = normalize_board_name(value)
        except InvalidInput as exc:
            raise InvalidQuery(f"invalid board name: {exc}", position=token.value_start) from exc
        return BoardTerm(name=name, negated=negated)
    if token.key == "by":
        return OwnerTerm(username=value, negated=negated)
    if token.key == "type":
        return _type_term(token, value)
    if token.key == "visibility":
        visibility = _VISIBILITIES.get(value.lower())
        if visibility is not None:
            return VisibilityTerm(visibility=visibility, negated=negated)
        raise InvalidQuery(
            f"visibility is 'private', 'internal' or 'public', not {value!r}",
            position=token.value_start,
        )
    if token.key == "before":
        return DateTerm(op="before", day=_day(token, value), negated=negated)
    if token.key == "after":
        return DateTerm(op="after", day=_day(token, value), negated=negated)
    if token.key == "width":
        return DimensionTerm(
            field="width", op=_comparison(token.op), value=_number(token, value), negated=negated
        )
    if token.key == "height":
        return DimensionTerm(
            field="height", op=_comparison(token.op), value=_number(token, value), negated=negated
        )
    # _tokenize only sets keys from _COLON_KEYS, and "order" is handled by the caller.
    raise AssertionError(f"unhandled key {token.key!r}")


def _require_value(token: _Token) -> str:
    """The token's value, which must not be empty.

    Raises:
        InvalidQuery: The value is empty (``tag:`` or ``tag:""``).
    """
    if not token.value:
        raise InvalidQuery(f"'{token.key}{token.op}' needs a value", position=token.value_start)
    return token.value


def _type_term(token: _Token, value: str) -> TypeTerm:
    """A ``type:`` term: a coarse media kind, or an exact MIME type.

    Raises:
        InvalidQuery: The value is neither.
    """
    # Only ASCII is lowercased: str.lower() maps some non-ASCII letters (the Kelvin sign) to
    # ASCII ones, which would let odd text pass as a MIME type.
    lowered = value.lower() if value.isascii() else value
    kind = _MEDIA_KINDS.get(lowered)
    if kind is not None:
        return TypeTerm(media_kind=kind, negated=token.negated)
    if _MIME.fullmatch(lowered):
        return TypeTerm(mime_type=lowered, negated=token.negated)
    raise InvalidQuery(
        f"type is image, gif, video or a MIME type like image/png, not {value!r}",
        position=token.value_start,
    )


def _day(token: _Token, value: str) -> date:
    """The day of a ``before:``/``after:`` term.

    Raises:
        InvalidQuery: The value is not an existing day written ``YYYY-MM-DD``.
    """
    # The pattern comes first because date.fromisoformat also accepts forms like 20260131.
    if _DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidQuery(
        f"a date is written YYYY-MM-DD, and {value!r} is not one", position=token.value_start
    )


def _number(token: _Token, value: str) -> int:
    """The number of a ``width``/``height`` term.

    Raises:
        InvalidQuery: The value is not a whole number from 0 to :data:`MAX_DIMENSION`.
    """
    # Checking the length first keeps int() away from a thousand-digit number.
    if _NUMBER.fullmatch(value) and len(value) <= 12 and int(value) <= MAX_DIMENSION:
        return int(value)
    raise InvalidQuery(
        f"{token.key} needs a whole number from 0 to {MAX_DIMENSION}, not {value!r}",
        position=token.value_start,
    )


def _comparison(op: str | None) -> Comparison:
    """The comparison an operator stands for; ``:`` means equality."""
    if op == "<":
        return "<"
    if op == "<=":
        return "<="
    if op == ">=":
        return ">="
    if op == ">":
        return ">"
    return "="


def _format_term(term: Term) -> str:
    """One term as canonical search text (see :func:`format_query`)."""
    sign = "-" if term.negated else ""
    if isinstance(term, TextTerm):
        if term.phrase:
            return sign + _quote(" ".join(term.words))
        # A hyphen is not a word character, so the words come back as one term, unquoted
        # (quoting would turn them into a phrase).
        return sign + "-".join(term.words)
    if isinstance(term, TagTerm):
        return f"{sign}tag:{_quote_if_needed(term.tag)}"
    if isinstance(term, BoardTerm):
        return f"{sign}board:{_quote_if_needed(term.name)}"
    if isinstance(term, OwnerTerm):
        return f"{sign}by:{_quote_if_needed(term.username)}"
    if isinstance(term, TypeTerm):
        written = term.mime_type or term.media_kind
        if written is None:
            raise ValueError("a type term with neither a media kind nor a MIME type")
        return f"{sign}type:{written}"
    if isinstance(term, VisibilityTerm):
        return f"{sign}visibility:{term.visibility}"
    if isinstance(term, DateTerm):
        return f"{sign}{term.op}:{term.day.isoformat()}"
    return f"{sign}{term.field}{term.op}{term.value}"


def _quote_if_needed(value: str) -> str:
    """``value`` bare when it reads back unchanged, otherwise quoted."""
    if value and not any(char.isspace() or char in '"\\' for char in value):
        return value
    return _quote(value)


def _quote(value: str) -> str:
    """``value`` in quotes, with quotes and backslashes escaped."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
