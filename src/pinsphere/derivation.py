"""What an upload derives and stores beside its original: thumbnails, a placeholder, the
media facts, and — privacy by default — a copy of the original without identifying metadata.

By default (:func:`derive_for_upload`) it runs inline in the upload, after the original is
stored and before the pin is recorded, so a pin never exists without its derived media, and
a file the decoders refuse (a bomb, a video without a picture) fails the upload with
:class:`~pinsphere.errors.InvalidMedia`. With background processing the upload only strips
(:func:`strip_for_upload`, cheap, never deferred) and a worker later calls
:func:`derive_media`, recording the outcome in the pin's ``processing`` state.

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
from pinsphere.layout import OriginalsLayout
from pinsphere.media.containers import REWRITABLE
from pinsphere.media.exif import read_exif, strip_identifying
from pinsphere.media.pipeline import Derived, derive
from pinsphere.plugins import get_hooks
from pinsphere.settings import StoreSettings
from pinsphere.upload import StoredOriginal

__all__ = [
    "DERIVED_PREFIX",
    "DerivedMedia",
    "derivative_key",
    "derive_for_upload",
    "derive_media",
    "strip_for_upload",
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
    layout: OriginalsLayout,
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
        key = layout.key(sha256)
        created = writer.commit(key)
    if stored.created and not is_referenced(stored.media.sha256):
        blobs.delete(stored.key)
    media = stored.media.model_copy(update={"sha256": sha256, "size": sink.size})
    return StoredOriginal(media=media, key=key, created=created)


def _with_facts(stored: StoredOriginal, derived: Derived) -> StoredOriginal:
    # The EXIF facts kept on the pin are the owner's to see; the GPS position is not among
    # them (it stays, if the owner opts in, only inside the stored original).
    updates: dict[str, object] = {
        "blurhash": derived.blurhash,
        "duration": derived.duration,
        "frame_count": derived.frame_count,
        "codec": derived.codec,
        "camera": derived.exif.camera,
        "taken_at": derived.exif.taken_at,
    }
    # Displayed dimensions (after EXIF orientation or video rotation) are what search and
    # layout use; keep the header's when the decoder learnt nothing new.
    if derived.width is not None and derived.height is not None:
        updates.update(width=derived.width, height=derived.height)
    return replace(stored, media=stored.media.model_copy(update=updates))


def _derive(blobs: BlobBackend, stored: StoredOriginal, settings: StoreSettings) -> Derived:
    with blobs.open(stored.key) as original:
        return derive(original, stored.media, settings.media)


def _write_files(
    blobs: BlobBackend,
    pin_id: str,
    stored: StoredOriginal,
    derived: Derived,
    written: list[str],
) -> None:
    """Write the thumbnails and the plugins' derivatives, noting each key in ``written``
    as soon as this call made it (so a failure part-way removes exactly those, never the
    files of another run deriving the same pin at the same time)."""
    files = [(thumbnail_key(pin_id, t.width), t.data) for t in derived.thumbnails]
    with blobs.open(stored.key) as original:
        extras = get_hooks().derivatives(pin_id, stored.media, original)
    files += [(derivative_key(pin_id, extra.name), extra.data) for extra in extras]
    for key, data in files:
        with blobs.writer() as writer:
            writer.write(data)
            made = writer.commit(key)
        if made:
            written.append(key)


def strip_for_upload(
    blobs: BlobBackend,
    stored: StoredOriginal,
    *,
    layout: OriginalsLayout,
    keep_location: bool,
    is_referenced: Callable[[str], bool],
) -> StoredOriginal:
    """Replace a stored original that carries identifying metadata by a cleaned copy.

    Reads only the metadata blocks, never the pixels, so it stays in the upload even when
    the rest of the derivation runs later (:func:`derive_media`): nobody may ever be served
    a location the owner did not choose to share.

    Args:
        blobs: The blob store.
        stored: The original as the upload stored it.
        layout: The layout of the store's originals, which gives the cleaned copy's key.
        keep_location: The owner's opt-in to keep the GPS position.
        is_referenced: Whether an existing pin uses a digest (so a shared blob is kept).

    Returns:
        The original to record: ``stored`` itself when nothing needed removing.

    Raises:
        InvalidMedia: The container structure is malformed.
    """
    if stored.media.mime_type not in REWRITABLE:
        return stored
    with blobs.open(stored.key) as original:
        facts = read_exif(original, stored.media.mime_type)
    if not facts.identifying:
        return stored
    return _strip(
        blobs, stored, layout=layout, keep_location=keep_location, is_referenced=is_referenced
    )


def derive_media(
    blobs: BlobBackend, stored: StoredOriginal, pin_id: str, settings: StoreSettings
) -> DerivedMedia:
    """Derive and store a pin's thumbnails, plugins' derivatives and media facts, leaving the
    original as it is (strip it first with :func:`strip_for_upload`).

    Writing the same keys again is harmless, so this may run again for a pin whose earlier
    attempt failed or was interrupted.

    Args:
        blobs: The blob store.
        stored: The pin's (already cleaned) original.
        pin_id: The pin's id.
        settings: The store's settings (``media``: widths, bounds).

    Returns:
        The original with the derived facts filled into its media, and the keys written.
        On an exception, whatever this call wrote is already removed.

    Raises:
        InvalidMedia: The file cannot be decoded within the configured bounds.
    """
    outcome = DerivedMedia(original=stored)
    try:
        derived = _derive(blobs, stored, settings)
        _write_files(blobs, pin_id, stored, derived, outcome.written)
    except BaseException:
        for key in outcome.written:
            blobs.delete(key)
        raise
    outcome.original = _with_facts(stored, derived)
    outcome.thumbnails = derived.widths
    return outcome


def derive_for_upload(
    blobs: BlobBackend,
    stored: StoredOriginal,
    pin_id: str,
    settings: StoreSettings,
    *,
    layout: OriginalsLayout,
    keep_location: bool,
    is_referenced: Callable[[str], bool],
) -> DerivedMedia:
    """Derive and store a new pin's media, stripping the original, all in the upload.

    Args:
        blobs: The blob store.
        stored: The original as the upload stored it.
        pin_id: The id the pin will have.
        settings: The store's settings (``media``: widths, bounds).
        layout: The layout of the store's originals, which gives the cleaned copy's key.
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
        # Decoding comes first: it reads the EXIF facts too, so the strip needs no second
        # pass over the metadata, and a file that does not decode is refused before any copy.
        derived = _derive(blobs, stored, settings)
        if derived.exif.identifying and stored.media.mime_type in REWRITABLE:
            outcome.original = _strip(
                blobs,
                stored,
                layout=layout,
                keep_location=keep_location,
                is_referenced=is_referenced,
            )
        _write_files(blobs, pin_id, outcome.original, derived, outcome.written)
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
