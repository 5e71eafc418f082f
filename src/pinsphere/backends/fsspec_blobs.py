"""Blobs on an fsspec filesystem: a local folder, process memory, or any other protocol.

URLs:

* ``file:///abs/path`` (or a plain path): a local folder, created if missing.
* ``memory://``: a private in-process store with a random root, dropped on :meth:`close`;
  ``memory://name`` uses ``/name``, shared by every store in the process that names it
  (fsspec's memory filesystem is process-global).
* any other fsspec protocol (``gcs://bucket/prefix``, ``sftp://host/path``...): served
  through the generic fsspec calls. Settings the URL cannot carry (credentials, endpoints)
  come from fsspec's own configuration (``FSSPEC_<PROTOCOL>_<KEY>`` environment variables or
  its config files), or from a protocol's options model registered in
  :attr:`FsspecBlobBackend.options_models`.

Options in the query string (:class:`FsspecBlobOptions`, strict): ``chunk_size`` (bytes per
read from the store, default 1 MiB; the field notes measured 64 KiB reads 3x slower) and, for
local folders only, ``fsync`` (default ``true``: a commit returns only once the blob and its
folder entry are on the disk, so a crash cannot lose a blob whose pin was saved; ``false``
gives up that guarantee for roughly 10x the small-file write rate, as measured here for
100 KiB blobs).

Layout under the root: a blob lives at ``<root>/<key>``; a write in progress lives at
``<root>/.staging/<random>`` and is moved to its key on commit, so a reader never sees a
partial blob. ``.staging`` is never listed and cannot be used as a key. Staged files a crash
left behind are removed by :meth:`FsspecBlobBackend.sweep_staging`.
"""

from __future__ import annotations

import errno
import io
import os
import re
import secrets
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from typing import IO, TYPE_CHECKING, Any, ClassVar, Literal, Self, cast

import fsspec
from fsspec.implementations.local import LocalFileSystem
from fsspec.implementations.memory import MemoryFileSystem
from pydantic import Field

from pinsphere.backends.base import (
    BackendOptions,
    BlobBackend,
    BlobCapabilities,
    BlobWriter,
    split_options,
)
from pinsphere.errors import (
    BackendUnavailable,
    InvalidInput,
    NotFound,
    PinsphereError,
    UnknownBackend,
)

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = ["STAGING_FOLDER", "FsspecBlobBackend", "FsspecBlobOptions", "validate_key"]

STAGING_FOLDER = ".staging"
"""The folder under the root that holds writes in progress; never a key."""

_FORBIDDEN_CHARACTERS = re.compile(r"[\x00-\x1f\x7f\\]")  # control characters, backslash
_MAX_KEY_LENGTH = 1024  # the S3 limit, so that keys stay portable between stores
_PUBLISH_ATTEMPTS = 3
# errno values meaning "this filesystem cannot hard-link"; commit then falls back to rename.
_NO_HARD_LINKS = frozenset(
    {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS, errno.EXDEV, errno.EMLINK}
)
# The memory filesystem is one dict per process; this lock makes "exists, then move" one step.
_MEMORY_LOCK = threading.Lock()
# Errors that mean "nothing at that path" (a file where a folder was expected counts too).
_MISSING = (FileNotFoundError, NotADirectoryError, IsADirectoryError)


class FsspecBlobOptions(BackendOptions):
    """Options of the fsspec blob backend, from the URL's query string.

    Attributes:
        chunk_size: Read block size in bytes for opened blobs.
        fsync: Local folders only: flush each blob to the disk before committing it.
            ``None`` means the default (on).
    """

    chunk_size: int = Field(default=1 << 20, ge=4096, le=1 << 28)
    fsync: bool | None = None

    def storage_options(self) -> dict[str, Any]:
        """Keyword arguments for the fsspec filesystem (none here; protocol models add some)."""
        return {}


def validate_key(key: str) -> None:
    """Check that a key is a relative slash path that stays inside the store.

    Raises:
        InvalidInput: The key is empty, too long, absolute, uses backslashes, control
            characters, empty, ``.`` or ``..`` segments, or the reserved staging folder.
    """
    if not isinstance(key, str) or not key:
        raise InvalidInput("a blob key must be a non-empty string")
    if len(key.encode("utf-8", "surrogatepass")) > _MAX_KEY_LENGTH:
        raise InvalidInput(f"a blob key must be at most {_MAX_KEY_LENGTH} bytes")
    if _FORBIDDEN_CHARACTERS.search(key):
        raise InvalidInput(f"bad blob key {key!r}: backslash or control character")
    segments = key.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        raise InvalidInput(f"bad blob key {key!r}: it must be a relative path without . or ..")
    if segments[0] == STAGING_FOLDER:
        raise InvalidInput(f"bad blob key {key!r}: {STAGING_FOLDER}/ is reserved")


