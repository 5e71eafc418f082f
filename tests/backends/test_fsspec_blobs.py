"""The fsspec blob backend: the conformance suite on each filesystem, then its own features."""

from __future__ import annotations

import errno
import os
import posixpath
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import fsspec
import pytest
from fsspec.implementations.dirfs import DirFileSystem
from fsspec.implementations.local import LocalFileSystem
from hypothesis import given
from hypothesis import strategies as st

from pinsphere.backends.base import BlobBackend, BlobWriter
from pinsphere.backends.fsspec import (
    STAGING_FOLDER,
    FsspecBlobBackend,
    FsspecBlobOptions,
    register_options_model,
    validate_key,
    writeback,
    writers,
)
from pinsphere.backends.fsspec import options as fsspec_options
from pinsphere.backends.fsspec.readers import TranslatingReader
from pinsphere.backends.fsspec.timestamps import as_utc, modified_time
from pinsphere.errors import BackendUnavailable, InvalidInput, NotFound, UnknownBackend
from pinsphere.registry import BackendRegistry
from pinsphere.testing.blobs import BlobBackendSuite


def put(backend: BlobBackend, key: str, data: bytes) -> bool:
    with backend.writer() as writer:
        writer.write(data)
        return writer.commit(key)


# -- the conformance suite on every filesystem kind -------------------------------------------


class TestLocalFolder(BlobBackendSuite):
    """Named staged files, made by each writer."""

    @pytest.fixture
    def backend(self, tmp_path: Path) -> Iterator[BlobBackend]:
        backend = FsspecBlobBackend.from_url(f"file://{tmp_path}/blobs?files_ahead=false")
        yield backend
        backend.close()


class TestLocalFolderFilesAhead(BlobBackendSuite):
    """Anonymous files made ahead (the default), named under their key at commit."""

    @pytest.fixture
    def backend(self, tmp_path: Path) -> Iterator[BlobBackend]:
        backend = FsspecBlobBackend.from_url(f"file://{tmp_path}/blobs")
        assert backend._ahead is not None
        assert backend._ahead.wait_ready(5.0)
        yield backend
        backend.close()

    def test_sweep_removes_an_abandoned_write_and_keeps_a_fresh_one(
        self, backend: BlobBackend
    ) -> None:
        # A write into a file made ahead has no name until it is committed: abandoned, it
        # leaves nothing for a sweep to find, and nothing behind once discarded.
        assert isinstance(backend, FsspecBlobBackend)
        assert backend._ahead is not None
        put(backend, "committed/blob", b"kept")
        assert backend._ahead.wait_ready(5.0)
        abandoned = backend.writer()
        abandoned.write(b"half an upload, then the process died")
        try:
            assert backend.sweep_staging(timedelta(0)) == 0
            assert os.listdir(Path(backend.root) / STAGING_FOLDER) == []
        finally:
            abandoned.discard()
        assert list(backend.keys()) == ["committed/blob"]


class TestLocalFolderWithoutFsync(BlobBackendSuite):
    @pytest.fixture
    def backend(self, tmp_path: Path) -> Iterator[BlobBackend]:
        url = f"file://{tmp_path}/blobs?fsync=false&files_ahead=false"
        backend = FsspecBlobBackend.from_url(url)
        yield backend
        backend.close()


class TestMemory(BlobBackendSuite):
    @pytest.fixture
    def backend(self) -> Iterator[BlobBackend]:
        backend = FsspecBlobBackend.from_url("memory://")
        yield backend
        backend.close()


class TestGenericFsspecPath(BlobBackendSuite):
    """A filesystem that is neither local nor memory takes the protocol-agnostic path."""

    @pytest.fixture
    def backend(self, tmp_path: Path) -> Iterator[BlobBackend]:
        fs = DirFileSystem(path=str(tmp_path), fs=LocalFileSystem())
        backend = FsspecBlobBackend(fs, "store")
        yield backend
        backend.close()


# -- opening from URLs ------------------------------------------------------------------------


