"""Builders of valid test objects with sensible defaults.

Pin ids are made from the pin's creation time, as the store makes them, so that ordering by
id and filtering by date agree in every backend; a process-wide counter in the low bits keeps
ids unique even for pins created in the same millisecond, and increasing in call order.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable
from datetime import UTC, datetime

from pinsphere.ids import encode_id, id_at, new_token
from pinsphere.models import Board, Media, Pin, Role, User, Visibility
from pinsphere.policy import AccessRule

__all__ = [
    "ANONYMOUS",
    "EVERYTHING",
    "make_board",
    "make_pin",
    "make_user",
    "now_ms",
    "pin_id_at",
    "signed_in",
]

_COUNTER_MASK = (1 << 20) - 1
_counter = itertools.count()

ANONYMOUS = AccessRule()
"""What a caller who is not signed in sees: public objects only."""

EVERYTHING = AccessRule(everything=True)
"""What an admin sees: every object."""


def signed_in(user_id: str) -> AccessRule:
    """What a signed-in, non-admin user sees: their own objects, internal and public ones."""
    return AccessRule(owner_id=user_id, visibilities=frozenset({"public", "internal"}))


def now_ms() -> datetime:
    """The current UTC time truncated to whole milliseconds, the precision ids carry."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def pin_id_at(when: datetime) -> str:
    """A new pin id carrying the time ``when``, greater than earlier ids of the same time."""
    return encode_id(id_at(when) | (next(_counter) & _COUNTER_MASK))


def make_pin(
    *,
    owner_id: str = "user-alice",
    owner: str = "alice",
    title: str = "",
    description: str = "",
    tags: Iterable[str] = (),
    visibility: Visibility = "private",
    mime_type: str = "image/png",
    width: int | None = 640,
    height: int | None = 480,
    size: int = 1234,
    sha256: str | None = None,
    duration: float | None = None,
    thumbnails: tuple[int, ...] = (),
    created_at: datetime | None = None,
    pin_id: str | None = None,
) -> Pin:
    """A valid pin; only what a test cares about needs saying.

    Args:
        owner_id: The owner's user id.
        owner: The owner's username.
        title: The title.
        description: The description.
        tags: Tags, already normalised; they are sorted and de-duplicated here.
        visibility: ``private`` (default), ``internal`` or ``public``.
        mime_type: The original's MIME type.
        width: Pixel width, or ``None`` when unknown.
        height: Pixel height, or ``None`` when unknown.
        size: The original's length in bytes.
        sha256: The original's digest; by default one unique to this pin.
        duration: Seconds, for videos and animations.
        thumbnails: Widths of derived thumbnails.
        created_at: Creation time (UTC); now by default. The id carries it.
        pin_id: An explicit id; by default one made from ``created_at``.

    Returns:
        The pin, with empty ``boards`` (backends take boards separately).
    """
    created = created_at if created_at is not None else now_ms()
    the_id = pin_id if pin_id is not None else pin_id_at(created)
    media = Media(
        mime_type=mime_type,
        size=size,
        sha256=sha256 if sha256 is not None else hashlib.sha256(the_id.encode()).hexdigest(),
        width=width,
        height=height,
        duration=duration,
    )
    return Pin(
        id=the_id,
        owner_id=owner_id,
        owner=owner,
        title=title,
        description=description,
        tags=tuple(sorted(set(tags))),
        visibility=visibility,
        media=media,
        thumbnails=thumbnails,
        created_at=created,
        updated_at=created,
    )


def make_board(
    name: str,
    *,
    owner_id: str = "user-alice",
    owner: str = "alice",
    visibility: Visibility = "private",
    description: str = "",
    board_id: str | None = None,
) -> Board:
    """A valid board named ``name``, with a fresh random id unless one is given."""
    return Board(
        id=board_id if board_id is not None else f"board-{new_token(9)}",
        owner_id=owner_id,
        owner=owner,
        name=name,
        description=description,
        visibility=visibility,
        created_at=now_ms(),
    )


def make_user(
    username: str,
    *,
    email: str | None = None,
    role: Role = "member",
    disabled: bool = False,
    user_id: str | None = None,
) -> User:
    """A valid user named ``username``, with a fresh random id unless one is given."""
    return User(
        id=user_id if user_id is not None else f"user-{new_token(9)}",
        username=username,
        email=email,
        role=role,
        disabled=disabled,
        created_at=now_ms(),
    )
