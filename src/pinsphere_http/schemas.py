"""Request and response bodies that are not the store's own models.

Pins, boards and tag counts are answered with the library's models (:class:`pinsphere.Pin`
and friends) as they are: they are the public face already, and sending them as they are
avoids a copy per item on the hot paths. Users get their own models here, so that only the
fields listed are ever sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pinsphere import Board, Pin, Role, User, Visibility
from pinsphere.models import AuditEvent, NewLink, Scope, ShareRole, TargetKind
from pinsphere.tags import MAX_BOARD_NAME_LENGTH

__all__ = [
    "MAX_LINK_SECONDS",
    "AccountOut",
    "AdminUserPatch",
    "ApiTokenCreate",
    "AuditPage",
    "BackendState",
    "BoardCreate",
    "BoardPatch",
    "CreatedLink",
    "HealthOut",
    "LinkCreate",
    "PasswordChange",
    "PinPage",
    "PinPatch",
    "ReadyOut",
    "ShareCreate",
    "SharedTarget",
    "SignupRequest",
    "TokenResponse",
    "UserPage",
]

MAX_LINK_SECONDS = 3650 * 24 * 3600
"""The longest a public link may last (ten years, as the store allows)."""

_STRICT = ConfigDict(extra="forbid")


class AccountOut(BaseModel):
    """A user account as its owner (or an admin) sees it."""

    id: str
    username: str
    email: str | None
    role: Role
    disabled: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> AccountOut:
        """The account view of a user."""
        return cls(
            id=user.id,
            username=user.username,
            email=user.email,
            role=user.role,
            disabled=user.disabled,
            created_at=user.created_at,
        )


class UserPage(BaseModel):
    """One page of users, by username."""

    items: list[AccountOut]
    next_cursor: str | None = None


class PinPage(BaseModel):
    """One page of pins."""

    items: list[Pin]
    next_cursor: str | None = Field(
        default=None, description="Pass back as `cursor` for the next page; null on the last."
    )


class TokenResponse(BaseModel):
    """The answer of a successful sign-in or refresh (RFC 6749 section 5.1)."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the RFC 6749 token type
    expires_in: int = Field(description="Seconds the access token is valid for.")
    refresh_token: str | None = None


class SignupRequest(BaseModel):
    """A self sign-up.

    There is no e-mail field on purpose: an address nobody has verified must not become one
    that Google sign-in would link to (someone could claim another person's address first).
    """

    model_config = _STRICT

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class PasswordChange(BaseModel):
    """A password change by the account's owner."""

    model_config = _STRICT

    current_password: str = Field(max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class PinPatch(BaseModel):
    """Changes to a pin; fields left out stay as they are."""

    model_config = _STRICT

    title: str | None = None
    description: str | None = None
    tags: list[str] | None = Field(default=None, description="Replace all tags.")
    add_tags: list[str] = Field(default_factory=list)
    remove_tags: list[str] = Field(default_factory=list)
    visibility: Visibility | None = None


class BoardCreate(BaseModel):
    """A new board."""

    model_config = _STRICT

    name: str = Field(min_length=1, max_length=MAX_BOARD_NAME_LENGTH)
    description: str = ""
    visibility: Visibility = "private"


class BoardPatch(BaseModel):
    """Changes to a board; fields left out stay as they are."""

    model_config = _STRICT

    name: str | None = Field(default=None, min_length=1, max_length=MAX_BOARD_NAME_LENGTH)
    description: str | None = None
    visibility: Visibility | None = None


class AdminUserPatch(BaseModel):
    """An administrator's changes to an account."""

    model_config = _STRICT

    role: Role | None = None
    disabled: bool | None = None


class HealthOut(BaseModel):
    """A health or readiness answer."""

    status: Literal["ok"] = "ok"


BackendState = Literal["ok", "unavailable"]
"""Whether a backend answered its ping."""


class ReadyOut(BaseModel):
    """A readiness answer: every backend answered."""

    status: Literal["ok"] = "ok"
    backends: dict[str, BackendState] = Field(
        default_factory=dict, description="Each backend's state: metadata, users, blobs."
    )


class ShareCreate(BaseModel):
    """Share a pin or board with a user, or change the role of an existing share."""

    model_config = _STRICT

    username: str = Field(min_length=1, max_length=254)
    role: ShareRole = "viewer"


class LinkCreate(BaseModel):
    """A new public link to one of the caller's pins or boards."""

    model_config = _STRICT

    target_id: str = Field(min_length=1, max_length=64, description="A pin's or board's id.")
    expires_in: int | None = Field(
        default=None,
        ge=1,
        le=MAX_LINK_SECONDS,
        description="Seconds until the link stops working; never when null.",
    )
    max_uses: int | None = Field(
        default=None,
        ge=1,
        le=1_000_000,
        description="How many visits it allows; unlimited when null.",
    )
    password: str | None = Field(
        default=None,
        min_length=1,
        max_length=1024,
        description="Visitors send it in the `X-Link-Password` header.",
    )
    allow_download: bool = Field(
        default=True, description="Whether visitors may fetch the original files."
    )


class CreatedLink(NewLink):
    """A link just made. Its ``token`` is shown only in this answer: keep it now."""

    url: str = Field(description="Where visitors open it (a path on this service).")


def _read_only() -> list[Scope]:
    return ["read"]


class ApiTokenCreate(BaseModel):
    """A new personal API token."""

    model_config = _STRICT

    name: str = Field(min_length=1, max_length=100)
    scopes: list[Scope] = Field(default_factory=_read_only, min_length=1, max_length=2)
    expires_in: int | None = Field(
        default=None,
        ge=1,
        le=MAX_LINK_SECONDS,
        description="Seconds until the token stops working; never when null.",
    )


class AuditPage(BaseModel):
    """Audit events, newest first."""

    items: list[AuditEvent]
    next_before: str | None = Field(
        default=None, description="Pass back as `before` for older events; null on the last."
    )


class SharedTarget(BaseModel):
    """What a public link shows: its pin, or its board with one page of the board's pins."""

    kind: TargetKind
    pin: Pin | None = Field(default=None, description="The linked pin (pin links).")
    board: Board | None = Field(default=None, description="The linked board (board links).")
    pins: PinPage | None = Field(
        default=None, description="A page of the board's pins (board links)."
    )
    allow_download: bool
    expires_at: datetime | None
    visit: str = Field(
        description=(
            "Send it back (`X-Link-Visit` header or `visit` query parameter) on the follow-up "
            "requests of this visit (pins, media, next pages), so that they are not counted "
            "as further uses of the link."
        )
    )
