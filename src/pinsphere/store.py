"""The :class:`PinStore` facade and the per-caller :class:`PinScope`.

The facade composes three backends; it never subclasses them. Every pin operation goes
through a scope bound to one caller (``store.as_user(alice)`` or ``store.anonymous``), which
hands the caller's :class:`~pinsphere.policy.AccessRule` to the backend so that visibility is
decided inside the backend's query, then checks actions with :func:`pinsphere.policy.can`.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for_futures
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, TYPE_CHECKING, Literal

from pinsphere.accounts import UserManager
from pinsphere.admin import AdminManager
from pinsphere.api_tokens import ApiTokenManager, scope_for_token
from pinsphere.audit import AuditLog
from pinsphere.backends.base import (
    BlobBackend,
    BoardChanges,
    MetadataBackend,
    PinChanges,
    UserBackend,
)
from pinsphere.cursors import decode_cursor, encode_cursor
from pinsphere.derivation import (
    DERIVED_PREFIX,
    DerivedMedia,
    derivative_key,
    derive_for_upload,
    derive_media,
    strip_for_upload,
    thumbnail_key,
)
from pinsphere.direct_uploads import (
    DEFAULT_EXPIRY,
    DirectUpload,
    receive_incoming,
    start_direct_upload,
    sweep_incoming,
)
from pinsphere.errors import (
    BackendUnavailable,
    InvalidInput,
    NotFound,
    PermissionDenied,
    PinsphereError,
)
from pinsphere.ids import decode_id, encode_id, id_time, new_id
from pinsphere.layout import ORIGINALS_PREFIX, OriginalsLayout
from pinsphere.layout_marker import settle_layout
from pinsphere.media.pipeline import nearest_width
from pinsphere.models import (
    VISIBILITIES,
    AuditEvent,
    Board,
    Link,
    NewLink,
    Page,
    Pin,
    Share,
    ShareRole,
    TagCount,
    TargetKind,
    User,
    Visibility,
)
from pinsphere.passwords import Passwords
from pinsphere.policy import AccessRule, Action, Principal, access_rule, can, explain
from pinsphere.query import OwnerTerm, Query
from pinsphere.search import parse_query
from pinsphere.sessions import RefreshTokens
from pinsphere.settings import StoreSettings
from pinsphere.sharing import Sharing
from pinsphere.tags import normalize_board_name, normalize_tag, normalize_tags
from pinsphere.trusted import TrustedMaker
from pinsphere.upload import Source, StoredOriginal, store_original

if TYPE_CHECKING:
    from pinsphere.links import LinkScope

__all__ = ["BoardManager", "PinScope", "PinStore", "SweepReport"]

MAX_TITLE_LENGTH = 300
MAX_DESCRIPTION_LENGTH = 10_000

_log = logging.getLogger(__name__)
# Pages of pins come from validated pins: made without validation (see pinsphere.trusted).
_pin_page: TrustedMaker[Page[Pin]] = TrustedMaker(Page[Pin])


@functools.lru_cache(maxsize=1024)
def _parse(text: str, order: str | None) -> Query:
    # Queries are immutable and the same searches repeat (a grid's tag, the next page), so
    # parsing each distinct text once keeps the parser off the hot path.
    return parse_query(text, order=order)


def _now() -> datetime:
    return datetime.now(UTC)


def _check_visibility(value: str) -> Visibility:
    if value not in VISIBILITIES:
        raise InvalidInput(f"visibility must be one of {', '.join(VISIBILITIES)}")
    return value


def _check_text(value: str, what: str, limit: int) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"the {what} must be a string")
    if len(value) > limit:
        raise InvalidInput(f"the {what} is at most {limit} characters")
    return value.strip() if what == "title" else value


@dataclass(frozen=True)
class _PinFields:
    """A new pin's metadata, checked and normalised before any byte is stored."""

    title: str
    description: str
    tags: tuple[str, ...]
    visibility: Visibility
    boards: tuple[str, ...]

    @classmethod
    def checked(
        cls,
        title: str,
        description: str,
        tags: Iterable[str],
        board: str | Sequence[str] | None,
        visibility: Visibility | str,
    ) -> _PinFields:
        """Check and normalise the arguments of an upload.

        Raises:
            InvalidInput: A tag, title, description, board name or visibility is malformed.
        """
        board_names = [board] if isinstance(board, str) else list(board or ())
        return cls(
            title=_check_text(title, "title", MAX_TITLE_LENGTH),
            description=_check_text(description, "description", MAX_DESCRIPTION_LENGTH),
            tags=normalize_tags(tags),
            visibility=_check_visibility(visibility),
            boards=tuple(normalize_board_name(name) for name in board_names),
        )