def _validate_prefix(prefix: str) -> str:
    """Check a ``keys()`` prefix and return its folder part (``""`` for the root)."""
    if not isinstance(prefix, str):
        raise InvalidInput("a key prefix must be a string")
    folder, _, tail = prefix.rpartition("/")
    if folder:
        validate_key(folder)
    elif prefix.startswith("/"):
        raise InvalidInput(f"bad key prefix {prefix!r}: it must be relative")
    if _FORBIDDEN_CHARACTERS.search(tail):
        raise InvalidInput(f"bad key prefix {prefix!r}")
    return folder


@contextmanager
def _translated(action: str, *, missing: str | None = None) -> Iterator[None]:
    """Turn native errors into :mod:`pinsphere.errors`, keeping them as ``__cause__``.

    Args:
        action: What was being done, for the message ("read blob 'x'").
        missing: The message for a :class:`NotFound` when the path does not exist; without
            it, a missing path is a :class:`BackendUnavailable` like any other failure.
    """
    try:
        yield
    except PinsphereError:
        raise
    except _MISSING as exc:
        if missing is not None:
            raise NotFound(missing) from exc
        raise BackendUnavailable(f"blob store failed to {action}: {exc}") from exc
    # Filesystems behind fsspec raise their own types (aiohttp, paramiko, botocore...), so
    # anything they throw is a backend failure; the original stays as __cause__.
    except Exception as exc:
        raise BackendUnavailable(f"blob store failed to {action}: {exc}") from exc


