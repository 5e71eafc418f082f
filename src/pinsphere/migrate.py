"""Copying a whole store to other backends: ``pinsphere migrate`` and :func:`migrate_store`.

What is copied, through the backends' own interfaces (never the facade, so that nothing is
permission-checked, re-validated or written to the audit trail twice):

* users with their ids, roles, creation times and password hashes;
* boards with their ids and creation times, and the shares of boards;
* pins with their ids (which carry their creation times), metadata, tags, boards and shares;
* every pin's original: streamed in chunks from one blob store into the other while its
  sha256 and size are recomputed; a blob that does not match its pin is an error in the
  report, never copied, and its pin is left out (the target never has a pin without its
  blob). Originals are read where the source's layout keeps them and written where the
  target's does (:mod:`pinsphere.layout`), so migrating a store of the older two-level
  layout into a fresh one converts it;
* derived blobs (anything outside ``originals/``, such as thumbnails), streamed, their byte
  count checked; not the layout marker, since the target has its own;
* the audit trail;
* public links, API tokens and refresh tokens, each with its whole state: use count,
  expiry, revocation, password hash, last use, whether a refresh token was rotated. Only
  a secret's SHA-256 is stored (:func:`pinsphere.tokens.digest`), and that digest is all
  the target needs to find the record again, so every shared link, every script's API
  token and every signed-in session goes on working against the new store unchanged
  (sessions are tokens signed by the HTTP service, which must keep its signing key).
  Links are copied after the pins and boards they show, tokens after their users; a link
  whose pin was left out (its blob did not match), or a token whose user could not be
  copied, is left out too and reported as an error.

What may not be: links and tokens are read with the backends' ``export_*`` methods and
written with their ``import_*`` methods, which a backend written before them may lack
(the default raises :class:`~pinsphere.errors.Unsupported`). That kind is then reported
once in ``not_migrated``, with the reason and what to do (make the links or API tokens
again; sessions end, and their users sign in again), and whatever the source exported of
it is counted as left out.

Resuming: whatever the target already has is skipped — a user or board with the same id, a
pin with the same id whose blob is present with the right size, a blob of the right size, a
link or API token with the same id and digest, a refresh token with the same digest — so
running the migration again after an interruption continues where it stopped. A record
the target has is left as it is: a use, revocation or rotation in the source after it was
copied is not carried over, so stop using the source before the last run. Pins, links and
tokens are read in keyset pages; memory holds one page, the list of boards (for board
names) and one chunk of one blob, never the whole store.

A blob copied before an interruption but whose pin was not yet recorded stays in the target
until the migration is resumed (it is then reused) or the target's ``sweep`` removes it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, TypeVar

from pinsphere.backends.base import BlobBackend, MetadataBackend, RefreshTokenRecord
from pinsphere.errors import Conflict, InvalidInput, NotFound, PinsphereError, Unsupported
from pinsphere.layout import ORIGINALS_PREFIX
from pinsphere.layout_marker import LAYOUT_MARKER_KEY
from pinsphere.models import ApiToken, AuditEvent, Board, Link, Pin, TargetKind
from pinsphere.policy import AccessRule
from pinsphere.query import Query
from pinsphere.store import PinStore
from pinsphere.tags import board_key

__all__ = [
    "BlobMismatchError",
    "CopiedBlob",
    "MigrationProblem",
    "MigrationProgress",
    "MigrationReport",
    "Stage",
    "copy_blob",
    "migrate_store",
]

Stage = Literal[
    "users", "boards", "pins", "derived", "audit", "links", "api_tokens", "refresh_tokens"
]
"""The steps of a migration, in the order they run."""

RecordT = TypeVar("RecordT")

_EVERYTHING = AccessRule(everything=True)
# Digests of blobs copied lately: pins sharing bytes are usually close in time, and a copy
# known to be there needs one HEAD rather than a second upload.
_RECENT_DIGESTS = 4096
# What a holder of links or tokens that could not be copied must do on the new store.
_REMEDIES: dict[Stage, str] = {
    "links": "make them again on the new store",
    "api_tokens": "their owners make new ones on the new store",
    "refresh_tokens": "their users sign in again on the new store",
}


@dataclass(frozen=True)
class MigrationProgress:
    """Where a migration stands, handed to the ``progress`` callback.

    Attributes:
        stage: The step running.
        done: Items of this step handled so far (copied, skipped or failed).
        total: Items in this step, when known up front.
        bytes_copied: Blob bytes copied so far in the whole run.
    """

    stage: Stage
    done: int
    total: int | None
    bytes_copied: int


@dataclass(frozen=True)
class MigrationProblem:
    """Something that was not copied.

    Attributes:
        kind: ``user``, ``board``, ``pin``, ``blob``, ``share``, ``link``, ``api_token`` or
            ``refresh_token``.
        id: Its id (a blob's key, a refresh token's digest), or ``*`` for every record of
            its kind.
        reason: Why.
    """

    kind: str
    id: str
    reason: str


@dataclass
class MigrationReport:
    """What a migration did.

    Attributes:
        copied: How many of each kind were copied (``users``, ``boards``, ``pins``,
            ``blobs``, ``derived_blobs``, ``shares``, ``audit_events``, ``links``,
            ``api_tokens``, ``refresh_tokens``).
        skipped: How many of each kind the target had already.
        bytes_copied: Blob bytes copied.
        errors: What failed (a corrupt or missing source blob, a conflicting user, a link
            whose pin was left out...).
        not_migrated: Kinds of records a backend cannot export or import, one entry per
            kind (id ``*``) with the reason.
        seconds: How long it took.
        left_out: How many links and tokens were not copied: those a backend cannot export
            or import (see ``not_migrated``) and those that failed (see ``errors``).
    """

    copied: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    bytes_copied: int = 0
    errors: list[MigrationProblem] = field(default_factory=list)
    not_migrated: list[MigrationProblem] = field(default_factory=list)
    seconds: float = 0.0
    # Last, so that the fields before it keep their positions.
    left_out: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether nothing failed (things not migrated by design do not count)."""
        return not self.errors

    def count_copied(self, kind: str, count: int = 1) -> None:
        """Add to the copied count of ``kind``."""
        self.copied[kind] = self.copied.get(kind, 0) + count

    def count_skipped(self, kind: str, count: int = 1) -> None:
        """Add to the skipped count of ``kind``."""
        self.skipped[kind] = self.skipped.get(kind, 0) + count

    def count_left_out(self, kind: str, count: int = 1) -> None:
        """Add to the left-out count of ``kind``."""
        self.left_out[kind] = self.left_out.get(kind, 0) + count

    def summary(self) -> str:
        """The report as a few lines of text."""
        kinds = (
            "users",
            "boards",
            "pins",
            "blobs",
            "derived_blobs",
            "shares",
            "audit_events",
            "links",
            "api_tokens",
            "refresh_tokens",
        )
        lines = []
        for kind in kinds:
            line = (
                f"{kind.replace('_', ' ')}: {self.copied.get(kind, 0)} copied, "
                f"{self.skipped.get(kind, 0)} already there"
            )
            if self.left_out.get(kind):
                line += f", {self.left_out[kind]} left out"
            lines.append(line)
        lines.append(f"bytes copied: {self.bytes_copied} in {self.seconds:.1f} s")
        lines.extend(f"not migrated: {problem.reason}" for problem in self.not_migrated)
        lines.append(f"errors: {len(self.errors)}")
        lines.extend(f"  {p.kind} {p.id}: {p.reason}" for p in self.errors[:50])
        if len(self.errors) > 50:
            lines.append(f"  ... and {len(self.errors) - 50} more")
        return "\n".join(lines)