@dataclass(frozen=True)
class SweepReport:
    """What :meth:`PinStore.sweep` removed.

    Attributes:
        staged_removed: Abandoned partial writes.
        orphans_removed: Originals no pin used.
        derived_removed: Thumbnails and other derived files of pins that are gone.
        incoming_removed: Direct uploads never finished (:mod:`pinsphere.direct_uploads`).
    """

    staged_removed: int
    orphans_removed: int
    derived_removed: int = 0
    incoming_removed: int = 0


class PinStore:
    """A store of pins over a metadata, a user and a blob backend.

    Open one with :func:`pinsphere.open`; use it as a context manager or call :meth:`close`.

    Attributes:
        metadata: The metadata backend.
        user_backend: The user backend.
        blobs: The blob backend.
        layout: Where the blob backend keeps originals: read from its layout marker when
            the store is made, or detected and recorded (see :mod:`pinsphere.layout_marker`).
        settings: Upload limits, page sizes, password hashing.
        users: Account management (not permission-checked; for the embedding application).
        refresh_tokens: Sign-in sessions: rotating refresh tokens with reuse detection.
        passwords: The password hasher (accounts and link passwords).
        audit: The audit trail of permission changes.
    """

    def __init__(
        self,
        *,
        metadata: MetadataBackend,
        users: UserBackend,
        blobs: BlobBackend,
        settings: StoreSettings | None = None,
    ) -> None:
        """Compose the backends (prefer :func:`pinsphere.open`).

        Raises:
            UnknownLayout: The blob store's layout marker is garbled or names a layout
                this version does not know.
            BackendUnavailable: The blob store cannot be read.
        """
        self.metadata = metadata
        self.user_backend = users
        self.blobs = blobs
        self.layout: OriginalsLayout = settle_layout(blobs)
        self.settings = settings or StoreSettings()
        self.passwords = Passwords(self.settings.password_hashing)
        self.audit = AuditLog(metadata)
        self.users = UserManager(users, self.settings, self.passwords, self.audit)
        self.refresh_tokens = RefreshTokens(users, self.settings.refresh_token_lifetime)
        # The background pool is made on first use: most stores (inline processing, the
        # command line) never need a thread.
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._in_flight: dict[str, Future[bool]] = {}

    def as_user(self, user: User | str) -> PinScope:
        """A scope in which every call is checked as ``user``.

        Args:
            user: A :class:`User`, or a username.

        Raises:
            NotFound: No such user.
        """
        # A User is read again so that a role change or a disabled account takes effect.
        found = self.users.find(user) if isinstance(user, str) else self.users.get(user.id)
        return PinScope(self, Principal(found))

    def as_token(self, token: str) -> PinScope:
        """The scope an API token acts in: its user's, read-only without the ``write`` scope.

        Raises:
            AuthenticationError: Unknown or expired token, or its user is disabled.
        """
        return scope_for_token(self, token)

    def open_link(
        self,
        token: str,
        *,
        password: str | None = None,
        count_use: bool = True,
        password_proven: bool = False,
    ) -> LinkScope:
        """Follow a public link: a read-only scope that sees the link's target only.

        Args:
            token: The link's token.
            password: Its password, if it has one.
            count_use: Count this opening against the link's maximum uses.
            password_proven: The caller checked this visitor's password for this link
                before (a signed proof it issued); it is not verified again.

        Raises:
            NotFound: Unknown, revoked, expired or used-up link.
            AuthenticationError: Missing or wrong password.
        """
        # Imported here: the link scope is a PinScope, defined below in this module.
        from pinsphere.links import open_link

        return open_link(
            self,
            token,
            password=password,
            count_use=count_use,
            password_proven=password_proven,
        )

    @property
    def anonymous(self) -> PinScope:
        """A scope for a caller who is not signed in: public pins only, no changes."""
        return PinScope(self, Principal(None))

    def check(self) -> None:
        """Check that every backend answers.

        Raises:
            BackendUnavailable: One does not.
        """
        self.metadata.ping()
        self.user_backend.ping()
        self.blobs.ping()

    def health(self) -> dict[str, str | None]:
        """Each backend's state: ``None`` when it answers, else why not.

        Returns:
            ``{"metadata": ..., "users": ..., "blobs": ...}``.
        """
        report: dict[str, str | None] = {}
        for name, backend in (
            ("metadata", self.metadata),
            ("users", self.user_backend),
            ("blobs", self.blobs),
        ):
            try:
                backend.ping()
            except PinsphereError as exc:
                report[name] = str(exc) or type(exc).__name__
            else:
                report[name] = None
        return report

    def delete_user(
        self,
        user: User | str,
        *,
        pins: Literal["delete"] = "delete",
        actor: User | None = None,
    ) -> None:
        """Delete an account and, with it, every pin and board it owns.

        Pins are deleted with their owner, never left without one (``pins="delete"`` is the
        only policy so far; their shares and links go too). The deletion is recorded in the
        audit trail.

        Args:
            user: The user or their id.
            pins: What happens to their pins.
            actor: Who deleted the account, for the audit trail.

        Raises:
            NotFound: No such user.
        """
        target = self.users.get(user.id if isinstance(user, User) else user)
        owner_scope = PinScope(self, Principal(target))
        for pin_id in self.metadata.owner_pin_ids(target.id):
            with contextlib.suppress(NotFound):
                owner_scope._delete_unchecked(pin_id)
        for board in self.metadata.list_boards(AccessRule(everything=True), owner_id=target.id):
            self.metadata.delete_board(board.id)
        self.user_backend.delete_user(target.id)
        self.audit.record(
            None if actor is None else actor.id,
            "user.delete",
            "user",
            target.id,
            username=target.username,
        )

    def sweep(self, *, older_than: timedelta = timedelta(hours=1)) -> SweepReport:
        """Remove stored files that no pin uses: abandoned partial writes, originals whose
        last pin is gone, derived files of deleted pins (after an interrupted delete), and
        direct uploads never finished.

        Files younger than ``older_than`` are left alone, since an upload in progress writes
        its file before it records its pin. Safe to run while the store is in use.

        Args:
            older_than: The grace period.

        Returns:
            What was removed.
        """
        staged = self.blobs.sweep_staging(older_than)
        cutoff = _now() - older_than
        orphans = derived = 0
        for key in self.blobs.keys(ORIGINALS_PREFIX):
            if not self.blob_is_referenced(key.rsplit("/", 1)[-1]) and self._older(key, cutoff):
                self.blobs.delete(key)
                orphans += 1
        everything = AccessRule(everything=True)
        for key in self.blobs.keys(DERIVED_PREFIX):
            pin_id = key[len(DERIVED_PREFIX) :].split("/", 1)[0]
            if self.metadata.get_pin(pin_id, everything) is None and self._older(key, cutoff):
                self.blobs.delete(key)
                derived += 1
        incoming = sweep_incoming(self.blobs, older_than)
        return SweepReport(
            staged_removed=staged,
            orphans_removed=orphans,
            derived_removed=derived,
            incoming_removed=incoming,
        )

    def _older(self, key: str, cutoff: datetime) -> bool:
        try:
            return self.blobs.modified(key) <= cutoff
        except NotFound:
            return False

    def blob_is_referenced(self, sha256: str) -> bool:
        """Whether any pin's original has this digest."""
        return self.metadata.count_blob_references(sha256) > 0

    # -- processing derived media ---------------------------------------------------------

    def _submit(self, pin_id: str) -> None:
        """Queue the derivation of a pending pin on the store's worker pool."""
        with self._pool_lock:
            if pin_id in self._in_flight:
                return
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self.settings.processing_workers,
                    thread_name_prefix="pinsphere-derive",
                )
            future = self._pool.submit(self._process_by_id, pin_id)
            self._in_flight[pin_id] = future
        future.add_done_callback(lambda _: self._forget(pin_id, future))

    def _forget(self, pin_id: str, future: Future[bool]) -> None:
        with self._pool_lock:
            if self._in_flight.get(pin_id) is future:
                del self._in_flight[pin_id]

    def _process_by_id(self, pin_id: str) -> bool:
        pin = self.metadata.get_pin(pin_id, AccessRule(everything=True))
        return pin is not None and self._process(pin)

    def _process(self, pin: Pin) -> bool:
        """Derive a pin's media and record them with ``processing="ready"``.

        Returns:
            Whether the pin is now ready. A failure is logged and recorded as ``failed``
            (never raised: this runs on worker threads and in batch retries).
        """
        key = self.layout.key(pin.media.sha256)
        stored = StoredOriginal(media=pin.media, key=key, created=False)
        try:
            derived = derive_media(self.blobs, stored, pin.id, self.settings)
        except Exception:
            _log.exception("deriving the media of pin %s failed", pin.id)
            with contextlib.suppress(PinsphereError):
                self.metadata.update_pin(pin.id, PinChanges(processing="failed", updated_at=_now()))
            return False
        media = derived.original.media
        changes = PinChanges(
            thumbnails=derived.thumbnails,
            blurhash=media.blurhash,
            duration=media.duration,
            width=media.width,
            height=media.height,
            frame_count=media.frame_count,
            codec=media.codec,
            camera=media.camera,
            taken_at=media.taken_at,
            processing="ready",
            updated_at=_now(),
        )
        try:
            updated = self.metadata.update_pin(pin.id, changes)
        except BaseException:
            self._remove(derived.written)
            raise
        if updated is None:
            # Deleted while this ran: its delete removed the files it could see, these
            # were written after; nothing may outlive the pin.
            self._remove(derived.written)
            return False
        return True

    def _remove(self, keys: Iterable[str]) -> None:
        for key in keys:
            with contextlib.suppress(NotFound):
                self.blobs.delete(key)

    def process_pending(
        self, limit: int = 100, *, stale_after: timedelta = timedelta(minutes=10)
    ) -> int:
        """Derive the media of pins left ``pending`` or ``failed``, here and now.

        For a worker process or a cron job: ``failed`` pins are retried (a transient error,
        a plugin fixed since), ``pending`` ones were left by a process that stopped before
        its pool got to them. A pending pin younger than ``stale_after`` is left alone, as
        it is most likely still queued in the process that uploaded it.

        Args:
            limit: At most this many pins are processed.
            stale_after: How old a pending pin must be to count as abandoned.

        Returns:
            How many pins became ``ready``.
        """
        if limit < 1:
            raise InvalidInput("limit must be at least 1")
        cutoff = _now() - stale_after
        pending = [
            pin
            for pin in self.metadata.pins_in_state("pending", limit=limit)
            if pin.created_at <= cutoff
        ]
        candidates = pending + (
            self.metadata.pins_in_state("failed", limit=limit - len(pending))
            if len(pending) < limit
            else []
        )
        ready = 0
        for pin in candidates:
            with self._pool_lock:
                busy = pin.id in self._in_flight
            if not busy and self._process(pin):
                ready += 1
        return ready

    def wait_for_processing(self, timeout: float | None = None) -> bool:
        """Wait until the worker pool has derived every pin queued so far.

        Args:
            timeout: Seconds to wait at most; ``None`` waits as long as it takes.

        Returns:
            Whether the pool was idle in time.
        """
        with self._pool_lock:
            queued = list(self._in_flight.values())
        _, not_done = wait_for_futures(queued, timeout=timeout)
        return not not_done

    def close(self) -> None:
        """Release every backend's connections.

        Derivations already running finish first; those still queued are dropped and their
        pins stay ``pending`` for :meth:`process_pending`.
        """
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        errors: list[BaseException] = []
        for backend in (self.metadata, self.user_backend, self.blobs):
            try:
                backend.close()
            except PinsphereError as exc:  # close the others before reporting
                errors.append(exc)
        if errors:
            raise errors[0]

    def __enter__(self) -> PinStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class PinScope:
    """The store as seen and changed by one caller.

    Everything invisible to the caller raises :class:`NotFound`; something visible that the
    caller may not change raises :class:`PermissionDenied`.

    Attributes:
        principal: Who the caller is.
        boards: The caller's board operations.
    """

    def __init__(self, store: PinStore, principal: Principal, *, read_only: bool = False) -> None:
        self._store = store
        self.principal = principal
        self.read_only = read_only
        self._rule = access_rule(principal)
        self.boards = BoardManager(self)
        self.api_tokens = ApiTokenManager(self)
        self.admin = AdminManager(self)
        self._sharing = Sharing(self)

    @property
    def user(self) -> User | None:
        """The caller, or ``None`` when anonymous."""
        return self.principal.user

    @property
    def access(self) -> AccessRule:
        """The caller's visibility rule, as handed to backends."""
        return self._rule

    def _require(
        self,
        action: Action,
        target: Pin | Board | None = None,
        *,
        share_role: ShareRole | None = None,
        reading: bool = False,
    ) -> User:
        """The caller, if allowed to ``action`` (a read-only scope only when ``reading``)."""
        user = self.principal.user
        if self.read_only and not reading:
            raise PermissionDenied("this access is read-only")
        if user is None or not can(self.principal, action, target, share_role=share_role):
            raise PermissionDenied(f"not allowed to {action}")
        return user

    def _share_role(self, kind: TargetKind, target: Pin | Board) -> ShareRole | None:
        """The caller's share of something they do not own (``None`` if theirs or unshared)."""
        user = self.principal.user
        if user is None or target.owner_id == user.id:
            return None
        return self._store.metadata.share_role(kind, target.id, user.id)

    # -- pins -------------------------------------------------------------------------------

    def upload(
        self,
        source: Source,
        *,
        title: str = "",
        description: str = "",
        tags: Iterable[str] = (),
        board: str | Sequence[str] | None = None,
        visibility: Visibility | str = "private",
        keep_location: bool = False,
    ) -> Pin:
        """Store a media file as a new pin owned by the caller.

        Args:
            source: A path, the bytes, or a binary file object (streamed, never read whole).
            title: Short title.
            description: Free text.
            tags: Tags; normalised (``Animals / Cats`` becomes ``animals/cats``).
            board: Name (or names) of the caller's boards to put it on; missing boards are
                created.
            visibility: ``private`` (default), ``internal`` or ``public``.
            keep_location: Keep the GPS position in the stored file (by default it is
                removed, with serial numbers and owner names, before anyone can read it).

        Raises:
            PermissionDenied: The caller may not upload (anonymous or a viewer).
            InvalidMedia: Not an allowed type, or corrupt.
            TooLarge: Over the size limit.
            InvalidInput: A tag, title or board name is malformed.
        """
        owner = self._require("upload")
        fields = _PinFields.checked(title, description, tags, board, visibility)
        return self._new_pin(owner, source, fields, keep_location=keep_location)

    def start_direct_upload(
        self, *, size: int | None = None, expires_in: timedelta = DEFAULT_EXPIRY
    ) -> DirectUpload:
        """Let the caller send a (large) file straight to the blob store; see
        :mod:`pinsphere.direct_uploads`. Finish it with :meth:`finish_direct_upload`.

        Args:
            size: The file's size, if known: the store then accepts no more than that.
            expires_in: How long the signed form stays valid (15 minutes by default).

        Raises:
            PermissionDenied: The caller may not upload.
            TooLarge: ``size`` is over the upload limit.
            InvalidInput: ``size`` or ``expires_in`` is out of range.
            DirectUploadsUnsupported: The blob store cannot sign upload forms (a
                :class:`BackendUnavailable`).
        """
        owner = self._require("upload")
        store = self._store
        return start_direct_upload(
            store.blobs, store.settings, owner.id, size=size, expires_in=expires_in
        )

    def finish_direct_upload(
        self,
        upload_id: str,
        *,
        title: str = "",
        description: str = "",
        tags: Iterable[str] = (),
        board: str | Sequence[str] | None = None,
        visibility: Visibility | str = "private",
        keep_location: bool = False,
    ) -> Pin:
        """Check the file the caller sent for a direct upload and make it a pin.

        The object goes through the same pipeline as :meth:`upload` (the arguments are the
        same), then is removed from where it waited; see :mod:`pinsphere.direct_uploads`.

        Raises:
            PermissionDenied: The caller may not upload.
            NotFound: No such upload of the caller's (never sent, finished already, swept).
            InvalidMedia: Not an allowed type, or corrupt (the object is deleted).
            TooLarge: Over the size limit (the object is deleted).
            InvalidInput: A tag, title or board name is malformed (the object is kept).
        """
        owner = self._require("upload")
        fields = _PinFields.checked(title, description, tags, board, visibility)
        store = self._store
        with receive_incoming(store.blobs, store.settings, owner.id, upload_id) as source:
            return self._new_pin(owner, source, fields, keep_location=keep_location)

    def _new_pin(
        self, owner: User, source: Source, fields: _PinFields, *, keep_location: bool
    ) -> Pin:
        """Store ``source`` and record it as a new pin (the body of :meth:`upload`, shared
        with :mod:`pinsphere.direct_uploads`); permission and fields are checked already."""
        store = self._store
        stored = store_original(
            source,
            store.blobs,
            store.settings,
            layout=store.layout,
            is_referenced=store.blob_is_referenced,
        )
        derived = DerivedMedia(original=stored)
        background = store.settings.derive_media and store.settings.processing == "background"
        try:
            pin_id = new_id()
            if background:
                stored = strip_for_upload(
                    store.blobs,
                    stored,
                    layout=store.layout,
                    keep_location=keep_location,
                    is_referenced=store.blob_is_referenced,
                )
            elif store.settings.derive_media:
                derived = derive_for_upload(
                    store.blobs,
                    stored,
                    encode_id(pin_id),
                    store.settings,
                    layout=store.layout,
                    keep_location=keep_location,
                    is_referenced=store.blob_is_referenced,
                )
                stored = derived.original
            boards = [self.boards._ensure(name) for name in fields.boards]
            # The id carries the creation time, so the two always agree (to the millisecond).
            now = id_time(pin_id)
            pin = Pin(
                id=encode_id(pin_id),
                owner_id=owner.id,
                owner=owner.username,
                title=fields.title,
                description=fields.description,
                tags=fields.tags,
                boards=tuple(sorted({board.name for board in boards})),
                visibility=fields.visibility,
                media=stored.media,
                thumbnails=derived.thumbnails,
                processing="pending" if background else "ready",
                created_at=now,
                updated_at=now,
            )
            store.metadata.insert_pins([(pin, [board.id for board in boards])])
            if not stored.created and not store.blobs.exists(stored.key):
                # The identical blob this upload found was deleted with its last pin
                # before this pin was recorded: never keep a pin without its bytes.
                store.metadata.delete_pin(pin.id)
                raise BackendUnavailable("the upload raced a deletion of the same file; retry")
        except BaseException:
            # No blob without a pin: remove what this upload wrote, unless another pin
            # shares the same bytes.
            for key in derived.written:
                store.blobs.delete(key)
            if stored.created and not store.blob_is_referenced(stored.media.sha256):
                store.blobs.delete(stored.key)
            raise
        if background:
            store._submit(pin.id)
        return pin

    def get(self, pin_id: str) -> Pin:
        """The pin, if the caller can see it.

        Raises:
            NotFound: It does not exist or is not visible to the caller.
        """
        if not isinstance(pin_id, str) or decode_id(pin_id) is None:
            raise NotFound("no such pin")
        pin = self._store.metadata.get_pin(pin_id, self.access)
        if pin is None:
            raise NotFound("no such pin")
        return pin

    def retry_processing(self, pin_id: str) -> Pin:
        """Derive a pin's media again, after it ``failed`` (or was left ``pending``).

        With background processing the pin goes back to ``pending`` and the worker pool
        takes it; inline, it is derived before this returns. A ``ready`` pin is returned
        as it is.

        Raises:
            NotFound: Not visible to the caller.
            PermissionDenied: The caller is neither its owner nor an admin.
        """
        pin = self.get(pin_id)
        # Owners and admins only, as for deleting: a retry spends the server's time.
        self._require("delete", pin)
        if pin.processing == "ready":
            return pin
        store = self._store
        if store.settings.processing == "background":
            store.metadata.update_pin(pin.id, PinChanges(processing="pending", updated_at=_now()))
            store._submit(pin.id)
        else:
            store._process(pin)
        return self.get(pin_id)

    def open(self, pin_id: str) -> IO[bytes]:
        """Open the pin's original for streaming reads (seekable where the backend allows).

        Raises:
            NotFound: It does not exist or is not visible to the caller.
        """
        return self.open_pin(pin_id)[1]

    def open_pin(self, pin_id: str) -> tuple[Pin, IO[bytes]]:
        """The pin and its original opened for reading, with one visibility check.

        Raises:
            NotFound: It does not exist or is not visible to the caller.
        """
        pin = self.get(pin_id)
        store = self._store
        return pin, store.blobs.open(store.layout.key(pin.media.sha256))

    def open_thumbnail(self, pin_id: str, width: int = 640) -> IO[bytes]:
        """Open the pin's WebP thumbnail nearest to ``width`` (the same checks as ``open``).

        Raises:
            NotFound: The pin is not visible, or has no thumbnails (e.g. a video when the
                ``media`` extra is missing).
        """
        pin = self.get(pin_id)
        nearest = nearest_width(pin.thumbnails, width)
        if nearest is None:
            raise NotFound("this pin has no thumbnails")
        return self._store.blobs.open(thumbnail_key(pin.id, nearest))

    def open_derivative(self, pin_id: str, name: str) -> IO[bytes]:
        """Open a file a plugin derived from the pin (the ``pinsphere_derivatives`` hook),
        under the same checks as the original.

        Raises:
            NotFound: The pin is not visible, or has no derivative of that name.
            InvalidInput: ``name`` is not a derivative name.
        """
        pin = self.get(pin_id)
        return self._store.blobs.open(derivative_key(pin.id, name))

    def can(self, action: Action) -> bool:
        """Whether the caller may do ``action`` at all (``upload``, ``share``,
        ``manage_users``...), before naming any object — e.g. to refuse an upload before
        reading its body."""
        return not self.read_only and can(self.principal, action)

    def update(
        self,
        pin_id: str,
        *,
        title: str | None = None,
        description: str | None = None,
        tags: Iterable[str] | None = None,
        add_tags: Iterable[str] = (),
        remove_tags: Iterable[str] = (),
        visibility: Visibility | str | None = None,
    ) -> Pin:
        """Change a pin's metadata; arguments left as ``None`` stay as they are.

        Args:
            pin_id: The pin.
            title: New title.
            description: New description.
            tags: Replace all tags with these.
            add_tags: Tags to add.
            remove_tags: Tags to remove.
            visibility: New visibility.

        Raises:
            NotFound: Not visible to the caller.
            PermissionDenied: Visible, but the caller may not edit it.
        """
        pin = self.get(pin_id)
        self._require("edit", pin, share_role=self._share_role("pin", pin))
        add = set(normalize_tags(add_tags))
        remove = set(normalize_tags(remove_tags))
        if tags is not None:
            wanted = set(normalize_tags(tags))
            add |= wanted - set(pin.tags)
            remove |= set(pin.tags) - wanted
        if len(set(pin.tags) - remove | add) > 64:
            normalize_tags([*pin.tags, *add])  # raises the same error as at upload
        changes = PinChanges(
            title=None if title is None else _check_text(title, "title", MAX_TITLE_LENGTH),
            description=None
            if description is None
            else _check_text(description, "description", MAX_DESCRIPTION_LENGTH),
            visibility=None if visibility is None else _check_visibility(visibility),
            add_tags=tuple(sorted(add)),
            remove_tags=tuple(sorted(remove - add)),
            updated_at=_now(),
        )
        if self._store.metadata.update_pin(pin_id, changes) is None:
            raise NotFound("no such pin")
        return self.get(pin_id)

    def delete(self, pin_id: str) -> None:
        """Delete a pin and, when no other pin shares it, its stored file.

        Raises:
            NotFound: Not visible to the caller.
            PermissionDenied: Visible, but the caller may not delete it.
        """
        pin = self.get(pin_id)
        self._require("delete", pin)
        self._delete_unchecked(pin_id)

    def _delete_unchecked(self, pin_id: str) -> None:
        store = self._store
        deleted = store.metadata.delete_pin(pin_id)
        if deleted is None:
            raise NotFound("no such pin")
        # Everything derived from it: thumbnails and plugins' derivatives.
        for key in list(store.blobs.keys(f"{DERIVED_PREFIX}{deleted.id}/")):
            store.blobs.delete(key)
        if not store.blob_is_referenced(deleted.media.sha256):
            store.blobs.delete(store.layout.key(deleted.media.sha256))

    # -- search -----------------------------------------------------------------------------

    def _prepare(self, query: str | Query, order: str | None) -> Query:
        if isinstance(query, Query):
            parsed = query
            if order is not None:
                parsed = parsed.model_copy(update={"order": order})
        else:
            parsed = _parse(query, order)
        if any(isinstance(term, OwnerTerm) for term in parsed.terms):
            parsed = parsed.model_copy(
                update={"terms": tuple(self._resolve_owner(term) for term in parsed.terms)}
            )
        return parsed

    def _resolve_owner(self, term: object) -> object:
        if not isinstance(term, OwnerTerm):
            return term
        found = self._store.user_backend.find_user(term.username)
        return term.model_copy(update={"user_id": found.id if found else None})

    def search(
        self,
        query: str | Query = "",
        *,
        limit: int = 20,
        cursor: str | None = None,
        order: Literal["newest", "oldest"] | None = None,
    ) -> Page[Pin]:
        """Pins visible to the caller that match ``query``, one page at a time.

        Args:
            query: The search language (``tag:animals -tag:animals/dogs type:gif sleepy``),
                or a parsed :class:`Query`.
            limit: Page size, from 1 to ``settings.max_page_size``.
            cursor: ``next_cursor`` of the previous page.
            order: ``newest`` (default) or ``oldest``; overrides ``order:`` in the text.

        Raises:
            InvalidQuery: The text does not parse, or the cursor belongs to another search.
        """
        if not isinstance(limit, int) or not 1 <= limit <= self._store.settings.max_page_size:
            raise InvalidInput(f"limit must be between 1 and {self._store.settings.max_page_size}")
        parsed = self._prepare(query, order)
        viewer = self.principal.user_id
        after = decode_cursor(cursor, parsed, viewer) if cursor else None
        items, more = self._store.metadata.search_page(
            parsed, self.access, limit=limit, after=after
        )
        next_cursor = encode_cursor(items[-1].id, parsed, viewer) if more and items else None
        return _pin_page({"items": tuple(items), "next_cursor": next_cursor})

    def count(self, query: str | Query = "") -> int:
        """How many visible pins match ``query``."""
        return self._store.metadata.count_pins(self._prepare(query, None), self.access)

    def tags(self, *, prefix: str | None = None, limit: int = 1000) -> list[TagCount]:
        """Tags of the pins the caller can see, with how many of those pins carry each."""
        clean = normalize_tag(prefix) if prefix else None
        return self._store.metadata.tag_counts(self.access, prefix=clean, limit=limit)

    # -- sharing ----------------------------------------------------------------------------

    def share(self, target_id: str, username: str, role: ShareRole | str = "viewer") -> Share:
        """Share a pin or board (by id) with a user as ``viewer`` or ``editor``.

        Sharing a board shares the pins its owner put on it. Sharing again changes the role.

        Raises:
            NotFound: The target is not visible, or no such user.
            PermissionDenied: The caller neither owns the target nor is an admin.
        """
        return self._sharing.share(target_id, username, role)

    def unshare(self, target_id: str, username: str) -> None:
        """Stop sharing a pin or board with a user."""
        self._sharing.unshare(target_id, username)

    def shares(self, target_id: str) -> list[Share]:
        """Who a pin or board the caller owns is shared with."""
        return self._sharing.shares(target_id)

    def create_link(
        self,
        target_id: str,
        *,
        expires_in: timedelta | None = None,
        max_uses: int | None = None,
        password: str | None = None,
        allow_download: bool = True,
    ) -> NewLink:
        """Make a public link to a pin or board the caller owns; see
        :meth:`pinsphere.sharing.Sharing.create_link`. ``link.token`` is shown only here."""
        return self._sharing.create_link(
            target_id,
            expires_in=expires_in,
            max_uses=max_uses,
            password=password,
            allow_download=allow_download,
        )

    def links(self, target_id: str | None = None) -> list[Link]:
        """The caller's links, or the links of one target the caller owns."""
        return self._sharing.links(target_id)

    def revoke_link(self, link_id: str) -> None:
        """Revoke a link; every use of it fails from now on."""
        self._sharing.revoke_link(link_id)

    def explain(self, pin_id: str) -> str:
        """Why the caller can see a pin, in words.

        Raises:
            NotFound: The caller cannot see it.
        """
        pin = self.get(pin_id)
        return explain(self.principal, pin, share_role=self._share_role("pin", pin))

    def audit(self, *, limit: int = 100, before: str | None = None) -> list[AuditEvent]:
        """The audit trail of permission changes, newest first (admins only).

        Raises:
            PermissionDenied: The caller is not an admin.
        """
        self._require("manage_users", reading=True)
        return self._store.audit.events(limit=limit, before=before)