class FsspecBlobBackend(BlobBackend):
    """Blobs as files under a root folder of an fsspec filesystem.

    Local folders use the ``os`` module directly (hard link or rename on commit, optional
    fsync); every other filesystem goes through the generic fsspec calls. Commits are atomic
    on local folders and in memory; elsewhere they rely on the filesystem's ``mv`` (a rename,
    or an object store's copy, which also publishes the object whole).

    Attributes:
        fs: The fsspec filesystem.
        root: The root folder on it.
        options: The parsed options.
    """

    capabilities: ClassVar[BlobCapabilities] = BlobCapabilities(
        atomic_commit=True, ranged_reads=True, presigned_urls=False
    )
    options_models: ClassVar[dict[str, type[FsspecBlobOptions]]] = {}
    """Options model per protocol (e.g. one with ``endpoint_url`` for ``s3``); the default
    for a protocol not listed is :class:`FsspecBlobOptions`."""

    def __init__(
        self,
        fs: Any,
        root: str,
        options: FsspecBlobOptions | None = None,
        *,
        owns_root: bool = False,
    ) -> None:
        """Use ``root`` on an fsspec filesystem (prefer :meth:`from_url`).

        Args:
            fs: The fsspec filesystem.
            root: The root folder, as the filesystem spells paths (no trailing slash).
            options: The backend's options; defaults when omitted.
            owns_root: Delete everything under the root on :meth:`close` (anonymous
                ``memory://`` stores, which nothing else can reach).
        """
        self.fs = fs
        self.root = root.rstrip("/")
        if not self.root:
            raise InvalidInput("a blob store needs a root folder, not the filesystem root")
        self.options = FsspecBlobOptions() if options is None else options
        self._local = isinstance(fs, LocalFileSystem)
        self._memory = isinstance(fs, MemoryFileSystem)
        if self.options.fsync is not None and not self._local:
            raise InvalidInput("the fsync option applies to local folders (file://) only")
        self._fsync = self._local and self.options.fsync is not False
        self._owns_root = owns_root
        self._staging = f"{self.root}/{STAGING_FOLDER}"
        with _translated(f"create {self._staging}"):
            if self._local:
                os.makedirs(self._staging, exist_ok=True)
            else:
                fs.makedirs(self._staging, exist_ok=True)

    @classmethod
    def from_url(cls, url: str) -> Self:
        """Open the store a URL names (see the module docstring for URLs and options).

        Raises:
            InvalidInput: An option is unknown or bad, or the URL has no root folder.
            UnknownBackend: fsspec does not know the protocol, or its package is missing.
            BackendUnavailable: The root cannot be created.
        """
        head, sep, _ = url.partition("://")
        protocol = head.lower() if sep else "file"
        _, options = split_options(url, cls.options_models.get(protocol, FsspecBlobOptions))
        # Not split_options' URL: urlunsplit turns "memory://" into "memory:", which fsspec
        # reads as a relative local path.
        location = url.split("?", 1)[0]
        try:
            fs, root = fsspec.url_to_fs(location, **options.storage_options())
        except (ImportError, ValueError) as exc:
            raise UnknownBackend(
                f"fsspec cannot open {protocol}:// URLs", scheme=protocol, hint=str(exc)
            ) from exc
        except Exception as exc:
            raise BackendUnavailable(f"cannot open blob store {location}: {exc}") from exc
        owns_root = False
        if isinstance(fs, MemoryFileSystem) and not root.strip("/"):
            # The memory filesystem is shared by the whole process: give each anonymous
            # store a root of its own so that two stores never see each other's blobs.
            root = f"/pinsphere-{secrets.token_hex(8)}"
            owns_root = True
        return cls(fs, root, options, owns_root=owns_root)

    def close(self) -> None:
        """Release the store; an anonymous ``memory://`` store also drops its blobs."""
        if self._owns_root and self._memory:
            with _MEMORY_LOCK:
                inside = self.root + "/"
                for path in [p for p in self.fs.store if p.startswith(inside)]:
                    del self.fs.store[path]
                self.fs.pseudo_dirs[:] = [
                    p for p in self.fs.pseudo_dirs if p != self.root and not p.startswith(inside)
                ]

    def ping(self) -> None:
        """Check the root answers.

        Raises:
            BackendUnavailable: It does not (or, for a local folder, it has gone).
        """
        with _translated(f"reach {self.root}"):
            if self._local:
                if not stat.S_ISDIR(os.stat(self._staging).st_mode):
                    raise BackendUnavailable(f"{self._staging} is not a folder")
                return
            # An object store answers "no such prefix" for an empty store: that is an answer.
            with suppress(FileNotFoundError):
                self.fs.info(self.root)

    # -- writing ----------------------------------------------------------------------------

    def writer(self) -> BlobWriter:
        """Start a blob in the staging folder; see :class:`~pinsphere.backends.base.BlobWriter`."""
        staged = f"{self._staging}/{secrets.token_hex(16)}"
        if self._local:
            return _LocalWriter(self, staged)
        return _FsspecWriter(self, staged)

    def sweep_staging(self, older_than: timedelta) -> int:
        """Remove staged writes not touched for ``older_than`` (leftovers of crashes).

        A write still in progress is removed too if it has been idle that long, so pass a
        duration well above the slowest upload (an hour is a safe choice).

        Returns:
            How many staged files were removed.
        """
        if older_than < timedelta(0):
            raise InvalidInput("older_than must not be negative")
        cutoff = time.time() - older_than.total_seconds()
        with _translated(f"sweep {self._staging}"):
            if self._local:
                return self._sweep_local(cutoff)
            return self._sweep_fsspec(cutoff)

    def _sweep_local(self, cutoff: float) -> int:
        removed = 0
        try:
            entries = list(os.scandir(self._staging))
        except FileNotFoundError:
            return 0
        for entry in entries:
            try:
                if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:
                continue  # committed or discarded meanwhile
        return removed

    def _sweep_fsspec(self, cutoff: float) -> int:
        removed = 0
        try:
            entries = self.fs.ls(self._staging, detail=True)
        except FileNotFoundError:
            return 0
        for info in entries:
            if info.get("type") != "file":
                continue
            path = str(info["name"])
            try:
                modified = self.fs.modified(path).timestamp()
            except NotImplementedError:
                modified = info.get("mtime", info.get("created"))
            except FileNotFoundError:
                continue
            if isinstance(modified, int | float) and modified < cutoff:
                try:
                    self.fs.rm_file(path)
                except FileNotFoundError:
                    continue
                removed += 1
        return removed

    def _publish_local(self, staged: str, key: str) -> bool:
        """Give a staged local file its key; ``False`` when the key was taken."""
        final = self._path(key)
        parent = os.path.dirname(final)
        for attempt in range(_PUBLISH_ATTEMPTS):
            try:
                # A hard link never replaces an existing file, so two writers racing for one
                # key get exactly one True between them.
                os.link(staged, final)
            except FileExistsError:
                if not os.path.isfile(final):
                    raise InvalidInput(f"blob key {key!r} is a folder of other blobs") from None
                os.unlink(staged)
                return False
            except FileNotFoundError:
                # The key's folder does not exist yet (folders are made only when missing,
                # which saves a syscall per commit), or a concurrent delete pruned it.
                if attempt + 1 == _PUBLISH_ATTEMPTS or not os.path.exists(staged):
                    raise
                try:
                    os.makedirs(parent, exist_ok=True)
                except (FileExistsError, NotADirectoryError) as exc:
                    raise InvalidInput(f"blob key {key!r} runs through another blob") from exc
                continue
            except NotADirectoryError as exc:
                raise InvalidInput(f"blob key {key!r} runs through another blob") from exc
            except OSError as exc:
                if exc.errno not in _NO_HARD_LINKS:
                    raise
                return self._publish_local_by_rename(staged, final)
            os.unlink(staged)
            if self._fsync:
                _fsync_folder(parent)
            return True
        raise AssertionError("unreachable")  # pragma: no cover

    def _publish_local_by_rename(self, staged: str, final: str) -> bool:
        # Without hard links "exists, then rename" can race; the loser overwrites the same
        # bytes (keys are content addresses), so the only harm is a second True.
        if os.path.lexists(final):
            os.unlink(staged)
            return False
        os.replace(staged, final)
        if self._fsync:
            _fsync_folder(os.path.dirname(final))
        return True

    def _publish_fsspec(self, staged: str, key: str) -> bool:
        """Give a staged file its key through fsspec; ``False`` when the key was taken."""
        final = self._path(key)
        if self._memory:
            # Moving the entry within the process-global dict is atomic under the lock and,
            # unlike fsspec's mv (copy, then delete), does not duplicate the bytes.
            with _MEMORY_LOCK:
                store = self.fs.store
                if final in store:
                    del store[staged]
                    return False
                blob = store.pop(staged)
                blob.path = final
                store[final] = blob
            return True
        if self.fs.isfile(final):
            self.fs.rm_file(staged)
            return False
        # Filesystems with real folders (sftp, smb...) need the parent; object stores
        # treat this as a no-op.
        self.fs.makedirs(final.rpartition("/")[0], exist_ok=True)
        self.fs.mv(staged, final)
        return True

    # -- reading ----------------------------------------------------------------------------

    def open(self, key: str) -> IO[bytes]:
        """Open a blob for streaming, seekable reads in ``chunk_size`` blocks.

        Raises:
            NotFound: No blob has this key.
        """
        validate_key(key)
        path = self._path(key)
        with _translated(f"open blob {key!r}", missing=f"no blob {key!r}"):
            if self._memory:
                blob = self.fs.store.get(path)
                if blob is None:
                    raise NotFound(f"no blob {key!r}")
                # fsspec hands every reader the one stored BytesIO, sharing its position;
                # a view of its buffer gives each reader its own, without a copy.
                return cast("IO[bytes]", _BufferReader(blob.getbuffer(), key))
            if self._local:
                inner: Any = open(path, "rb", buffering=self.options.chunk_size)  # noqa: SIM115
            else:
                inner = self.fs.open(path, "rb", block_size=self.options.chunk_size)
        return cast("IO[bytes]", _TranslatingReader(inner, key))

    def size(self, key: str) -> int:
        """The blob's length in bytes.

        Raises:
            NotFound: No blob has this key.
        """
        validate_key(key)
        path = self._path(key)
        with _translated(f"stat blob {key!r}", missing=f"no blob {key!r}"):
            if self._memory:
                # fsspec's info() scans the whole store to spot folders; a blob is one entry.
                blob = self.fs.store.get(path)
                if blob is None:
                    raise NotFound(f"no blob {key!r}")
                return int(blob.size)
            if self._local:
                st = os.stat(path)
                if not stat.S_ISREG(st.st_mode):
                    raise NotFound(f"no blob {key!r}")
                return st.st_size
            info = self.fs.info(path)
            if info.get("type") != "file":
                raise NotFound(f"no blob {key!r}")
            return int(info["size"])

    def exists(self, key: str) -> bool:
        """Whether a blob has this key."""
        try:
            self.size(key)
        except NotFound:
            return False
        return True

    def delete(self, key: str) -> None:
        """Remove a blob (no error when absent); empty local folders above it go too."""
        validate_key(key)
        path = self._path(key)
        with _translated(f"delete blob {key!r}"):
            if self._local:
                try:
                    os.unlink(path)
                except _MISSING:
                    return
                except PermissionError:
                    if os.path.isdir(path):  # macOS says EPERM for a folder
                        return
                    raise
                self._prune_local(os.path.dirname(path))
                return
            if self._memory:
                with _MEMORY_LOCK:
                    self.fs.store.pop(path, None)
                return
            try:
                if self.fs.isfile(path):
                    self.fs.rm_file(path)
            except FileNotFoundError:
                return

    def _prune_local(self, folder: str) -> None:
        # Empty fan-out folders (originals/ab/cd) would otherwise pile up; a writer that
        # loses its folder to this race makes it again (see _publish_local).
        while len(folder) > len(self.root) and folder.startswith(self.root + "/"):
            try:
                os.rmdir(folder)
            except OSError:
                return  # not empty, or gone already
            folder = os.path.dirname(folder)

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every key starting with ``prefix``, never a staged write; in no promised order.

        Raises:
            InvalidInput: The prefix could not start a valid key.
        """
        folder = _validate_prefix(prefix)
        if self._local:
            return self._local_keys(folder, prefix)
        return self._fsspec_keys(folder, prefix)

    def _local_keys(self, folder: str, prefix: str) -> Iterator[str]:
        top = self._path(folder) if folder else self.root
        # os.walk streams folder by folder, so listing a large store holds one folder at a
        # time; unreadable folders are skipped as os.walk does by default.
        for dirpath, dirnames, filenames in os.walk(top):
            relative = os.path.relpath(dirpath, self.root).replace(os.sep, "/")
            if relative == ".":
                relative = ""
                dirnames[:] = [name for name in dirnames if name != STAGING_FOLDER]
            dirnames.sort()
            for name in sorted(filenames):
                key = f"{relative}/{name}" if relative else name
                if key.startswith(prefix):
                    yield key

    def _fsspec_keys(self, folder: str, prefix: str) -> Iterator[str]:
        top = self._path(folder) if folder else self.root
        with _translated(f"list {top}"):
            try:
                paths = sorted(self.fs.find(top))
            except FileNotFoundError:
                return
        inside = self.root + "/"
        for path in paths:
            if not path.startswith(inside):
                continue
            key = path[len(inside) :]
            if key.startswith(STAGING_FOLDER + "/") or not key.startswith(prefix):
                continue
            yield key

    def _path(self, key: str) -> str:
        return f"{self.root}/{key}"

    def __repr__(self) -> str:
        protocol = self.fs.protocol if isinstance(self.fs.protocol, str) else self.fs.protocol[0]
        where = self.root if self._local else self.root.lstrip("/")
        return f"{type(self).__name__}({protocol}://{where})"


def _fsync_folder(path: str) -> None:
    """Flush a folder's entries, so that a new name survives a crash (POSIX only)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # platforms that cannot open folders (Windows) have no folder fsync
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _StagedWriter(BlobWriter):
    """The state machine shared by the writers: open, then committed or discarded once."""

    def __init__(self, backend: FsspecBlobBackend, staged: str) -> None:
        self._backend = backend
        self._staged = staged
        self._state: Literal["open", "committed", "discarded"] = "open"

    def _check_open(self) -> None:
        if self._state != "open":
            raise InvalidInput(f"this blob writer is {self._state}")

    def write(self, chunk: bytes) -> None:
        """Append bytes."""
        self._check_open()
        with _translated("write a staged blob"):
            self._write(chunk)

    def commit(self, key: str) -> bool:
        """Make the bytes readable under ``key``; any failure discards them.

        Returns:
            ``False`` when a blob already had this key (it is kept; these bytes go).
        """
        self._check_open()
        try:
            validate_key(key)
            with _translated(f"commit blob {key!r}"):
                self._finish()
                published = self._publish(key)
        except BaseException:
            # Leave nothing behind; the commit's own error is the one worth reporting.
            with suppress(PinsphereError):
                self.discard()
            raise
        self._state = "committed"
        return published

    def discard(self) -> None:
        """Throw the bytes away. Safe to call twice or after commit."""
        if self._state != "open":
            return
        self._state = "discarded"
        with _translated("discard a staged blob"):
            self._drop()

    def _write(self, chunk: bytes) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        """Flush and close the staged file."""
        raise NotImplementedError

    def _publish(self, key: str) -> bool:
        raise NotImplementedError

    def _drop(self) -> None:
        raise NotImplementedError


