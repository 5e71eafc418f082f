"""The interfaces every backend implements.

Three kinds of backend make a store:

* :class:`MetadataBackend` keeps pins, tags and boards and answers searches;
* :class:`UserBackend` keeps accounts and password hashes;
* :class:`BlobBackend` keeps the bytes of originals and derived media.

A backend is made from a URL by its class method ``from_url``; the URL's query string holds
the backend's options, parsed by its strict :class:`BackendOptions` model (an unknown option
is an error, not ignored). Backends never import the facade; they raise only
:mod:`pinsphere.errors`, with the native error as ``__cause__``.

Visibility is never checked by the caller after the fact: every read method takes an
:class:`~pinsphere.policy.AccessRule` and must compile it into its query.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import IO, ClassVar, Literal, Self, TypeVar
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pinsphere.errors import InvalidInput, InvalidQuery, Unsupported
from pinsphere.ids import decode_id
from pinsphere.models import (
    ApiToken,
    AuditEvent,
    Board,
    Link,
    Pin,
    ProcessingState,
    Share,
    ShareRole,
    TagCount,
    TargetKind,
    User,
    Visibility,
)
from pinsphere.policy import AccessRule
from pinsphere.query import Query

__all__ = [
    "Backend",
    "BackendOptions",
    "BlobBackend",
    "BlobCapabilities",
    "BlobWriter",
    "BoardChanges",
    "MetadataBackend",
    "MetadataCapabilities",
    "PinChanges",
    "PresignedUpload",
    "RefreshTokenRecord",
    "UserBackend",
    "UserCapabilities",
    "UserChanges",
    "keyset_stream",
    "page_position",
    "split_options",
]


class BackendOptions(BaseModel):
    """Base for a backend's options; unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


OptionsT = TypeVar("OptionsT", bound=BackendOptions)


def split_options(url: str, model: type[OptionsT]) -> tuple[str, OptionsT]:
    """Split a URL into its part without a query string and its parsed options.

    Args:
        url: e.g. ``sqlite:///pins.db?busy_timeout=5000``.
        model: The backend's options model.

    Returns:
        The URL without its query string, and the options.

    Raises:
        InvalidInput: An option is unknown or has a bad value.
    """
    # Split by hand: urlunsplit would turn "memory://" into "memory:".
    base, _, query = url.partition("?")
    raw = dict(parse_qsl(query, keep_blank_values=True))
    try:
        options = model.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInput(f"bad options in backend URL: {exc}") from exc
    return base, options


class Backend(abc.ABC):
    """What every backend does: open from a URL, answer a health check, close.

    A backend is made by its class method ``from_url``; the URL's query string holds its
    options (see :func:`split_options`).
    """

    @classmethod
    @abc.abstractmethod
    def from_url(cls, url: str) -> Self:
        """Open the backend a URL names, creating or upgrading its schema as needed."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections. Further calls may fail."""

    @abc.abstractmethod
    def ping(self) -> None:
        """Check the backend answers.

        Raises:
            BackendUnavailable: It does not.
        """


def page_position(limit: int, after: str | None) -> int | None:
    """Check a search's page arguments and read its keyset position, for every backend.

    Returns:
        The integer id the page starts after, or ``None`` for the first page.

    Raises:
        InvalidInput: ``limit`` is below 1.
        InvalidQuery: ``after`` is not a well-formed pin id.
    """
    if limit < 1:
        raise InvalidInput(f"limit must be at least 1, not {limit}")
    if after is None:
        return None
    position = decode_id(after)
    if position is None:
        raise InvalidQuery(f"not a valid position: {after!r}")
    return position


RecordT = TypeVar("RecordT")


def keyset_stream(
    read_page: Callable[[str | None, int], Sequence[RecordT]],
    key: Callable[[RecordT], str],
    page_size: int,
) -> Iterator[RecordT]:
    """Stream records read in keyset pages, for the ``export_*`` methods of every backend.

    Each page is read on its own (no connection or lock is held while the caller works on
    a record), so memory holds one page however many records there are.

    Args:
        read_page: Reads up to ``limit`` records whose key is strictly greater than
            ``after`` (all records when ``None``), in ascending key order.
        key: A record's key.
        page_size: Records per page.

    Raises:
        InvalidInput: ``page_size`` is below 1 (at once, not when the stream is read).
    """
    if page_size < 1:
        raise InvalidInput(f"page_size must be at least 1, not {page_size}")
    return _pages(read_page, key, page_size)


