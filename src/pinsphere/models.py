"""The domain objects a caller gets back: users, pins and their media, boards, pages.

They are immutable pydantic models: a backend builds them, the facade hands them out, and
nothing a caller does to one changes what is stored (use ``update`` for that).
"""

from __future__ import annotations

from datetime import datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "PROCESSING_STATES",
    "ROLES",
    "SHARE_ROLES",
    "VISIBILITIES",
    "ApiToken",
    "AuditEvent",
    "Board",
    "Link",
    "Media",
    "NewApiToken",
    "NewLink",
    "Page",
    "Pin",
    "ProcessingState",
    "Role",
    "Scope",
    "Share",
    "ShareRole",
    "TagCount",
    "TargetKind",
    "User",
    "Visibility",
]

Visibility = Literal["private", "internal", "public"]
"""Who sees a pin: its owner only, any signed-in user, or anyone (anonymous too)."""

VISIBILITIES: tuple[Visibility, ...] = ("private", "internal", "public")

Role = Literal["admin", "member", "viewer"]
"""What a user may do: manage everything, upload and manage their own pins, or only look."""

ROLES: tuple[Role, ...] = ("admin", "member", "viewer")

ShareRole = Literal["viewer", "editor"]
"""What a share grants: seeing, or seeing and editing metadata and tags (never deleting)."""

SHARE_ROLES: tuple[ShareRole, ...] = ("viewer", "editor")

TargetKind = Literal["pin", "board"]
"""What a share or a link is for."""

ProcessingState = Literal["pending", "ready", "failed"]
"""Whether a pin's derived media (thumbnails, placeholder, facts) exist yet: still to be made
by a background worker, made, or given up on until a retry."""

PROCESSING_STATES: tuple[ProcessingState, ...] = ("pending", "ready", "failed")

Scope = Literal["read", "write"]
"""What an API token may do: read only, or read and change."""

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class User(BaseModel):
    """A user account. Password hashes never leave the user backend.

    Attributes:
        id: Stable opaque identifier.
        username: Unique, compared case-insensitively; kept as it was first written.
        email: Unique (case-insensitively) when set.
        role: ``admin``, ``member`` or ``viewer``.
        disabled: A disabled user cannot authenticate.
        created_at: When the account was made (UTC).
    """

    model_config = _FROZEN

    id: str
    username: str
    email: str | None = None
    role: Role = "member"
    disabled: bool = False
    created_at: datetime


class Media(BaseModel):
    """Facts about a pin's original file, read from its bytes (never from the file name).

    Attributes:
        mime_type: The sniffed type, e.g. ``image/png``.
        size: Length in bytes.
        sha256: Hex digest of the bytes; identical uploads share one stored blob.
        width: Pixel width, when known.
        height: Pixel height, when known.
        duration: Length in seconds for videos and animations, when known.
        blurhash: A compact placeholder string for grids, when computed.
        frame_count: Frames, for animations and for videos whose container records it.
        codec: A video's codec (``h264``, ``vp9``...), when known.
        camera: The camera that took a photo, from EXIF make and model (``Canon EOS R6``).
        taken_at: When a photo was taken, from EXIF, exactly as the camera recorded it:
            timezone-aware (with the camera's own UTC offset) when the EXIF gives the
            offset, otherwise *naive* — the camera's local wall-clock time, which cannot be
            placed on the UTC timeline. Compare or sort these only with that in mind.

    GPS positions are never media facts: a location is identifying, and stays only in the
    stored original when its owner opts in to keep it.
    """

    model_config = _FROZEN

    mime_type: str
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    width: int | None = Field(default=None, ge=0)
    height: int | None = Field(default=None, ge=0)
    duration: float | None = Field(default=None, ge=0)
    blurhash: str | None = None
    frame_count: int | None = Field(default=None, ge=0)
    codec: str | None = None
    camera: str | None = None
    taken_at: datetime | None = None

    @property
    def kind(self) -> Literal["image", "gif", "video"]:
        """The coarse kind used by ``type:`` in searches."""
        if self.mime_type == "image/gif":
            return "gif"
        if self.mime_type.startswith("video/"):
            return "video"
        return "image"


