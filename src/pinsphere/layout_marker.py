"""The layout marker: a small JSON blob at :data:`LAYOUT_MARKER_KEY` recording how a blob
store lays out its originals (:mod:`pinsphere.layout`).

:func:`settle_layout` runs when a store is opened:

* marker present: its layout is used; one this version does not know (or a garbled marker)
  is :class:`~pinsphere.errors.UnknownLayout`, never a guess, since writing originals where
  other processes will not look for them would lose them;
* marker absent, originals present: the store predates the marker (or lost it); its layout
  is read from the shape of the first original's key (two levels for stores written before
  the marker) and recorded, so that the next open need not list keys. Only keys named after
  a sha256 digest (64 lowercase hex digits) are originals: stray files under ``originals/``
  (``.DS_Store``, notes) say nothing about the layout. An original where no known layout
  puts one, or originals of both layouts among the first keys listed (a move between
  layouts left half done), is :class:`~pinsphere.errors.UnknownLayout`: recording either
  layout would lose the originals of the other;
* marker absent, no originals (no keys under ``originals/``, or strays only): a fresh store;
  it gets :data:`~pinsphere.layout.NEW_STORE_LAYOUT`, whose folders are made in advance
  (:meth:`~pinsphere.backends.base.BlobBackend.prepare`). No original can be lost to it.

Two processes opening a fresh store at once agree: the marker is committed like any blob,
which never replaces an existing one, and the process that finds it taken reads it back.
"""

from __future__ import annotations

import json
import logging
import re

from pinsphere.backends.base import BlobBackend
from pinsphere.errors import BackendUnavailable, NotFound, UnknownLayout
from pinsphere.layout import (
    LAYOUTS,
    NEW_STORE_LAYOUT,
    ORIGINALS_PREFIX,
    OriginalsLayout,
)

__all__ = ["LAYOUT_MARKER_KEY", "marker_bytes", "parse_marker", "read_marker", "settle_layout"]

LAYOUT_MARKER_KEY = "pinsphere-layout.json"
"""The marker's blob key, at the root of the store (never under a folder swept or copied
as derived media)."""

MARKER_VERSION = 1
"""The marker's format version; a marker of another version is refused."""

_MAX_MARKER_BYTES = 64 * 1024
_DIGEST = re.compile(r"[0-9a-f]{64}")
_SAMPLE_DIGEST = ("abcdef" * 11)[:64]
_DETECTION_KEYS = 1000
"""How many keys under ``originals/`` detection reads, once it has found an original, to
spot originals of another layout: one listing page of S3 (whose first page is read whole
anyway), never the whole store."""
_log = logging.getLogger(__name__)


def marker_bytes(layout: OriginalsLayout) -> bytes:
    """The marker recording ``layout``."""
    content = {"version": MARKER_VERSION, "originals": {"levels": layout.levels}}
    return json.dumps(content, sort_keys=True).encode() + b"\n"


def parse_marker(data: bytes) -> OriginalsLayout:
    """The layout a marker records.

    Raises:
        UnknownLayout: The marker is not one this version wrote, or names a layout it does
            not know.
    """
    try:
        content = json.loads(data)
    except (ValueError, RecursionError) as exc:  # not UTF-8, not JSON, nested too deep
        raise UnknownLayout(
            f"the blob store's layout marker {LAYOUT_MARKER_KEY!r} is not JSON",
            key=LAYOUT_MARKER_KEY,
        ) from exc
    version = content.get("version") if isinstance(content, dict) else None
    if version != MARKER_VERSION:
        raise UnknownLayout(
            f"the blob store's layout marker {LAYOUT_MARKER_KEY!r} has format version "
            f"{version!r}; this Pinsphere reads version {MARKER_VERSION} (was it written by "
            "a newer one?)",
            key=LAYOUT_MARKER_KEY,
        )
    originals = content.get("originals")
    levels = originals.get("levels") if isinstance(originals, dict) else None
    for layout in LAYOUTS:
        # bool is an int: true must not pass for one level.
        if type(levels) is int and levels == layout.levels:
            return layout
    raise UnknownLayout(
        f"the blob store's layout marker {LAYOUT_MARKER_KEY!r} names an unknown layout of "
        f"originals ({originals!r}); known: "
        + ", ".join(f"{{'levels': {layout.levels}}}" for layout in LAYOUTS),
        key=LAYOUT_MARKER_KEY,
    )