class CopiedBlob(NamedTuple):
    """What :func:`copy_blob` did.

    Attributes:
        size: Bytes read (and written, when ``created``).
        created: The target did not have the blob and has it now.
    """

    size: int
    created: bool


class BlobMismatchError(PinsphereError):
    """A source blob's bytes do not match what its pin records."""


def copy_blob(
    source: BlobBackend,
    target: BlobBackend,
    key: str,
    *,
    size: int,
    sha256: str | None,
    chunk_size: int = 1024 * 1024,
    target_key: str | None = None,
) -> CopiedBlob:
    """Stream one blob from ``source`` to ``target``, checking it before it is committed.

    Args:
        source: Where the blob is.
        target: Where it goes.
        key: The blob's key in ``source``.
        size: The length it must have.
        sha256: The digest it must have, or ``None`` to check the length only.
        chunk_size: Bytes per read.
        target_key: Its key in ``target``, when not ``key`` (an original, in a target of
            another layout).

    Returns:
        The bytes read, and whether they were committed (not when ``target`` had the key).

    Raises:
        BlobMismatchError: Its length or digest differ; nothing was committed.
        NotFound: The source has no such blob.
        BackendUnavailable: A store failed.
    """
    digest = hashlib.sha256()
    copied = 0
    with source.open(key) as reader, target.writer() as writer:
        while chunk := reader.read(chunk_size):
            digest.update(chunk)
            copied += len(chunk)
            if copied > size:
                break  # longer than recorded: no need to read the rest
            writer.write(chunk)
        if copied != size:
            raise BlobMismatchError(
                f"{copied}{'+' if copied > size else ''} bytes, {size} recorded"
            )
        if sha256 is not None and digest.hexdigest() != sha256:
            raise BlobMismatchError(f"sha256 {digest.hexdigest()}, {sha256} recorded")
        created = writer.commit(key if target_key is None else target_key)
    return CopiedBlob(copied, created)