def test_file_url_creates_the_missing_root(tmp_path: Path) -> None:
    root = tmp_path / "deep" / "er" / "root"
    backend = FsspecBlobBackend.from_url(f"file://{root}")
    assert root.is_dir()
    assert (root / STAGING_FOLDER).is_dir()
    put(backend, "originals/ab/cd/blob", b"x")
    assert (root / "originals" / "ab" / "cd" / "blob").read_bytes() == b"x"


def test_plain_path_is_a_local_folder(tmp_path: Path) -> None:
    backend = FsspecBlobBackend.from_url(str(tmp_path / "plain"))
    put(backend, "k", b"v")
    assert (tmp_path / "plain" / "k").read_bytes() == b"v"


def test_two_anonymous_memory_stores_never_share() -> None:
    one = FsspecBlobBackend.from_url("memory://")
    two = FsspecBlobBackend.from_url("memory://")
    try:
        put(one, "same/key", b"one")
        assert not two.exists("same/key")
        assert list(two.keys()) == []
        put(two, "same/key", b"two")
        with one.open("same/key") as blob:
            assert blob.read() == b"one"
    finally:
        one.close()
        two.close()


def test_named_memory_store_is_shared_and_outlives_close() -> None:
    name = f"pinsphere-test-{os.getpid()}-{time.monotonic_ns()}"
    one = FsspecBlobBackend.from_url(f"memory://{name}")
    two = FsspecBlobBackend.from_url(f"memory://{name}")
    try:
        put(one, "k", b"v")
        assert two.exists("k")
        one.close()
        assert two.exists("k")
        assert fsspec.filesystem("memory").isfile(f"/{name}/k")
    finally:
        two.delete("k")


def test_closing_an_anonymous_memory_store_frees_its_blobs() -> None:
    backend = FsspecBlobBackend.from_url("memory://")
    put(backend, "a/b", b"x" * 1000)
    root = backend.root
    backend.close()
    memory = fsspec.filesystem("memory")
    assert not [path for path in memory.store if path.startswith(root + "/")]


def test_options_come_from_the_query_string(tmp_path: Path) -> None:
    backend = FsspecBlobBackend.from_url(f"file://{tmp_path}?chunk_size=65536&fsync=false")
    assert backend.options == FsspecBlobOptions(chunk_size=65536, fsync=False)


@pytest.mark.parametrize(
    "query",
    ["bogus=1", "chunk_size=abc", "chunk_size=10", "fsync=perhaps"],
)
def test_bad_options_are_rejected(tmp_path: Path, query: str) -> None:
    with pytest.raises(InvalidInput):
        FsspecBlobBackend.from_url(f"file://{tmp_path}?{query}")


def test_fsync_is_for_local_folders_only() -> None:
    with pytest.raises(InvalidInput, match="fsync"):
        FsspecBlobBackend.from_url("memory://?fsync=true")


def test_filesystem_root_is_refused() -> None:
    with pytest.raises(InvalidInput):
        FsspecBlobBackend.from_url("file:///")


def test_protocol_without_its_package_is_unknown_backend() -> None:
    with pytest.raises(UnknownBackend) as caught:
        FsspecBlobBackend.from_url("not-a-protocol-anywhere://bucket/prefix")
    assert caught.value.__cause__ is not None


def test_protocol_options_model_is_used_and_passed_to_the_filesystem(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, Any] = {}

    class TunedOptions(FsspecBlobOptions):
        skip_instance_cache: bool = False

        def storage_options(self) -> dict[str, Any]:
            return {"skip_instance_cache": self.skip_instance_cache}

    real = fsspec.url_to_fs

    def spy(url: str, **kwargs: Any) -> Any:
        seen.update(kwargs)
        return real(url, **kwargs)

    monkeypatch.setattr(FsspecBlobBackend, "options_models", {"memory": TunedOptions})
    monkeypatch.setattr(fsspec, "url_to_fs", spy)
    backend = FsspecBlobBackend.from_url("memory://?skip_instance_cache=true")
    try:
        assert seen == {"skip_instance_cache": True}
        assert isinstance(backend.options, TunedOptions)
    finally:
        backend.close()


