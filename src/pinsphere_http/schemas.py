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

from pinsphere import Pin, Role, User, Visibility

__all__ = [
    "AccountOut",
    "AdminUserPatch",
    "BoardCreate",
    "BoardPatch",
    "HealthOut",
    "PasswordChange",
    "PinPage",
    "PinPatch",
    "SignupRequest",
    "TokenResponse",
    "UserPage",
]

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

    name: str
    description: str = ""
    visibility: Visibility = "private"


class BoardPatch(BaseModel):
    """Changes to a board; fields left out stay as they are."""

    model_config = _STRICT

    name: str | None = None
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
