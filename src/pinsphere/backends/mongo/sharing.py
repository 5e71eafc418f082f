"""Shares, public links and the audit trail of the MongoDB metadata backend.

Shares are upserted on their unique key ``(target_kind, target_id, user_id)``; a link's use
is counted by one conditional update, so two visitors can never both take a link's last
use; audit events are keyed by their time-ordered id, read newest first by ``_id``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from pinsphere.backends.mongo.documents import (
    Collections,
    Document,
    from_micros,
    plain,
    to_micros,
)
from pinsphere.errors import Conflict, InvalidInput, NotFound
from pinsphere.ids import decode_id, encode_id
from pinsphere.models import AuditEvent, Link, Share, ShareRole, TargetKind

__all__ = ["MongoSharing", "canonical_target"]


def canonical_target(kind: TargetKind, target_id: str) -> str | None:
    """The stored form of a target id (pin ids in their canonical spelling); ``None`` when
    a pin id is malformed."""
    if kind == "pin":
        key = decode_id(target_id)
        return None if key is None else encode_id(key)
    return plain(target_id, "a board id")


def _share(doc: Mapping[str, Any]) -> Share:
    return Share(
        id=doc["_id"],
        target_kind=doc["target_kind"],
        target_id=doc["target_id"],
        user_id=doc["user_id"],
        username=doc["username"],
        role=doc["role"],
        created_by=doc["created_by"],
        created_at=from_micros(doc["created_at"]),
    )


def _maybe_time(value: int | None) -> datetime | None:
    return None if value is None else from_micros(value)


def _link(doc: Mapping[str, Any]) -> Link:
    return Link(
        id=doc["_id"],
        target_kind=doc["target_kind"],
        target_id=doc["target_id"],
        created_by=doc["created_by"],
        created_at=from_micros(doc["created_at"]),
        expires_at=_maybe_time(doc.get("expires_at")),
        max_uses=doc.get("max_uses"),
        uses=doc["uses"],
        has_password=doc.get("password_hash") is not None,
        allow_download=doc["allow_download"],
        revoked_at=_maybe_time(doc.get("revoked_at")),
    )


class MongoSharing:
    """The share, link and audit operations, over the backend's collections.

    Args:
        collections: The backend's collections.
    """

    def __init__(self, collections: Collections) -> None:
        self._c = collections

    # -- shares -----------------------------------------------------------------------------

    def require_target(self, kind: TargetKind, target_id: str) -> str:
        """The canonical id of an existing pin or board.

        Raises:
            NotFound: It does not exist.
        """
        canonical = canonical_target(kind, target_id)
        if canonical is not None:
            if kind == "pin":
                found = self._c.pins.find_one({"_id": decode_id(canonical)}, {"_id": 1})
            else:
                found = self._c.boards.find_one({"_id": canonical}, {"_id": 1})
            if found is not None:
                return canonical
        raise NotFound(f"no such {kind}")

    def put_share(self, share: Share) -> Share:
        """Insert a share, or change the role (and username) of the existing one."""
        target_id = self.require_target(share.target_kind, share.target_id)
        key = {
            "target_kind": share.target_kind,
            "target_id": target_id,
            "user_id": plain(share.user_id, "a user id"),
        }
        update = {
            "$set": {"role": share.role, "username": share.username},
            "$setOnInsert": {
                "_id": plain(share.id, "a share id"),
                "created_by": share.created_by,
                "created_at": to_micros(share.created_at),
            },
        }
        for attempt in range(2):
            try:
                doc = self._c.shares.find_one_and_update(
                    key, update, upsert=True, return_document=ReturnDocument.AFTER
                )
            except DuplicateKeyError:
                # Two upserts raced and the other inserted first: now this one updates.
                if attempt:
                    raise
                continue
            if doc is not None:
                return _share(doc)
        raise Conflict("the share changed concurrently")  # pragma: no cover - an upsert returns

    def delete_share(self, kind: TargetKind, target_id: str, user_id: str) -> bool:
        """Remove a share; whether there was one."""
        canonical = canonical_target(kind, target_id)
        if canonical is None:
            return False
        done = self._c.shares.delete_one(
            {
                "target_kind": kind,
                "target_id": canonical,
                "user_id": plain(user_id, "a user id"),
            }
        )
        return done.deleted_count == 1

    def list_shares(self, kind: TargetKind, target_id: str) -> list[Share]:
        """Shares of one target, by case-folded username."""
        canonical = canonical_target(kind, target_id)
        if canonical is None:
            return []
        docs = self._c.shares.find({"target_kind": kind, "target_id": canonical})
        return sorted((_share(doc) for doc in docs), key=lambda s: s.username.casefold())

    def share_role(self, kind: TargetKind, target_id: str, user_id: str) -> ShareRole | None:
        """The user's strongest share of a target; for a pin, through its owner's boards too."""
        canonical = canonical_target(kind, target_id)
        if canonical is None:
            return None
        user = plain(user_id, "a user id")
        wanted: list[dict[str, Any]] = [{"target_kind": kind, "target_id": canonical}]
        if kind == "pin":
            pin = self._c.pins.find_one(
                {"_id": decode_id(canonical)}, {"owner_id": 1, "board_ids": 1}
            )
            if pin is not None and pin.get("board_ids"):
                owned = self._c.boards.find(
                    {"_id": {"$in": pin["board_ids"]}, "owner_id": pin["owner_id"]}, {"_id": 1}
                )
                board_ids = [board["_id"] for board in owned]
                if board_ids:
                    wanted.append({"target_kind": "board", "target_id": {"$in": board_ids}})
        roles = [
            doc["role"]
            for doc in self._c.shares.find({"user_id": user, "$or": wanted}, {"role": 1})
        ]
        if not roles:
            return None
        return "editor" if "editor" in roles else "viewer"

    def forget(self, kind: TargetKind, target_id: str) -> None:
        """Delete a deleted target's shares and links."""
        target = {"target_kind": kind, "target_id": target_id}
        self._c.shares.delete_many(target)
        self._c.links.delete_many(target)

    # -- links ------------------------------------------------------------------------------

    def add_link(self, link: Link, token_hash: str, password_hash: str | None) -> None:
        """Insert a link for an existing target."""
        target_id = self.require_target(link.target_kind, link.target_id)
        self._c.links.insert_one(
            {
                "_id": plain(link.id, "a link id"),
                "seq": decode_id(link.id) or 0,
                "token_hash": plain(token_hash, "a token digest"),
                "target_kind": link.target_kind,
                "target_id": target_id,
                "created_by": link.created_by,
                "created_at": to_micros(link.created_at),
                "expires_at": None if link.expires_at is None else to_micros(link.expires_at),
                "max_uses": link.max_uses,
                "uses": link.uses,
                # Counted down with uses; absent on links without a limit.
                **({} if link.max_uses is None else {"uses_left": link.max_uses - link.uses}),
                "password_hash": password_hash,
                "allow_download": link.allow_download,
                "revoked_at": None if link.revoked_at is None else to_micros(link.revoked_at),
            }
        )

    def link_page(self, after: str | None, limit: int) -> list[tuple[Link, str, str | None]]:
        """Up to ``limit`` links with ids above ``after``, by ascending id, with digests."""
        wanted: Document = {} if after is None else {"_id": {"$gt": plain(after, "a link id")}}
        docs = self._c.links.find(wanted).sort("_id", ASCENDING).limit(limit)
        return [(_link(doc), doc["token_hash"], doc.get("password_hash")) for doc in docs]

    def find_link(self, token_hash: str) -> tuple[Link, str | None] | None:
        """A link and its password hash, by token digest."""
        doc = self._c.links.find_one({"token_hash": plain(token_hash, "a token digest")})
        return None if doc is None else (_link(doc), doc.get("password_hash"))

    def get_link(self, link_id: str) -> Link | None:
        """A link by id."""
        doc = self._c.links.find_one({"_id": plain(link_id, "a link id")})
        return None if doc is None else _link(doc)

    def use_link(self, link_id: str, when: datetime) -> bool:
        """Count one use, in one conditional update, if the link is still usable at ``when``.

        A limited link is counted down (``uses_left > 0``), an unlimited one only counted;
        each is a single atomic update, so concurrent visitors cannot overdraw a link.
        """
        usable: Document = {
            "_id": plain(link_id, "a link id"),
            "revoked_at": None,
            "$or": [{"expires_at": None}, {"expires_at": {"$gt": to_micros(when)}}],
        }
        limited = self._c.links.update_one(
            {**usable, "uses_left": {"$gt": 0}}, {"$inc": {"uses": 1, "uses_left": -1}}
        )
        if limited.modified_count == 1:
            return True
        unlimited = self._c.links.update_one({**usable, "max_uses": None}, {"$inc": {"uses": 1}})
        return unlimited.modified_count == 1

    def revoke_link(self, link_id: str, when: datetime) -> bool:
        """Revoke a link once."""
        done = self._c.links.update_one(
            {"_id": plain(link_id, "a link id"), "revoked_at": None},
            {"$set": {"revoked_at": to_micros(when)}},
        )
        return done.modified_count == 1

    def list_links(
        self, created_by: str | None, target: tuple[TargetKind, str] | None
    ) -> list[Link]:
        """Links by creator and/or target, newest first."""
        wanted: Document = {}
        if created_by is not None:
            wanted["created_by"] = plain(created_by, "a user id")
        if target is not None:
            canonical = canonical_target(*target)
            if canonical is None:
                return []
            wanted.update(target_kind=target[0], target_id=canonical)
        docs = self._c.links.find(wanted).sort([("seq", DESCENDING), ("_id", DESCENDING)])
        return [_link(doc) for doc in docs]

    # -- audit ------------------------------------------------------------------------------

    def add_audit_event(self, event: AuditEvent) -> None:
        """Insert an event.

        Raises:
            InvalidInput: Its id is not a well-formed time-ordered id.
        """
        key = decode_id(event.id)
        if key is None:
            raise InvalidInput("an audit event needs a well-formed id")
        self._c.audit_events.insert_one(
            {
                "_id": key,
                "at": to_micros(event.at),
                "actor_id": event.actor_id,
                "action": event.action,
                "target_kind": event.target_kind,
                "target_id": event.target_id,
                # Pairs, not a sub-document: a detail's name never becomes a field name.
                "details": [[name, value] for name, value in sorted(event.details.items())],
            }
        )

    def list_audit_events(self, limit: int, before: str | None) -> list[AuditEvent]:
        """Events newest first, older than the event id ``before``."""
        if limit <= 0:
            return []
        wanted: Document = {}
        if before is not None:
            bound = decode_id(before)
            if bound is None:
                return []
            wanted = {"_id": {"$lt": bound}}
        docs = self._c.audit_events.find(wanted).sort("_id", DESCENDING).limit(limit)
        return [
            AuditEvent(
                id=encode_id(doc["_id"]),
                at=from_micros(doc["at"]),
                actor_id=doc["actor_id"],
                action=doc["action"],
                target_kind=doc["target_kind"],
                target_id=doc["target_id"],
                details=dict(doc["details"]),
            )
            for doc in docs
        ]
