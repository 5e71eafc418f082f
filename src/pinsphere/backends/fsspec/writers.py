"""Staged writers: a blob is written under the staging folder, then published under its key.

Each writer class carries the publish strategy of its kind of filesystem:

* :class:`LocalWriter`: a hard link, which never replaces an existing file (a rename where
  the filesystem cannot link), with optional fsync of the file and its folder;
* :class:`AnonymousWriter`: the same for a file made ahead with no name (:mod:`.ahead`),
  linked through its descriptor;
* :class:`MemoryWriter`: a move of the entry in the memory filesystem's dict, under a lock;
* :class:`FsspecWriter`: ``fs.mv`` (a rename, or an object store's copy, which also
  publishes the object whole).
"""

from __future__ import annotations

import errno
import os
from contextlib import suppress
from io import FileIO
from typing import Any, Literal

from pinsphere.backends.base import BlobWriter
from pinsphere.backends.fsspec import memory
from pinsphere.backends.fsspec.ahead import link_anonymous
from pinsphere.backends.fsspec.errors import translated
from pinsphere.backends.fsspec.keys import validate_key
from pinsphere.backends.fsspec.writeback import start_writeback
from pinsphere.errors import InvalidInput, PinsphereError

__all__ = [
    "GATHER_SIZE",
    "AnonymousWriter",
    "FsspecWriter",
    "LocalWriter",
    "MemoryWriter",
    "StagedWriter",
    "flush_new_folders",
    "fsync_folder",
    "make_folders",
]

_PUBLISH_ATTEMPTS = 3
_writev = getattr(os, "writev", None)  # POSIX only
# At most this many gathered pieces per writev (POSIX allows IOV_MAX, 1,024 on Linux).
_MAX_PIECES = min(512, os.sysconf("SC_IOV_MAX")) if hasattr(os, "sysconf") else 512
GATHER_SIZE = 64 * 1024
"""Writes to a local blob are gathered up to this many bytes, then written out at once."""
# errno values meaning "this filesystem cannot hard-link"; commit then falls back to rename.
_NO_HARD_LINKS = frozenset(
    {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS, errno.EXDEV, errno.EMLINK}
)