class _LocalWriter(_StagedWriter):
    def __init__(self, backend: FsspecBlobBackend, staged: str) -> None:
        super().__init__(backend, staged)
        with _translated("start a staged blob"):
            try:
                self._file = open(staged, "xb", buffering=backend.options.chunk_size)  # noqa: SIM115
            except FileNotFoundError:
                # Someone removed the staging folder (a manual clean-up): make it again.
                os.makedirs(os.path.dirname(staged), exist_ok=True)
                self._file = open(staged, "xb", buffering=backend.options.chunk_size)  # noqa: SIM115

    def _write(self, chunk: bytes) -> None:
        self._file.write(chunk)

    def _finish(self) -> None:
        self._file.flush()
        if self._backend._fsync:
            os.fsync(self._file.fileno())
        self._file.close()

    def _publish(self, key: str) -> bool:
        return self._backend._publish_local(self._staged, key)

    def _drop(self) -> None:
        try:
            self._file.close()
        finally:
            # Missing: never created, or swept already.
            with suppress(FileNotFoundError):
                os.unlink(self._staged)


class _FsspecWriter(_StagedWriter):
    def __init__(self, backend: FsspecBlobBackend, staged: str) -> None:
        super().__init__(backend, staged)
        with _translated("start a staged blob"):
            self._file: Any = backend.fs.open(staged, "wb")

    def _write(self, chunk: bytes) -> None:
        self._file.write(chunk)

    def _finish(self) -> None:
        self._file.close()

    def _publish(self, key: str) -> bool:
        return self._backend._publish_fsspec(self._staged, key)

    def _drop(self) -> None:
        fs = self._backend.fs
        try:
            # Closing uploads what was buffered, into the staging folder; removing it after
            # is the one way every fsspec filesystem supports to abandon a write.
            self._file.close()
        finally:
            with suppress(FileNotFoundError):
                fs.rm_file(self._staged)


