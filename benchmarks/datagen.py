"""Deterministic synthetic pins: the same seed and count give the same pins, in time order.

Every database in a run (the Pinsphere stores and the hand-written baselines) is loaded from
this one stream, so the two sides of every comparison hold identical pins and must return
identical pages.

The shape follows what the field notes were measured on: three tags per pin drawn from a
2,000-tag zipf vocabulary (about a fifth of them hierarchical, like ``animals/cats``), titles
and descriptions made of words from a zipf word vocabulary (so that a free-text word has a
realistic, middling frequency), a handful of owners, mostly public pins with some internal and
private ones, and creation times spread over one year.

Shares: the member :data:`SHARER` (who also owns a fifth of the pins) is given up to 1,000
pins of other owners directly and 20 boards of other owners, each holding ~10 of its owner's
pins; every one of those pins is private, so only the share shows it. A private pin of yet
another owner sits on each shared board too, and must stay hidden (a board share covers
only the board owner's pins). The shared pins carry ordinary tags and words, and about a
third of them are among the newest pins, so that the newest 20 of a search include some.
The choice is fixed by the seed and the count (:func:`share_plan`). Other members have
shares too, as in any store where sharing is used: 5 % of the pins are each shared with one
of the last three owners (never with the two searching members), so the share tables hold
far more rows than one user's.

Pins are produced as light :class:`PinRecord` tuples in streaming batches; :func:`to_pin`
turns a record into a :class:`pinsphere.models.Pin` only when a batch is about to be inserted,
so a million pins never sit in memory at once.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from pinsphere.ids import id_at
from pinsphere.models import Media, Pin, User
from pinsphere.text import search_words

__all__ = [
    "BACKGROUND_SHARE_RATE",
    "BOARD_COUNT",
    "MEMBER",
    "OWNER_NAMES",
    "SHARER",
    "SHARE_COUNT",
    "BoardPlan",
    "PinRecord",
    "SharePlan",
    "Vocabulary",
    "board_id",
    "board_share_id",
    "iter_batches",
    "make_vocabulary",
    "share_plan",
    "shared_boards",
    "to_pin",
]

TAG_COUNT = 2_000
WORD_COUNT = 8_000
TAGS_PER_PIN = 3
ZIPF_EXPONENT = 1.0
START = datetime(2025, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=365)

OWNER_NAMES: tuple[str, ...] = ("bench", "ana", "bo", "cy", "dee")
"""Usernames of the pins' owners; the first is the signed-in member most searches run as."""

MEMBER = 0
"""Owner index of the member the plain search questions run as (no shares)."""

SHARER = 1
"""Owner index of the member the "with shares" questions run as."""

SHARE_COUNT = 1_000
"""Pins shared directly with :data:`SHARER` (fewer for small pin counts)."""

BOARD_COUNT = 20
"""Boards of other owners shared with :data:`SHARER`."""

PINS_PER_BOARD = 10
"""The board owner's private pins on each shared board (fewer for small pin counts)."""

BACKGROUND_SHARE_RATE = 0.05
"""The fraction of pins also shared with one of the other members (not the searching ones)."""

# Share targets are owned by anyone but the sharer.
_OTHERS = tuple(index for index in range(len(OWNER_NAMES)) if index != SHARER)
# Members whose shares are background: neither the plain searcher nor the sharer.
_GRANTEES = tuple(index for index in range(len(OWNER_NAMES)) if index not in (MEMBER, SHARER))

# Owner 0 (the searching member) owns a fifth of the pins, so the owner branch of the
# visibility rule matters; 6 % private pins of other owners stay hidden from them.
_VISIBILITIES = ("public", "internal", "private")
_VISIBILITY_WEIGHTS = (0.85, 0.09, 0.06)
_MEDIA_TYPES = (
    ("image/jpeg", 0.70),
    ("image/png", 0.20),
    ("image/gif", 0.07),
    ("video/mp4", 0.03),
)
_CATEGORIES = (
    "animals", "food", "travel", "art", "design", "nature", "cars", "fashion", "music",
    "sports", "architecture", "photography", "science", "history", "gardening", "crafts",
    "games", "film", "books", "space",
)  # fmt: skip
_ONSETS = ("b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z",
           "br", "ch", "cl", "dr", "fl", "gr", "pl", "sh", "st", "tr", "th", "wh")  # fmt: skip
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "oo", "ou", "ie")
_CODAS = ("", "", "", "n", "r", "s", "t", "l", "m", "ck", "nd", "st")


