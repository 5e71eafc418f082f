"""The fsspec blob backend: blobs as files under a root folder of an fsspec filesystem."""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Iterable, Iterator
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import IO, Any, ClassVar, Self, cast

import fsspec
from fsspec.implementations.local import LocalFileSystem
from fsspec.implementations.memory import MemoryFileSystem

from pinsphere.backends.base import BlobBackend, BlobCapabilities, BlobWriter
from pinsphere.backends.fsspec import memory, writers
from pinsphere.backends.fsspec.ahead import FilesAhead
from pinsphere.backends.fsspec.errors import MISSING, translated
from pinsphere.backends.fsspec.keys import (
    STAGING_FOLDER,
    folder_of_prefix,
    new_staged_name,
    prefix_folder,
    validate_key,
)
from pinsphere.backends.fsspec.options import OPTIONS_MODELS, FsspecBlobOptions, parse_url
from pinsphere.backends.fsspec.readers import BufferReader, TranslatingReader
from pinsphere.backends.fsspec.staging import sweep_fsspec, sweep_local
from pinsphere.backends.fsspec.timestamps import as_utc, modified_time
from pinsphere.backends.fsspec.writers import (
    AnonymousWriter,
    FsspecWriter,
    LocalWriter,
    MemoryWriter,
)
from pinsphere.errors import BackendUnavailable, InvalidInput, NotFound, UnknownBackend

__all__ = ["FsspecBlobBackend"]


