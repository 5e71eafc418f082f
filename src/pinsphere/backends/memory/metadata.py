"""The ``memory://`` metadata backend: pins, tags and boards in dictionaries.

It is the reference for what a :class:`~pinsphere.backends.base.MetadataBackend` does: every
search term is evaluated in plain Python, following the rules in :mod:`pinsphere.query`, and
the caller's :class:`~pinsphere.policy.AccessRule` (owner, visibility, shares, links) is
applied to every object on every read.
"""

from __future__ import annotations

import operator
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta

from pinsphere.backends.base import (
    BoardChanges,
    MetadataBackend,
    MetadataCapabilities,
    PinChanges,
    keyset_stream,
    page_position,
)
from pinsphere.backends.memory import InMemory
from pinsphere.backends.memory.sharing import MemorySharing, strongest
from pinsphere.errors import Conflict, InvalidInput, InvalidQuery, NotFound
from pinsphere.ids import decode_id
from pinsphere.models import (
    AuditEvent,
    Board,
    Link,
    Pin,
    ProcessingState,
    Share,
    ShareRole,
    TagCount,
    TargetKind,
)
from pinsphere.policy import AccessRule
from pinsphere.query import (
    BoardTerm,
    DateTerm,
    DimensionTerm,
    OwnerTerm,
    Query,
    TagTerm,
    Term,
    TextTerm,
    TypeTerm,
    VisibilityTerm,
)
from pinsphere.tags import board_key, tag_ancestors
from pinsphere.text import search_words

__all__ = ["MemoryMetadataBackend"]

