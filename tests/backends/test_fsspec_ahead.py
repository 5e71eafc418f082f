"""Local folders: anonymous files made ahead on a background thread, named at commit
(``pinsphere.backends.fsspec.ahead`` and ``AnonymousWriter``)."""

from __future__ import annotations

import errno
import gc
import os
import stat
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pinsphere.backends.fsspec import FsspecBlobBackend, ahead
from pinsphere.backends.fsspec.keys import STAGING_FOLDER
from pinsphere.backends.fsspec.writers import AnonymousWriter, LocalWriter
from pinsphere.errors import InvalidInput

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="anonymous files (O_TMPFILE) are Linux's"
)


def _open(root: Path, options: str = "") -> FsspecBlobBackend:
    return FsspecBlobBackend.from_url(f"file://{root}{options}")


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[FsspecBlobBackend]:
    opened = _open(tmp_path / "blobs")
    yield opened
    opened.close()


def _ready_writer(backend: FsspecBlobBackend) -> AnonymousWriter:
    assert backend._ahead is not None
    assert backend._ahead.wait_ready(5.0)
    writer = backend.writer()
    assert isinstance(writer, AnonymousWriter)
    return writer


def _staging(backend: FsspecBlobBackend) -> list[str]:
    return os.listdir(Path(backend.root) / STAGING_FOLDER)


def _read(backend: FsspecBlobBackend, key: str) -> bytes:
    with backend.open(key) as blob:
        return blob.read()


def _open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def test_a_file_made_ahead_has_no_name_until_it_is_committed(
    backend: FsspecBlobBackend,
) -> None:
    writer = _ready_writer(backend)
    writer.write(b"made ahead, ")
    writer.write(b"named at commit")
    assert _staging(backend) == []
    assert writer.commit("originals/ab/new") is True
    assert _read(backend, "originals/ab/new") == b"made ahead, named at commit"
    assert _staging(backend) == []
    # Same permissions as a file a writer creates itself (0o666 less the umask).
    umask = os.umask(0)
    os.umask(umask)
    mode = stat.S_IMODE(os.stat(Path(backend.root) / "originals/ab/new").st_mode)
    assert mode == 0o666 & ~umask


def test_a_taken_key_keeps_its_blob_and_the_new_bytes_vanish(backend: FsspecBlobBackend) -> None:
    first = _ready_writer(backend)
    first.write(b"first")
    second = _ready_writer(backend)
    second.write(b"second")
    assert first.commit("same") is True
    assert second.commit("same") is False
    assert _read(backend, "same") == b"first"
    assert _staging(backend) == []
    assert list(backend.keys()) == ["same"]


