"""Direct-to-bucket uploads: large files go from the client straight to the blob store, and
become pins only once the service has checked them.

Two calls, with no state kept in between, so that any worker can finish what another
started:

1. :meth:`PinScope.start_direct_upload <pinsphere.store.PinScope.start_direct_upload>` picks
   the key itself — ``incoming/<user id>/<upload id>``, the upload id 128 random bits — and
   has the blob store sign a short-lived form that writes exactly that key with 1 to
   ``max_size`` bytes (:meth:`~pinsphere.backends.base.BlobBackend.presigned_upload`). The
   client sends the form's fields and then the file (last) as ``multipart/form-data`` to its
   URL; the store itself refuses another key, a larger body or a late one.
2. :meth:`PinScope.finish_direct_upload <pinsphere.store.PinScope.finish_direct_upload>`
   rebuilds the key from the *caller's* id and the upload id — the client never names a key,
   and nobody can finish someone else's object — checks the object's size, then streams it
   through the ordinary upload pipeline (type sniffed from the bytes, sha256 while
   streaming, integrity checks, derivation, content-addressed commit, pin). The incoming
   object is deleted once it has become a pin, and also when it is refused (not an allowed
   type, corrupt, too large). After a failure of the backends themselves it stays, so that
   the client may retry the finish.

Objects never finished are removed by :meth:`PinStore.sweep <pinsphere.store.PinStore.sweep>`
once they are older than its grace period; finish an upload within that period.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from typing import IO

from pydantic import BaseModel, ConfigDict

from pinsphere.backends.base import BlobBackend
from pinsphere.errors import BackendUnavailable, InvalidInput, NotFound, TooLarge
from pinsphere.settings import StoreSettings

__all__ = [
    "DEFAULT_EXPIRY",
    "INCOMING_PREFIX",
    "MAX_EXPIRY",
    "DirectUpload",
    "DirectUploadsUnsupported",
    "incoming_key",
    "receive_incoming",
    "start_direct_upload",
    "sweep_incoming",
]

INCOMING_PREFIX = "incoming/"
"""Where directly uploaded objects wait, in the blob store, until they are finished."""

DEFAULT_EXPIRY = timedelta(minutes=15)
"""How long an upload form stays valid unless asked otherwise."""

MAX_EXPIRY = timedelta(hours=24)
"""The longest an upload form may stay valid."""

_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")


class DirectUploadsUnsupported(BackendUnavailable):
    """The store's blob backend cannot sign upload forms (it is not an object store)."""