class _TranslatingReader(io.BufferedIOBase):
    """A blob opened for reading whose native errors become :mod:`pinsphere.errors`."""

    def __init__(self, inner: Any, key: str) -> None:
        super().__init__()
        self._inner = inner
        self._key = key

    @property
    def name(self) -> str:
        """The blob's key."""
        return self._key

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        with _translated(f"read blob {self._key!r}"):
            return bool(self._inner.seekable())

    def read(self, size: int | None = -1, /) -> bytes:
        self._check_closed()
        with _translated(f"read blob {self._key!r}"):
            return bytes(self._inner.read(-1 if size is None else size))

    def read1(self, size: int = -1, /) -> bytes:
        self._check_closed()
        reader = getattr(self._inner, "read1", self._inner.read)
        with _translated(f"read blob {self._key!r}"):
            return bytes(reader(size))

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        self._check_closed()
        with _translated(f"read blob {self._key!r}"):
            return int(self._inner.readinto(buffer))

    def seek(self, offset: int, whence: int = io.SEEK_SET, /) -> int:
        self._check_closed()
        with _translated(f"seek in blob {self._key!r}"):
            return int(self._inner.seek(offset, whence))

    def tell(self) -> int:
        self._check_closed()
        with _translated(f"read blob {self._key!r}"):
            return int(self._inner.tell())

    def fileno(self) -> int:
        # Lets servers use sendfile for local blobs; other stores raise UnsupportedOperation.
        return int(self._inner.fileno())

    def close(self) -> None:
        if self.closed:
            return
        try:
            with _translated(f"close blob {self._key!r}"):
                self._inner.close()
        finally:
            super().close()

    def _check_closed(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed blob")


class _BufferReader(io.BufferedIOBase):
    """Reads a memory blob through a view of its buffer, with a position of its own."""

    def __init__(self, view: memoryview, key: str) -> None:
        super().__init__()
        self._view = view
        self._pos = 0
        self._key = key

    @property
    def name(self) -> str:
        """The blob's key."""
        return self._key

    def readable(self) -> bool:
        return True

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

    def _check_closed(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed blob")