def _pages(
    read_page: Callable[[str | None, int], Sequence[RecordT]],
    key: Callable[[RecordT], str],
    page_size: int,
) -> Iterator[RecordT]:
    after: str | None = None
    while True:
        page = read_page(after, page_size)
        yield from page
        if len(page) < page_size:
            return
        after = key(page[-1])


class MetadataCapabilities(BaseModel):
    """What a metadata backend can do beyond the required minimum.

    Attributes:
        transactions: Multi-row writes are atomic.
        full_text_index: Free-text search uses an index rather than a scan.
        shared_between_processes: Several processes may open the same store at once.
    """

    model_config = ConfigDict(frozen=True)

    transactions: bool = True
    full_text_index: bool = False
    shared_between_processes: bool = True


class PinChanges(BaseModel):
    """A partial update of a pin; ``None`` means leave as it is.

    Tag changes are applied by the backend atomically, so two concurrent updates that add
    different tags both take effect. The media facts that derivation learns (``blurhash``,
    ``duration``, ``width``, ``height``, ``frame_count``, ``codec``, ``camera``,
    ``taken_at``) may change; ``size`` and ``sha256`` name the stored original and never do.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str | None = None
    description: str | None = None
    visibility: Visibility | None = None
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    thumbnails: tuple[int, ...] | None = None
    blurhash: str | None = None
    duration: float | None = Field(default=None, ge=0)
    width: int | None = Field(default=None, ge=0)
    height: int | None = Field(default=None, ge=0)
    frame_count: int | None = Field(default=None, ge=0)
    codec: str | None = None
    camera: str | None = None
    taken_at: datetime | None = None
    processing: ProcessingState | None = None
    updated_at: datetime

    def media_updates(self) -> dict[str, object]:
        """The :class:`~pinsphere.models.Media` fields these changes set, by name."""
        named = {
            "blurhash": self.blurhash,
            "duration": self.duration,
            "width": self.width,
            "height": self.height,
            "frame_count": self.frame_count,
            "codec": self.codec,
            "camera": self.camera,
            "taken_at": self.taken_at,
        }
        return {name: value for name, value in named.items() if value is not None}


class BoardChanges(BaseModel):
    """A partial update of a board; ``None`` means leave as it is."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = None
    description: str | None = None
    visibility: Visibility | None = None