def _blob_size(blobs: BlobBackend, key: str) -> int | None:
    try:
        return blobs.size(key)
    except NotFound:
        return None


class _Migration:
    """One run of :func:`migrate_store`; its methods are the steps."""

    def __init__(
        self,
        source: PinStore,
        target: PinStore,
        progress: Callable[[MigrationProgress], None] | None,
        page_size: int,
        chunk_size: int,
        jobs: int,
    ) -> None:
        self.source = source
        self.target = target
        self.progress = progress
        self.page_size = page_size
        self.chunk_size = chunk_size
        self.jobs = jobs
        self.report = MigrationReport()
        # What could not be copied (only failures: few), so that the links and tokens that
        # depend on it are reported with the reason rather than as a bare "not found".
        self.users_left_out: set[str] = set()
        self.boards_left_out: set[str] = set()
        self.pins_left_out: set[str] = set()
        self.boards_by_key: dict[str, list[Board]] = {}
        self.recent: dict[str, None] = {}  # insertion-ordered: the oldest goes first
        self.recent_lock = threading.Lock()

    def tell(self, stage: Stage, done: int, total: int | None) -> None:
        if self.progress is not None:
            self.progress(MigrationProgress(stage, done, total, self.report.bytes_copied))

    def problem(self, kind: str, item_id: str, reason: str) -> None:
        self.report.errors.append(MigrationProblem(kind, item_id, reason))

    # -- users ------------------------------------------------------------------------------

    def users(self) -> None:
        source, target = self.source.user_backend, self.target.user_backend
        done = 0
        after: str | None = None
        while page := source.list_users(limit=self.page_size, after=after):
            for user in page:
                if target.get_user(user.id) is not None:
                    self.report.count_skipped("users")
                else:
                    try:
                        target.create_user(user, source.get_password_hash(user.id))
                    except Conflict as exc:
                        self.problem("user", user.id, f"{user.username}: {exc}")
                        self.users_left_out.add(user.id)
                    else:
                        self.report.count_copied("users")
            done += len(page)
            after = page[-1].username
            self.tell("users", done, None)

    # -- boards -----------------------------------------------------------------------------

    def boards(self) -> None:
        boards = self.source.metadata.list_boards(_EVERYTHING)
        target = self.target.metadata
        for done, board in enumerate(boards, 1):
            self.boards_by_key.setdefault(board_key(board.name), []).append(board)
            if target.get_board(board.id, _EVERYTHING) is not None:
                self.report.count_skipped("boards")
            else:
                try:
                    target.create_board(board)
                except Conflict as exc:
                    self.problem("board", board.id, f"{board.owner}/{board.name}: {exc}")
                    self.boards_left_out.add(board.id)
                    continue
                self.report.count_copied("boards")
            self.shares("board", board.id)
            self.tell("boards", done, len(boards))

    # -- shares -----------------------------------------------------------------------------

    def shares(self, kind: TargetKind, target_id: str) -> None:
        wanted = self.source.metadata.list_shares(kind, target_id)
        if not wanted:
            return
        present = {
            (share.user_id, share.role)
            for share in self.target.metadata.list_shares(kind, target_id)
        }
        for share in wanted:
            if (share.user_id, share.role) in present:
                self.report.count_skipped("shares")
                continue
            try:
                self.target.metadata.put_share(share)
            except NotFound as exc:
                self.problem("share", share.id, str(exc))
            else:
                self.report.count_copied("shares")

    # -- pins -------------------------------------------------------------------------------

    def pins(self) -> None:
        total = self.source.metadata.count_pins(Query(), _EVERYTHING)
        done = 0
        with ThreadPoolExecutor(self.jobs, thread_name_prefix="migrate") as pool:
            for page in self._pin_pages():
                present = {
                    pin.id
                    for pin in page
                    if self.target.metadata.get_pin(pin.id, _EVERYTHING) is not None
                }
                outcomes = pool.map(self._original, page, [pin.id in present for pin in page])
                inserts: list[tuple[Pin, list[str]]] = []
                in_target: list[str] = []
                for pin, outcome in zip(page, outcomes, strict=True):
                    if not self._count(pin, outcome):
                        continue  # never a pin without its blob
                    if pin.id in present:
                        self.report.count_skipped("pins")
                        in_target.append(pin.id)
                    else:
                        inserts.append((pin, self._board_ids(pin)))
                in_target.extend(self._insert(inserts))
                # Shares too, for pins already there: a run may have stopped between the two.
                for pin_id in in_target:
                    self.shares("pin", pin_id)
                done += len(page)
                self.tell("pins", done, total)

    def _pin_pages(self) -> Iterator[list[Pin]]:
        oldest_first = Query(order="oldest")
        after: str | None = None
        while page := self.source.metadata.search_pins(
            oldest_first, _EVERYTHING, limit=self.page_size, after=after
        ):
            yield page
            after = page[-1].id

    def _original(self, pin: Pin, pin_in_target: bool) -> CopiedBlob | str:
        """Copy the pin's original unless the target has it (runs in a worker thread).

        A pin the target has already needs its blob checked (a ``HEAD``); for a new pin the
        copy is simply tried, and a blob that is there already is not committed twice.

        Returns:
            What was copied, or why it failed.
        """
        key = self.target.layout.key(pin.media.sha256)
        with self.recent_lock:
            seen_lately = pin.media.sha256 in self.recent
        if pin_in_target or seen_lately:
            have = _blob_size(self.target.blobs, key)
            if have == pin.media.size:
                return CopiedBlob(0, created=False)
            if have is not None:
                # Not the bytes its key names (written outside Pinsphere): replace them.
                self.target.blobs.delete(key)
        try:
            copied = copy_blob(
                self.source.blobs,
                self.target.blobs,
                self.source.layout.key(pin.media.sha256),
                size=pin.media.size,
                sha256=pin.media.sha256,
                chunk_size=self.chunk_size,
                target_key=key,
            )
        except BlobMismatchError as exc:
            return f"pin {pin.id}: the source blob is corrupt ({exc})"
        except NotFound:
            return f"pin {pin.id}: the source blob is missing"
        with self.recent_lock:
            self.recent[pin.media.sha256] = None
            if len(self.recent) > _RECENT_DIGESTS:
                del self.recent[next(iter(self.recent))]
        return copied

    def _count(self, pin: Pin, outcome: CopiedBlob | str) -> bool:
        """Record a blob's outcome; whether the pin may go in."""
        if isinstance(outcome, str):
            self.problem("blob", self.source.layout.key(pin.media.sha256), outcome)
            self.pins_left_out.add(pin.id)
            return False
        if outcome.created:
            self.report.count_copied("blobs")
            self.report.bytes_copied += outcome.size
        else:
            self.report.count_skipped("blobs")
        return True

    def _insert(self, inserts: list[tuple[Pin, list[str]]]) -> list[str]:
        """Insert pins in one batch; the ids of those now in the target."""
        if not inserts:
            return []
        try:
            self.target.metadata.insert_pins(inserts)
        except (Conflict, NotFound):
            # Something in the batch clashes (a board that failed to copy): one at a time,
            # so that only the pin at fault is left out.
            inserted: list[str] = []
            for entry in inserts:
                try:
                    self.target.metadata.insert_pins([entry])
                except (Conflict, NotFound) as exc:
                    self.problem("pin", entry[0].id, str(exc))
                    self.pins_left_out.add(entry[0].id)
                else:
                    inserted.append(entry[0].id)
            self.report.count_copied("pins", len(inserted))
            return inserted
        self.report.count_copied("pins", len(inserts))
        return [pin.id for pin, _ in inserts]

    def _board_ids(self, pin: Pin) -> list[str]:
        """The ids of the boards a pin is on, from the names the pin lists.

        Board names are unique per owner only, and a pin may be on someone else's board.
        When several owners have a board of that name, the source is asked again under
        narrower access rules, which show only some owners' boards.
        """
        ids: list[str] = []
        for name_key in dict.fromkeys(board_key(name) for name in pin.boards):
            candidates = self.boards_by_key.get(name_key, [])
            if len(candidates) == 1:
                ids.append(candidates[0].id)
                continue
            found = [board.id for board in candidates if self._on_board(pin, board, candidates)]
            if not found:
                self.problem("pin", pin.id, f"cannot tell which board {name_key!r} it is on")
            ids.extend(found)
        return ids

    def _on_board(self, pin: Pin, board: Board, candidates: list[Board]) -> bool:
        if board.owner_id == pin.owner_id:
            # The owner's own pins and boards, nobody else's: exact.
            rule = AccessRule(owner_id=pin.owner_id, visibilities=frozenset())
        else:
            # The board owner's boards, and the pin through its visibility; exact unless
            # another owner's board of that name has the pin's visibility too.
            rule = AccessRule(owner_id=board.owner_id, visibilities=frozenset({pin.visibility}))
            if any(
                other.owner_id != board.owner_id and other.visibility == pin.visibility
                for other in candidates
            ):
                return False
        seen = self.source.metadata.get_pin(pin.id, rule)
        return seen is not None and board_key(board.name) in {board_key(n) for n in seen.boards}

    # -- derived blobs ----------------------------------------------------------------------

    def derived(self) -> None:
        done = 0
        with ThreadPoolExecutor(self.jobs, thread_name_prefix="migrate") as pool:
            for keys in _batches(self._derived_keys(), self.page_size):
                for key, outcome in zip(keys, pool.map(self._derived_blob, keys), strict=True):
                    if isinstance(outcome, str):
                        self.problem("blob", key, outcome)
                    elif outcome.created:
                        self.report.count_copied("derived_blobs")
                        self.report.bytes_copied += outcome.size
                    else:
                        self.report.count_skipped("derived_blobs")
                done += len(keys)
                self.tell("derived", done, None)

    def _derived_keys(self) -> Iterator[str]:
        for key in self.source.blobs.keys(prefix=""):
            # The target keeps its own marker: the source's may record another layout.
            if not key.startswith(ORIGINALS_PREFIX) and key != LAYOUT_MARKER_KEY:
                yield key

    def _derived_blob(self, key: str) -> CopiedBlob | str:
        """Copy a blob outside ``originals/`` unless the target has it with its size."""
        try:
            size = self.source.blobs.size(key)
            if _blob_size(self.target.blobs, key) == size:
                return CopiedBlob(0, created=False)
            self.target.blobs.delete(key)
            return copy_blob(
                self.source.blobs,
                self.target.blobs,
                key,
                size=size,
                sha256=None,
                chunk_size=self.chunk_size,
            )
        except (BlobMismatchError, NotFound) as exc:
            return f"changed or removed while copying ({exc})"

    # -- audit trail ------------------------------------------------------------------------

    def audit(self) -> None:
        # Both trails are read newest first, side by side: an event is copied when the
        # target's trail has no event with its id (a merge of two sorted streams).
        present = _audit_events(self.target.metadata, self.page_size)
        current = next(present, None)
        done = 0
        for event in _audit_events(self.source.metadata, self.page_size):
            while current is not None and current.id > event.id:
                current = next(present, None)
            if current is not None and current.id == event.id:
                self.report.count_skipped("audit_events")
            else:
                self.target.metadata.add_audit_event(event)
                self.report.count_copied("audit_events")
            done += 1
            if done % self.page_size == 0:
                self.tell("audit", done, None)
        self.tell("audit", done, None)

    # -- links and tokens -------------------------------------------------------------------

    def links(self) -> None:
        self._records(
            "links",
            "link",
            lambda: self.source.metadata.export_links(page_size=self.page_size),
            self._link,
        )

    def api_tokens(self) -> None:
        self._records(
            "api_tokens",
            "api_token",
            lambda: self.source.user_backend.export_api_tokens(page_size=self.page_size),
            self._api_token,
        )

    def refresh_tokens(self) -> None:
        self._records(
            "refresh_tokens",
            "refresh_token",
            lambda: self.source.user_backend.export_refresh_tokens(page_size=self.page_size),
            self._refresh_token,
        )

    def _records(
        self,
        stage: Stage,
        kind: str,
        export: Callable[[], Iterable[RecordT]],
        copy: Callable[[RecordT], None],
    ) -> None:
        """Copy each record the source exports with ``copy``, which counts what it did.

        A source that cannot export the kind, or a target that cannot import it, is noted
        once in ``not_migrated``; what the source exported is then counted as left out.
        """
        done = 0
        cannot_import = False
        try:
            for record in export():
                if not cannot_import:
                    try:
                        copy(record)
                    except Unsupported as exc:
                        cannot_import = True
                        self._not_migrated(stage, kind, f"the new store cannot import them: {exc}")
                if cannot_import:
                    self.report.count_left_out(stage)
                done += 1
                if done % self.page_size == 0:
                    self.tell(stage, done, None)
        except Unsupported as exc:
            self._not_migrated(stage, kind, f"the source store cannot export them: {exc}")
        self.tell(stage, done, None)

    def _not_migrated(self, stage: Stage, kind: str, why: str) -> None:
        reason = f"{stage.replace('_', ' ')}: {why}; {_REMEDIES[stage]}"
        self.report.not_migrated.append(MigrationProblem(kind, "*", reason))

    def _left_out(self, stage: Stage, kind: str, item_id: str, reason: str) -> None:
        self.problem(kind, item_id, reason)
        self.report.count_left_out(stage)

    def _link(self, record: tuple[Link, str, str | None]) -> None:
        link, token_hash, password_hash = record
        target = self.target.metadata
        found = target.find_link(token_hash)
        if found is not None:
            if found[0].id == link.id:
                self.report.count_skipped("links")
            else:
                self._left_out("links", "link", link.id, "another link has its token")
            return
        left_out = self.pins_left_out if link.target_kind == "pin" else self.boards_left_out
        if link.target_id in left_out:
            reason = f"its {link.target_kind} {link.target_id} was not copied"
            self._left_out("links", "link", link.id, reason)
            return
        try:
            target.import_link(link, token_hash, password_hash)
        except Conflict:
            self._left_out("links", "link", link.id, "another link has its id")
        except NotFound:
            reason = f"its {link.target_kind} {link.target_id} is not in the new store"
            self._left_out("links", "link", link.id, reason)
        else:
            self.report.count_copied("links")

    def _api_token(self, record: tuple[ApiToken, str]) -> None:
        token, token_hash = record
        target = self.target.user_backend
        found = target.find_api_token(token_hash)
        if found is not None:
            if found.id == token.id:
                self.report.count_skipped("api_tokens")
            else:
                self._left_out("api_tokens", "api_token", token.id, "another token has its digest")
            return
        if token.user_id in self.users_left_out:
            reason = f"its user {token.user_id} was not copied"
            self._left_out("api_tokens", "api_token", token.id, reason)
            return
        try:
            target.import_api_token(token, token_hash)
        except Conflict:
            self._left_out("api_tokens", "api_token", token.id, "another token has its id")
        except NotFound:
            reason = f"its user {token.user_id} is not in the new store"
            self._left_out("api_tokens", "api_token", token.id, reason)
        else:
            self.report.count_copied("api_tokens")

    def _refresh_token(self, record: RefreshTokenRecord) -> None:
        target = self.target.user_backend
        if target.get_refresh_token(record.token_hash) is not None:
            self.report.count_skipped("refresh_tokens")
            return
        if record.user_id in self.users_left_out:
            reason = f"its user {record.user_id} was not copied"
            self._left_out("refresh_tokens", "refresh_token", record.token_hash, reason)
            return
        try:
            target.import_refresh_token(record)
        except Conflict:
            # Its digest is the record's key: the new store got it since it was looked up.
            self.report.count_skipped("refresh_tokens")
        except NotFound:
            reason = f"its user {record.user_id} is not in the new store"
            self._left_out("refresh_tokens", "refresh_token", record.token_hash, reason)
        else:
            self.report.count_copied("refresh_tokens")