def test_racing_writers_get_exactly_one_true(backend: FsspecBlobBackend) -> None:
    writers = [_ready_writer(backend) for _ in range(6)]
    for writer in writers:
        writer.write(b"same bytes")
    results: list[bool] = []
    barrier = threading.Barrier(len(writers))

    def commit(writer: AnonymousWriter) -> None:
        barrier.wait()
        results.append(writer.commit("originals/cd/raced"))

    threads = [threading.Thread(target=commit, args=(writer,)) for writer in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 5 + [True]


def test_discarding_leaves_nothing_behind(backend: FsspecBlobBackend) -> None:
    writer = _ready_writer(backend)
    writer.write(b"never kept")
    writer.discard()
    writer.discard()
    assert _staging(backend) == []
    assert list(backend.keys()) == []


def test_bad_keys_are_refused_and_the_file_vanishes(backend: FsspecBlobBackend) -> None:
    with backend.writer() as writer:
        writer.write(b"x")
        writer.commit("folder/blob")
    for key in ("folder", "folder/blob/inside"):
        writer = _ready_writer(backend)
        writer.write(b"y")
        with pytest.raises(InvalidInput):
            writer.commit(key)
    assert _staging(backend) == []
    assert list(backend.keys()) == ["folder/blob"]


def test_the_blob_and_its_new_folders_are_flushed(
    backend: FsspecBlobBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    flushed: list[str] = []
    real = os.fsync

    def recording(fd: int) -> None:
        flushed.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", recording)
    writer = _ready_writer(backend)
    writer.write(b"durable")
    writer.commit("originals/ef/gh/blob")
    root = str(Path(backend.root))
    folders = [path for path in flushed if not path.endswith("(deleted)")]
    # The file itself first (still nameless), then the folder holding it, then each folder
    # that received a new folder.
    assert flushed[0].startswith(f"{root}/{STAGING_FOLDER}/")
    assert folders[0] == f"{root}/originals/ef/gh"
    assert set(folders) == {
        f"{root}/originals/ef/gh",
        f"{root}/originals/ef",
        f"{root}/originals",
        root,
    }


def test_without_fsync_nothing_is_flushed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = _open(tmp_path / "blobs", "?fsync=false")
    try:
        calls: list[int] = []
        monkeypatch.setattr(os, "fsync", calls.append)
        writer = _ready_writer(backend)
        writer.write(b"fast")
        assert writer.commit("quick") is True
        assert calls == []
        assert _read(backend, "quick") == b"fast"
    finally:
        backend.close()


def test_switched_off_every_writer_makes_a_named_file(tmp_path: Path) -> None:
    backend = _open(tmp_path / "blobs", "?files_ahead=false")
    try:
        assert backend._ahead is None
        for index in range(3):
            with backend.writer() as writer:
                assert type(writer) is LocalWriter
                writer.write(b"named")
                writer.commit(f"k{index}")
    finally:
        backend.close()


def test_the_option_is_for_local_folders() -> None:
    with pytest.raises(InvalidInput, match="files_ahead"):
        FsspecBlobBackend.from_url("memory://?files_ahead=true")


def _refuse(code: int) -> Callable[[str], None]:
    def probe(folder: str) -> None:
        raise OSError(code, os.strerror(code), folder)

    return probe


def test_where_anonymous_files_fail_writers_make_named_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ahead, "_probe", _refuse(errno.EOPNOTSUPP))
    backend = _open(tmp_path / "blobs")
    try:
        assert backend._ahead is not None
        assert backend._ahead.wait_ready(5.0) is False
        assert backend._ahead.working is False
        with backend.writer() as writer:
            assert type(writer) is LocalWriter
            writer.write(b"still stored")
            writer.commit("k")
        assert _read(backend, "k") == b"still stored"
    finally:
        backend.close()


def test_a_passing_error_only_skips_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = ahead._probe
    monkeypatch.setattr(ahead, "_probe", _refuse(errno.ENOSPC))
    backend = _open(tmp_path / "blobs")
    try:
        assert backend._ahead is not None
        assert backend._ahead.wait_ready(0.5) is False
        assert backend._ahead.working
        with backend.writer() as writer:
            assert type(writer) is LocalWriter
            writer.write(b"named meanwhile")
            writer.commit("first")
        monkeypatch.setattr(ahead, "_probe", real)
        assert backend._ahead.take() is None  # asks again
        writer = _ready_writer(backend)
        writer.write(b"made ahead again")
        writer.commit("second")
        assert _read(backend, "second") == b"made ahead again"
    finally:
        backend.close()


def test_an_empty_blob_gets_the_time_of_its_commit(backend: FsspecBlobBackend) -> None:
    writer = _ready_writer(backend)
    made = os.fstat(writer._file.fileno()).st_mtime
    os.utime(writer._file.fileno(), (made - 3600, made - 3600))
    writer.commit("empty")
    assert _read(backend, "empty") == b""
    assert backend.modified("empty").timestamp() >= made - 1


def test_the_probe_leaves_nothing(tmp_path: Path) -> None:
    assert ahead.anonymous_files_work(str(tmp_path)) is True
    assert os.listdir(tmp_path) == []
    assert ahead.anonymous_files_work(str(tmp_path / "missing")) is False


def test_closing_closes_the_files_made_ahead_and_stops_the_thread(tmp_path: Path) -> None:
    before = _open_fds()
    backend = _open(tmp_path / "blobs")
    assert backend._ahead is not None
    assert backend._ahead.wait_ready(5.0)
    thread = backend._ahead._state.thread
    assert thread is not None
    backend.close()
    thread.join(5.0)
    assert not thread.is_alive()
    assert _open_fds() <= before
    assert backend._ahead.take() is None


def test_a_backend_dropped_unclosed_stops_its_thread(tmp_path: Path) -> None:
    backend = _open(tmp_path / "blobs")
    assert backend._ahead is not None
    assert backend._ahead.wait_ready(5.0)
    thread = backend._ahead._state.thread
    assert thread is not None
    del backend
    gc.collect()
    thread.join(5.0)
    assert not thread.is_alive()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_never_writes_into_its_parents_file(backend: FsspecBlobBackend) -> None:
    assert backend._ahead is not None
    assert backend._ahead.wait_ready(5.0)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit code
        code = 1
        try:
            os.close(read)
            assert backend._ahead is not None
            assert not backend._ahead._state.ready
            with backend.writer() as writer:
                writer.write(b"from the child")
                writer.commit("child")
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    os.close(read)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    writer = backend.writer()
    assert isinstance(writer, AnonymousWriter)
    writer.write(b"from the parent")
    writer.commit("parent")
    assert _read(backend, "child") == b"from the child"
    assert _read(backend, "parent") == b"from the parent"
