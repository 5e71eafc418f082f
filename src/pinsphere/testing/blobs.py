"""The conformance suite for :class:`~pinsphere.backends.base.BlobBackend`.

Subclass :class:`BlobBackendSuite` in a test module and provide a ``backend`` fixture that
yields a fresh, empty backend::

    class TestMyBlobs(BlobBackendSuite):
        @pytest.fixture
        def backend(self) -> Iterator[BlobBackend]:
            backend = MyBlobBackend.from_url("my://...")
            yield backend
            backend.close()
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from pinsphere.backends.base import BlobBackend
from pinsphere.errors import InvalidInput, NotFound

__all__ = ["BAD_KEYS", "BlobBackendSuite"]

BAD_KEYS = (
    "",
    "/absolute",
    "a//b",
    "trailing/",
    "../escape",
    "a/../../escape",
    "a/./b",
    "back\\slash",
)
"""Keys every backend must refuse with :class:`~pinsphere.errors.InvalidInput`."""

_CHUNK = 64 * 1024
_LARGE = 5 * 1024 * 1024
# File times are coarse (some filesystems keep whole seconds) and may come from a server's
# clock rather than this machine's, so "now" is only known to a few seconds.
_CLOCK_SLACK = timedelta(seconds=5)


def _stream(seed: bytes, total: int, chunk: int = _CHUNK) -> Iterator[bytes]:
    """Deterministic pseudo-random chunks, produced one at a time (never the whole blob)."""
    block = hashlib.sha256(seed).digest() * (chunk // 32 + 1)
    for index, start in enumerate(range(0, total, chunk)):
        size = min(chunk, total - start)
        # Vary each chunk so that a mixed-up chunk order would show in the digest.
        yield index.to_bytes(4, "big") + block[: size - 4]


def _put(backend: BlobBackend, key: str, data: bytes) -> bool:
    with backend.writer() as writer:
        writer.write(data)
        return writer.commit(key)


def _read_all(backend: BlobBackend, key: str) -> bytes:
    with backend.open(key) as blob:
        return blob.read()


class BlobBackendSuite:
    """Tests every blob backend must pass; needs a ``backend`` fixture."""

    # -- basics -----------------------------------------------------------------------------

    def test_ping_answers(self, backend: BlobBackend) -> None:
        backend.ping()

    def test_a_fresh_backend_is_empty(self, backend: BlobBackend) -> None:
        assert list(backend.keys()) == []

    # -- write and read back ----------------------------------------------------------------

    def test_commit_then_read_back(self, backend: BlobBackend) -> None:
        assert _put(backend, "originals/ab/cd/one", b"hello, blob") is True
        assert _read_all(backend, "originals/ab/cd/one") == b"hello, blob"

    def test_chunks_are_appended_in_order(self, backend: BlobBackend) -> None:
        with backend.writer() as writer:
            for part in (b"one ", b"", b"two ", b"three"):
                writer.write(part)
            writer.commit("parts")
        assert _read_all(backend, "parts") == b"one two three"

    def test_empty_blob(self, backend: BlobBackend) -> None:
        assert _put(backend, "empty", b"") is True
        assert backend.size("empty") == 0
        assert _read_all(backend, "empty") == b""

    def test_large_blob_streamed_in_chunks_round_trips(self, backend: BlobBackend) -> None:
        written = hashlib.sha256()
        with backend.writer() as writer:
            for chunk in _stream(b"large", _LARGE):
                written.update(chunk)
                writer.write(chunk)
            assert writer.commit("large/blob") is True
        assert backend.size("large/blob") == _LARGE
        read = hashlib.sha256()
        total = 0
        with backend.open("large/blob") as blob:
            while chunk := blob.read(_CHUNK):
                total += len(chunk)
                read.update(chunk)
        assert total == _LARGE
        assert read.hexdigest() == written.hexdigest()

    def test_uncommitted_bytes_are_invisible(self, backend: BlobBackend) -> None:
        with backend.writer() as writer:
            writer.write(b"pending")
            assert list(backend.keys()) == []
            assert not backend.exists("pending")
            writer.commit("pending")
        assert list(backend.keys()) == ["pending"]

    def test_two_writers_at_once_stay_apart(self, backend: BlobBackend) -> None:
        with backend.writer() as first, backend.writer() as second:
            first.write(b"first")
            second.write(b"second")
            first.write(b"!")
            second.commit("b")
            first.commit("a")
        assert _read_all(backend, "a") == b"first!"
        assert _read_all(backend, "b") == b"second"

    # -- commit to an existing key ----------------------------------------------------------

    def test_commit_to_existing_key_returns_false_and_keeps_the_original(
        self, backend: BlobBackend
    ) -> None:
        assert _put(backend, "dup", b"original") is True
        assert _put(backend, "dup", b"another") is False
        assert _read_all(backend, "dup") == b"original"
        assert list(backend.keys()) == ["dup"]

    # -- discard ----------------------------------------------------------------------------

    def test_discard_leaves_nothing(self, backend: BlobBackend) -> None:
        writer = backend.writer()
        writer.write(b"x" * 10_000)
        writer.discard()
        writer.discard()  # twice is fine
        assert list(backend.keys()) == []

    def test_discard_after_commit_keeps_the_blob(self, backend: BlobBackend) -> None:
        writer = backend.writer()
        writer.write(b"kept")
        writer.commit("kept")
        writer.discard()
        assert _read_all(backend, "kept") == b"kept"

    def test_leaving_with_block_by_exception_leaves_nothing(self, backend: BlobBackend) -> None:
        def upload_that_fails() -> None:
            with backend.writer() as writer:
                writer.write(b"half an upload")
                raise RuntimeError("upload failed")

        with pytest.raises(RuntimeError, match="upload failed"):
            upload_that_fails()
        assert list(backend.keys()) == []

    def test_leaving_with_block_without_commit_leaves_nothing(self, backend: BlobBackend) -> None:
        with backend.writer() as writer:
            writer.write(b"forgotten")
        assert list(backend.keys()) == []

    def test_commit_to_a_bad_key_leaves_nothing(self, backend: BlobBackend) -> None:
        with backend.writer() as writer:
            writer.write(b"data")
            with pytest.raises(InvalidInput):
                writer.commit("../outside")
        assert list(backend.keys()) == []

    # -- open, seek, size -------------------------------------------------------------------

    def test_open_missing_is_not_found(self, backend: BlobBackend) -> None:
        with pytest.raises(NotFound):
            backend.open("no/such/blob")

    def test_open_a_folder_of_blobs_is_not_found(self, backend: BlobBackend) -> None:
        _put(backend, "folder/inside", b"x")
        with pytest.raises(NotFound):
            backend.open("folder")

    def test_seek_and_read_a_range(self, backend: BlobBackend) -> None:
        data = bytes(range(256)) * 64
        _put(backend, "ranged", data)
        with backend.open("ranged") as blob:
            if backend.capabilities.ranged_reads:
                assert blob.seekable()
            assert blob.seek(1000) == 1000
            assert blob.read(24) == data[1000:1024]
            assert blob.tell() == 1024
            blob.seek(-10, io.SEEK_END)
            assert blob.read() == data[-10:]
            assert blob.read(5) == b""
            blob.seek(0)
            assert blob.read(3) == data[:3]

    def test_two_readers_have_their_own_positions(self, backend: BlobBackend) -> None:
        _put(backend, "shared", b"0123456789")
        with backend.open("shared") as one, backend.open("shared") as two:
            assert one.read(4) == b"0123"
            assert two.read(2) == b"01"
            assert one.read(2) == b"45"

    def test_size(self, backend: BlobBackend) -> None:
        _put(backend, "sized", b"12345")
        assert backend.size("sized") == 5

    def test_size_of_missing_is_not_found(self, backend: BlobBackend) -> None:
        with pytest.raises(NotFound):
            backend.size("missing")

    def test_exists(self, backend: BlobBackend) -> None:
        assert backend.exists("there") is False
        _put(backend, "there/blob", b"x")
        assert backend.exists("there/blob") is True
        assert backend.exists("there") is False  # a folder of blobs is not a blob

    # -- modified ---------------------------------------------------------------------------

    def test_modified_of_a_new_blob_is_now_in_utc(self, backend: BlobBackend) -> None:
        before = datetime.now(UTC)
        _put(backend, "dated/blob", b"x")
        after = datetime.now(UTC)
        when = backend.modified("dated/blob")
        assert when.tzinfo is not None
        assert when.utcoffset() == timedelta(0)
        assert before - _CLOCK_SLACK <= when <= after + _CLOCK_SLACK

    def test_modified_of_missing_is_not_found(self, backend: BlobBackend) -> None:
        with pytest.raises(NotFound):
            backend.modified("no/such/blob")
        _put(backend, "folder/inside", b"x")
        with pytest.raises(NotFound):
            backend.modified("folder")

    # -- sweeping staged writes -------------------------------------------------------------

    def test_sweep_removes_an_abandoned_write_and_keeps_a_fresh_one(
        self, backend: BlobBackend
    ) -> None:
        _put(backend, "committed/blob", b"kept")
        abandoned = backend.writer()
        abandoned.write(b"half an upload, then the process died")
        try:
            assert backend.sweep_staging(timedelta(hours=1)) == 0
            assert backend.sweep_staging(timedelta(0)) == 1
            assert backend.sweep_staging(timedelta(0)) == 0
        finally:
            # The writer's owner may still discard it; that must not fail after a sweep.
            abandoned.discard()
        assert list(backend.keys()) == ["committed/blob"]
        assert _read_all(backend, "committed/blob") == b"kept"

    def test_sweep_never_touches_committed_blobs(self, backend: BlobBackend) -> None:
        for key in ("originals/ab/one", "thumbs/ab/one", "top"):
            _put(backend, key, key.encode())
        assert backend.sweep_staging(timedelta(0)) == 0
        assert sorted(backend.keys()) == ["originals/ab/one", "thumbs/ab/one", "top"]
        for key in ("originals/ab/one", "thumbs/ab/one", "top"):
            assert _read_all(backend, key) == key.encode()

    # -- delete -----------------------------------------------------------------------------

    def test_delete_removes_and_is_idempotent(self, backend: BlobBackend) -> None:
        _put(backend, "doomed/blob", b"x")
        _put(backend, "doomed/sibling", b"y")
        backend.delete("doomed/blob")
        assert not backend.exists("doomed/blob")
        with pytest.raises(NotFound):
            backend.open("doomed/blob")
        backend.delete("doomed/blob")
        backend.delete("never/was")
        assert list(backend.keys()) == ["doomed/sibling"]

    def test_key_can_be_written_again_after_delete(self, backend: BlobBackend) -> None:
        _put(backend, "again/x", b"first")
        backend.delete("again/x")
        assert _put(backend, "again/x", b"second") is True
        assert _read_all(backend, "again/x") == b"second"

    # -- keys -------------------------------------------------------------------------------

    def test_keys_with_prefix(self, backend: BlobBackend) -> None:
        for key in ("originals/ab/1", "originals/ab/2", "originals/cd/3", "thumbs/ab/1", "top"):
            _put(backend, key, key.encode())
        assert sorted(backend.keys()) == [
            "originals/ab/1",
            "originals/ab/2",
            "originals/cd/3",
            "thumbs/ab/1",
            "top",
        ]
        assert sorted(backend.keys("originals/")) == [
            "originals/ab/1",
            "originals/ab/2",
            "originals/cd/3",
        ]
        assert sorted(backend.keys("originals/a")) == ["originals/ab/1", "originals/ab/2"]
        assert sorted(backend.keys("thumbs/ab/1")) == ["thumbs/ab/1"]
        assert sorted(backend.keys("t")) == ["thumbs/ab/1", "top"]
        assert list(backend.keys("nothing/here/")) == []

    # -- prepared folders -------------------------------------------------------------------

    def test_prepare_makes_no_key_and_may_run_again(self, backend: BlobBackend) -> None:
        prefixes = ["originals/00/", "originals/ab/", "originals/ff/"]
        backend.prepare(prefixes)
        backend.prepare(iter(prefixes))  # any iterable, and a second time changes nothing
        assert list(backend.keys()) == []
        assert list(backend.keys("originals/")) == []

    def test_keys_under_prepared_prefixes_work_as_any_other(self, backend: BlobBackend) -> None:
        backend.prepare(["originals/ab/", "originals/cd/"])
        assert _put(backend, "originals/ab/one", b"first") is True
        assert _put(backend, "originals/ab/one", b"again") is False
        assert _put(backend, "originals/ef/two", b"unprepared") is True
        assert sorted(backend.keys("originals/")) == ["originals/ab/one", "originals/ef/two"]
        assert _read_all(backend, "originals/ab/one") == b"first"
        # Deleting the last blob of a prepared folder must not stop the folder taking more.
        backend.delete("originals/ab/one")
        assert list(backend.keys("originals/ab/")) == []
        assert _put(backend, "originals/ab/three", b"after") is True
        assert _read_all(backend, "originals/ab/three") == b"after"
        backend.prepare(["originals/ab/", "originals/cd/"])
        assert sorted(backend.keys()) == ["originals/ab/three", "originals/ef/two"]

    # -- bad keys ---------------------------------------------------------------------------

    @pytest.mark.parametrize("key", BAD_KEYS)
    def test_bad_keys_are_rejected_everywhere(self, backend: BlobBackend, key: str) -> None:
        with pytest.raises(InvalidInput):
            backend.open(key)
        with pytest.raises(InvalidInput):
            backend.size(key)
        with pytest.raises(InvalidInput):
            backend.exists(key)
        with pytest.raises(InvalidInput):
            backend.modified(key)
        with pytest.raises(InvalidInput):
            backend.delete(key)
        with backend.writer() as writer, pytest.raises(InvalidInput):
            writer.commit(key)

    def test_keys_rejects_an_escaping_prefix(self, backend: BlobBackend) -> None:
        with pytest.raises(InvalidInput):
            list(backend.keys("../"))

    def test_unusual_but_valid_keys(self, backend: BlobBackend) -> None:
        keys = ["with space/file name", "ünïcode/ключ", "dots.in.name", "a-b_c~d"]
        for key in keys:
            _put(backend, key, key.encode())
        for key in keys:
            assert _read_all(backend, key) == key.encode()
        assert sorted(backend.keys()) == sorted(keys)