class BoardManager:
    """Board operations for one caller (``scope.boards``)."""

    def __init__(self, scope: PinScope) -> None:
        self._scope = scope

    @property
    def _metadata(self) -> MetadataBackend:
        return self._scope._store.metadata

    def create(
        self, name: str, *, description: str = "", visibility: Visibility | str = "private"
    ) -> Board:
        """Create a board owned by the caller.

        Raises:
            Conflict: The caller has a board with that name (case-insensitive).
            PermissionDenied: The caller may not create boards (anonymous or a viewer).
        """
        owner = self._scope._require("upload")
        board = Board(
            id=encode_id(new_id()),
            owner_id=owner.id,
            owner=owner.username,
            name=normalize_board_name(name),
            description=_check_text(description, "description", MAX_DESCRIPTION_LENGTH),
            visibility=_check_visibility(visibility),
            created_at=_now(),
        )
        return self._metadata.create_board(board)

    def _ensure(self, name: str) -> Board:
        owner = self._scope._require("upload")
        found = self._metadata.find_board(owner.id, name, self._scope.access)
        return found if found is not None else self.create(name)

    def get(self, board: str, *, owner: str | None = None) -> Board:
        """A visible board, by id or by name.

        Args:
            board: The board's id, or its name.
            owner: With a name: whose board (username); the caller's own by default.

        Raises:
            NotFound: No such board visible to the caller.
        """
        metadata = self._metadata
        rule = self._scope.access
        found: Board | None = None
        if owner is not None:
            user = self._scope._store.user_backend.find_user(owner)
            found = metadata.find_board(user.id, board, rule) if user else None
        else:
            caller = self._scope.user
            if caller is not None:
                found = metadata.find_board(caller.id, board, rule)
            if found is None and decode_id(board) is not None:
                found = metadata.get_board(board, rule)
        if found is None:
            raise NotFound("no such board")
        return found

    def list(self, *, owner: str | None = None) -> list[Board]:
        """Boards the caller can see (only ``owner``'s when given, by username)."""
        owner_id = None
        if owner is not None:
            user = self._scope._store.user_backend.find_user(owner)
            if user is None:
                return []
            owner_id = user.id
        return self._metadata.list_boards(self._scope.access, owner_id=owner_id)

    def _editable(self, board: str) -> Board:
        found = self.get(board)
        self._scope._require("edit", found)
        return found

    def update(
        self,
        board: str,
        *,
        name: str | None = None,
        description: str | None = None,
        visibility: Visibility | str | None = None,
    ) -> Board:
        """Rename a board or change its description or visibility.

        Raises:
            Conflict: The new name is taken by another of the owner's boards.
        """
        found = self._editable(board)
        changes = BoardChanges(
            name=None if name is None else normalize_board_name(name),
            description=None
            if description is None
            else _check_text(description, "description", MAX_DESCRIPTION_LENGTH),
            visibility=None if visibility is None else _check_visibility(visibility),
        )
        updated = self._metadata.update_board(found.id, changes)
        if updated is None:
            raise NotFound("no such board")
        return self.get(updated.id)

    def delete(self, board: str) -> None:
        """Delete a board; its pins stay."""
        found = self._editable(board)
        self._metadata.delete_board(found.id)

    def add(self, board: str, pin_id: str) -> None:
        """Put a visible pin on one of the caller's boards."""
        found = self._editable(board)
        self._scope.get(pin_id)
        self._metadata.add_to_board(found.id, pin_id)

    def remove(self, board: str, pin_id: str) -> None:
        """Take a pin off one of the caller's boards."""
        found = self._editable(board)
        self._metadata.remove_from_board(found.id, pin_id)
