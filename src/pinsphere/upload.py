"""The upload pipeline: stream a source into the blob store while hashing, sniffing and
measuring it, so that only a well-formed, allowed file of acceptable size is ever kept.

The steps, in order:

1. read the first bytes and sniff the real type from them (the file name is never trusted);
   a type outside the allowlist fails before anything is written;
2. stream everything into a :class:`~pinsphere.backends.base.BlobWriter` in chunks, hashing as
   it goes; passing the size limit discards what was written and fails;
3. check the file's end marker and read its dimensions from the bytes kept while streaming
   (the header at the start, the marker at the end) without decoding pixels, so that a bad
   file is discarded before it is ever visible;
4. commit under the content address the store's layout gives (``originals/ab/<sha256>``,
   see :mod:`pinsphere.layout`), so that identical uploads share one blob.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from itertools import chain
from typing import IO

from pinsphere.backends.base import BlobBackend
from pinsphere.errors import InvalidInput, InvalidMedia, TooLarge
from pinsphere.layout import ORIGINALS_PREFIX, OriginalsLayout
from pinsphere.media.probe import TAIL_SIZE, check_ends, dimensions_from_head, read_dimensions
from pinsphere.media.sniff import HEAD_SIZE, sniff
from pinsphere.models import Media
from pinsphere.settings import StoreSettings

__all__ = ["ORIGINALS_PREFIX", "Source", "StoredOriginal", "store_original"]

Source = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes]
"""What ``upload`` accepts: a path, the bytes themselves, or a binary file object."""


@dataclass(frozen=True)
class StoredOriginal:
    """An original now in the blob store.

    Attributes:
        media: What was learnt about it.
        key: Its blob key.
        created: Whether this upload wrote the blob (``False``: identical bytes were there).
    """

    media: Media
    key: str
    created: bool


def _chunks(
    source: Source, stack: ExitStack, chunk_size: int
) -> tuple[bytes, Iterator[bytes], int | None]:
    """The source's first :data:`HEAD_SIZE` bytes (fewer if it is shorter), all of its
    bytes as chunks (the head's included), and its size when known before reading.

    Bytes in memory are one chunk: cutting them up would only copy them.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        # A caller's mutable buffer is copied: the writer keeps what it is given until it
        # writes it out.
        data = source if type(source) is bytes else bytes(source)
        return data[:HEAD_SIZE], iter((data,)), len(data)
    stream = _open_stream(source, stack)
    head = _read_head(stream, HEAD_SIZE)
    return head, chain((head,), _rest(stream, chunk_size)), None


def _too_large(settings: StoreSettings) -> TooLarge:
    return TooLarge(
        f"the file is larger than {settings.max_upload_bytes} bytes",
        limit=settings.max_upload_bytes,
    )


def _rest(stream: IO[bytes], chunk_size: int) -> Iterator[bytes]:
    while chunk := stream.read(chunk_size):
        yield chunk


def _open_stream(source: str | os.PathLike[str] | IO[bytes], stack: ExitStack) -> IO[bytes]:
    if isinstance(source, (str, os.PathLike)):
        try:
            return stack.enter_context(open(source, "rb"))
        except OSError as exc:
            raise InvalidInput(f"cannot read {os.fspath(source)!r}: {exc.strerror}") from exc
    if hasattr(source, "read"):
        return source
    raise InvalidInput("upload a path, bytes, or a binary file object")


def _read_head(stream: IO[bytes], size: int) -> bytes:
    # A file object may return fewer bytes than asked for (pipes, sockets); keep reading.
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = stream.read(remaining)
        if not chunk:
            break
        if not isinstance(chunk, bytes):
            raise InvalidInput("the file object must be opened in binary mode")
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


class _Measured:
    """What streaming learns about a file: digest, size, and the bytes probing needs.

    The first :data:`PROBE_HEAD_SIZE` bytes hold every supported image header (even after
    large EXIF blocks), and the last :data:`~pinsphere.media.probe.TAIL_SIZE` bytes hold the
    end marker; keeping both means the stored file never has to be read back.
    """

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.size = 0
        # The head's chunks, joined once when probing needs them: copying each chunk into
        # a growing buffer cost more than the hashing of a small file.
        self._head_parts: list[bytes] = []
        self._head_size = 0
        self.tail = b""

    def add(self, chunk: bytes) -> None:
        self.digest.update(chunk)
        self.size += len(chunk)
        room = PROBE_HEAD_SIZE - self._head_size
        if room > 0:
            part = chunk if len(chunk) <= room else chunk[:room]
            # Kept by reference, so a caller's reusable buffer is copied.
            self._head_parts.append(part if type(part) is bytes else bytes(part))
            self._head_size += len(part)
        self.tail = (
            (self.tail + chunk)[-TAIL_SIZE:] if len(chunk) < TAIL_SIZE else chunk[-TAIL_SIZE:]
        )

    @property
    def head(self) -> bytes:
        """The first :data:`PROBE_HEAD_SIZE` bytes (all of a smaller file)."""
        parts = self._head_parts
        if len(parts) != 1:
            parts[:] = [b"".join(parts)]
        return parts[0]

    @property
    def first_part(self) -> bytes:
        """The first chunk: most headers end in it, so probing it spares joining the head."""
        return self._head_parts[0] if self._head_parts else b""

    @property
    def whole_file_in_head(self) -> bool:
        return self.size <= self._head_size


PROBE_HEAD_SIZE = 256 * 1024
"""How much of the start of an upload is kept in memory for reading its header."""


def _check_and_measure(
    measured: _Measured, mime_type: str, max_pixels: int
) -> tuple[int | None, int | None] | None:
    """Integrity and dimensions from the kept bytes; ``None`` when the header is longer
    than what was kept (then the stored file must be read)."""
    first = measured.first_part
    start = first if len(first) >= _WEBP_HEADER else measured.head
    check_ends(start[:_WEBP_HEADER], measured.tail, measured.size, mime_type)
    if len(first) < measured.size:
        # The header usually ends in the first chunk: try it before joining the others.
        dimensions = dimensions_from_head(first, mime_type, whole_file=False, max_pixels=max_pixels)
        if dimensions is not None:
            return dimensions
    return dimensions_from_head(
        measured.head,
        mime_type,
        whole_file=measured.whole_file_in_head,
        max_pixels=max_pixels,
    )


# check_ends needs this many leading bytes (a WebP file's RIFF header).
_WEBP_HEADER = 12


def store_original(
    source: Source,
    blobs: BlobBackend,
    settings: StoreSettings,
    *,
    layout: OriginalsLayout,
    is_referenced: Callable[[str], bool],
) -> StoredOriginal:
    """Stream ``source`` into ``blobs`` as a content-addressed original.

    Args:
        source: Path, bytes or binary file object.
        blobs: Where to store it.
        settings: Limits and the type allowlist.
        layout: The layout of the store's originals, which gives the key.
        is_referenced: Tells whether a digest is used by an existing pin, so that a failed
            check never removes a blob another pin needs.

    Raises:
        InvalidMedia: Empty, not an allowed type, or corrupt.
        TooLarge: Over ``settings.max_upload_bytes``.
    """
    with ExitStack() as stack:
        head, chunks, size = _chunks(source, stack, settings.chunk_size)
        if not head:
            raise InvalidMedia("the file is empty")
        mime_type = sniff(head)
        if mime_type is None or mime_type not in settings.allowed_types:
            raise InvalidMedia(
                f"unsupported file type {mime_type or 'unknown'}; allowed: "
                + ", ".join(sorted(settings.allowed_types)),
                detected_type=mime_type,
            )
        if size is not None and size > settings.max_upload_bytes:
            raise _too_large(settings)  # known before anything is written
        measured = _Measured()
        with blobs.writer() as writer:
            for chunk in chunks:
                if measured.size + len(chunk) > settings.max_upload_bytes:
                    raise _too_large(settings)
                # Written before it is hashed: a local store starts the chunk's way to the
                # disk on writing, and the disk then works while the CPU hashes.
                writer.write(chunk)
                measured.add(chunk)
            # Checked before committing, so that a bad file is never visible in the store.
            dimensions = _check_and_measure(measured, mime_type, settings.max_image_pixels)
            sha256 = measured.digest.hexdigest()
            key = layout.key(sha256)
            created = writer.commit(key)

    if dimensions is None:
        # Rare: a header larger than PROBE_HEAD_SIZE. Read it from the stored file.
        try:
            with blobs.open(key) as stored:
                dimensions = read_dimensions(
                    stored, mime_type, max_pixels=settings.max_image_pixels
                )
        except InvalidMedia:
            if created and not is_referenced(sha256):
                blobs.delete(key)
            raise
    width, height = dimensions
    media = Media(
        mime_type=mime_type, size=measured.size, sha256=sha256, width=width, height=height
    )
    return StoredOriginal(media=media, key=key, created=created)