class Pin(BaseModel):
    """A stored media file with its metadata.

    Attributes:
        id: Opaque, URL-safe, and time-ordered: sorting ids sorts pins by creation.
        owner_id: The owning user's id.
        owner: The owning user's username.
        title: Short title (may be empty).
        description: Longer free text (may be empty).
        tags: Normalised tags, sorted; a tag may be hierarchical (``animals/cats``).
        boards: Names of the boards the pin is on, as the caller can see them.
        visibility: ``private``, ``internal`` or ``public``.
        media: Facts about the file.
        thumbnails: Widths of the derived thumbnails available.
        processing: ``ready`` once the derived media exist; ``pending`` while a background
            worker makes them, ``failed`` when it could not (a retry may still succeed).
        created_at: Upload time (UTC).
        updated_at: Last metadata change (UTC).
    """

    model_config = _FROZEN

    id: str
    owner_id: str
    owner: str
    title: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    boards: tuple[str, ...] = ()
    visibility: Visibility = "private"
    media: Media
    thumbnails: tuple[int, ...] = ()
    processing: ProcessingState = "ready"
    created_at: datetime
    updated_at: datetime


class Board(BaseModel):
    """A named collection of pins owned by one user.

    Attributes:
        id: Opaque identifier.
        owner_id: The owning user's id.
        owner: The owning user's username.
        name: Unique per owner, compared case-insensitively.
        description: Free text.
        visibility: Who may see the board itself (its pins keep their own visibility).
        pin_count: How many of its pins the caller can see.
        created_at: When it was made (UTC).
    """

    model_config = _FROZEN

    id: str
    owner_id: str
    owner: str
    name: str
    description: str = ""
    visibility: Visibility = "private"
    pin_count: int = 0
    created_at: datetime


class TagCount(BaseModel):
    """A tag and how many visible pins carry it."""

    model_config = _FROZEN

    tag: str
    count: int


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of results.

    Attributes:
        items: The results, in the requested order.
        next_cursor: Pass it back as ``cursor=`` for the next page; ``None`` on the last page.
    """

    model_config = ConfigDict(frozen=True)

    items: tuple[T, ...]
    next_cursor: str | None = None


class Share(BaseModel):
    """A pin or board shared with one user.

    Attributes:
        id: Opaque identifier.
        target_kind: ``pin`` or ``board``; a board share covers the board owner's pins on it.
        target_id: The pin's or board's id.
        user_id: Who it is shared with.
        username: Their username.
        role: ``viewer`` or ``editor``.
        created_by: Who shared it (user id).
        created_at: When (UTC).
    """

    model_config = _FROZEN

    id: str
    target_kind: TargetKind
    target_id: str
    user_id: str
    username: str
    role: ShareRole
    created_by: str
    created_at: datetime


class Link(BaseModel):
    """A public link to a pin or a board. The token itself is shown once, at creation.

    Attributes:
        id: Opaque identifier (not the token).
        target_kind: ``pin`` or ``board``.
        target_id: The pin's or board's id.
        created_by: Who made it (user id).
        created_at: When (UTC).
        expires_at: When it stops working, or ``None``.
        max_uses: How many times it may be opened, or ``None`` for no limit.
        uses: How many times it has been opened.
        has_password: Whether opening it needs a password.
        allow_download: Whether the original file may be read through it.
        revoked_at: When it was revoked, or ``None``.
    """

    model_config = _FROZEN

    id: str
    target_kind: TargetKind
    target_id: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None = None
    max_uses: int | None = Field(default=None, ge=1)
    uses: int = Field(default=0, ge=0)
    has_password: bool = False
    allow_download: bool = True
    revoked_at: datetime | None = None


class NewLink(Link):
    """A link just created, with its token: keep it, it is not stored and cannot be shown
    again."""

    token: str


class ApiToken(BaseModel):
    """A personal API token for scripts. The token itself is shown once, at creation.

    Attributes:
        id: Opaque identifier (not the token).
        user_id: Whose token it is.
        name: The owner's label for it.
        scopes: ``read`` and/or ``write``.
        created_at: When (UTC).
        expires_at: When it stops working, or ``None``.
        last_used_at: When it was last accepted, or ``None``.
    """

    model_config = _FROZEN

    id: str
    user_id: str
    name: str
    scopes: tuple[Scope, ...]
    created_at: datetime
    expires_at: datetime | None = None
    last_used_at: datetime | None = None


class NewApiToken(ApiToken):
    """An API token just created, with its secret: shown once, never stored."""

    token: str


class AuditEvent(BaseModel):
    """One permission change: who did what to which object, and when.

    Attributes:
        id: Time-ordered identifier.
        at: When (UTC).
        actor_id: Who did it (user id), or ``None`` for the system.
        action: e.g. ``share``, ``unshare``, ``link.create``, ``link.revoke``, ``role.change``.
        target_kind: ``pin``, ``board``, ``link``, ``user`` or ``token``.
        target_id: The object's id.
        details: Small facts about the change (``{"user": "bob", "role": "editor"}``).
    """

    model_config = _FROZEN

    id: str
    at: datetime
    actor_id: str | None
    action: str
    target_kind: str
    target_id: str
    details: dict[str, str] = Field(default_factory=dict)