class MetadataBackend(Backend):
    """Stores pins, their tags and boards, and answers searches over them.

    Pin ids are the strings of :mod:`pinsphere.ids`; their integer form orders pins by
    creation, and "newest first" means descending id. Board names are unique per owner,
    compared case-insensitively (:func:`pinsphere.tags.board_key`).
    """

    capabilities: ClassVar[MetadataCapabilities] = MetadataCapabilities()

    # -- pins -------------------------------------------------------------------------------

    @abc.abstractmethod
    def insert_pins(self, pins: Iterable[tuple[Pin, Sequence[str]]]) -> int:
        """Insert new pins with the ids of the boards each is on, atomically.

        ``Pin.boards`` of the given pins is ignored; the board ids decide. Returns the number
        inserted.

        Raises:
            Conflict: A pin id exists already.
            NotFound: A board id does not exist.
        """

    @abc.abstractmethod
    def get_pin(self, pin_id: str, access: AccessRule) -> Pin | None:
        """The pin, or ``None`` when it does not exist or ``access`` does not allow it.

        ``Pin.boards`` lists only the boards ``access`` allows, sorted by name.
        """

    @abc.abstractmethod
    def update_pin(self, pin_id: str, changes: PinChanges) -> Pin | None:
        """Apply ``changes``; ``None`` when the pin does not exist.

        The facade checks permissions before calling; the returned pin's ``boards`` lists
        every board it is on.
        """

    @abc.abstractmethod
    def delete_pin(self, pin_id: str) -> Pin | None:
        """Delete the pin with its tags, board entries, shares and links; return it, or
        ``None`` if absent."""

    @abc.abstractmethod
    def search_pins(
        self, query: Query, access: AccessRule, *, limit: int, after: str | None = None
    ) -> list[Pin]:
        """Up to ``limit`` visible pins matching ``query``, in ``query.order``.

        Args:
            query: The parsed search; owner terms already carry user ids.
            access: Who is asking.
            limit: At most this many pins (at least 1).
            after: Keyset position: only pins strictly after this pin id in the order.
        """

    def search_page(
        self, query: Query, access: AccessRule, *, limit: int, after: str | None = None
    ) -> tuple[list[Pin], bool]:
        """A page of :meth:`search_pins`: up to ``limit`` pins, and whether more follow.

        The facade pages through this method. The default asks :meth:`search_pins` for one
        pin more than the page holds; a backend that can tell "more follow" without building
        that pin (a SQL backend reads one more row) overrides it.
        """
        found = self.search_pins(query, access, limit=limit + 1, after=after)
        return found[:limit], len(found) > limit

    @abc.abstractmethod
    def count_pins(self, query: Query, access: AccessRule) -> int:
        """How many visible pins match ``query``."""

    @abc.abstractmethod
    def tag_counts(
        self, access: AccessRule, *, prefix: str | None = None, limit: int = 1000
    ) -> list[TagCount]:
        """Tags of visible pins with how many visible pins carry each tag directly.

        Sorted by count descending, then tag. ``prefix`` keeps tags starting with it.
        """

    @abc.abstractmethod
    def count_blob_references(self, sha256: str) -> int:
        """How many pins (of any owner) have an original with this digest."""

    @abc.abstractmethod
    def owner_pin_ids(self, owner_id: str) -> list[str]:
        """Ids of every pin the user owns (for account deletion and transfers)."""

    @abc.abstractmethod
    def pins_in_state(self, state: ProcessingState, *, limit: int) -> list[Pin]:
        """Up to ``limit`` pins of any owner whose ``processing`` is ``state``, oldest first.

        For the background workers that derive media (and retry failures); ``boards`` of the
        returned pins is left empty.

        Raises:
            InvalidInput: ``limit`` is below 1.
        """

    # -- boards -----------------------------------------------------------------------------

    @abc.abstractmethod
    def create_board(self, board: Board) -> Board:
        """Store a new board.

        Raises:
            Conflict: The owner has a board with that name already.
        """

    @abc.abstractmethod
    def get_board(self, board_id: str, access: AccessRule) -> Board | None:
        """The board if it exists and ``access`` allows it; ``pin_count`` counts visible pins."""

    @abc.abstractmethod
    def find_board(self, owner_id: str, name: str, access: AccessRule) -> Board | None:
        """The owner's board with that name (case-insensitive), if ``access`` allows it."""

    @abc.abstractmethod
    def list_boards(self, access: AccessRule, *, owner_id: str | None = None) -> list[Board]:
        """Visible boards (of one owner if given), sorted by owner then name."""

    @abc.abstractmethod
    def update_board(self, board_id: str, changes: BoardChanges) -> Board | None:
        """Apply ``changes``; ``None`` when absent.

        Raises:
            Conflict: The new name is taken by another of the owner's boards.
        """

    @abc.abstractmethod
    def delete_board(self, board_id: str) -> bool:
        """Delete the board with its shares and links (its pins stay); ``False`` when absent."""

    @abc.abstractmethod
    def add_to_board(self, board_id: str, pin_id: str) -> None:
        """Put a pin on a board (no error if it is there already).

        Raises:
            NotFound: The board or the pin does not exist.
        """

    @abc.abstractmethod
    def remove_from_board(self, board_id: str, pin_id: str) -> None:
        """Take a pin off a board (no error if it was not on it)."""

    # -- shares -----------------------------------------------------------------------------

    @abc.abstractmethod
    def put_share(self, share: Share) -> Share:
        """Share a pin or board with a user, replacing the role of an existing share.

        Returns:
            The share as stored (an existing share keeps its id and creation time).

        Raises:
            NotFound: The target does not exist.
        """

    @abc.abstractmethod
    def delete_share(self, target_kind: TargetKind, target_id: str, user_id: str) -> bool:
        """Stop sharing; ``False`` when there was no such share."""

    @abc.abstractmethod
    def list_shares(self, target_kind: TargetKind, target_id: str) -> list[Share]:
        """Who a pin or board is shared with, by username (case-folded)."""

    @abc.abstractmethod
    def share_role(self, target_kind: TargetKind, target_id: str, user_id: str) -> ShareRole | None:
        """The user's strongest share of a target.

        For a pin this counts direct shares and shares of boards the pin is on whose owner
        also owns the pin; ``editor`` beats ``viewer``.
        """

    # -- links ------------------------------------------------------------------------------

    @abc.abstractmethod
    def add_link(self, link: Link, token_hash: str, password_hash: str | None) -> None:
        """Store a new public link (its token only as a SHA-256 digest).

        Raises:
            NotFound: The target does not exist.
        """

    @abc.abstractmethod
    def find_link(self, token_hash: str) -> tuple[Link, str | None] | None:
        """The link with this token digest and its password hash, or ``None``."""

    @abc.abstractmethod
    def get_link(self, link_id: str) -> Link | None:
        """The link with this id, or ``None``."""

    @abc.abstractmethod
    def use_link(self, link_id: str, when: datetime) -> bool:
        """Count one opening of a link, atomically, if it is still usable at ``when``.

        Returns:
            ``False`` (and nothing counted) when it is revoked, expired or used up.
        """

    @abc.abstractmethod
    def revoke_link(self, link_id: str, when: datetime) -> bool:
        """Revoke a link; ``False`` when absent or revoked already."""

    @abc.abstractmethod
    def list_links(
        self, *, created_by: str | None = None, target: tuple[TargetKind, str] | None = None
    ) -> list[Link]:
        """Links, newest first, made by one user and/or for one target."""

    # -- audit ------------------------------------------------------------------------------

    @abc.abstractmethod
    def add_audit_event(self, event: AuditEvent) -> None:
        """Record a permission change."""

    @abc.abstractmethod
    def list_audit_events(self, *, limit: int = 100, before: str | None = None) -> list[AuditEvent]:
        """Recorded events, newest first, older than the event id ``before`` (keyset)."""

    # -- moving records to another backend --------------------------------------------------
    #
    # Not abstract: added after backends were written against this interface, which keep
    # working without them (a migration reports their links as not copied).

    def export_links(self, *, page_size: int = 500) -> Iterable[tuple[Link, str, str | None]]:
        """Every stored link with its token digest and password hash, exactly as stored.

        For copying a store to other backends (:mod:`pinsphere.migrate`): since a token is
        looked up by its digest only, a link stored elsewhere with the same digest opens with
        the same token. Links come in ascending id order, read in keyset pages (see
        :func:`keyset_stream`); one made or changed while the stream is read may be missed,
        or seen as it was. The result is read once.

        Args:
            page_size: Links read per request.

        Returns:
            ``(link, token_hash, password_hash)`` for every link, with its use count, expiry
            and revocation time.

        Raises:
            Unsupported: The backend cannot export links (the default).
            InvalidInput: ``page_size`` is below 1.
        """
        raise Unsupported(
            f"{type(self).__name__} cannot export public links", operation="export_links"
        )

    def import_link(self, link: Link, token_hash: str, password_hash: str | None) -> None:
        """Store a link exactly as another backend exported it (:meth:`export_links`).

        Unlike :meth:`add_link`, which stores a link just made, this keeps every part of its
        state: ``uses``, ``revoked_at``, ``expires_at`` and the password hash, so that a
        revoked link stays revoked and a limited one keeps only its remaining uses.
        ``link.has_password`` follows ``password_hash``.

        Raises:
            Conflict: A link with this id or token digest exists; nothing is changed.
            NotFound: The link's target does not exist.
            Unsupported: The backend cannot import links (the default).
        """
        raise Unsupported(
            f"{type(self).__name__} cannot import public links", operation="import_link"
        )