def fsync_folder(path: str) -> None:
    """Flush a folder's entries, so that a new name survives a crash (POSIX only)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # platforms that cannot open folders (Windows) have no folder fsync
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def flush_new_folders(made: list[str]) -> None:
    """Flush the folder above each new folder: a new folder is only as durable as its entry
    there."""
    for folder in made:
        fsync_folder(os.path.dirname(folder))


def _make_key_folders(key: str, parent: str) -> list[str]:
    """:func:`make_folders` for a key's folder; a file in the way is the key's fault."""
    try:
        return make_folders(parent)
    except (FileExistsError, NotADirectoryError) as exc:
        raise _through_a_blob(key) from exc


def _through_a_blob(key: str) -> InvalidInput:
    return InvalidInput(f"blob key {key!r} runs through another blob")


class StagedWriter(BlobWriter):
    """The state machine every writer shares: open, then committed or discarded once.

    Subclasses write to the staged file and publish it; this class validates the key, turns
    native errors into :mod:`pinsphere.errors` and removes the staged file on any failure.

    Args:
        staged: The staged file's path.
        root: The store's root; a key's blob lives at ``<root>/<key>``.
    """

    def __init__(self, staged: str, root: str) -> None:
        self._staged = staged
        self._root = root
        self._state: Literal["open", "committed", "discarded"] = "open"

    def write(self, chunk: bytes) -> None:
        """Append bytes.

        Raises:
            InvalidInput: The writer was committed or discarded already.
            BackendUnavailable: The filesystem failed.
        """
        self._check_open()
        with translated("write a staged blob"):
            self._write(chunk)

    def commit(self, key: str) -> bool:
        """Make the bytes readable under ``key``; any failure discards them.

        Returns:
            ``False`` when a blob already had this key (it is kept; these bytes go).

        Raises:
            InvalidInput: The key is bad, or the writer was committed or discarded already.
            BackendUnavailable: The filesystem failed.
        """
        self._check_open()
        try:
            validate_key(key)
            with translated(f"commit blob {key!r}"):
                self._finish()
                published = self._publish(key, f"{self._root}/{key}")
        except BaseException:
            # Leave nothing behind; the commit's own error is the one worth reporting.
            with suppress(PinsphereError):
                self.discard()
            raise
        self._state = "committed"
        return published

    def discard(self) -> None:
        """Throw the bytes away. Safe to call twice, after commit, or after a sweep."""
        if self._state != "open":
            return
        self._state = "discarded"
        with translated("discard a staged blob"):
            self._drop()

    def _check_open(self) -> None:
        if self._state != "open":
            raise InvalidInput(f"this blob writer is {self._state}")

    def _write(self, chunk: bytes) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        """Flush and close the staged file."""
        raise NotImplementedError

    def _publish(self, key: str, final: str) -> bool:
        """Give the staged file the path ``final``; ``False`` when it was taken."""
        raise NotImplementedError

    def _drop(self) -> None:
        """Close and remove the staged file; it may be gone already."""
        raise NotImplementedError


def make_folders(path: str) -> list[str]:
    """Make ``path`` and any missing folder above it; the folders that were missing.

    A folder another writer makes at the same moment counts as missing too: the caller
    flushes their entries, and no one may rely on the other writer having done so yet.

    Raises:
        FileExistsError: A file stands where a folder should be.
        NotADirectoryError: Likewise, higher up.
    """
    missing: list[str] = []
    folder = path
    while not os.path.isdir(folder):
        missing.append(folder)
        above = os.path.dirname(folder)
        if above == folder:
            break
        folder = above
    for folder in reversed(missing):
        try:
            os.mkdir(folder)
        except FileExistsError:
            if not os.path.isdir(folder):
                raise
    return missing


class LocalWriter(StagedWriter):
    """Writes a blob in a local folder through the ``os`` module.

    Small writes are gathered, and every write of at least :data:`GATHER_SIZE` bytes goes
    to the file at once; with ``fsync`` on, the kernel is then asked to start writing it to
    the disk (:mod:`.writeback`), so the disk works while the caller hashes and checks the
    bytes, and the ``fsync`` at commit has less to wait for.

    Args:
        staged: The staged file's path.
        root: The store's root folder.
        fsync: Flush the file and its new folder entry to the disk before commit returns.
    """

    def __init__(self, staged: str, root: str, *, fsync: bool, file: FileIO | None = None) -> None:
        super().__init__(staged, root)
        self._fsync = fsync
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._written = 0
        if file is not None:
            self._file = file
            return
        with translated("start a staged blob"):
            try:
                self._file = open(staged, "xb", buffering=0)  # noqa: SIM115
            except FileNotFoundError:
                # Someone removed the staging folder (a manual clean-up): make it again.
                os.makedirs(os.path.dirname(staged), exist_ok=True)
                self._file = open(staged, "xb", buffering=0)  # noqa: SIM115

    def _write(self, chunk: bytes) -> None:
        # Kept until written out, so a caller's reusable buffer is copied.
        kept = chunk if type(chunk) is bytes else bytes(chunk)
        self._pending.append(kept)
        self._pending_size += len(kept)
        if self._pending_size >= GATHER_SIZE or len(self._pending) >= _MAX_PIECES:
            self._write_out(hurry=self._fsync)

    def _write_out(self, *, hurry: bool) -> None:
        pending, size = self._pending, self._pending_size
        if not pending:
            return
        self._pending = []
        self._pending_size = 0
        # One system call for the gathered chunks, without joining them first.
        count = _writev(self._file.fileno(), pending) if len(pending) > 1 and _writev else 0
        if count < size:
            # A write may take less than asked (a signal, a full disk): the rest, in order.
            view = memoryview(b"".join(pending) if len(pending) > 1 else pending[0])[count:]
            while view:
                written = self._file.write(view)
                if not written:
                    raise OSError(errno.EIO, "the file took no bytes", self._staged)
                view = view[written:]
        if hurry:
            start_writeback(self._file.fileno(), self._written, size)
        self._written += size

    def _finish(self) -> None:
        # The fsync right after writes the rest out; a hint first would only cost time.
        self._write_out(hurry=False)
        if self._fsync:
            os.fsync(self._file.fileno())
        self._file.close()

    def _publish(self, key: str, final: str) -> bool:
        parent = os.path.dirname(final)
        made: list[str] = []
        for attempt in range(_PUBLISH_ATTEMPTS):
            try:
                # A hard link never replaces an existing file, so two writers racing for one
                # key get exactly one True between them.
                os.link(self._staged, final)
            except FileExistsError:
                if not os.path.isfile(final):
                    raise InvalidInput(f"blob key {key!r} is a folder of other blobs") from None
                os.unlink(self._staged)
                if self._fsync:
                    # The blob another writer linked may not be on the disk yet, and the
                    # caller is about to rely on it.
                    fsync_folder(parent)
                return False
            except FileNotFoundError:
                # The key's folder does not exist yet (folders are made only when missing,
                # which saves a syscall per commit), or a concurrent delete pruned it.
                if attempt + 1 == _PUBLISH_ATTEMPTS or not os.path.exists(self._staged):
                    raise
                made.extend(_make_key_folders(key, parent))
                continue
            except NotADirectoryError as exc:
                raise _through_a_blob(key) from exc
            except OSError as exc:
                if exc.errno not in _NO_HARD_LINKS:
                    raise
                return self._publish_by_rename(final, made)
            os.unlink(self._staged)
            if self._fsync:
                fsync_folder(parent)
                flush_new_folders(made)
            return True
        raise AssertionError("unreachable")  # pragma: no cover

    def _publish_by_rename(self, final: str, made: list[str]) -> bool:
        # Without hard links "exists, then rename" can race; the loser overwrites the same
        # bytes (keys are content addresses), so the only harm is a second True.
        if os.path.lexists(final):
            os.unlink(self._staged)
            return False
        os.replace(self._staged, final)
        if self._fsync:
            fsync_folder(os.path.dirname(final))
            flush_new_folders(made)
        return True

    def _drop(self) -> None:
        try:
            self._file.close()
        finally:
            # Missing: never created, or swept already.
            with suppress(FileNotFoundError):
                os.unlink(self._staged)


class AnonymousWriter(LocalWriter):
    """Writes a blob into an anonymous file made ahead (see :mod:`.ahead`), which gets its
    key's name by a hard link at commit; discarding it only closes it.

    Args:
        fd: The anonymous file, open for writing; the writer owns it from here on.
        root: The store's root folder.
        fsync: Flush the file and its new folder entry to the disk before commit returns.
    """

    def __init__(self, fd: int, root: str, *, fsync: bool) -> None:
        file = FileIO(fd, "wb", closefd=True)
        super().__init__(f"/proc/self/fd/{fd}", root, fsync=fsync, file=file)

    def _finish(self) -> None:
        # Kept open: the file is linked through its descriptor.
        self._write_out(hurry=False)
        if not self._written:
            # Nothing written since the file was made ahead: give it the time of this write,
            # which sweeps and readers of the blob's time rely on.
            os.utime(self._file.fileno())
        if self._fsync:
            os.fsync(self._file.fileno())

    def _publish(self, key: str, final: str) -> bool:
        try:
            return self._link(key, final)
        finally:
            self._file.close()

    def _link(self, key: str, final: str) -> bool:
        parent, name = os.path.split(final)
        made: list[str] = []
        for attempt in range(_PUBLISH_ATTEMPTS):
            try:
                folder = os.open(parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            except FileNotFoundError:
                # The key's folder does not exist yet, or a concurrent delete pruned it.
                if attempt + 1 == _PUBLISH_ATTEMPTS:
                    raise
                made.extend(_make_key_folders(key, parent))
                continue
            except NotADirectoryError as exc:
                raise _through_a_blob(key) from exc
            try:
                link_anonymous(self._file.fileno(), folder, name)
            except FileExistsError:
                if not os.path.isfile(final):
                    raise InvalidInput(f"blob key {key!r} is a folder of other blobs") from None
                if self._fsync:
                    # The blob another writer linked may not be on the disk yet, and the
                    # caller is about to rely on it.
                    os.fsync(folder)
                return False
            except FileNotFoundError:
                if attempt + 1 == _PUBLISH_ATTEMPTS:
                    raise
                continue  # the folder was pruned after it was opened: make it again
            else:
                if self._fsync:
                    os.fsync(folder)
                    flush_new_folders(made)
                    # As after a rename: the data was flushed before the link, the folder
                    # after it, and the file's link count goes to the disk with its folder's
                    # entry (one journal). A second fsync of the file cost 70-80 us here, a
                    # cache flush of the disk, for nothing more on such filesystems.
                return True
            finally:
                os.close(folder)
        raise AssertionError("unreachable")  # pragma: no cover

    def _drop(self) -> None:
        self._file.close()  # it has no name: closing it is removing it


class FsspecWriter(StagedWriter):
    """Writes a blob through the generic fsspec calls.

    Args:
        fs: The fsspec filesystem.
        staged: The staged file's path on it.
        root: The store's root folder on it.
    """

    def __init__(self, fs: Any, staged: str, root: str) -> None:
        super().__init__(staged, root)
        self._fs = fs
        with translated("start a staged blob"):
            self._file: Any = fs.open(staged, "wb")

    def _write(self, chunk: bytes) -> None:
        self._file.write(chunk)

    def _finish(self) -> None:
        self._file.close()

    def _publish(self, key: str, final: str) -> bool:
        if self._fs.isfile(final):
            self._fs.rm_file(self._staged)
            return False
        # Filesystems with real folders (sftp, smb...) need the parent; object stores
        # treat this as a no-op.
        self._fs.makedirs(final.rpartition("/")[0], exist_ok=True)
        self._fs.mv(self._staged, final)
        return True

    def _drop(self) -> None:
        try:
            # Closing uploads what was buffered, into the staging folder; removing it after
            # is the one way every fsspec filesystem supports to abandon a write.
            self._file.close()
        finally:
            with suppress(FileNotFoundError):
                self._fs.rm_file(self._staged)


class MemoryWriter(FsspecWriter):
    """Writes a blob in fsspec's memory filesystem, publishing it by moving its entry."""

    def _publish(self, key: str, final: str) -> bool:
        # Unlike fsspec's mv (copy, then delete), moving the entry does not duplicate the
        # bytes, and under the lock "exists, then move" is one step.
        return memory.move_if_absent(self._fs, self._staged, final)