_COMPARISONS: dict[str, Callable[[int, int], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    "=": operator.eq,
    ">=": operator.ge,
    ">": operator.gt,
}


class MemoryMetadataBackend(InMemory, MetadataBackend):
    """Pins, tags and boards kept in process memory, guarded by one lock.

    Stored models are frozen pydantic objects, so handing them out cannot change what is
    stored. Pins are kept with empty ``boards`` (memberships live in their own table, as in
    the SQL backends) and boards with ``pin_count`` 0; both are filled in per read, for the
    caller asking.
    """

    backend_name = "metadata"
    capabilities = MetadataCapabilities(
        transactions=True, full_text_index=False, shared_between_processes=False
    )

    def __init__(self) -> None:
        """Start with an empty store."""
        super().__init__()
        # Re-entrant so that helpers may take the lock again inside a locked method.
        self._lock = threading.RLock()
        self._pins: dict[str, Pin] = {}
        self._boards: dict[str, Board] = {}
        self._board_pins: dict[str, set[str]] = {}
        self._sharing = MemorySharing()

    # -- pins -------------------------------------------------------------------------------

    def insert_pins(self, pins: Iterable[tuple[Pin, Sequence[str]]]) -> int:
        """Insert new pins with the ids of the boards each is on, all or nothing.

        Raises:
            Conflict: A pin id exists already, or appears twice in ``pins``.
            NotFound: A board id does not exist.
            InvalidInput: A pin id is not a well-formed id.
        """
        batch = [(pin, tuple(board_ids)) for pin, board_ids in pins]
        with self._lock:
            # Check everything before writing anything, so a failure leaves no trace.
            seen: set[str] = set()
            for pin, board_ids in batch:
                _id_number(pin.id)
                if pin.id in self._pins or pin.id in seen:
                    raise Conflict(f"pin {pin.id} exists already")
                seen.add(pin.id)
                for board_id in board_ids:
                    if board_id not in self._boards:
                        raise NotFound(f"no board {board_id}")
            for pin, board_ids in batch:
                self._pins[pin.id] = pin.model_copy(
                    update={"boards": (), "tags": tuple(sorted(set(pin.tags)))}
                )
                for board_id in board_ids:
                    self._board_pins[board_id].add(pin.id)
        return len(batch)

    def get_pin(self, pin_id: str, access: AccessRule) -> Pin | None:
        """The pin if it exists and ``access`` allows it, with its visible boards."""
        with self._lock:
            pin = self._pins.get(pin_id)
            if pin is None or not self._visible(access, pin):
                return None
            return self._with_boards(pin, access)

    def update_pin(self, pin_id: str, changes: PinChanges) -> Pin | None:
        """Apply ``changes``; ``None`` when the pin does not exist.

        Tags become ``(current | add_tags) - remove_tags``: a tag named in both is removed.
        The returned pin lists every board it is on.
        """
        with self._lock:
            pin = self._pins.get(pin_id)
            if pin is None:
                return None
            updated = pin.model_copy(update=_pin_update(pin, changes))
            self._pins[pin_id] = updated
            return self._with_boards(updated, None)

    def delete_pin(self, pin_id: str) -> Pin | None:
        """Delete the pin, its board entries, shares and links; return it (with every board it
        was on)."""
        with self._lock:
            pin = self._pins.get(pin_id)
            if pin is None:
                return None
            deleted = self._with_boards(pin, None)
            del self._pins[pin_id]
            for members in self._board_pins.values():
                members.discard(pin_id)
            self._sharing.forget("pin", pin_id)
            return deleted

    def search_pins(
        self, query: Query, access: AccessRule, *, limit: int, after: str | None = None
    ) -> list[Pin]:
        """Up to ``limit`` visible pins matching ``query``, in ``query.order``.

        Raises:
            InvalidInput: ``limit`` is below 1.
            InvalidQuery: ``after`` is not a well-formed pin id.
        """
        position = page_position(limit, after)
        newest = query.order == "newest"
        with self._lock:
            hits = self._matching(query, access)
            if position is not None:
                hits = [
                    pin
                    for pin in hits
                    if (_id_number(pin.id) < position if newest else _id_number(pin.id) > position)
                ]
            hits.sort(key=lambda pin: _id_number(pin.id), reverse=newest)
            return [self._with_boards(pin, access) for pin in hits[:limit]]

    def count_pins(self, query: Query, access: AccessRule) -> int:
        """How many visible pins match ``query``."""
        with self._lock:
            return len(self._matching(query, access))

    def tag_counts(
        self, access: AccessRule, *, prefix: str | None = None, limit: int = 1000
    ) -> list[TagCount]:
        """Direct tags of visible pins with their counts, by count descending then tag."""
        with self._lock:
            counts = Counter(
                tag for pin in self._pins.values() if self._visible(access, pin) for tag in pin.tags
            )
        ranked = sorted(
            (tag, count)
            for tag, count in counts.items()
            if prefix is None or tag.startswith(prefix)
        )
        ranked.sort(key=lambda item: -item[1])
        return [TagCount(tag=tag, count=count) for tag, count in ranked[: max(limit, 0)]]

    def count_blob_references(self, sha256: str) -> int:
        """How many pins, of any owner, have an original with this digest."""
        with self._lock:
            return sum(1 for pin in self._pins.values() if pin.media.sha256 == sha256)

    def owner_pin_ids(self, owner_id: str) -> list[str]:
        """Ids of every pin the user owns, newest first."""
        with self._lock:
            ids = [pin.id for pin in self._pins.values() if pin.owner_id == owner_id]
        return sorted(ids, key=_id_number, reverse=True)

    def pins_in_state(self, state: ProcessingState, *, limit: int) -> list[Pin]:
        """Up to ``limit`` pins whose ``processing`` is ``state``, oldest first.

        Raises:
            InvalidInput: ``limit`` is below 1.
        """
        if limit < 1:
            raise InvalidInput(f"limit must be at least 1, not {limit}")
        with self._lock:
            found = [pin for pin in self._pins.values() if pin.processing == state]
        found.sort(key=lambda pin: _id_number(pin.id))
        return found[:limit]

    # -- boards -----------------------------------------------------------------------------

    def create_board(self, board: Board) -> Board:
        """Store a new board (its ``pin_count`` is ignored: a new board is empty).

        Raises:
            Conflict: The board id exists, or the owner has a board with that name.
        """
        key = board_key(board.name)
        with self._lock:
            if board.id in self._boards:
                raise Conflict(f"board {board.id} exists already")
            if self._owner_board(board.owner_id, key) is not None:
                raise Conflict(f"a board named {board.name!r} exists already")
            stored = board.model_copy(update={"pin_count": 0})
            self._boards[board.id] = stored
            self._board_pins[board.id] = set()
            return stored

    def get_board(self, board_id: str, access: AccessRule) -> Board | None:
        """The board if it exists and ``access`` allows it, counting its visible pins."""
        with self._lock:
            board = self._boards.get(board_id)
            if board is None or not self._visible(access, board):
                return None
            return self._with_count(board, access)

    def find_board(self, owner_id: str, name: str, access: AccessRule) -> Board | None:
        """The owner's board with that name (case-insensitive), if ``access`` allows it."""
        key = _board_key_or_none(name)
        if key is None:
            return None
        with self._lock:
            board = self._owner_board(owner_id, key)
            if board is None or not self._visible(access, board):
                return None
            return self._with_count(board, access)

    def list_boards(self, access: AccessRule, *, owner_id: str | None = None) -> list[Board]:
        """Visible boards (of one owner if given), sorted by owner username then name."""
        with self._lock:
            boards = [
                board
                for board in self._boards.values()
                if self._visible(access, board) and (owner_id is None or board.owner_id == owner_id)
            ]
            boards.sort(key=lambda board: (board.owner, board.name, board.id))
            return [self._with_count(board, access) for board in boards]

    def update_board(self, board_id: str, changes: BoardChanges) -> Board | None:
        """Apply ``changes``; ``None`` when absent. ``pin_count`` counts every pin on it.

        Raises:
            Conflict: The new name is taken by another of the owner's boards.
        """
        with self._lock:
            board = self._boards.get(board_id)
            if board is None:
                return None
            update: dict[str, object] = {}
            if changes.name is not None:
                other = self._owner_board(board.owner_id, board_key(changes.name))
                if other is not None and other.id != board_id:
                    raise Conflict(f"a board named {changes.name!r} exists already")
                update["name"] = changes.name
            if changes.description is not None:
                update["description"] = changes.description
            if changes.visibility is not None:
                update["visibility"] = changes.visibility
            updated = board.model_copy(update=update)
            self._boards[board_id] = updated
            return self._with_count(updated, None)

    def delete_board(self, board_id: str) -> bool:
        """Delete the board with its shares and links; its pins stay. ``False`` when absent."""
        with self._lock:
            if self._boards.pop(board_id, None) is None:
                return False
            del self._board_pins[board_id]
            self._sharing.forget("board", board_id)
            return True

    def add_to_board(self, board_id: str, pin_id: str) -> None:
        """Put a pin on a board; no error if it is there already.

        Raises:
            NotFound: The board or the pin does not exist.
        """
        with self._lock:
            if board_id not in self._boards:
                raise NotFound(f"no board {board_id}")
            if pin_id not in self._pins:
                raise NotFound(f"no pin {pin_id}")
            self._board_pins[board_id].add(pin_id)

    def remove_from_board(self, board_id: str, pin_id: str) -> None:
        """Take a pin off a board; no error if it was not on it (or either is absent)."""
        with self._lock:
            self._board_pins.get(board_id, set()).discard(pin_id)

    # -- helpers (called with the lock held) ------------------------------------------------

    # -- shares -----------------------------------------------------------------------------

    def put_share(self, share: Share) -> Share:
        """Share a pin or board, replacing the role of an existing share.

        Raises:
            NotFound: The target does not exist.
        """
        with self._lock:
            self._require_target(share.target_kind, share.target_id)
            return self._sharing.put_share(share)

    def delete_share(self, target_kind: TargetKind, target_id: str, user_id: str) -> bool:
        """Stop sharing; ``False`` when there was no such share."""
        with self._lock:
            return self._sharing.delete_share(target_kind, target_id, user_id)

    def list_shares(self, target_kind: TargetKind, target_id: str) -> list[Share]:
        """Who a target is shared with, by case-folded username."""
        with self._lock:
            return self._sharing.shares_of(target_kind, target_id)

    def share_role(self, target_kind: TargetKind, target_id: str, user_id: str) -> ShareRole | None:
        """The user's strongest share of a target (for pins, through boards too)."""
        with self._lock:
            return self._share_role(target_kind, target_id, user_id)

    # -- links ------------------------------------------------------------------------------

    def add_link(self, link: Link, token_hash: str, password_hash: str | None) -> None:
        """Store a new public link.

        Raises:
            NotFound: The target does not exist.
        """
        with self._lock:
            self._require_target(link.target_kind, link.target_id)
            self._sharing.add_link(link, token_hash, password_hash)

    def find_link(self, token_hash: str) -> tuple[Link, str | None] | None:
        """The link with this token digest and its password hash."""
        with self._lock:
            return self._sharing.find_link(token_hash)

    def get_link(self, link_id: str) -> Link | None:
        """The link with this id."""
        with self._lock:
            return self._sharing.get_link(link_id)

    def use_link(self, link_id: str, when: datetime) -> bool:
        """Count one opening if the link is still usable."""
        with self._lock:
            return self._sharing.use_link(link_id, when)

    def revoke_link(self, link_id: str, when: datetime) -> bool:
        """Revoke a link."""
        with self._lock:
            return self._sharing.revoke_link(link_id, when)

    def list_links(
        self, *, created_by: str | None = None, target: tuple[TargetKind, str] | None = None
    ) -> list[Link]:
        """Links, newest first."""
        with self._lock:
            return self._sharing.list_links(created_by, target)

    def export_links(self, *, page_size: int = 500) -> Iterator[tuple[Link, str, str | None]]:
        """Every link with its token digest and password hash, by ascending id.

        Raises:
            InvalidInput: ``page_size`` is below 1.
        """
        return keyset_stream(self._link_page, lambda record: record[0].id, page_size)

    def _link_page(self, after: str | None, limit: int) -> list[tuple[Link, str, str | None]]:
        with self._lock:
            return self._sharing.link_page(after, limit)

    def import_link(self, link: Link, token_hash: str, password_hash: str | None) -> None:
        """Store a link exactly as exported elsewhere (uses, expiry, revocation).

        Raises:
            Conflict: A link with this id or token digest exists.
            NotFound: The target does not exist.
        """
        with self._lock:
            self._require_target(link.target_kind, link.target_id)
            self._sharing.import_link(link, token_hash, password_hash)

    # -- audit ------------------------------------------------------------------------------

    def add_audit_event(self, event: AuditEvent) -> None:
        """Record a permission change."""
        with self._lock:
            self._sharing.add_audit_event(event)

    def list_audit_events(self, *, limit: int = 100, before: str | None = None) -> list[AuditEvent]:
        """Events newest first."""
        with self._lock:
            return self._sharing.audit_events(limit, before)

    # -- visibility (called with the lock held) ---------------------------------------------

    def _visible(self, access: AccessRule, item: Pin | Board) -> bool:
        """The whole access rule for one pin or board: owner, visibility, shares, links."""
        if access.link_kind is not None:
            return self._in_link(access, item)
        if access.allows(item.owner_id, item.visibility):
            return True
        if not access.shares or access.owner_id is None:
            return False
        kind: TargetKind = "pin" if isinstance(item, Pin) else "board"
        return self._share_role(kind, item.id, access.owner_id) is not None

    def _in_link(self, access: AccessRule, item: Pin | Board) -> bool:
        if isinstance(item, Board):
            return access.link_kind == "board" and item.id == access.link_id
        if access.link_kind == "pin":
            return item.id == access.link_id
        board = self._boards.get(access.link_id or "")
        return (
            board is not None
            and item.id in self._board_pins[board.id]
            and item.owner_id == board.owner_id
        )

    def _share_role(
        self, target_kind: TargetKind, target_id: str, user_id: str
    ) -> ShareRole | None:
        roles = [self._sharing.role(target_kind, target_id, user_id)]
        pin = self._pins.get(target_id) if target_kind == "pin" else None
        if pin is not None:
            # A board share covers the pins its owner put on the board, no one else's.
            roles.extend(
                self._sharing.role("board", board_id, user_id)
                for board_id, members in self._board_pins.items()
                if target_id in members and self._boards[board_id].owner_id == pin.owner_id
            )
        return strongest(role for role in roles if role is not None)

    def _require_target(self, target_kind: TargetKind, target_id: str) -> None:
        table: dict[str, Pin] | dict[str, Board] = (
            self._pins if target_kind == "pin" else self._boards
        )
        if target_id not in table:
            raise NotFound(f"no such {target_kind}")

    def _matching(self, query: Query, access: AccessRule) -> list[Pin]:
        """Visible pins matching every term of ``query``, unordered."""
        board_keys = self._visible_board_keys(access)
        return [
            pin
            for pin in self._pins.values()
            if self._visible(access, pin)
            and all(_holds(term, pin, board_keys.get(pin.id, frozenset())) for term in query.terms)
        ]

    def _visible_board_keys(self, access: AccessRule) -> dict[str, frozenset[str]]:
        """For each pin id, the keys of the boards it is on that ``access`` allows."""
        keys: dict[str, set[str]] = {}
        for board in self._boards.values():
            if not self._visible(access, board):
                continue
            for pin_id in self._board_pins[board.id]:
                keys.setdefault(pin_id, set()).add(board_key(board.name))
        return {pin_id: frozenset(found) for pin_id, found in keys.items()}

    def _with_boards(self, pin: Pin, access: AccessRule | None) -> Pin:
        """The pin with ``boards`` set to the names of its boards ``access`` allows.

        ``access=None`` lists every board (for writes, which the facade has checked).
        """
        names = sorted(
            board.name
            for board in self._boards.values()
            if pin.id in self._board_pins[board.id]
            and (access is None or self._visible(access, board))
        )
        return pin.model_copy(update={"boards": tuple(names)})

    def _with_count(self, board: Board, access: AccessRule | None) -> Board:
        """The board with ``pin_count`` set to how many of its pins ``access`` allows."""
        count = sum(
            1
            for pin_id in self._board_pins[board.id]
            if access is None or self._visible(access, self._pins[pin_id])
        )
        return board.model_copy(update={"pin_count": count})

    def _owner_board(self, owner_id: str, key: str) -> Board | None:
        """The owner's board whose name has this key, if any."""
        for board in self._boards.values():
            if board.owner_id == owner_id and board_key(board.name) == key:
                return board
        return None


# -- pure functions ---------------------------------------------------------------------------


def _id_number(pin_id: str) -> int:
    """The integer a pin id orders by.

    Raises:
        InvalidInput: The id is not well-formed.
    """
    number = decode_id(pin_id)
    if number is None:
        raise InvalidInput(f"not a pin id: {pin_id!r}")
    return number


def _board_key_or_none(name: str) -> str | None:
    """The board key of ``name``, or ``None`` when no board can have that name."""
    try:
        return board_key(name)
    except InvalidInput:
        return None


def _pin_update(pin: Pin, changes: PinChanges) -> dict[str, object]:
    """The fields of ``pin`` that ``changes`` replaces, with their new values."""
    tags = (set(pin.tags) | set(changes.add_tags)) - set(changes.remove_tags)
    update: dict[str, object] = {"tags": tuple(sorted(tags)), "updated_at": changes.updated_at}
    if changes.title is not None:
        update["title"] = changes.title
    if changes.description is not None:
        update["description"] = changes.description
    if changes.visibility is not None:
        update["visibility"] = changes.visibility
    if changes.thumbnails is not None:
        update["thumbnails"] = tuple(changes.thumbnails)
    if changes.processing is not None:
        update["processing"] = changes.processing
    media = changes.media_updates()
    if media:
        update["media"] = pin.media.model_copy(update=media)
    return update


def _holds(term: Term, pin: Pin, board_keys: frozenset[str]) -> bool:
    """Whether ``term``, with its negation applied, holds for ``pin``.

    Args:
        term: One search condition.
        pin: The stored pin.
        board_keys: Keys of the boards the pin is on that the caller can see.
    """
    return _matches(term, pin, board_keys) != term.negated


def _matches(term: Term, pin: Pin, board_keys: frozenset[str]) -> bool:
    """Whether the un-negated ``term`` matches ``pin`` (see :mod:`pinsphere.query`)."""
    if isinstance(term, TagTerm):
        return any(term.tag in tag_ancestors(tag) for tag in pin.tags)
    if isinstance(term, TextTerm):
        return _text_matches(term, search_words(pin.title, pin.description, pin.tags))
    if isinstance(term, BoardTerm):
        key = _board_key_or_none(term.name)
        return key is not None and key in board_keys
    if isinstance(term, TypeTerm):
        return (term.media_kind is None or pin.media.kind == term.media_kind) and (
            term.mime_type is None or pin.media.mime_type == term.mime_type
        )
    if isinstance(term, OwnerTerm):
        # An unknown user owns nothing; comparing with None would match nothing anyway, but
        # saying it keeps the rule visible.
        return term.user_id is not None and pin.owner_id == term.user_id
    if isinstance(term, VisibilityTerm):
        return pin.visibility == term.visibility
    if isinstance(term, DateTerm):
        return _date_matches(term, pin.created_at)
    if isinstance(term, DimensionTerm):
        value = pin.media.width if term.field == "width" else pin.media.height
        return value is not None and _COMPARISONS[term.op](value, term.value)
    raise InvalidQuery(f"unknown search term: {term!r}")


def _text_matches(term: TextTerm, pin_words: list[str]) -> bool:
    """All words present (anywhere), or for a phrase, present consecutively and in order."""
    if not term.phrase:
        return set(term.words) <= set(pin_words)
    size = len(term.words)
    return any(
        tuple(pin_words[start : start + size]) == term.words
        for start in range(len(pin_words) - size + 1)
    )


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _date_matches(term: DateTerm, created_at: datetime) -> bool:
    """``before`` a day: strictly earlier than its start; ``after``: from the next day on."""
    created = created_at if created_at.tzinfo is not None else created_at.replace(tzinfo=UTC)
    if term.op == "before":
        return created < _day_start(term.day)
    try:
        next_day = term.day + timedelta(days=1)
    except OverflowError:
        # Nothing can be created after the last representable day.
        return False
    return created >= _day_start(next_day)