class UserCapabilities(BaseModel):
    """What a user backend can do beyond the required minimum."""

    model_config = ConfigDict(frozen=True)

    shared_between_processes: bool = True


class UserChanges(BaseModel):
    """A partial update of a user; ``None`` means leave as it is (``email=""`` clears it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    email: str | None = None
    role: str | None = None
    disabled: bool | None = None
    password_hash: str | None = None


class RefreshTokenRecord(BaseModel):
    """A stored refresh token (only its hash), one link in a chain of rotations.

    Every token issued at one sign-in shares a ``family_id``; rotating a token marks it used
    and issues the next in the family. Presenting a used token again means it was stolen,
    and the whole family is revoked.

    Attributes:
        token_hash: SHA-256 hex digest of the token; the token itself is never stored.
        family_id: Shared by every token descended from one sign-in.
        user_id: Whose token it is.
        created_at: When it was issued (UTC).
        expires_at: When it stops working (UTC).
        used_at: When it was rotated, or ``None`` while unused.
        revoked: The family was revoked (sign-out, reuse detected, password change).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    token_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    family_id: str
    user_id: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    revoked: bool = False


class UserBackend(Backend):
    """Stores user accounts and their password hashes.

    Usernames and e-mails are unique compared case-insensitively (``str.casefold``).
    """

    capabilities: ClassVar[UserCapabilities] = UserCapabilities()

    @abc.abstractmethod
    def create_user(self, user: User, password_hash: str | None) -> User:
        """Store a new user.

        Raises:
            Conflict: The username or e-mail is taken (the message does not say which).
        """

    @abc.abstractmethod
    def get_user(self, user_id: str) -> User | None:
        """The user with this id, or ``None``."""

    @abc.abstractmethod
    def find_user(self, username: str) -> User | None:
        """The user with this username (case-insensitive), or ``None``."""

    @abc.abstractmethod
    def find_user_by_email(self, email: str) -> User | None:
        """The user with this e-mail (case-insensitive), or ``None``."""

    @abc.abstractmethod
    def get_password_hash(self, user_id: str) -> str | None:
        """The stored password hash, or ``None`` (no password set, or no such user)."""

    @abc.abstractmethod
    def update_user(self, user_id: str, changes: UserChanges) -> User | None:
        """Apply ``changes``; ``None`` when absent.

        Raises:
            Conflict: The new e-mail is taken.
        """

    @abc.abstractmethod
    def delete_user(self, user_id: str) -> bool:
        """Delete the account, its refresh and API tokens; ``False`` when absent."""

    @abc.abstractmethod
    def list_users(self, *, limit: int = 100, after: str | None = None) -> list[User]:
        """Users ordered by case-folded username, after the given username (keyset)."""

    # -- refresh tokens ---------------------------------------------------------------------

    @abc.abstractmethod
    def add_refresh_token(self, record: RefreshTokenRecord) -> None:
        """Store a newly issued refresh token.

        Raises:
            Conflict: A token with this hash exists.
            NotFound: The user does not exist.
        """

    @abc.abstractmethod
    def get_refresh_token(self, token_hash: str) -> RefreshTokenRecord | None:
        """The token with this hash, or ``None``."""

    @abc.abstractmethod
    def use_refresh_token(self, token_hash: str, when: datetime) -> bool:
        """Mark a token used, atomically: only one of several concurrent callers wins.

        Returns:
            ``True`` when this call marked it; ``False`` when it was already used, revoked
            or absent.
        """

    @abc.abstractmethod
    def revoke_refresh_tokens(
        self, *, family_id: str | None = None, user_id: str | None = None
    ) -> int:
        """Revoke every token of a family, or of a user (one of the two must be given).

        Returns:
            How many tokens were newly revoked.
        """

    @abc.abstractmethod
    def purge_refresh_tokens(self, expired_before: datetime) -> int:
        """Delete tokens that expired before ``expired_before``; returns how many."""

    # -- API tokens -------------------------------------------------------------------------

    @abc.abstractmethod
    def add_api_token(self, token: ApiToken, token_hash: str) -> None:
        """Store a new API token (the secret only as a SHA-256 digest).

        Raises:
            NotFound: The user does not exist.
        """

    @abc.abstractmethod
    def find_api_token(self, token_hash: str) -> ApiToken | None:
        """The token with this digest, or ``None``."""

    @abc.abstractmethod
    def touch_api_token(self, token_id: str, when: datetime) -> None:
        """Record that the token was used at ``when``."""

    @abc.abstractmethod
    def list_api_tokens(self, user_id: str) -> list[ApiToken]:
        """A user's tokens, newest first."""

    @abc.abstractmethod
    def delete_api_token(self, token_id: str, user_id: str) -> bool:
        """Delete one of a user's tokens; ``False`` when the user has no such token."""

    # -- moving records to another backend --------------------------------------------------
    #
    # Not abstract: added after backends were written against this interface, which keep
    # working without them (a migration reports their tokens as not copied).

    def export_api_tokens(self, *, page_size: int = 500) -> Iterable[tuple[ApiToken, str]]:
        """Every stored API token with its digest, exactly as stored.

        For copying a store to other backends (:mod:`pinsphere.migrate`): a token stored
        elsewhere with the same digest authenticates the same secret. Tokens come in
        ascending id order, read in keyset pages (see :func:`keyset_stream`); one made or
        changed while the stream is read may be missed, or seen as it was. The result is
        read once.

        Args:
            page_size: Tokens read per request.

        Returns:
            ``(token, token_hash)`` for every token of every user, with its expiry and the
            time it was last used.

        Raises:
            Unsupported: The backend cannot export API tokens (the default).
            InvalidInput: ``page_size`` is below 1.
        """
        raise Unsupported(
            f"{type(self).__name__} cannot export API tokens", operation="export_api_tokens"
        )

    def import_api_token(self, token: ApiToken, token_hash: str) -> None:
        """Store an API token exactly as another backend exported it, ``last_used_at``
        included (:meth:`add_api_token` stores a token just made).

        Raises:
            Conflict: A token with this id or digest exists; nothing is changed.
            NotFound: The user does not exist.
            Unsupported: The backend cannot import API tokens (the default).
        """
        raise Unsupported(
            f"{type(self).__name__} cannot import API tokens", operation="import_api_token"
        )

    def export_refresh_tokens(self, *, page_size: int = 500) -> Iterable[RefreshTokenRecord]:
        """Every stored refresh token (its digest and state), exactly as stored.

        For copying a store to other backends (:mod:`pinsphere.migrate`), so that sessions
        survive the move. Records come in ascending ``token_hash`` order, read in keyset
        pages (see :func:`keyset_stream`); one issued or changed while the stream is read may
        be missed, or seen as it was. The result is read once.

        Args:
            page_size: Records read per request.

        Raises:
            Unsupported: The backend cannot export refresh tokens (the default).
            InvalidInput: ``page_size`` is below 1.
        """
        raise Unsupported(
            f"{type(self).__name__} cannot export refresh tokens",
            operation="export_refresh_tokens",
        )

    def import_refresh_token(self, record: RefreshTokenRecord) -> None:
        """Store a refresh token exactly as another backend exported it.

        Unlike :meth:`add_refresh_token`, which stores a token just issued, this keeps
        ``used_at`` and ``revoked``: a rotated token presented again still revokes its
        family, and a revoked one stays revoked.

        Raises:
            Conflict: A token with this hash exists; nothing is changed.
            NotFound: The user does not exist.
            Unsupported: The backend cannot import refresh tokens (the default).
        """
        raise Unsupported(
            f"{type(self).__name__} cannot import refresh tokens",
            operation="import_refresh_token",
        )


