"""The typed form of a search: what the parser produces and what backends compile.

A :class:`Query` is a conjunction of terms; each term may be negated. Backends never see the
search text, only these objects, so no user input can become query syntax.

Matching rules every backend follows (the conformance suite checks them):

* :class:`TagTerm` matches a pin carrying the tag or any descendant of it
  (``animals`` matches ``animals/cats``).
* :class:`TextTerm` matches when all its words occur among the words of the pin's title,
  description and tags (see :func:`pinsphere.text.search_words`); a phrase needs them
  consecutive in that word sequence.
* :class:`BoardTerm` matches a pin on a board with that name (case-insensitive) that the
  caller can see.
* :class:`TypeTerm` matches the coarse kind (``image``, ``gif``, ``video``) or an exact MIME type.
* :class:`OwnerTerm` carries the owner's user id, resolved by the facade from the username.
* :class:`DateTerm` compares the creation time with the start of the given day (UTC):
  ``before`` is strictly earlier, ``after`` is on or after the next day.
* :class:`DimensionTerm` compares width or height; a pin whose dimension is unknown never
  matches it (and always matches its negation).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pinsphere.models import Visibility

__all__ = [
    "MAX_DIMENSION",
    "MAX_TERMS",
    "MIME_TYPE_PATTERN",
    "BoardTerm",
    "Comparison",
    "DateTerm",
    "DimensionTerm",
    "MediaKind",
    "Order",
    "OwnerTerm",
    "Query",
    "TagTerm",
    "Term",
    "TextTerm",
    "TypeTerm",
    "VisibilityTerm",
]

Order = Literal["newest", "oldest"]
MediaKind = Literal["image", "gif", "video"]
Comparison = Literal["<", "<=", "=", ">=", ">"]

_TERM = ConfigDict(frozen=True, extra="forbid")

MAX_DIMENSION = 2**31 - 1
"""The largest width or height a query may name (fits a 32-bit database column)."""

MAX_TERMS = 50
"""The most terms one query may have."""

MIME_TYPE_PATTERN = r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$"
"""A lower-case MIME type without parameters (RFC 6838 names)."""


class TagTerm(BaseModel):
    """``tag:animals`` — the tag or any of its descendants."""

    model_config = _TERM
    kind: Literal["tag"] = "tag"
    tag: str
    negated: bool = False


class TextTerm(BaseModel):
    """Free words or a quoted phrase, matched against title, description and tags.

    Attributes:
        words: The normalised words (see :func:`pinsphere.text.words`), never empty.
        phrase: Whether the words must be consecutive.
    """

    model_config = _TERM
    kind: Literal["text"] = "text"
    words: tuple[str, ...] = Field(min_length=1)
    phrase: bool = False
    negated: bool = False


class BoardTerm(BaseModel):
    """``board:Animals`` — on a visible board of that name."""

    model_config = _TERM
    kind: Literal["board"] = "board"
    name: str
    negated: bool = False


class TypeTerm(BaseModel):
    """``type:gif`` or ``type:image/png``.

    Attributes:
        media_kind: The coarse kind, when the term named one.
        mime_type: The exact MIME type, when the term named one.
    """

    model_config = _TERM
    kind: Literal["type"] = "type"
    media_kind: MediaKind | None = None
    mime_type: str | None = Field(default=None, pattern=MIME_TYPE_PATTERN)
    negated: bool = False

    @model_validator(mode="after")
    def _one_of_kind_or_type(self) -> TypeTerm:
        if (self.media_kind is None) == (self.mime_type is None):
            raise ValueError("a type term names either a media kind or a MIME type")
        return self


class OwnerTerm(BaseModel):
    """``by:alice`` — pins owned by that user.

    Attributes:
        username: As written in the query.
        user_id: Filled by the facade before the query reaches a backend; ``None`` when no
            such user exists (then nothing matches).
    """

    model_config = _TERM
    kind: Literal["owner"] = "owner"
    username: str
    user_id: str | None = None
    negated: bool = False


class VisibilityTerm(BaseModel):
    """``visibility:public``."""

    model_config = _TERM
    kind: Literal["visibility"] = "visibility"
    visibility: Visibility
    negated: bool = False


class DateTerm(BaseModel):
    """``before:2026-01-31`` or ``after:2026-01-01`` (UTC days)."""

    model_config = _TERM
    kind: Literal["date"] = "date"
    op: Literal["before", "after"]
    day: date
    negated: bool = False


class DimensionTerm(BaseModel):
    """``width>=1000``, ``height<500``."""

    model_config = _TERM
    kind: Literal["dimension"] = "dimension"
    field: Literal["width", "height"]
    op: Comparison
    value: int = Field(ge=0, le=MAX_DIMENSION)
    negated: bool = False


Term = Annotated[
    TagTerm
    | TextTerm
    | BoardTerm
    | TypeTerm
    | OwnerTerm
    | VisibilityTerm
    | DateTerm
    | DimensionTerm,
    Field(discriminator="kind"),
]


class Query(BaseModel):
    """A parsed search: all terms must hold.

    Attributes:
        terms: The conditions, in the order they were written.
        order: ``newest`` (default) or ``oldest`` first.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    terms: tuple[Term, ...] = Field(default=(), max_length=MAX_TERMS)
    order: Order = "newest"

    @classmethod
    def parse(cls, text: str) -> Query:
        """Parse the search language (see :mod:`pinsphere.search`)."""
        from pinsphere.search import parse_query

        return parse_query(text)