class FsspecBlobBackend(BlobBackend):
    """Blobs as files under a root folder of an fsspec filesystem.

    Local folders use the ``os`` module directly (hard link or rename on commit, optional
    fsync); the memory filesystem is reached through its dict; every other filesystem goes
    through the generic fsspec calls. Commits are atomic on local folders and in memory;
    elsewhere they rely on the filesystem's ``mv`` (a rename, or an object store's copy,
    which also publishes the object whole).

    Attributes:
        fs: The fsspec filesystem.
        root: The root folder on it.
        options: The parsed options.
    """

    capabilities: ClassVar[BlobCapabilities] = BlobCapabilities(
        atomic_commit=True, ranged_reads=True, presigned_urls=False
    )
    options_models: ClassVar[dict[str, type[FsspecBlobOptions]]] = OPTIONS_MODELS
    """Options model per protocol (e.g. one with ``endpoint_url`` for ``s3``); the default
    for a protocol not listed is :class:`FsspecBlobOptions`. The same dict as
    :data:`pinsphere.backends.fsspec.options.OPTIONS_MODELS`."""

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

        Raises:
            InvalidInput: The root is the filesystem's root, or ``fsync`` is set for a
                filesystem that is not local.
            BackendUnavailable: The root cannot be created.
        """
        self.fs = fs
        self.root = root.rstrip("/")
        if not self.root:
            raise InvalidInput("a blob store needs a root folder, not the filesystem root")
        self.options = FsspecBlobOptions() if options is None else options
        self._local = isinstance(fs, LocalFileSystem)
        self._memory = isinstance(fs, MemoryFileSystem)
        for name in ("fsync", "files_ahead"):
            if getattr(self.options, name) is not None and not self._local:
                raise InvalidInput(f"the {name} option applies to local folders (file://) only")
        self._fsync = self._local and self.options.fsync is not False
        self._owns_root = owns_root
        self._staging = f"{self.root}/{STAGING_FOLDER}"
        self._prepare_root()
        self._ahead = (
            FilesAhead(self._staging)
            if self._local and self.options.files_ahead is not False
            else None
        )

    def _prepare_root(self) -> None:
        """Make sure the root can take blobs: create its staging folder.

        Subclasses for stores without folders override it (an object store only checks
        that its bucket answers, and must never create one by accident).

        Raises:
            BackendUnavailable: The folder cannot be created.
        """
        with translated(f"create {self._staging}"):
            if self._local:
                os.makedirs(self._staging, exist_ok=True)
            else:
                self.fs.makedirs(self._staging, exist_ok=True)

    @classmethod
    def from_url(cls, url: str) -> Self:
        """Open the store a URL names (see :mod:`pinsphere.backends.fsspec` for URLs).

        Args:
            url: ``file:///path``, a plain path, ``memory://[name]`` or any fsspec URL, with
                options in its query string.

        Raises:
            InvalidInput: An option is unknown or bad, or the URL has no root folder.
            UnknownBackend: fsspec does not know the protocol, or its package is missing.
            BackendUnavailable: The root cannot be created.
        """
        protocol, location, options = parse_url(url, cls.options_models)
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
        if self._ahead is not None:
            self._ahead.close()
        if self._owns_root and self._memory:
            memory.remove_tree(self.fs, self.root)

    def ping(self) -> None:
        """Check the root answers.

        Raises:
            BackendUnavailable: It does not (or, for a local folder, it has gone).
        """
        with translated(f"reach {self.root}"):
            if self._local:
                if not stat.S_ISDIR(os.stat(self._staging).st_mode):
                    raise BackendUnavailable(f"{self._staging} is not a folder")
                return
            # An object store answers "no such prefix" for an empty store: that is an answer.
            with suppress(FileNotFoundError):
                self.fs.info(self.root)

    # -- writing ----------------------------------------------------------------------------

    def writer(self) -> BlobWriter:
        """Start a blob in the staging folder; see :class:`~pinsphere.backends.base.BlobWriter`.

        Raises:
            BackendUnavailable: The staged file cannot be created.
        """
        if self._ahead is not None:
            made = self._ahead.take()
            if made is not None:
                return AnonymousWriter(made, self.root, fsync=self._fsync)
        staged = f"{self._staging}/{new_staged_name()}"
        if self._local:
            return LocalWriter(staged, self.root, fsync=self._fsync)
        if self._memory:
            return MemoryWriter(self.fs, staged, self.root)
        return FsspecWriter(self.fs, staged, self.root)

    def prepare(self, prefixes: Iterable[str]) -> None:
        """Make the folders of these prefixes in a local root, so that commits there never
        make one; elsewhere only the prefixes are checked (see
        :meth:`~pinsphere.backends.base.BlobBackend.prepare`).

        With ``fsync`` on, the folders above the new ones are flushed once at the end,
        rather than once per folder as a commit would.

        Raises:
            InvalidInput: A prefix does not end in a slash, or is not a valid key's folder.
            BackendUnavailable: A folder cannot be made.
        """
        folders = [folder_of_prefix(prefix) for prefix in prefixes]
        if not self._local:
            # Object stores have no folders; other filesystems' writers make theirs anyway.
            return
        made: list[str] = []
        with translated("prepare folders"):
            for folder in folders:
                try:
                    made.extend(writers.make_folders(f"{self.root}/{folder}"))
                except (FileExistsError, NotADirectoryError) as exc:
                    raise InvalidInput(f"folder prefix {folder}/ runs through a blob") from exc
            if self._fsync:
                # A new folder is only as durable as its entry in the folder above it.
                for parent in sorted({os.path.dirname(folder) for folder in made}, reverse=True):
                    writers.fsync_folder(parent)

    def sweep_staging(self, older_than: timedelta) -> int:
        """Remove staged writes not touched for ``older_than`` (leftovers of crashes).

        A write still in progress is removed too if it has been idle that long, so pass a
        duration well above the slowest upload (an hour is a safe choice). In memory, a
        staged write's time is when it started, not when it was last written to.

        Args:
            older_than: How long a staged write must have been idle to go.

        Returns:
            How many staged files were removed.

        Raises:
            InvalidInput: ``older_than`` is negative.
            BackendUnavailable: The staging folder cannot be listed or cleaned.
        """
        if older_than < timedelta(0):
            raise InvalidInput("older_than must not be negative")
        cutoff = datetime.now(UTC) - older_than
        with translated(f"sweep {self._staging}"):
            if self._local:
                return sweep_local(self._staging, cutoff)
            return sweep_fsspec(self.fs, self._staging, cutoff)

    # -- reading ----------------------------------------------------------------------------

    def open(self, key: str) -> IO[bytes]:
        """Open a blob for streaming, seekable reads in ``chunk_size`` blocks.

        Raises:
            InvalidInput: The key is bad.
            NotFound: No blob has this key.
            BackendUnavailable: The filesystem failed.
        """
        path = self._blob_path(key)
        with translated(f"open blob {key!r}", missing=f"no blob {key!r}"):
            if self._memory:
                blob = self._memory_blob(path, key)
                return cast("IO[bytes]", BufferReader(blob.getbuffer(), key))
            if self._local:
                inner: Any = open(path, "rb", buffering=self.options.chunk_size)  # noqa: SIM115
            else:
                inner = self.fs.open(path, "rb", block_size=self.options.chunk_size)
        return cast("IO[bytes]", TranslatingReader(inner, key))

    def size(self, key: str) -> int:
        """The blob's length in bytes.

        Raises:
            InvalidInput: The key is bad.
            NotFound: No blob has this key.
            BackendUnavailable: The filesystem failed.
        """
        path = self._blob_path(key)
        with translated(f"stat blob {key!r}", missing=f"no blob {key!r}"):
            if self._memory:
                return int(self._memory_blob(path, key).size)
            if self._local:
                return self._local_stat(path, key).st_size
            return int(self._fsspec_info(path, key)["size"])

    def modified(self, key: str) -> datetime:
        """When the blob was written, in UTC.

        Raises:
            InvalidInput: The key is bad.
            NotFound: No blob has this key.
            BackendUnavailable: The filesystem failed or reports no time for the blob.
        """
        path = self._blob_path(key)
        with translated(f"stat blob {key!r}", missing=f"no blob {key!r}"):
            if self._memory:
                when = as_utc(self._memory_blob(path, key).modified)
            elif self._local:
                when = datetime.fromtimestamp(self._local_stat(path, key).st_mtime, UTC)
            else:
                when = modified_time(self.fs, path, self._fsspec_info(path, key))
        if when is None:
            raise BackendUnavailable(f"the blob store reports no time for blob {key!r}")
        return when

    def exists(self, key: str) -> bool:
        """Whether a blob has this key.

        Raises:
            InvalidInput: The key is bad.
            BackendUnavailable: The filesystem failed.
        """
        try:
            self.size(key)
        except NotFound:
            return False
        return True

    # -- removing ---------------------------------------------------------------------------

    def delete(self, key: str) -> None:
        """Remove a blob (no error when absent); empty local folders above it go too.

        Raises:
            InvalidInput: The key is bad.
            BackendUnavailable: The filesystem failed.
        """
        path = self._blob_path(key)
        with translated(f"delete blob {key!r}"):
            if self._local:
                try:
                    os.unlink(path)
                except MISSING:
                    return
                except PermissionError:
                    if os.path.isdir(path):  # macOS says EPERM for a folder
                        return
                    raise
                self._prune_local(os.path.dirname(path))
            elif self._memory:
                memory.remove(self.fs, path)
            else:
                with suppress(FileNotFoundError):
                    if self.fs.isfile(path):
                        self.fs.rm_file(path)

    def _prune_local(self, folder: str) -> None:
        # Empty fan-out folders (originals/ab) would otherwise pile up; a writer that
        # loses its folder to this race makes it again (see LocalWriter._publish), so a
        # folder made in advance (prepare) may go too: only a later commit there pays.
        while len(folder) > len(self.root) and folder.startswith(self.root + "/"):
            try:
                os.rmdir(folder)
            except OSError:
                return  # not empty, or gone already
            folder = os.path.dirname(folder)

    # -- listing ----------------------------------------------------------------------------

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every key starting with ``prefix``, never a staged write; in no promised order.

        Raises:
            InvalidInput: The prefix could not start a valid key.
            BackendUnavailable: The filesystem failed.
        """
        folder = prefix_folder(prefix)
        top = f"{self.root}/{folder}" if folder else self.root
        if self._local:
            return self._local_keys(top, prefix)
        return self._fsspec_keys(top, prefix)

    def _local_keys(self, top: str, prefix: str) -> Iterator[str]:
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

    def _fsspec_keys(self, top: str, prefix: str) -> Iterator[str]:
        with translated(f"list {top}"):
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

    # -- paths and lookups ------------------------------------------------------------------

    def _blob_path(self, key: str) -> str:
        """The path of a key's blob, once the key is checked."""
        validate_key(key)
        return f"{self.root}/{key}"

    def _memory_blob(self, path: str, key: str) -> Any:
        # fsspec's info() scans the whole store to spot folders; a blob is one entry.
        blob = memory.lookup(self.fs, path)
        if blob is None:
            raise NotFound(f"no blob {key!r}")
        return blob

    def _local_stat(self, path: str, key: str) -> os.stat_result:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise NotFound(f"no blob {key!r}")
        return st

    def _fsspec_info(self, path: str, key: str) -> dict[str, Any]:
        info: dict[str, Any] = self.fs.info(path)
        if info.get("type") != "file":
            raise NotFound(f"no blob {key!r}")
        return info

    def __repr__(self) -> str:
        protocol = self.fs.protocol if isinstance(self.fs.protocol, str) else self.fs.protocol[0]
        where = self.root if self._local else self.root.lstrip("/")
        return f"{type(self).__name__}({protocol}://{where})"