class BlobCapabilities(BaseModel):
    """What a blob backend can do beyond the required minimum.

    Attributes:
        atomic_commit: A committed blob appears whole or not at all.
        ranged_reads: Opened blobs support ``seek`` without reading what is skipped.
        presigned_urls: :meth:`BlobBackend.presigned_url` returns URLs.
        presigned_uploads: :meth:`BlobBackend.presigned_upload` returns upload forms.
    """

    model_config = ConfigDict(frozen=True)

    atomic_commit: bool = True
    ranged_reads: bool = True
    presigned_urls: bool = False
    presigned_uploads: bool = False


class PresignedUpload(BaseModel):
    """A signed form that lets a client send one object straight to the blob store.

    The client sends ``fields`` and then the file (last) as a ``multipart/form-data``
    ``POST`` to ``url``. The store itself enforces what was signed: the exact key, the size
    range and the expiry.

    Attributes:
        url: Where to send the form.
        fields: Form fields to send as they are, before the file.
        method: The HTTP method (always ``POST`` so far).
        expires_at: When the signature stops being accepted (UTC).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    fields: dict[str, str]
    method: Literal["POST"] = "POST"
    expires_at: datetime


class BlobWriter(abc.ABC):
    """A blob being written: stream chunks in, then :meth:`commit` it under a key.

    Until committed the bytes are invisible under any key; :meth:`discard` (or leaving a
    ``with`` block with an exception) removes them.
    """

    @abc.abstractmethod
    def write(self, chunk: bytes) -> None:
        """Append bytes."""

    @abc.abstractmethod
    def commit(self, key: str) -> bool:
        """Make the written bytes readable under ``key``, atomically.

        Returns:
            ``False`` when a blob already existed under ``key`` (content-addressed keys mean
            it holds the same bytes); the written copy is then dropped.
        """

    @abc.abstractmethod
    def discard(self) -> None:
        """Throw the written bytes away. Safe to call twice or after commit."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.discard()


