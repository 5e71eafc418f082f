"""File objects handed out for reading blobs."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from pinsphere.backends.fsspec.errors import translated

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = ["BufferReader", "TranslatingReader"]


class _BlobReader(io.BufferedIOBase):
    """What every blob reader shares: it is named by its key and only reads."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self._key = key

    @property
    def name(self) -> str:
        """The blob's key."""
        return self._key

    def readable(self) -> bool:
        return True

    def _check_closed(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed blob")


class TranslatingReader(_BlobReader):
    """A filesystem's file object whose native errors become :mod:`pinsphere.errors`.

    Args:
        inner: The file object from ``open`` or ``fs.open``.
        key: The blob's key, for messages and :attr:`name`.
    """

    def __init__(self, inner: Any, key: str) -> None:
        super().__init__(key)
        self._inner = inner

    def seekable(self) -> bool:
        with translated(f"read blob {self._key!r}"):
            return bool(self._inner.seekable())

    def read(self, size: int | None = -1, /) -> bytes:
        self._check_closed()
        with translated(f"read blob {self._key!r}"):
            return bytes(self._inner.read(-1 if size is None else size))

    def read1(self, size: int = -1, /) -> bytes:
        self._check_closed()
        reader = getattr(self._inner, "read1", self._inner.read)
        with translated(f"read blob {self._key!r}"):
            return bytes(reader(size))

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        self._check_closed()
        with translated(f"read blob {self._key!r}"):
            return int(self._inner.readinto(buffer))

    def seek(self, offset: int, whence: int = io.SEEK_SET, /) -> int:
        self._check_closed()
        with translated(f"seek in blob {self._key!r}"):
            return int(self._inner.seek(offset, whence))

    def tell(self) -> int:
        self._check_closed()
        with translated(f"read blob {self._key!r}"):
            return int(self._inner.tell())

    def fileno(self) -> int:
        # Lets servers use sendfile for local blobs; other stores raise UnsupportedOperation.
        return int(self._inner.fileno())

    def close(self) -> None:
        if self.closed:
            return
        try:
            with translated(f"close blob {self._key!r}"):
                self._inner.close()
        finally:
            super().close()


class BufferReader(_BlobReader):
    """Reads a memory blob through a view of its buffer, with a position of its own.

    fsspec hands every reader of a memory file the one stored ``BytesIO``, sharing its
    position; a view of its buffer gives each reader its own, without a copy.

    Args:
        view: The blob's bytes.
        key: The blob's key, for :attr:`name`.
    """

    def __init__(self, view: memoryview, key: str) -> None:
        super().__init__(key)
        self._view = view
        self._pos = 0

    def seekable(self) -> bool:
        return True

    def read(self, size: int | None = -1, /) -> bytes:
        self._check_closed()
        end = (
            len(self._view) if size is None or size < 0 else min(self._pos + size, len(self._view))
        )
        start = min(self._pos, end)
        self._pos = max(self._pos, end)
        return bytes(self._view[start:end])

    def read1(self, size: int = -1, /) -> bytes:
        return self.read(size)

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        self._check_closed()
        target = memoryview(buffer).cast("B")
        count = max(0, min(len(target), len(self._view) - self._pos))
        target[:count] = self._view[self._pos : self._pos + count]
        self._pos += count
        return count

    def seek(self, offset: int, whence: int = io.SEEK_SET, /) -> int:
        self._check_closed()
        if whence == io.SEEK_SET:
            position = offset
        elif whence == io.SEEK_CUR:
            position = self._pos + offset
        elif whence == io.SEEK_END:
            position = len(self._view) + offset
        else:
            raise ValueError(f"bad whence {whence}")
        if position < 0:
            raise ValueError("negative seek position")
        self._pos = position
        return position

    def tell(self) -> int:
        self._check_closed()
        return self._pos

    def close(self) -> None:
        if not self.closed:
            self._view.release()
        super().close()
