"""What an upload really is: its type from its first bytes, its size from its header.

* :func:`sniff` names the type from the leading :data:`HEAD_SIZE` bytes;
* :func:`check_integrity` refuses empty and visibly truncated files cheaply;
* :func:`probe_dimensions` reads an image's width and height without decoding it, and
  refuses decompression bombs.
"""

from __future__ import annotations

from pinsphere.media.probe import DEFAULT_MAX_PIXELS, check_integrity, probe_dimensions
from pinsphere.media.sniff import DEFAULT_ALLOWED_TYPES, HEAD_SIZE, sniff

__all__ = [
    "DEFAULT_ALLOWED_TYPES",
    "DEFAULT_MAX_PIXELS",
    "HEAD_SIZE",
    "check_integrity",
    "probe_dimensions",
    "sniff",
]
