"""What an upload really is: its type from its first bytes, its size from its header.

* :func:`sniff` names the type from the leading :data:`HEAD_SIZE` bytes;
* :func:`check_integrity` refuses empty and visibly truncated files cheaply;
* :func:`probe_dimensions` reads an image's width and height without decoding it, and
  refuses decompression bombs.

Derived media lives in submodules, imported on demand (they pull in PyAV and blurhash):

* :mod:`~pinsphere.media.pipeline`: :func:`~pinsphere.media.pipeline.derive`, the one entry
  point from a stored original to thumbnails, placeholder and facts;
* :mod:`~pinsphere.media.thumbnails`, :mod:`~pinsphere.media.placeholder`: WebP thumbnails
  and blurhash;
* :mod:`~pinsphere.media.exif`, :mod:`~pinsphere.media.containers`: EXIF facts, and copies
  without GPS and identifying tags whose pixel data is byte for byte the original's;
* :mod:`~pinsphere.media.video`, :mod:`~pinsphere.media.animation`: video probing and
  posters, animation frame counts;
* :mod:`~pinsphere.media.limits`: the bounds, and the one error every bad file becomes.
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
