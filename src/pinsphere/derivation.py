"""What an upload derives and stores beside its original: thumbnails, a placeholder, the
media facts, and — privacy by default — a copy of the original without identifying metadata.

Runs inline in the upload, after the original is stored and before the pin is recorded, so
a pin never exists without its derived media, and a file the decoders refuse (a bomb, a
video without a picture) fails the upload with :class:`~pinsphere.errors.InvalidMedia`.

Keys: thumbnails at ``derived/<pin id>/<width>.webp`` and plugins' derivatives (the
``pinsphere_derivatives`` hook) at ``derived/<pin id>/extra/<name>``, removed with the pin. When the
original carries identifying metadata (GPS, serial numbers, owner names), the cleaned copy
*becomes* the stored original — with its own digest, so identical cleaned uploads still share
one blob — unless the owner opts in to keep the location, which keeps the GPS block only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from pinsphere.backends.base import BlobBackend
from pinsphere.errors import InvalidInput
from pinsphere.hookspecs import DERIVATIVE_NAME
from pinsphere.media.containers import REWRITABLE
from pinsphere.media.exif import strip_identifying
from pinsphere.media.pipeline import Derived, derive
from pinsphere.plugins import get_hooks
from pinsphere.settings import StoreSettings
from pinsphere.upload import StoredOriginal, original_key

__all__ = [
    "DERIVED_PREFIX",
    "DerivedMedia",
    "derivative_key",
    "derive_for_upload",
    "thumbnail_key",
]

DERIVED_PREFIX = "derived/"
"""Where derived assets live in the blob store, one folder per pin."""


def thumbnail_key(pin_id: str, width: int) -> str:
    """The blob key of a pin's thumbnail of one width."""
    return f"{DERIVED_PREFIX}{pin_id}/{width}.webp"


def derivative_key(pin_id: str, name: str) -> str:
    """The blob key of a plugin-made derivative of a pin.

    Raises:
        InvalidInput: The name is not 1-64 of ``a-z 0-9 . _ -`` (starting alphanumeric).
    """
    if not isinstance(name, str) or not DERIVATIVE_NAME.fullmatch(name):
        raise InvalidInput(f"not a derivative name: {name!r}")
    return f"{DERIVED_PREFIX}{pin_id}/extra/{name}"


@dataclass
class DerivedMedia:
    """The outcome of :func:`derive_for_upload`.

    Attributes:
        original: The stored original to record on the pin (the cleaned copy, if one was
            made), with the derived facts filled into its media.
        thumbnails: Widths of the thumbnails written.
        written: Every key this upload wrote, for removal if the upload fails later.
    """

    original: StoredOriginal
    thumbnails: tuple[int, ...] = ()
    written: list[str] = field(default_factory=list)


class _HashingWriter:
    """Passes bytes on to a blob writer while hashing and counting them."""

    def __init__(self, write: Callable[[bytes], object]) -> None:
        self._write = write
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self.digest.update(chunk)
        self.size += len(chunk)
        self._write(chunk)


def _strip(
    blobs: BlobBackend,
    stored: StoredOriginal,
    *,
    keep_location: bool,
    is_referenced: Callable[[str], bool],
) -> StoredOriginal:
    """Replace the stored original by a copy without identifying metadata."""
    with blobs.open(stored.key) as source, blobs.writer() as writer:
        sink = _HashingWriter(writer.write)
        strip_identifying(source, sink, stored.media.mime_type, keep_gps=keep_location)
        sha256 = sink.digest.hexdigest()
        if sha256 == stored.media.sha256:
            return stored  # nothing was left out (e.g. only GPS, which the owner keeps)
        key = original_key(sha256)
        created = writer.commit(key)
    if stored.created and not is_referenced(stored.media.sha256):
        blobs.delete(stored.key)
    media = stored.media.model_copy(update={"sha256": sha256, "size": sink.size})
    return StoredOriginal(media=media, key=key, created=created)


def _with_facts(stored: StoredOriginal, derived: Derived) -> StoredOriginal:
    updates: dict[str, object] = {"blurhash": derived.blurhash, "duration": derived.duration}
    # Displayed dimensions (after EXIF orientation or video rotation) are what search and
    # layout use; keep the header's when the decoder learnt nothing new.
    if derived.width is not None and derived.height is not None:
        updates.update(width=derived.width, height=derived.height)
    return replace(stored, media=stored.media.model_copy(update=updates))


def derive_for_upload(
    blobs: BlobBackend,
    stored: StoredOriginal,
    pin_id: str,
    settings: StoreSettings,
    *,
    keep_location: bool,
    is_referenced: Callable[[str], bool],
) -> DerivedMedia:
    """Derive and store a new pin's media.

    Args:
        blobs: The blob store.
        stored: The original as the upload stored it.
        pin_id: The id the pin will have.
        settings: The store's settings (``media``: widths, bounds).
        keep_location: The owner's opt-in to keep the GPS position in the served original.
        is_referenced: Whether an existing pin uses a digest (so a shared blob is kept).

    Returns:
        The original to record and the derived assets written. On an exception, whatever
        this call wrote is already removed (the original it was given stays the caller's).

    Raises:
        InvalidMedia: The file cannot be decoded within the configured bounds.
    """
    outcome = DerivedMedia(original=stored)
    try:
        with blobs.open(stored.key) as original:
            derived = derive(original, stored.media, settings.media)
        if derived.exif.identifying and stored.media.mime_type in REWRITABLE:
            outcome.original = _strip(
                blobs, stored, keep_location=keep_location, is_referenced=is_referenced
            )
        files = [(thumbnail_key(pin_id, t.width), t.data) for t in derived.thumbnails]
        with blobs.open(outcome.original.key) as original:
            extras = get_hooks().derivatives(pin_id, outcome.original.media, original)
        files += [(derivative_key(pin_id, extra.name), extra.data) for extra in extras]
        for key, data in files:
            with blobs.writer() as writer:
                writer.write(data)
                writer.commit(key)
            outcome.written.append(key)
    except BaseException:
        for key in outcome.written:
            blobs.delete(key)
        cleaned = outcome.original
        if cleaned is not stored and cleaned.created and not is_referenced(cleaned.media.sha256):
            blobs.delete(cleaned.key)
        raise
    outcome.original = _with_facts(outcome.original, derived)
    outcome.thumbnails = derived.widths
    return outcome