def _batches(items: Iterator[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _audit_events(metadata: MetadataBackend, page_size: int) -> Iterator[AuditEvent]:
    before: str | None = None
    while page := metadata.list_audit_events(limit=page_size, before=before):
        yield from page
        before = page[-1].id


def migrate_store(
    source: PinStore,
    target: PinStore,
    *,
    progress: Callable[[MigrationProgress], None] | None = None,
    page_size: int = 200,
    chunk_size: int = 1024 * 1024,
    jobs: int = 4,
    derived_blobs: bool = True,
) -> MigrationReport:
    """Copy everything in ``source`` into ``target`` (see the module docstring).

    Run it again after an interruption: what the target has already is skipped. Both stores
    may be in use meanwhile, but pins made in the source after a page was read are only
    picked up by a later run.

    Args:
        source: The store to copy.
        target: The store to fill (empty, or a previous partial copy of ``source``).
        progress: Called after each page of users, pins, audit events, links and tokens,
            and each board and derived blob; whatever it raises stops the migration (and
            propagates) after a consistent step.
        page_size: Users, pins, audit events, links and tokens read per request.
        chunk_size: Bytes per read when streaming blobs.
        jobs: Blobs copied at once (each holds at most one chunk, plus what the target's
            writer buffers: up to one block for S3). Metadata is written from one thread.
        derived_blobs: Also copy blobs outside ``originals/`` (thumbnails and the like),
            except the layout marker.

    Returns:
        What was copied, skipped, failed or left out.

    Raises:
        BackendUnavailable: A backend failed; what was copied so far stays, and a rerun
            continues from there.
    """
    started = time.perf_counter()
    if jobs < 1 or page_size < 1:
        raise InvalidInput("jobs and page_size are at least 1")
    run = _Migration(source, target, progress, page_size, chunk_size, jobs)
    run.users()
    run.boards()
    run.pins()
    if derived_blobs:
        run.derived()
    run.audit()
    run.links()
    run.api_tokens()
    run.refresh_tokens()
    run.report.seconds = time.perf_counter() - started
    return run.report