class PinRecord(NamedTuple):
    """One generated pin, as plain values.

    Attributes:
        id: The integer pin id (time-ordered, unique).
        owner: Index into :data:`OWNER_NAMES`.
        title: Title words joined by spaces.
        description: Description words joined by spaces.
        tags: Sorted, distinct, normalised tags.
        visibility: ``public``, ``internal`` or ``private``.
        created_ms: Creation time in milliseconds since the epoch (the time the id carries).
        mime_type: Media type.
        size: Media size in bytes.
        sha256: Media digest.
        width: Pixel width.
        height: Pixel height.
        shared: Shared directly with :data:`SHARER`.
        board: Index of the shared board the pin is on, or -1.
        grantee: Owner index of another member the pin is shared with, or -1.
    """

    id: int
    owner: int
    title: str
    description: str
    tags: tuple[str, ...]
    visibility: str
    created_ms: int
    mime_type: str
    size: int
    sha256: str
    width: int
    height: int
    shared: bool = False
    board: int = -1
    grantee: int = -1

    @property
    def created_at(self) -> datetime:
        """The creation time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.created_ms / 1000, tz=UTC)

    def words(self) -> list[str]:
        """The words the pin is found by in free-text search (title, description, tags)."""
        return search_words(self.title, self.description, self.tags)


@dataclass(frozen=True)
class Vocabulary:
    """Tags and words, each listed from most to least frequent.

    Attributes:
        tags: The tag vocabulary, by zipf rank (index 0 is the most frequent).
        words: The word vocabulary, by zipf rank.
    """

    tags: tuple[str, ...]
    words: tuple[str, ...]

    @property
    def frequent_tag(self) -> str:
        """The most frequent tag."""
        return self.tags[0]

    @property
    def mid_tag(self) -> str:
        """A hierarchical tag of middling frequency (about 0.4 % of pins)."""
        return next(tag for tag in self.tags[100:] if "/" in tag)

    @property
    def tag_pair(self) -> tuple[str, str]:
        """Two frequent tags that often occur together (the rarer one second)."""
        return self.tags[1], self.tags[4]

    @property
    def text_word(self) -> str:
        """A free-text word found in a few percent of pins."""
        return self.words[60]


@dataclass(frozen=True)
class BoardPlan:
    """One board of another owner, shared with :data:`SHARER`.

    Attributes:
        index: Position in :attr:`SharePlan.boards` (what :attr:`PinRecord.board` names).
        owner: Owner index of the board's owner.
    """

    index: int
    owner: int


@dataclass(frozen=True)
class SharePlan:
    """Which generated pins are shared with :data:`SHARER`, and how.

    Attributes:
        boards: The shared boards.
        pins: By position in the generated stream: ``(owner, shared directly, board or -1)``.
            Every such pin is private.
    """

    boards: tuple[BoardPlan, ...]
    pins: dict[int, tuple[int, bool, int]]

    @property
    def direct_count(self) -> int:
        """How many pins are shared directly."""
        return sum(1 for _, shared, _ in self.pins.values() if shared)


def shared_boards() -> tuple[BoardPlan, ...]:
    """The boards shared with :data:`SHARER` (the same for every pin count and seed)."""
    return tuple(BoardPlan(b, _OTHERS[b % len(_OTHERS)]) for b in range(BOARD_COUNT))


def share_plan(count: int, seed: int) -> SharePlan:
    """The shares for ``count`` pins from ``seed`` (the same arguments give the same plan).

    Up to :data:`SHARE_COUNT` direct shares (one per 50 pins at most), 30 % of them among the
    newest pins (the newest 0.5 %, at least 200) and the rest anywhere older; each of the
    :data:`BOARD_COUNT` boards gets up to :data:`PINS_PER_BOARD` of its owner's pins, half of
    them among the newest, plus one private pin of another owner that the board share must
    not reveal.
    """
    rng = random.Random(f"pinsphere-bench-shares-{seed}-{count}")
    recent = min(count, max(count // 200, 200))
    boundary = count - recent
    direct = min(SHARE_COUNT, count // 50)
    per_board = min(PINS_PER_BOARD, count // 1_000)
    taken: dict[int, tuple[int, bool, int]] = {}

    def pick(low: int, high: int) -> int | None:
        # A range nearly full of picks gives up, and the caller looks anywhere instead.
        for _ in range(100 if high > low else 0):
            index = rng.randrange(low, high)
            if index not in taken:
                return index
        return None

    def place(newest: bool, target: tuple[int, bool, int]) -> None:
        index = pick(boundary, count) if newest else pick(0, boundary)
        if index is None:
            index = pick(0, count)
        if index is not None:
            taken[index] = target

    for n in range(direct):
        place(n < direct * 3 // 10, (rng.choice(_OTHERS), True, -1))
    boards = shared_boards()
    for board in boards:
        for n in range(per_board):
            place(n < (per_board + 1) // 2, (board.owner, False, board.index))
        if per_board:
            stranger = rng.choice([o for o in _OTHERS if o != board.owner])
            place(True, (stranger, False, board.index))
    return SharePlan(boards=boards, pins=taken)


def board_id(index: int) -> str:
    """The Pinsphere id of shared board ``index`` (fixed, so reruns agree)."""
    from pinsphere.ids import encode_id

    return encode_id(id_at(START) + 1 + index)


def board_share_id(index: int) -> str:
    """The id of the share of board ``index`` with :data:`SHARER`."""
    from pinsphere.ids import encode_id

    return encode_id(id_at(START) + 1_001 + index)


def _synthetic_words(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    out: list[str] = []
    while len(out) < count:
        syllables = rng.choice((2, 2, 3))
        word = "".join(
            rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(syllables)
        )
        if 4 <= len(word) <= 12 and word not in taken:
            taken.add(word)
            out.append(word)
    return out


def make_vocabulary(seed: int) -> Vocabulary:
    """The tag and word vocabularies for a seed.

    About a fifth of the tags are ``category/word``; the categories themselves are tags too.
    """
    rng = random.Random(f"pinsphere-bench-vocabulary-{seed}")
    taken = set(_CATEGORIES)
    words = _synthetic_words(rng, WORD_COUNT, taken)
    plain = _synthetic_words(rng, TAG_COUNT, taken)
    tags: list[str] = []
    seen: set[str] = set()
    for index, word in enumerate(plain):
        if index < len(_CATEGORIES):
            tag = _CATEGORIES[index]
        elif rng.random() < 0.2:
            tag = f"{rng.choice(_CATEGORIES)}/{word}"
        else:
            tag = word
        if tag not in seen:
            seen.add(tag)
            tags.append(tag)
    rng.shuffle(tags)
    return Vocabulary(tags=tuple(tags[:TAG_COUNT]), words=tuple(words))


def _zipf_cumulative(count: int) -> list[float]:
    return list(itertools.accumulate(1.0 / (rank**ZIPF_EXPONENT) for rank in range(1, count + 1)))


class _Sampler:
    """Draws zipf-distributed items quickly (bisect over cumulative weights)."""

    def __init__(self, items: Sequence[str], rng: random.Random) -> None:
        self._items = items
        self._cumulative = _zipf_cumulative(len(items))
        self._total = self._cumulative[-1]
        self._rng = rng

    def one(self) -> str:
        index = bisect.bisect_left(self._cumulative, self._rng.random() * self._total)
        return self._items[min(index, len(self._items) - 1)]

    def distinct(self, k: int) -> tuple[str, ...]:
        chosen: set[str] = set()
        while len(chosen) < k:
            chosen.add(self.one())
        return tuple(sorted(chosen))

    def text(self, low: int, high: int) -> str:
        return " ".join(self.one() for _ in range(self._rng.randint(low, high)))


def iter_batches(
    count: int, seed: int, batch_size: int, *, vocabulary: Vocabulary | None = None
) -> Iterator[list[PinRecord]]:
    """Generate ``count`` pins in creation order, ``batch_size`` at a time.

    Ids follow :mod:`pinsphere.ids` (millisecond time in the high bits, a random counter in
    the low bits) but the counter comes from the seeded generator, so a rebuild gives the
    same ids; an id that would not be greater than the previous one is bumped, which keeps
    ids unique and in time order.

    The pins :func:`share_plan` picks get their planned owner, ``private`` visibility and
    share marks after the usual draws, so every other pin is the same as without shares.
    """
    vocab = vocabulary or make_vocabulary(seed)
    planned = share_plan(count, seed).pins
    background = random.Random(f"pinsphere-bench-background-shares-{seed}-{count}")
    rng = random.Random(f"pinsphere-bench-pins-{seed}-{count}")
    tag_sampler = _Sampler(vocab.tags, rng)
    word_sampler = _Sampler(vocab.words, rng)
    start_ms = int(START.timestamp() * 1000)
    span_ms = int(SPAN.total_seconds() * 1000)
    step = max(1, span_ms // max(count, 1))
    mimes = [m for m, _ in _MEDIA_TYPES]
    mime_weights = [w for _, w in _MEDIA_TYPES]
    last_id = 0
    batch: list[PinRecord] = []
    for index in range(count):
        created_ms = start_ms + index * span_ms // max(count, 1) + rng.randrange(step)
        pin_id = id_at(datetime.fromtimestamp(created_ms / 1000, tz=UTC)) | rng.getrandbits(19)
        if pin_id <= last_id:
            pin_id = last_id + 1
        last_id = pin_id
        # The id decides the time shown, so that ordering by either agrees exactly.
        created_ms = pin_id >> 20
        width = rng.choice((640, 800, 1024, 1080, 1280, 1600, 1920, 3000))
        record = PinRecord(
            id=pin_id,
            owner=0 if rng.random() < 0.2 else rng.randrange(1, len(OWNER_NAMES)),
            title=word_sampler.text(2, 6),
            description=word_sampler.text(6, 18),
            tags=tag_sampler.distinct(TAGS_PER_PIN),
            visibility=rng.choices(_VISIBILITIES, _VISIBILITY_WEIGHTS)[0],
            created_ms=created_ms,
            mime_type=rng.choices(mimes, mime_weights)[0],
            size=rng.randrange(20_000, 4_000_000),
            sha256=hashlib.sha256(pin_id.to_bytes(8, "big")).hexdigest(),
            width=width,
            height=width * rng.choice((9, 10, 12, 16)) // 16,
        )
        plan = planned.get(index)
        if plan is not None:
            owner, shared, board = plan
            record = record._replace(owner=owner, visibility="private", shared=shared, board=board)
        if background.random() < BACKGROUND_SHARE_RATE:
            grantee = background.choice(_GRANTEES)
            if grantee != record.owner:
                record = record._replace(grantee=grantee)
        batch.append(record)
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def to_pin(record: PinRecord, owners: Sequence[User]) -> Pin:
    """The :class:`Pin` for a record, owned by ``owners[record.owner]``."""
    from pinsphere.ids import encode_id

    owner = owners[record.owner]
    created_at = record.created_at
    return Pin(
        id=encode_id(record.id),
        owner_id=owner.id,
        owner=owner.username,
        title=record.title,
        description=record.description,
        tags=record.tags,
        visibility=record.visibility,  # type: ignore[arg-type]
        media=Media(
            mime_type=record.mime_type,
            size=record.size,
            sha256=record.sha256,
            width=record.width,
            height=record.height,
        ),
        created_at=created_at,
        updated_at=created_at,
    )