class BlobBackend(Backend):
    """Stores bytes under slash-separated keys (``originals/ab/<sha256>``)."""

    capabilities: ClassVar[BlobCapabilities] = BlobCapabilities()

    @abc.abstractmethod
    def writer(self) -> BlobWriter:
        """Start writing a new blob."""

    @abc.abstractmethod
    def open(self, key: str) -> IO[bytes]:
        """Open a blob for streaming reads (seekable when ``ranged_reads``).

        Raises:
            NotFound: No blob has this key.
        """

    @abc.abstractmethod
    def size(self, key: str) -> int:
        """The blob's length in bytes.

        Raises:
            NotFound: No blob has this key.
        """

    @abc.abstractmethod
    def exists(self, key: str) -> bool:
        """Whether a blob has this key."""

    @abc.abstractmethod
    def modified(self, key: str) -> datetime:
        """When the blob under ``key`` was last written (UTC).

        The sweeper uses it to leave alone blobs younger than its grace period, which may
        belong to an upload that has not yet created its pin.

        Raises:
            NotFound: No blob has this key.
        """

    @abc.abstractmethod
    def sweep_staging(self, older_than: timedelta) -> int:
        """Remove staged writes abandoned longer ago than ``older_than`` (crash leftovers).

        Returns:
            How many were removed.
        """

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove a blob; no error when it is absent."""

    @abc.abstractmethod
    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every key starting with ``prefix`` (for sweeping and migration)."""

    def prepare(self, prefixes: Iterable[str]) -> None:
        """Make the store ready to take keys under these folder prefixes; a no-op where
        folders do not exist (object stores, memory).

        A store calls it once, when it is made, for the folders most of its writes go to,
        so that a write never pays for making a folder (on a local disk: a ``mkdir`` and a
        flush of the folder above). It creates no key, and calling it again is harmless.

        Args:
            prefixes: Folder prefixes, each ending in a slash (``originals/ab/``).

        Raises:
            InvalidInput: A prefix is not a folder in which keys could lie.
            BackendUnavailable: The folders cannot be made.
        """

    def presigned_url(self, key: str, *, expires_in: int = 300) -> str | None:
        """A short-lived URL that reads the blob directly, where the store supports it."""
        return None

    def presigned_upload(
        self, key: str, *, max_size: int, expires_in: int = 900
    ) -> PresignedUpload | None:
        """A short-lived signed form that writes one blob directly, where the store supports
        it (``capabilities.presigned_uploads``).

        The form is valid only for exactly ``key`` (never a prefix of keys) and for bodies of
        1 to ``max_size`` bytes; the store refuses anything else. What arrives is not checked
        in any other way: callers verify it before trusting it.

        Args:
            key: The one key the form may write.
            max_size: The largest object accepted, in bytes.
            expires_in: Seconds the form stays valid.

        Returns:
            The form, or ``None`` when the store cannot sign uploads.
        """
        return None
