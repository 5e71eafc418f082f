"""The ``mongodb://`` metadata backend: pins, boards, shares, links and audit on pymongo.

Document layout and indexes are described in :mod:`pinsphere.backends.mongo.documents`;
how a search and the caller's access rule become one filter, in
:mod:`pinsphere.backends.mongo.filters`.

MongoDB has no multi-document transactions outside replica sets, so writes that touch
several documents are ordered and compensated instead:

* ``insert_pins`` checks ids and boards first, inserts in one ordered ``insert_many``, and
  on a conflict found only then (a concurrent insert) deletes what it had inserted;
* deleting a pin or board removes the document first (it vanishes from every read at
  once), then its shares, links and board memberships — leftovers of a crash in between
  are unreachable, as every read starts from an existing pin or board;
* tag changes are read-modify-write with an optimistic ``rev`` check, retried on a race, so
  two concurrent updates adding different tags both take effect.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Self

from pymongo import ASCENDING, DESCENDING, MongoClient, ReturnDocument
from pymongo.errors import BulkWriteError

from pinsphere.backends.base import (
    BoardChanges,
    MetadataBackend,
    MetadataCapabilities,
    PinChanges,
    keyset_stream,
    page_position,
)
from pinsphere.backends.mongo.documents import (
    PIN_PROJECTION,
    Collections,
    Document,
    board_document,
    board_from_document,
    media_value,
    pin_document,
    pin_from_document,
    plain,
    search_fields,
    to_micros,
)
from pinsphere.backends.mongo.errors import is_duplicate, translated, translating
from pinsphere.backends.mongo.filters import (
    AccessFilters,
    all_of,
    keyset,
    query_filter,
)
from pinsphere.backends.mongo.options import DEFAULT_DATABASE, MongoOptions, parse_mongo_url
from pinsphere.backends.mongo.sharing import MongoSharing
from pinsphere.errors import BackendUnavailable, Conflict, InvalidInput, NotFound
from pinsphere.ids import decode_id, encode_id
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
from pinsphere.query import Query
from pinsphere.tags import board_key

__all__ = ["MongoMetadataBackend"]

# Optimistic tag updates retry this often before giving up on a pin under heavy contention.
_UPDATE_ATTEMPTS = 20


class MongoMetadataBackend(MetadataBackend):
    """Pins, boards, shares, links and audit events in one MongoDB database.

    Open it from a URL (:meth:`from_url`), or hand it a client, e.g. a test double::

        MongoMetadataBackend(mongomock.MongoClient(), database="pins")

    Args:
        client: A pymongo client (or one with the same interface).
        database: The database's name.
        collection_prefix: Put before every collection name.
        create_indexes: Create the indexes now (idempotent).
        owns_client: Close the client in :meth:`close`.

    Raises:
        InvalidInput: A bad collection prefix.
        BackendUnavailable: The indexes could not be created (the server is unreachable).
    """

    capabilities = MetadataCapabilities(
        transactions=False, full_text_index=True, shared_between_processes=True
    )

    def __init__(
        self,
        client: MongoClient[Document],
        database: str = DEFAULT_DATABASE,
        *,
        collection_prefix: str = "",
        create_indexes: bool = True,
        owns_client: bool = False,
    ) -> None:
        try:
            MongoOptions(collection_prefix=collection_prefix)
        except ValueError as exc:
            raise InvalidInput(f"bad collection prefix {collection_prefix!r}") from exc
        self._client = client
        self._owns_client = owns_client
        with translating():
            self._db = client[database]
            self._c = Collections.of(self._db, collection_prefix)
            if create_indexes:
                self._c.create_indexes()
        self._sharing = MongoSharing(self._c)

    @classmethod
    def from_url(cls, url: str) -> Self:
        """Connect to the server and database a ``mongodb://`` URL names.

        pymongo's own options (``replicaSet``, ``tls``, ``serverSelectionTimeoutMS``...)
        pass through; Pinsphere's are :class:`~pinsphere.backends.mongo.options.MongoOptions`.

        Raises:
            InvalidInput: A bad URL or option.
            BackendUnavailable: The server cannot be reached.
        """
        target = parse_mongo_url(url)
        with translating():
            client: MongoClient[Document] = MongoClient(target.client_url)
        try:
            return cls(
                client,
                target.database,
                collection_prefix=target.options.collection_prefix,
                create_indexes=target.options.create_indexes,
                owns_client=True,
            )
        except BaseException:
            client.close()
            raise

    @translated
    def close(self) -> None:
        """Close the client, if this backend opened it."""
        if self._owns_client:
            self._client.close()

    @translated
    def ping(self) -> None:
        """Ask the server for a ``ping``.

        Raises:
            BackendUnavailable: It does not answer.
        """
        answer = self._db.command("ping")
        if not answer.get("ok"):
            raise BackendUnavailable("MongoDB did not answer the ping")

    # -- pins -------------------------------------------------------------------------------

    @translated
    def insert_pins(self, pins: Iterable[tuple[Pin, Sequence[str]]]) -> int:
        """Insert new pins on their boards, all or nothing.

        Raises:
            Conflict: A pin id exists already, or appears twice in ``pins``.
            NotFound: A board id does not exist.
            InvalidInput: A pin id is not a well-formed id.
        """
        docs: list[Document] = []
        seen: set[int] = set()
        for pin, board_ids in pins:
            doc = pin_document(pin, [plain(b, "a board id") for b in board_ids])
            if doc["_id"] in seen:
                raise Conflict(f"pin {pin.id} appears twice")
            seen.add(doc["_id"])
            docs.append(doc)
        if not docs:
            return 0
        wanted = sorted({b for doc in docs for b in doc["board_ids"]})
        if wanted:
            found = {d["_id"] for d in self._c.boards.find({"_id": {"$in": wanted}}, {"_id": 1})}
            if missing := [b for b in wanted if b not in found]:
                raise NotFound(f"no board {missing[0]}")
        if self._c.pins.find_one({"_id": {"$in": sorted(seen)}}, {"_id": 1}) is not None:
            raise Conflict("a pin with one of these ids exists already")
        try:
            self._c.pins.insert_many(docs, ordered=True)
        except BulkWriteError as exc:
            # Inserted concurrently after the check: undo the ones this call inserted.
            inserted = [doc["_id"] for doc in docs[: exc.details.get("nInserted", 0)]]
            if inserted:
                self._c.pins.delete_many({"_id": {"$in": inserted}})
            if is_duplicate(exc):
                raise Conflict("a pin with one of these ids exists already") from exc
            raise
        return len(docs)

    @translated
    def get_pin(self, pin_id: str, access: AccessRule) -> Pin | None:
        """The pin if it exists and ``access`` allows it, with its visible boards."""
        key = decode_id(pin_id)
        if key is None:
            return None
        rules = AccessFilters(self._c, access)
        doc = self._c.pins.find_one(all_of({"_id": key}, rules.pins()), PIN_PROJECTION)
        return None if doc is None else self._with_boards([doc], rules)[0]

    @translated
    def update_pin(self, pin_id: str, changes: PinChanges) -> Pin | None:
        """Apply ``changes``; ``None`` when the pin does not exist.

        Tags become ``(current | add_tags) - remove_tags``, applied to the tags as stored at
        the moment of writing.

        Raises:
            Conflict: The pin changed concurrently too often to apply the change.
        """
        key = decode_id(pin_id)
        if key is None:
            return None
        for _ in range(_UPDATE_ATTEMPTS):
            current = self._c.pins.find_one(
                {"_id": key}, {"title": 1, "description": 1, "tags": 1, "rev": 1}
            )
            if current is None:
                return None
            updated = self._c.pins.find_one_and_update(
                {"_id": key, "rev": current["rev"]},
                {"$set": _pin_changes(current, changes), "$inc": {"rev": 1}},
                projection=PIN_PROJECTION,
                return_document=ReturnDocument.AFTER,
            )
            if updated is not None:
                return self._with_boards([updated], None)[0]
        raise Conflict(f"pin {pin_id} is being changed by others; try again")

    @translated
    def delete_pin(self, pin_id: str) -> Pin | None:
        """Delete the pin, then its shares and links; return it with every board it was on."""
        key = decode_id(pin_id)
        if key is None:
            return None
        doc = self._c.pins.find_one_and_delete({"_id": key}, projection=PIN_PROJECTION)
        if doc is None:
            return None
        self._sharing.forget("pin", encode_id(key))
        return self._with_boards([doc], None)[0]

    @translated
    def search_pins(
        self, query: Query, access: AccessRule, *, limit: int, after: str | None = None
    ) -> list[Pin]:
        """Up to ``limit`` visible pins matching ``query``, by ``_id`` in ``query.order``.

        Raises:
            InvalidInput: ``limit`` is below 1.
            InvalidQuery: ``after`` is not a well-formed pin id.
        """
        position = page_position(limit, after)
        newest = query.order == "newest"
        rules = AccessFilters(self._c, access)
        wanted = all_of(rules.pins(), query_filter(query, rules, self._c), keyset(position, newest))
        docs = list(
            self._c.pins.find(wanted, PIN_PROJECTION)
            .sort("_id", DESCENDING if newest else ASCENDING)
            .limit(limit)
        )
        return self._with_boards(docs, rules)

    @translated
    def count_pins(self, query: Query, access: AccessRule) -> int:
        """How many visible pins match ``query``."""
        rules = AccessFilters(self._c, access)
        return self._c.pins.count_documents(
            all_of(rules.pins(), query_filter(query, rules, self._c))
        )

    @translated
    def tag_counts(
        self, access: AccessRule, *, prefix: str | None = None, limit: int = 1000
    ) -> list[TagCount]:
        """Direct tags of visible pins with their counts, by an aggregation on the server.

        Sorted by count descending, then tag (MongoDB compares strings by their UTF-8 bytes,
        which is code point order, as Python does).
        """
        if limit <= 0:
            return []
        rules = AccessFilters(self._c, access)
        starts: Document = {}
        if prefix is not None:
            starts = {"tags": {"$regex": "^" + re.escape(plain(prefix, "a tag prefix"))}}
        pipeline: list[Document] = []
        if matched := all_of(rules.pins(), starts):
            pipeline.append({"$match": matched})
        pipeline.append({"$unwind": "$tags"})
        if starts:
            pipeline.append({"$match": starts})
        pipeline += [
            {"$group": {"_id": "$tags", "count": {"$sum": 1}}},
            {"$sort": {"count": -1, "_id": 1}},
            {"$limit": limit},
        ]
        return [
            TagCount(tag=row["_id"], count=row["count"]) for row in self._c.pins.aggregate(pipeline)
        ]

    @translated
    def count_blob_references(self, sha256: str) -> int:
        """How many pins, of any owner, have an original with this digest."""
        return self._c.pins.count_documents({"media.sha256": plain(sha256, "a digest")})

    @translated
    def owner_pin_ids(self, owner_id: str) -> list[str]:
        """Ids of every pin the user owns, newest first."""
        docs = self._c.pins.find({"owner_id": plain(owner_id, "a user id")}, {"_id": 1})
        return [encode_id(doc["_id"]) for doc in docs.sort("_id", DESCENDING)]

    @translated
    def pins_in_state(self, state: ProcessingState, *, limit: int) -> list[Pin]:
        """Up to ``limit`` pins whose ``processing`` is ``state``, oldest first.

        Raises:
            InvalidInput: ``limit`` is below 1, or ``state`` is not a processing state.
        """
        if limit < 1:
            raise InvalidInput("limit must be at least 1")
        wanted = plain(state, "a processing state")
        # Documents from before the field existed are ready; only that state needs them.
        where: Document = (
            {"processing": {"$in": [wanted, None]}} if wanted == "ready" else {"processing": wanted}
        )
        docs = self._c.pins.find(where, PIN_PROJECTION).sort("_id", ASCENDING).limit(limit)
        return [pin_from_document(doc, ()) for doc in docs]

    # -- boards -----------------------------------------------------------------------------

    @translated
    def create_board(self, board: Board) -> Board:
        """Store a new, empty board.

        Raises:
            Conflict: The board id exists, or the owner has a board with that name.
        """
        doc = board_document(board)
        self._c.boards.insert_one(doc)
        return board_from_document(doc, 0)

    @translated
    def get_board(self, board_id: str, access: AccessRule) -> Board | None:
        """The board if it exists and ``access`` allows it, counting its visible pins."""
        rules = AccessFilters(self._c, access)
        doc = self._c.boards.find_one(
            all_of({"_id": plain(board_id, "a board id")}, rules.boards())
        )
        return None if doc is None else self._with_counts([doc], rules)[0]

    @translated
    def find_board(self, owner_id: str, name: str, access: AccessRule) -> Board | None:
        """The owner's board with that name (case-insensitive), if ``access`` allows it."""
        try:
            key = board_key(plain(name, "a board name"))
        except InvalidInput:
            return None
        rules = AccessFilters(self._c, access)
        wanted = {"owner_id": plain(owner_id, "a user id"), "name_key": key}
        doc = self._c.boards.find_one(all_of(wanted, rules.boards()))
        return None if doc is None else self._with_counts([doc], rules)[0]

    @translated
    def list_boards(self, access: AccessRule, *, owner_id: str | None = None) -> list[Board]:
        """Visible boards (of one owner if given), sorted by owner username then name."""
        rules = AccessFilters(self._c, access)
        owner = {} if owner_id is None else {"owner_id": plain(owner_id, "a user id")}
        docs = list(
            self._c.boards.find(all_of(owner, rules.boards())).sort(
                [("owner", ASCENDING), ("name", ASCENDING), ("_id", ASCENDING)]
            )
        )
        return self._with_counts(docs, rules)

    @translated
    def update_board(self, board_id: str, changes: BoardChanges) -> Board | None:
        """Apply ``changes``; ``None`` when absent. ``pin_count`` counts every pin on it.

        Raises:
            Conflict: The new name is taken by another of the owner's boards.
        """
        update: Document = {}
        if changes.name is not None:
            update["name"] = changes.name
            update["name_key"] = board_key(changes.name)
        if changes.description is not None:
            update["description"] = changes.description
        if changes.visibility is not None:
            update["visibility"] = changes.visibility
        wanted = {"_id": plain(board_id, "a board id")}
        if update:
            doc = self._c.boards.find_one_and_update(
                wanted, {"$set": update}, return_document=ReturnDocument.AFTER
            )
        else:
            doc = self._c.boards.find_one(wanted)
        return None if doc is None else self._with_counts([doc], None)[0]

    @translated
    def delete_board(self, board_id: str) -> bool:
        """Delete the board, then its memberships, shares and links; its pins stay."""
        board = plain(board_id, "a board id")
        if self._c.boards.delete_one({"_id": board}).deleted_count == 0:
            return False
        self._c.pins.update_many({"board_ids": board}, {"$pull": {"board_ids": board}})
        self._sharing.forget("board", board)
        return True

    @translated
    def add_to_board(self, board_id: str, pin_id: str) -> None:
        """Put a pin on a board; no error if it is there already.

        Raises:
            NotFound: The board or the pin does not exist.
        """
        board = plain(board_id, "a board id")
        if self._c.boards.find_one({"_id": board}, {"_id": 1}) is None:
            raise NotFound(f"no board {board_id}")
        key = decode_id(pin_id)
        done = (
            None
            if key is None
            else self._c.pins.update_one({"_id": key}, {"$addToSet": {"board_ids": board}})
        )
        if done is None or done.matched_count == 0:
            raise NotFound(f"no pin {pin_id}")

    @translated
    def remove_from_board(self, board_id: str, pin_id: str) -> None:
        """Take a pin off a board; no error if it was not on it (or either is absent)."""
        board = plain(board_id, "a board id")
        key = decode_id(pin_id)
        if key is not None:
            self._c.pins.update_one({"_id": key}, {"$pull": {"board_ids": board}})

    # -- shares, links, audit ---------------------------------------------------------------

    @translated
    def put_share(self, share: Share) -> Share:
        """Share a pin or board, replacing the role of an existing share.

        Raises:
            NotFound: The target does not exist.
        """
        return self._sharing.put_share(share)

    @translated
    def delete_share(self, target_kind: TargetKind, target_id: str, user_id: str) -> bool:
        """Stop sharing; ``False`` when there was no such share."""
        return self._sharing.delete_share(target_kind, target_id, user_id)

    @translated
    def list_shares(self, target_kind: TargetKind, target_id: str) -> list[Share]:
        """Who a target is shared with, by case-folded username."""
        return self._sharing.list_shares(target_kind, target_id)

    @translated
    def share_role(self, target_kind: TargetKind, target_id: str, user_id: str) -> ShareRole | None:
        """The user's strongest share of a target (for pins, through their owner's boards)."""
        return self._sharing.share_role(target_kind, target_id, user_id)

    @translated
    def add_link(self, link: Link, token_hash: str, password_hash: str | None) -> None:
        """Store a new public link.

        Raises:
            NotFound: The target does not exist.
            Conflict: The link id or token digest exists.
        """
        self._sharing.add_link(link, token_hash, password_hash)

    @translated
    def find_link(self, token_hash: str) -> tuple[Link, str | None] | None:
        """The link with this token digest and its password hash."""
        return self._sharing.find_link(token_hash)

    @translated
    def get_link(self, link_id: str) -> Link | None:
        """The link with this id."""
        return self._sharing.get_link(link_id)

    @translated
    def use_link(self, link_id: str, when: datetime) -> bool:
        """Count one opening of a link, atomically, if it is still usable at ``when``."""
        return self._sharing.use_link(link_id, when)

    @translated
    def revoke_link(self, link_id: str, when: datetime) -> bool:
        """Revoke a link; ``False`` when absent or revoked already."""
        return self._sharing.revoke_link(link_id, when)

    @translated
    def list_links(
        self, *, created_by: str | None = None, target: tuple[TargetKind, str] | None = None
    ) -> list[Link]:
        """Links, newest first, made by one user and/or for one target."""
        return self._sharing.list_links(created_by, target)

    def export_links(self, *, page_size: int = 500) -> Iterator[tuple[Link, str, str | None]]:
        """Every link with its token digest and password hash, by ascending id.

        Raises:
            InvalidInput: ``page_size`` is below 1.
        """
        return keyset_stream(self._link_page, lambda record: record[0].id, page_size)

    @translated
    def _link_page(self, after: str | None, limit: int) -> list[tuple[Link, str, str | None]]:
        # Each page is read under translation: the stream is read after this method returns.
        return self._sharing.link_page(after, limit)

    @translated
    def import_link(self, link: Link, token_hash: str, password_hash: str | None) -> None:
        """Store a link exactly as exported elsewhere (uses, expiry, revocation).

        :meth:`add_link` already stores every field it is given (and counts a limited
        link's remaining uses from them), so the two share one insert.

        Raises:
            Conflict: A link with this id or token digest exists.
            NotFound: The target does not exist.
        """
        self._sharing.add_link(link, token_hash, password_hash)

    @translated
    def add_audit_event(self, event: AuditEvent) -> None:
        """Record a permission change."""
        self._sharing.add_audit_event(event)

    @translated
    def list_audit_events(self, *, limit: int = 100, before: str | None = None) -> list[AuditEvent]:
        """Recorded events, newest first, older than the event id ``before``."""
        return self._sharing.list_audit_events(limit, before)

    # -- helpers ----------------------------------------------------------------------------

    def _with_boards(
        self, docs: Sequence[Mapping[str, Any]], rules: AccessFilters | None
    ) -> list[Pin]:
        """Pins with the names of the boards they are on that ``rules`` allow (``None``:
        every board), read for the whole page in one query."""
        board_ids = sorted({b for doc in docs for b in doc.get("board_ids", ())})
        names: dict[str, str] = {}
        if board_ids:
            allowed = {} if rules is None else rules.boards()
            found = self._c.boards.find(all_of({"_id": {"$in": board_ids}}, allowed), {"name": 1})
            names = {board["_id"]: board["name"] for board in found}
        return [
            pin_from_document(doc, sorted(names[b] for b in doc.get("board_ids", ()) if b in names))
            for doc in docs
        ]

    def _with_counts(
        self, docs: Sequence[Mapping[str, Any]], rules: AccessFilters | None
    ) -> list[Board]:
        """Boards with how many of their pins ``rules`` allow (``None``: every pin), counted
        for all of them in one aggregation."""
        board_ids = [doc["_id"] for doc in docs]
        counts: dict[str, int] = {}
        if board_ids:
            on_them = {"board_ids": {"$in": board_ids}}
            allowed = {} if rules is None else rules.pins()
            pipeline: list[Document] = [
                {"$match": all_of(on_them, allowed)},
                {"$project": {"board_ids": 1}},
                {"$unwind": "$board_ids"},
                {"$match": on_them},
                {"$group": {"_id": "$board_ids", "count": {"$sum": 1}}},
            ]
            counts = {row["_id"]: row["count"] for row in self._c.pins.aggregate(pipeline)}
        return [board_from_document(doc, counts.get(doc["_id"], 0)) for doc in docs]


def _pin_changes(current: Mapping[str, Any], changes: PinChanges) -> Document:
    """The ``$set`` of an update, from the stored title, description and tags."""
    tags = (set(current["tags"]) | set(changes.add_tags)) - set(changes.remove_tags)
    title = current["title"] if changes.title is None else changes.title
    description = current["description"] if changes.description is None else changes.description
    update: Document = {
        **search_fields(title, description, tags),
        "title": title,
        "description": description,
        "updated_at": to_micros(changes.updated_at),
    }
    if changes.visibility is not None:
        update["visibility"] = changes.visibility
    if changes.thumbnails is not None:
        update["thumbnails"] = list(changes.thumbnails)
    if changes.processing is not None:
        update["processing"] = changes.processing
    for name, value in changes.media_updates().items():
        update[f"media.{name}"] = media_value(name, value)
    return update
