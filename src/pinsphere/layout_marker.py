"""The layout marker: a small JSON blob at :data:`LAYOUT_MARKER_KEY` recording how a blob
store lays out its originals (:mod:`pinsphere.layout`).

:func:`settle_layout` runs when a store is opened:

* marker present: its layout is used; one this version does not know (or a garbled marker)
  is :class:`~pinsphere.errors.UnknownLayout`, never a guess, since writing originals where
  other processes will not look for them would lose them;
* marker absent, originals present: the store predates the marker; its layout is read from
  the shape of an original's key (two levels for stores written before the marker) and
  recorded, so that the next open need not list keys;
* marker absent, no originals: a fresh store; it gets :data:`~pinsphere.layout.NEW_STORE_LAYOUT`,
  whose folders are made in advance (:meth:`~pinsphere.backends.base.BlobBackend.prepare`).

Two processes opening a fresh store at once agree: the marker is committed like any blob,
which never replaces an existing one, and the process that finds it taken reads it back.
"""

from __future__ import annotations

import json
import logging

from pinsphere.backends.base import BlobBackend
from pinsphere.errors import BackendUnavailable, NotFound, UnknownLayout
from pinsphere.layout import (
    LAYOUTS,
    NEW_STORE_LAYOUT,
    ORIGINALS_PREFIX,
    TWO_LEVELS,
    OriginalsLayout,
)

__all__ = ["LAYOUT_MARKER_KEY", "marker_bytes", "parse_marker", "read_marker", "settle_layout"]

LAYOUT_MARKER_KEY = "pinsphere-layout.json"
"""The marker's blob key, at the root of the store (never under a folder swept or copied
as derived media)."""

MARKER_VERSION = 1
"""The marker's format version; a marker of another version is refused."""

_MAX_MARKER_BYTES = 64 * 1024
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


def _layout_of_existing(blobs: BlobBackend) -> OriginalsLayout | None:
    """The layout the store's originals show, or ``None`` when it has none."""
    first = next(iter(blobs.keys(ORIGINALS_PREFIX)), None)
    if first is None:
        return None
    # A store without a marker was written before markers existed (two levels), unless
    # its marker was lost since: the key's shape tells, so that such a store keeps working.
    return next((layout for layout in LAYOUTS if layout.matches(first)), TWO_LEVELS)


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
        UnknownLayout: The marker is garbled or names a layout this version does not know.
        BackendUnavailable: The store cannot be read.
    """
    recorded = read_marker(blobs)
    if recorded is not None:
        return recorded
    existing = _layout_of_existing(blobs)
    return _record(blobs, NEW_STORE_LAYOUT if existing is None else existing)