def read_marker(blobs: BlobBackend) -> OriginalsLayout | None:
    """The layout the store's marker records, or ``None`` when it has no marker.

    Raises:
        UnknownLayout: The marker is garbled or names an unknown layout.
        BackendUnavailable: The store failed.
    """
    try:
        with blobs.open(LAYOUT_MARKER_KEY) as marker:
            data = marker.read(_MAX_MARKER_BYTES + 1)
    except NotFound:
        return None
    if len(data) > _MAX_MARKER_BYTES:
        raise UnknownLayout(
            f"the blob store's layout marker {LAYOUT_MARKER_KEY!r} is over "
            f"{_MAX_MARKER_BYTES} bytes",
            key=LAYOUT_MARKER_KEY,
        )
    return parse_marker(data)


def _is_original(key: str) -> bool:
    """Whether ``key`` is named as an original is: after the sha256 of its content."""
    return _DIGEST.fullmatch(key.rpartition("/")[2]) is not None


def _pattern(layout: OriginalsLayout) -> str:
    """What the keys of ``layout`` look like, for messages (``originals/ab/<sha256>``)."""
    return layout.key(_SAMPLE_DIGEST).replace(_SAMPLE_DIGEST, "<sha256>")


_FIX = (
    "; once every original is in one layout, write the marker "
    f"{LAYOUT_MARKER_KEY!r} at the root of the blob store naming it "
    '(e.g. {"version": 1, "originals": {"levels": 2}} for originals/ab/cd/<sha256>)'
)


def _layout_of(key: str) -> OriginalsLayout:
    """The layout that puts an original at ``key``.

    Raises:
        UnknownLayout: No known layout does.
    """
    for layout in LAYOUTS:
        if layout.matches(key):
            return layout
    raise UnknownLayout(
        f"the blob store has no layout marker, and its original {key!r} lies where no "
        f"layout this Pinsphere knows puts one ("
        + ", ".join(_pattern(layout) for layout in LAYOUTS)
        + "): was it written by a newer Pinsphere, or moved by hand? Move it where the "
        "other originals are" + _FIX,
        key=LAYOUT_MARKER_KEY,
    )


def _layout_of_existing(blobs: BlobBackend) -> OriginalsLayout | None:
    """The layout the store's originals show, or ``None`` when it has none.

    The first original listed decides; up to :data:`_DETECTION_KEYS` keys are read to
    check that the others listed agree. Keys not named after a digest are skipped.

    Raises:
        UnknownLayout: An original lies where no known layout puts one, or the keys read
            hold originals of two layouts.
    """
    found: tuple[OriginalsLayout, str] | None = None
    for count, key in enumerate(blobs.keys(ORIGINALS_PREFIX), start=1):
        if _is_original(key):
            layout = _layout_of(key)
            if found is None:
                found = (layout, key)
            elif layout != found[0]:
                raise UnknownLayout(
                    "the blob store has no layout marker, and holds originals of two "
                    f"layouts: {found[1]!r} ({_pattern(found[0])}) and {key!r} "
                    f"({_pattern(layout)}); was a move between layouts left half done? "
                    "Finish it (or undo it)" + _FIX,
                    key=LAYOUT_MARKER_KEY,
                )
        if found is not None and count >= _DETECTION_KEYS:
            break
    # Before the marker, stores were written in two levels; a store that lost its marker
    # since has its originals in one: the keys' shape tells, so that either keeps working.
    return None if found is None else found[0]


def _record(blobs: BlobBackend, layout: OriginalsLayout) -> OriginalsLayout:
    """Write the marker for ``layout``; the layout the store ends up with.

    Raises:
        UnknownLayout: Another process recorded a layout first, and it is not a known one.
    """
    try:
        if layout == NEW_STORE_LAYOUT:
            # Before the marker: a store whose marker exists has its folders (unless a
            # delete pruned one since, which the next upload there makes again).
            blobs.prepare(layout.folders())
        with blobs.writer() as writer:
            writer.write(marker_bytes(layout))
            if writer.commit(LAYOUT_MARKER_KEY):
                return layout
    except BackendUnavailable:
        # A store that cannot be written (read-only credentials, a migration's source) is
        # still usable, and the next open settles its layout again the same way: the
        # originals written meanwhile have this layout's shape.
        _log.warning("could not record the layout of %r", blobs, exc_info=True)
        return layout
    # Another process opened the fresh store at the same moment: its marker counts.
    recorded = read_marker(blobs)
    return layout if recorded is None else recorded


def settle_layout(blobs: BlobBackend) -> OriginalsLayout:
    """The layout of the store's originals: its marker's, or one detected and recorded
    (see the module docstring).

    Raises:
        UnknownLayout: The marker is garbled or names a layout this version does not know;
            or there is no marker, and the originals listed are not all in one known layout
            (nothing is recorded then).
        BackendUnavailable: The store cannot be read.
    """
    recorded = read_marker(blobs)
    if recorded is not None:
        return recorded
    existing = _layout_of_existing(blobs)
    return _record(blobs, NEW_STORE_LAYOUT if existing is None else existing)
