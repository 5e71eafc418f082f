"""Where derived bytes go: a callable taking bytes, or anything with ``write``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

__all__ = ["Sink", "Write", "writer_of"]


class _Writable(Protocol):
    def write(self, data: bytes, /) -> object: ...


Sink = Callable[[bytes], object] | _Writable
"""A :class:`~pinsphere.backends.base.BlobWriter`, a binary file, ``list.append``..."""

Write = Callable[[bytes], object]


def writer_of(sink: Sink) -> Write:
    """The function that hands bytes to ``sink``."""
    write = getattr(sink, "write", None)
    if callable(write):
        return write  # type: ignore[no-any-return]
    if callable(sink):
        return sink
    raise TypeError("a sink is a callable taking bytes, or an object with a write method")
