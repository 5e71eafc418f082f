"""How pins, boards, shares, links and audit events are laid out as MongoDB documents.

Pins (collection ``pins``), one document each::

    {"_id": <int64 pin id>,            # time ordered: newest first is _id descending
     "owner_id", "owner", "title", "description", "visibility",
     "tags":      ["animals/cats", "funny"],                # direct tags, sorted
     "tag_paths": ["animals", "animals/cats", "funny"],     # tags and their ancestors
     "words":     ["big", "cat", ...],                      # distinct search words
     "word_text": " big red balloon party ",                # the word sequence, spaced
     "media": {"mime_type", "kind", "size", "sha256", "width", "height", "duration",
               "blurhash", "frame_count", "codec", "camera",
               "taken_at": "<ISO 8601>"},                   # offset kept, or naive
     "thumbnails": [320, 640], "board_ids": ["<board id>", ...],
     "processing": "ready",                                 # or "pending", "failed"
     "created_at": <µs>, "updated_at": <µs>, "rev": <int>}

* ``tag:x`` is one equality on the multikey ``tag_paths`` index, walked with ``_id``
  descending (``(tag_paths, _id)``), so the newest pins of a tag come first;
* free words are ``$all`` over the multikey ``words`` index (the words are cut by
  :func:`pinsphere.text.search_words`, the same tokenizer every backend uses, so no
  ``$text`` index or server-side analyzer decides what matches); a phrase further needs
  its words, space-separated, inside ``word_text`` — a regular expression of escaped
  literal words, checked in the same query, so a page's ``limit`` stays exact;
* board membership is embedded (``board_ids``, multikey, indexed with ``_id``): a board
  term is one ``$in`` and a pin's boards come with the pin;
* ``rev`` counts updates, for optimistic concurrency of tag changes;
* ``processing`` with ``_id`` is indexed so a worker finds the pending pins oldest first
  (a document written before the field existed reads as ``ready``).

Times are integers of microseconds since the Unix epoch (UTC): BSON dates keep only
milliseconds, and the domain models round-trip exactly. The one exception is a photo's EXIF
``taken_at``, ISO 8601 text: it keeps the camera's UTC offset, or stays naive (camera-local
time) when the camera recorded none, and reads back exactly as written.

Boards (``boards``): ``_id`` is the board id, ``name_key`` the case-insensitive key,
unique per owner. Shares (``shares``): one per (target kind, target id, user). Links
(``links``): ``_id`` the link id, ``token_hash`` unique, ``seq`` the id's integer for
newest-first order. Audit events (``audit_events``): ``_id`` the event id's integer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bson.int64 import Int64
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.collection import Collection
from pymongo.database import Database

from pinsphere.errors import InvalidInput
from pinsphere.ids import decode_id, encode_id
from pinsphere.models import Board, Media, Pin
from pinsphere.tags import board_key, tag_ancestors
from pinsphere.text import search_words

__all__ = [
    "PIN_PROJECTION",
    "Collections",
    "Document",
    "board_document",
    "board_from_document",
    "from_micros",
    "media_value",
    "pin_document",
    "pin_from_document",
    "plain",
    "search_fields",
    "to_micros",
]

Document = dict[str, Any]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

PIN_PROJECTION: Mapping[str, int] = {"tag_paths": 0, "words": 0, "word_text": 0}
"""What a read of pins leaves out: the search fields, derived from the rest."""


def plain(value: object, what: str) -> str:
    """A string that goes into a query as a value, checked to be one.

    Every value from outside reaches MongoDB only in a value position, never as a key or an
    operator; refusing anything but a string here means that even an untyped caller cannot
    hand in ``{"$ne": ...}`` as a "name".

    Raises:
        InvalidInput: ``value`` is not a string.
    """
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be a string")
    return value


def to_micros(when: datetime) -> int:
    """A time as integer microseconds since the epoch (naive times are taken as UTC)."""
    aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    return (aware - _EPOCH) // timedelta(microseconds=1)


def from_micros(value: int) -> datetime:
    """The UTC time of :func:`to_micros`."""
    return _EPOCH + timedelta(microseconds=value)


def search_fields(title: str, description: str, tags: Iterable[str]) -> Document:
    """The derived fields searches use: tags, their ancestors and the words."""
    tag_list = sorted(set(tags))
    sequence = search_words(title, description, tag_list)
    return {
        "tags": tag_list,
        "tag_paths": sorted({path for tag in tag_list for path in tag_ancestors(tag)}),
        "words": sorted(set(sequence)),
        "word_text": f" {' '.join(sequence)} ",
    }


def media_value(name: str, value: object) -> object:
    """The stored form of one ``media`` fact: ``taken_at`` as ISO 8601 text (BSON dates
    keep neither an offset nor a naive time), every other as it is."""
    if name == "taken_at" and isinstance(value, datetime):
        return value.isoformat()
    return value


def pin_document(pin: Pin, board_ids: Sequence[str]) -> Document:
    """The document of a new pin on the given boards.

    Raises:
        InvalidInput: The pin id is not well formed.
    """
    key = decode_id(pin.id)
    if key is None:
        raise InvalidInput(f"not a pin id: {pin.id!r}")
    media = pin.media
    return {
        "_id": Int64(key),
        "owner_id": pin.owner_id,
        "owner": pin.owner,
        "title": pin.title,
        "description": pin.description,
        "visibility": pin.visibility,
        **search_fields(pin.title, pin.description, pin.tags),
        "media": {
            "mime_type": media.mime_type,
            "kind": media.kind,
            "size": media.size,
            "sha256": media.sha256,
            "width": media.width,
            "height": media.height,
            "duration": media.duration,
            "blurhash": media.blurhash,
            "frame_count": media.frame_count,
            "codec": media.codec,
            "camera": media.camera,
            "taken_at": media_value("taken_at", media.taken_at),
        },
        "thumbnails": list(pin.thumbnails),
        "board_ids": list(dict.fromkeys(board_ids)),
        "processing": pin.processing,
        "created_at": to_micros(pin.created_at),
        "updated_at": to_micros(pin.updated_at),
        "rev": 0,
    }


def pin_from_document(doc: Mapping[str, Any], boards: Sequence[str]) -> Pin:
    """The pin a document holds, with the given board names."""
    media = doc["media"]
    return Pin(
        id=encode_id(doc["_id"]),
        owner_id=doc["owner_id"],
        owner=doc["owner"],
        title=doc["title"],
        description=doc["description"],
        tags=tuple(doc["tags"]),
        boards=tuple(boards),
        visibility=doc["visibility"],
        media=Media(
            mime_type=media["mime_type"],
            size=media["size"],
            sha256=media["sha256"],
            width=media.get("width"),
            height=media.get("height"),
            duration=media.get("duration"),
            blurhash=media.get("blurhash"),
            frame_count=media.get("frame_count"),
            codec=media.get("codec"),
            camera=media.get("camera"),
            taken_at=media.get("taken_at"),
        ),
        thumbnails=tuple(doc.get("thumbnails", ())),
        processing=doc.get("processing", "ready"),
        created_at=from_micros(doc["created_at"]),
        updated_at=from_micros(doc["updated_at"]),
    )


def board_document(board: Board) -> Document:
    """The document of a new board."""
    return {
        "_id": plain(board.id, "a board id"),
        "owner_id": board.owner_id,
        "owner": board.owner,
        "name": board.name,
        "name_key": board_key(board.name),
        "description": board.description,
        "visibility": board.visibility,
        "created_at": to_micros(board.created_at),
    }


def board_from_document(doc: Mapping[str, Any], pin_count: int) -> Board:
    """The board a document holds, with a pin count."""
    return Board(
        id=doc["_id"],
        owner_id=doc["owner_id"],
        owner=doc["owner"],
        name=doc["name"],
        description=doc["description"],
        visibility=doc["visibility"],
        pin_count=pin_count,
        created_at=from_micros(doc["created_at"]),
    )


def _index(*keys: tuple[str, int], unique: bool = False) -> IndexModel:
    return IndexModel(list(keys), unique=unique)


_INDEXES: dict[str, list[IndexModel]] = {
    "pins": [
        _index(("tag_paths", ASCENDING), ("_id", DESCENDING)),
        _index(("words", ASCENDING), ("_id", DESCENDING)),
        _index(("board_ids", ASCENDING), ("_id", DESCENDING)),
        _index(("owner_id", ASCENDING), ("_id", DESCENDING)),
        _index(("visibility", ASCENDING), ("_id", DESCENDING)),
        _index(("media.sha256", ASCENDING)),
        _index(("processing", ASCENDING), ("_id", ASCENDING)),
    ],
    "boards": [
        _index(("owner_id", ASCENDING), ("name_key", ASCENDING), unique=True),
        _index(("name_key", ASCENDING)),
        _index(("owner", ASCENDING), ("name", ASCENDING)),
    ],
    "shares": [
        _index(
            ("target_kind", ASCENDING),
            ("target_id", ASCENDING),
            ("user_id", ASCENDING),
            unique=True,
        ),
        _index(("user_id", ASCENDING), ("target_kind", ASCENDING)),
    ],
    "links": [
        _index(("token_hash", ASCENDING), unique=True),
        _index(("created_by", ASCENDING), ("seq", DESCENDING)),
        _index(("target_kind", ASCENDING), ("target_id", ASCENDING)),
    ],
    "audit_events": [],
}


@dataclass(frozen=True)
class Collections:
    """The backend's collections in one database.

    Attributes:
        pins: One document per pin.
        boards: One document per board.
        shares: One document per share of a pin or board.
        links: One document per public link.
        audit_events: One document per permission change.
    """

    pins: Collection[Document]
    boards: Collection[Document]
    shares: Collection[Document]
    links: Collection[Document]
    audit_events: Collection[Document]

    @classmethod
    def of(cls, database: Database[Document], prefix: str = "") -> Collections:
        """The collections, each name behind ``prefix``."""
        return cls(
            pins=database[f"{prefix}pins"],
            boards=database[f"{prefix}boards"],
            shares=database[f"{prefix}shares"],
            links=database[f"{prefix}links"],
            audit_events=database[f"{prefix}audit_events"],
        )

    def create_indexes(self) -> None:
        """Create every index (creating one that exists is a no-op)."""
        for name, indexes in _INDEXES.items():
            if indexes:
                getattr(self, name).create_indexes(indexes)