def test_registry_routes_file_memory_and_unregistered_fsspec_protocols(tmp_path: Path) -> None:
    registry = BackendRegistry()
    registry.add_blob_backend("file", "pinsphere.backends.fsspec:FsspecBlobBackend")
    registry.add_blob_backend("memory", "pinsphere.backends.fsspec.backend:FsspecBlobBackend")
    local = registry.blob_backend(f"file://{tmp_path}")
    memory = registry.blob_backend("memory://")
    assert isinstance(local, FsspecBlobBackend)
    assert isinstance(memory, FsspecBlobBackend)
    memory.close()
    # "dir" is an fsspec protocol nobody registered: it reaches this backend, which needs
    # its arguments and so reports the filesystem unusable rather than silently misbehaving.
    with pytest.raises((UnknownBackend, BackendUnavailable)):
        registry.blob_backend("dir://somewhere")


# -- staging ----------------------------------------------------------------------------------


@pytest.fixture
def local(tmp_path: Path) -> Iterator[FsspecBlobBackend]:
    backend = FsspecBlobBackend.from_url(f"file://{tmp_path}/blobs?fsync=false&files_ahead=false")
    yield backend
    backend.close()


@pytest.fixture
def memory() -> Iterator[FsspecBlobBackend]:
    backend = FsspecBlobBackend.from_url("memory://")
    yield backend
    backend.close()


def staged_files(backend: FsspecBlobBackend) -> list[str]:
    return [path for path in backend.fs.find(backend.root) if f"/{STAGING_FOLDER}/" in path]