class DirectUpload(BaseModel):
    """A direct upload handed to a client: where to send the file, and how.

    Send ``fields`` and then the file (the last part, named ``file``) as a
    ``multipart/form-data`` ``POST`` to ``url`` before ``expires_at``; then finish the upload
    with its ``id``.

    Attributes:
        id: The upload's id, for finishing it.
        url: Where to send the form.
        fields: Form fields to send as they are, before the file.
        expires_at: When the form stops being accepted (UTC).
        max_size: The largest file accepted, in bytes.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    url: str
    fields: dict[str, str]
    expires_at: datetime
    max_size: int


def incoming_key(user_id: str, upload_id: str) -> str:
    """The blob key where a user's direct upload waits.

    Args:
        user_id: The uploader's id.
        upload_id: The upload's id.

    Raises:
        NotFound: ``upload_id`` is not a well-formed upload id (so no such upload exists).
    """
    if not isinstance(upload_id, str) or not _UPLOAD_ID.fullmatch(upload_id):
        raise NotFound("no such upload")
    return f"{INCOMING_PREFIX}{user_id}/{upload_id}"


def _max_size(size: int | None, limit: int) -> int:
    if size is None:
        return limit
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise InvalidInput("size must be a positive number of bytes")
    if size > limit:
        raise TooLarge(f"the file is larger than {limit} bytes", limit=limit)
    return size


def _seconds(expires_in: timedelta) -> int:
    if not isinstance(expires_in, timedelta) or not (
        timedelta(seconds=1) <= expires_in <= MAX_EXPIRY
    ):
        raise InvalidInput(f"expires_in must be from 1 second to {MAX_EXPIRY}")
    return int(expires_in.total_seconds())


def start_direct_upload(
    blobs: BlobBackend,
    settings: StoreSettings,
    user_id: str,
    *,
    size: int | None = None,
    expires_in: timedelta = DEFAULT_EXPIRY,
) -> DirectUpload:
    """Sign a form that lets one user send one file straight to the blob store.

    The permission check is the caller's (:meth:`pinsphere.store.PinScope.start_direct_upload`).

    Args:
        blobs: The store's blob backend.
        settings: Its settings (the upload size limit).
        user_id: The uploader, whose id becomes part of the key.
        size: The file's size, if the client knows it: the form then accepts no more than
            that. At most ``settings.max_upload_bytes``, which is the limit otherwise.
        expires_in: How long the form stays valid (1 second to :data:`MAX_EXPIRY`).

    Returns:
        The upload's id, and the form.

    Raises:
        InvalidInput: ``size`` or ``expires_in`` is out of range.
        TooLarge: ``size`` is over the upload limit.
        DirectUploadsUnsupported: The blob backend cannot sign upload forms.
        BackendUnavailable: Signing failed (e.g. the store has no credentials).
    """
    max_size = _max_size(size, settings.max_upload_bytes)
    seconds = _seconds(expires_in)
    unsupported = DirectUploadsUnsupported(
        "direct uploads need a blob store that signs upload forms (such as s3://); "
        f"{type(blobs).__name__} does not"
    )
    if not blobs.capabilities.presigned_uploads:
        raise unsupported
    upload_id = secrets.token_hex(16)
    form = blobs.presigned_upload(
        incoming_key(user_id, upload_id), max_size=max_size, expires_in=seconds
    )
    if form is None:
        raise unsupported
    return DirectUpload(
        id=upload_id,
        url=form.url,
        fields=dict(form.fields),
        expires_at=form.expires_at,
        max_size=max_size,
    )


@contextmanager
def receive_incoming(
    blobs: BlobBackend, settings: StoreSettings, user_id: str, upload_id: str
) -> Iterator[IO[bytes]]:
    """Open a user's uploaded object for the upload pipeline, and remove it afterwards.

    The object is deleted when the block succeeds, and when it fails with
    :class:`~pinsphere.errors.InvalidInput` (a refused file: wrong type, corrupt, too large);
    any other failure leaves it for a retry (the sweeper removes it in the end), and so does
    a deletion that fails.

    Args:
        blobs: The store's blob backend.
        settings: Its settings (the upload size limit).
        user_id: The caller, whose uploads alone can be found.
        upload_id: The upload's id.

    Yields:
        The object, opened for streaming reads.

    Raises:
        NotFound: The upload id is malformed, or no such object (never sent, finished
            already, swept, or another user's).
        TooLarge: The object is over ``settings.max_upload_bytes`` (it is deleted).
    """
    key = incoming_key(user_id, upload_id)
    try:
        size = blobs.size(key)
    except NotFound:
        raise NotFound("no such upload (never sent, finished already, or expired)") from None
    try:
        limit = settings.max_upload_bytes
        if size > limit:
            raise TooLarge(f"the file is larger than {limit} bytes", limit=limit)
        with blobs.open(key) as source:
            yield source
    except InvalidInput:
        _remove(blobs, key)
        raise
    _remove(blobs, key)


def _remove(blobs: BlobBackend, key: str) -> None:
    # The outcome (a pin, or the refusal) is what the caller must hear; an object that
    # cannot be removed now is removed by the sweeper later.
    with suppress(BackendUnavailable):
        blobs.delete(key)


def sweep_incoming(blobs: BlobBackend, older_than: timedelta) -> int:
    """Remove uploaded objects nobody finished, written longer ago than ``older_than``.

    Args:
        blobs: The store's blob backend.
        older_than: The grace period.

    Returns:
        How many were removed.
    """
    cutoff = datetime.now(UTC) - older_than
    removed = 0
    for key in list(blobs.keys(INCOMING_PREFIX)):
        try:
            written = blobs.modified(key)
        except NotFound:
            continue  # finished (or swept) meanwhile
        if written <= cutoff:
            blobs.delete(key)
            removed += 1
    return removed