@pytest.mark.parametrize("fixture", ["local", "memory"])
def test_writes_go_to_staging_and_are_never_listed(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    backend: FsspecBlobBackend = request.getfixturevalue(fixture)
    with backend.writer() as writer:
        writer.write(b"in progress")
        assert len(staged_files(backend)) == 1
        assert list(backend.keys()) == []
        assert list(backend.keys(".sta")) == []
        writer.commit("done")
    assert staged_files(backend) == []
    assert list(backend.keys()) == ["done"]


def test_staging_folder_is_not_a_key(local: FsspecBlobBackend) -> None:
    with pytest.raises(InvalidInput):
        local.open(f"{STAGING_FOLDER}/anything")
    with local.writer() as writer, pytest.raises(InvalidInput):
        writer.commit(f"{STAGING_FOLDER}/anything")


def test_a_committed_writer_cannot_be_reused(local: FsspecBlobBackend) -> None:
    writer = local.writer()
    writer.write(b"x")
    writer.commit("once")
    with pytest.raises(InvalidInput):
        writer.write(b"more")
    with pytest.raises(InvalidInput):
        writer.commit("twice")


def test_sweep_removes_only_old_staged_files(local: FsspecBlobBackend) -> None:
    staging = Path(local.root) / STAGING_FOLDER
    crashed = staging / "left-by-a-crash"
    crashed.write_bytes(b"partial")
    an_hour_ago = time.time() - 3600
    os.utime(crashed, (an_hour_ago, an_hour_ago))
    with local.writer() as live:
        live.write(b"still uploading")
        assert local.sweep_staging(timedelta(minutes=10)) == 1
        assert not crashed.exists()
        live.commit("survived")
    assert local.exists("survived")
    assert local.sweep_staging(timedelta(0)) == 0


def test_sweep_on_memory(memory: FsspecBlobBackend) -> None:
    writer = memory.writer()
    writer.write(b"abandoned")
    [staged] = staged_files(memory)
    memory.fs.store[staged].modified = datetime.now(UTC) - timedelta(days=1)
    assert memory.sweep_staging(timedelta(hours=1)) == 1
    assert staged_files(memory) == []


def test_sweep_on_a_generic_filesystem(tmp_path: Path) -> None:
    backend = FsspecBlobBackend(DirFileSystem(path=str(tmp_path), fs=LocalFileSystem()), "s")
    old = tmp_path / "s" / STAGING_FOLDER / "old"
    old.write_bytes(b"x")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    assert backend.sweep_staging(timedelta(hours=1)) == 1
    assert not old.exists()


def test_sweep_rejects_negative_age(local: FsspecBlobBackend) -> None:
    with pytest.raises(InvalidInput):
        local.sweep_staging(timedelta(seconds=-1))


# -- local specifics --------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["local", "memory"])
def test_racing_commits_to_one_key_give_exactly_one_true(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    backend: FsspecBlobBackend = request.getfixturevalue(fixture)
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def upload() -> None:
        with backend.writer() as writer:
            writer.write(b"same bytes")
            barrier.wait()
            results.append(writer.commit("contended/key"))

    threads = [threading.Thread(target=upload) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]
    assert list(backend.keys()) == ["contended/key"]
    assert staged_files(backend) == []


def test_fsync_is_on_by_default_and_called(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        calls.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting_fsync)
    backend = FsspecBlobBackend.from_url(f"file://{tmp_path}")
    put(backend, "a/b", b"durable")
    assert len(calls) >= 1
    calls.clear()
    fast = FsspecBlobBackend.from_url(f"file://{tmp_path}?fsync=false")
    put(fast, "c/d", b"fast")
    assert calls == []


def _staged_size(writer: BlobWriter) -> int:
    assert isinstance(writer, writers.LocalWriter)
    return os.fstat(writer._file.fileno()).st_size


@pytest.mark.parametrize("ahead", ["true", "false"])
@pytest.mark.parametrize("fsync", ["true", "false"])
def test_small_writes_are_gathered_and_large_ones_written_out_at_once(
    tmp_path: Path, fsync: str, ahead: str
) -> None:
    backend = FsspecBlobBackend.from_url(f"file://{tmp_path}?fsync={fsync}&files_ahead={ahead}")
    if backend._ahead is not None:
        assert backend._ahead.wait_ready(5.0)
    gather = writers.GATHER_SIZE
    with backend.writer() as writer:
        assert isinstance(writer, writers.AnonymousWriter) == (ahead == "true")
        writer.write(b"x" * 1000)
        writer.write(bytearray(b"y" * 1000))
        assert _staged_size(writer) == 0  # still gathered
        writer.write(b"z" * gather)
        assert _staged_size(writer) == gather + 2000
        writer.write(b"tail")
        assert writer.commit("gathered") is True
    with backend.open("gathered") as blob:
        assert blob.read() == b"x" * 1000 + b"y" * 1000 + b"z" * gather + b"tail"
    assert staged_files(backend) == []


def test_a_gathered_buffer_the_caller_reuses_is_copied(local: FsspecBlobBackend) -> None:
    buffer = bytearray(b"first")
    with local.writer() as writer:
        writer.write(buffer)
        buffer[:] = b"later"
        writer.commit("copied")
    with local.open("copied") as blob:
        assert blob.read() == b"first"


def test_short_writes_of_the_file_are_continued(
    local: FsspecBlobBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(3 * writers.GATHER_SIZE)
    with local.writer() as writer:
        staged: Any = writer._file  # type: ignore[attr-defined]
        real_write = staged.write

        class ShortWrites:
            """The file as a signal-interrupted write would leave it: a few bytes at a time."""

            def __getattr__(self, name: str) -> Any:
                return getattr(staged, name)

            def write(self, view: memoryview) -> int:
                return int(real_write(view[:1000]))

        monkeypatch.setattr(writer, "_file", ShortWrites())
        writer.write(data)
        writer.commit("short")
    with local.open("short") as blob:
        assert blob.read() == data


def test_many_tiny_writes_are_written_out_in_bounded_batches(local: FsspecBlobBackend) -> None:
    # More pieces than one writev takes (IOV_MAX is 1,024 on Linux).
    pieces = [os.urandom(40) for _ in range(3_000)]
    with local.writer() as writer:
        for piece in pieces:
            writer.write(piece)
        writer.write(memoryview(b"\x00\x01" * 10).cast("H"))  # sized in bytes, not items
        writer.commit("tiny")
    with local.open("tiny") as blob:
        assert blob.read() == b"".join(pieces) + b"\x00\x01" * 10


def test_a_short_gathered_write_is_finished_in_order(
    local: FsspecBlobBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_writev = os.writev

    def short_writev(fd: int, buffers: list[bytes]) -> int:
        return real_writev(fd, [buffers[0][:10]])  # as a signal would cut it

    monkeypatch.setattr(writers, "_writev", short_writev)
    head, body = os.urandom(1000), os.urandom(writers.GATHER_SIZE)
    with local.writer() as writer:
        writer.write(head)
        writer.write(body)
        writer.commit("short-vector")
    with local.open("short-vector") as blob:
        assert blob.read() == head + body


def test_durable_writes_start_the_disk_writing_as_they_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[tuple[int, int]] = []
    monkeypatch.setattr(
        writers, "start_writeback", lambda fd, offset, length: started.append((offset, length))
    )
    gather = writers.GATHER_SIZE
    durable = FsspecBlobBackend.from_url(f"file://{tmp_path}/durable")
    put(durable, "a", b"a" * gather)
    with durable.writer() as writer:
        writer.write(b"b" * gather)
        writer.write(b"c" * gather)
        writer.write(b"end")
        writer.commit("b")
    # Each range written out before commit, once, in order; not the rest written at commit,
    # which the fsync writes right away.
    assert started == [(0, gather), (0, gather), (gather, gather)]
    started.clear()
    fast = FsspecBlobBackend.from_url(f"file://{tmp_path}/fast?fsync=false")
    put(fast, "a", b"a" * gather)
    assert started == []  # nothing to hurry when nothing waits for the disk


def test_starting_the_write_out_changes_no_bytes(tmp_path: Path) -> None:
    assert writeback.writeback_supported() is sys.platform.startswith("linux")
    path = tmp_path / "file"
    data = os.urandom(200_000)
    with open(path, "wb", buffering=0) as file:
        file.write(data)
        writeback.start_writeback(file.fileno(), 0, len(data))
        writeback.start_writeback(file.fileno(), 0, 0)
        os.fsync(file.fileno())
    assert path.read_bytes() == data


def test_commit_falls_back_to_rename_without_hard_links(
    local: FsspecBlobBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(src: str, dst: str) -> None:
        raise OSError(errno.EPERM, "hard links not supported here")

    monkeypatch.setattr(os, "link", no_links)
    assert put(local, "renamed", b"one") is True
    assert put(local, "renamed", b"two") is False
    with local.open("renamed") as blob:
        assert blob.read() == b"one"
    assert staged_files(local) == []


def test_delete_prunes_empty_folders_but_not_the_root(local: FsspecBlobBackend) -> None:
    put(local, "originals/ab/cd/one", b"1")
    put(local, "originals/ab/ef/two", b"2")
    local.delete("originals/ab/cd/one")
    root = Path(local.root)
    assert not (root / "originals" / "ab" / "cd").exists()
    assert (root / "originals" / "ab" / "ef" / "two").exists()
    local.delete("originals/ab/ef/two")
    assert not (root / "originals").exists()
    assert root.is_dir()
    assert (root / STAGING_FOLDER).is_dir()


def test_opened_local_blob_has_a_file_descriptor(local: FsspecBlobBackend) -> None:
    put(local, "fd", b"bytes")
    with local.open("fd") as blob:
        assert os.read(blob.fileno(), 5) == b"bytes"


def test_key_through_an_existing_blob_is_invalid(local: FsspecBlobBackend) -> None:
    put(local, "file", b"x")
    with local.writer() as writer:
        writer.write(b"y")
        with pytest.raises(InvalidInput):
            writer.commit("file/child")
    assert sorted(local.keys()) == ["file"]


# -- error translation ------------------------------------------------------------------------


def test_ping_fails_when_the_root_is_gone(tmp_path: Path) -> None:
    backend = FsspecBlobBackend.from_url(f"file://{tmp_path}/gone")
    (tmp_path / "gone" / STAGING_FOLDER).rmdir()
    (tmp_path / "gone").rmdir()
    with pytest.raises(BackendUnavailable) as caught:
        backend.ping()
    assert isinstance(caught.value.__cause__, OSError)


def test_root_that_is_a_file_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "afile").write_bytes(b"")
    with pytest.raises(BackendUnavailable) as caught:
        FsspecBlobBackend.from_url(f"file://{tmp_path}/afile")
    assert isinstance(caught.value.__cause__, OSError)


def test_missing_blob_keeps_the_native_error_as_cause(local: FsspecBlobBackend) -> None:
    with pytest.raises(NotFound) as caught:
        local.open("missing")
    assert isinstance(caught.value.__cause__, FileNotFoundError)
    assert isinstance(caught.value, KeyError)


def test_write_failure_is_backend_unavailable(
    local: FsspecBlobBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = local.writer()

    def broken_disk(data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(writer, "_write", broken_disk)
    with pytest.raises(BackendUnavailable) as caught:
        writer.write(b"x")
    assert isinstance(caught.value.__cause__, OSError)
    writer.discard()
    assert staged_files(local) == []


def test_failed_commit_discards_the_staged_file(
    local: FsspecBlobBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_link(src: str, dst: str) -> None:
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(os, "link", failing_link)
    writer = local.writer()
    writer.write(b"data")
    with pytest.raises(BackendUnavailable):
        writer.commit("k")
    assert staged_files(local) == []
    assert list(local.keys()) == []


class _FailingFile:
    def read(self, size: int = -1) -> bytes:
        raise OSError(errno.EIO, "read failed")

    def readinto(self, buffer: Any) -> int:
        raise ConnectionResetError("peer went away")

    def seek(self, offset: int, whence: int = 0) -> int:
        raise OSError(errno.EIO, "seek failed")

    def close(self) -> None:
        pass


def test_read_errors_after_open_are_translated() -> None:
    reader = TranslatingReader(_FailingFile(), "k")
    with pytest.raises(BackendUnavailable) as caught:
        reader.read(10)
    assert isinstance(caught.value.__cause__, OSError)
    with pytest.raises(BackendUnavailable):
        reader.readinto(bytearray(4))
    with pytest.raises(BackendUnavailable):
        reader.seek(3)
    reader.close()
    assert reader.closed


# -- keys -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [".staging", ".staging/x", "a\x00b", "new\nline", "x" * 1025, "./a", "a/."],
)
def test_more_bad_keys(key: str) -> None:
    with pytest.raises(InvalidInput):
        validate_key(key)


@given(st.text(alphabet=st.sampled_from("ab./\\ \x00é"), max_size=12))
def test_a_valid_key_never_leaves_the_root(key: str) -> None:
    try:
        validate_key(key)
    except InvalidInput:
        return
    normalised = posixpath.normpath(posixpath.join("/root", key))
    assert normalised == f"/root/{key}"
    assert not normalised.startswith(f"/root/{STAGING_FOLDER}/")


# -- modification times -----------------------------------------------------------------------


def test_modified_of_a_local_blob_is_its_file_time(local: FsspecBlobBackend) -> None:
    put(local, "a/b", b"x")
    path = Path(local.root) / "a" / "b"
    os.utime(path, (1_700_000_000, 1_700_000_000))
    assert local.modified("a/b") == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


def test_modified_in_memory_is_when_the_blob_got_its_key(memory: FsspecBlobBackend) -> None:
    with memory.writer() as writer:
        writer.write(b"slow upload")
        [staged] = staged_files(memory)
        started = datetime.now(UTC) - timedelta(hours=2)
        memory.fs.store[staged].created = memory.fs.store[staged].modified = started
        before = datetime.now(UTC)
        writer.commit("k")
    assert memory.modified("k") >= before


def test_modified_on_a_generic_filesystem(tmp_path: Path) -> None:
    backend = FsspecBlobBackend(DirFileSystem(path=str(tmp_path), fs=LocalFileSystem()), "s")
    put(backend, "k", b"x")
    os.utime(tmp_path / "s" / "k", (1_700_000_000, 1_700_000_000))
    assert backend.modified("k") == datetime.fromtimestamp(1_700_000_000, UTC)
    with pytest.raises(NotFound):
        backend.modified("missing")


class _TimelessFileSystem(DirFileSystem):
    """A filesystem that reports no times at all, like some FTP and HTTP servers."""

    _TIMES = ("mtime", "created", "LastModified")

    def modified(self, path: str) -> datetime:
        raise NotImplementedError

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        info = super().info(path, **kwargs)
        return {k: v for k, v in info.items() if k not in self._TIMES}

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> Any:
        entries = super().ls(path, detail=detail, **kwargs)
        if not detail:
            return entries
        return [{k: v for k, v in e.items() if k not in self._TIMES} for e in entries]


def test_a_filesystem_without_times(tmp_path: Path) -> None:
    backend = FsspecBlobBackend(_TimelessFileSystem(path=str(tmp_path), fs=LocalFileSystem()), "s")
    put(backend, "k", b"x")
    with pytest.raises(BackendUnavailable, match="no time"):
        backend.modified("k")
    writer = backend.writer()
    writer.write(b"x")
    # Without a time an upload in progress looks like an abandoned one, so it stays.
    assert backend.sweep_staging(timedelta(0)) == 0
    writer.discard()


class _InfoOnlyFileSystem:
    """Stands in for a filesystem without a ``modified`` method."""

    def modified(self, path: str) -> datetime:
        raise NotImplementedError


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        ({"mtime": 1_700_000_000}, datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        (
            {"LastModified": datetime(2024, 1, 1, 2, tzinfo=timezone(timedelta(hours=2)))},
            datetime(2024, 1, 1, tzinfo=UTC),
        ),
        ({"created": "2024-01-01T00:00:00Z"}, datetime(2024, 1, 1, tzinfo=UTC)),
        ({"size": 3}, None),
    ],
)
def test_modified_time_falls_back_to_the_info_dict(
    info: dict[str, Any], expected: datetime | None
) -> None:
    assert modified_time(_InfoOnlyFileSystem(), "p", info) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2024, 5, 1, 12), datetime(2024, 5, 1, 12, tzinfo=UTC)),
        (
            datetime(2024, 5, 1, 12, tzinfo=timezone(timedelta(hours=-5))),
            datetime(2024, 5, 1, 17, tzinfo=UTC),
        ),
        (0, datetime(1970, 1, 1, tzinfo=UTC)),
        (1.5, datetime(1970, 1, 1, 0, 0, 1, 500000, tzinfo=UTC)),
        ("2024-05-01T12:00:00+02:00", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("yesterday", None),
        (True, None),
        (None, None),
        (1e20, None),
    ],
)
def test_times_are_normalised_to_aware_utc(value: object, expected: datetime | None) -> None:
    when = as_utc(value)
    assert when == expected
    if when is not None:
        assert when.tzinfo is UTC


def test_modified_of_a_missing_local_blob_keeps_the_native_error(
    local: FsspecBlobBackend,
) -> None:
    with pytest.raises(NotFound) as caught:
        local.modified("missing")
    assert isinstance(caught.value.__cause__, FileNotFoundError)


# -- options per protocol ---------------------------------------------------------------------


def test_registered_options_model_parses_its_protocol() -> None:
    class NamedOptions(FsspecBlobOptions):
        label: str = ""

    assert FsspecBlobBackend.options_models is fsspec_options.OPTIONS_MODELS
    register_options_model("MEMORY", NamedOptions)
    try:
        backend = FsspecBlobBackend.from_url("memory://?label=x")
        backend.close()
    finally:
        del fsspec_options.OPTIONS_MODELS["memory"]
    assert backend.options == NamedOptions(label="x")


def test_the_default_plugin_names_this_backend() -> None:
    from pinsphere.default_plugins import backends

    registry = BackendRegistry()
    backends.pinsphere_register_backends(registry)
    blobs = registry.blob_backend("memory://")
    try:
        assert type(blobs) is FsspecBlobBackend
    finally:
        blobs.close()


@pytest.fixture
def flushed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The folders flushed from now on, relative to ``tmp_path``, in order."""
    seen: list[str] = []
    real = writers.fsync_folder

    def recording(path: str) -> None:
        seen.append(os.path.relpath(path, tmp_path))
        real(path)

    monkeypatch.setattr(writers, "fsync_folder", recording)
    return seen


def test_new_folders_are_flushed_in_the_folders_above_them(
    tmp_path: Path, flushed: list[str]
) -> None:
    # A crash must not lose a blob whose folders were made for it: the folder holding the
    # blob is flushed, and so is each folder that received a new folder.
    backend = FsspecBlobBackend.from_url(f"file://{tmp_path}?files_ahead=false")
    put(backend, "originals/ab/cd/blob", b"durable")
    assert set(flushed) == {"originals/ab/cd", "originals/ab", "originals", "."}
    flushed.clear()
    put(backend, "originals/ab/cd/other", b"next")
    assert flushed == ["originals/ab/cd"]
    flushed.clear()
    put(backend, "originals/ab/ef/third", b"sibling")
    assert set(flushed) == {"originals/ab/ef", "originals/ab"}


def test_prepare_makes_local_folders_and_flushes_the_folders_above_once(
    tmp_path: Path, flushed: list[str]
) -> None:
    backend = FsspecBlobBackend.from_url(f"file://{tmp_path}")
    pairs = [f"{index:02x}" for index in range(256)]
    backend.prepare(f"originals/{pair}/" for pair in pairs)
    assert sorted(path.name for path in (tmp_path / "originals").iterdir()) == pairs
    # One flush of the folder holding the new folders, one of the root for "originals".
    assert sorted(flushed) == [".", "originals"]
    flushed.clear()
    backend.prepare(f"originals/{pair}/" for pair in pairs)
    assert flushed == []  # nothing new, nothing to flush
    put(backend, "originals/ab/blob", b"durable")
    assert flushed == ["originals/ab"]  # the commit made no folder: one flush, not three
    assert list(backend.keys()) == ["originals/ab/blob"]


def test_prepare_without_fsync_flushes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flushed: list[str] = []
    monkeypatch.setattr(writers, "fsync_folder", flushed.append)
    backend = FsspecBlobBackend.from_url(f"file://{tmp_path}?fsync=false")
    backend.prepare(["deep/down/here/"])
    assert (tmp_path / "deep" / "down" / "here").is_dir()
    assert flushed == []


@pytest.mark.parametrize(
    "prefix", ["originals/ab", "", "/originals/ab/", "../up/", "a//b/", ".staging/x/", "a/./b/"]
)
def test_prepare_refuses_what_is_not_a_folder_prefix(
    local: FsspecBlobBackend, memory: FsspecBlobBackend, prefix: str
) -> None:
    for backend in (local, memory):
        with pytest.raises(InvalidInput):
            backend.prepare(["fine/", prefix])
    # Checked before anything is made.
    assert not (Path(local.root) / "fine").exists()


def test_prepare_refuses_a_folder_through_a_blob(local: FsspecBlobBackend) -> None:
    put(local, "taken", b"a blob")
    with pytest.raises(InvalidInput):
        local.prepare(["taken/below/"])
    with local.open("taken") as blob:
        assert blob.read() == b"a blob"


def test_prepare_makes_nothing_in_memory(memory: FsspecBlobBackend) -> None:
    before = (dict(memory.fs.store), list(memory.fs.pseudo_dirs))
    memory.prepare(["originals/ab/", "originals/cd/"])
    assert (dict(memory.fs.store), list(memory.fs.pseudo_dirs)) == before


def test_a_prepared_folder_emptied_by_a_delete_is_made_again(local: FsspecBlobBackend) -> None:
    local.prepare(["originals/ab/", "originals/cd/"])
    put(local, "originals/ab/one", b"1")
    local.delete("originals/ab/one")
    root = Path(local.root)
    assert not (root / "originals" / "ab").exists()  # pruned, as any empty fan-out folder
    assert (root / "originals" / "cd").is_dir()
    assert put(local, "originals/ab/two", b"2") is True
    with local.open("originals/ab/two") as blob:
        assert blob.read() == b"2"
