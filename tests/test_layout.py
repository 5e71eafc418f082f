"""Where originals live: the layout value, the layout marker, and stores of either layout
(fresh one-level stores, and two-level stores written before the marker)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

import pinsphere
from pinsphere import errors, layout_marker
from pinsphere.backends.base import BlobWriter
from pinsphere.backends.fsspec import FsspecBlobBackend, writers
from pinsphere.layout import (
    NEW_STORE_LAYOUT,
    ONE_LEVEL,
    ORIGINALS_PREFIX,
    TWO_LEVELS,
    OriginalsLayout,
)
from pinsphere.layout_marker import LAYOUT_MARKER_KEY, marker_bytes, read_marker, settle_layout
from pinsphere.models import Pin
from pinsphere.testing.media import gif_bytes, jpeg_bytes, png_bytes
from store_support import FAST_SETTINGS, drop_layout_marker, open_legacy_store

SHA = hashlib.sha256(b"pinsphere").hexdigest()
PAIRS = [f"{index:02x}" for index in range(256)]


def originals(store: pinsphere.PinStore) -> list[str]:
    return sorted(store.blobs.keys(ORIGINALS_PREFIX))


def read_blob(store: pinsphere.PinStore, key: str) -> bytes:
    with store.blobs.open(key) as blob:
        return blob.read()


def write_blob(blobs: FsspecBlobBackend, key: str, data: bytes) -> None:
    with blobs.writer() as writer:
        writer.write(data)
        writer.commit(key)


# -- the layout value -----------------------------------------------------------------------


def test_keys_of_each_layout() -> None:
    assert ONE_LEVEL.key(SHA) == f"originals/{SHA[:2]}/{SHA}"
    assert TWO_LEVELS.key(SHA) == f"originals/{SHA[:2]}/{SHA[2:4]}/{SHA}"
    assert NEW_STORE_LAYOUT == ONE_LEVEL
    assert OriginalsLayout(levels=1) == ONE_LEVEL
    assert ONE_LEVEL.matches(ONE_LEVEL.key(SHA))
    assert not ONE_LEVEL.matches(TWO_LEVELS.key(SHA))
    assert TWO_LEVELS.matches(TWO_LEVELS.key(SHA))
    assert not TWO_LEVELS.matches(ONE_LEVEL.key(SHA))
    assert not ONE_LEVEL.matches(f"derived/{SHA[:2]}/{SHA}")
    assert not ONE_LEVEL.matches(f"originals/zz/{SHA}")
    assert not TWO_LEVELS.matches("originals/a")


def test_one_level_has_256_folders() -> None:
    folders = list(ONE_LEVEL.folders())
    assert folders == [f"originals/{pair}/" for pair in PAIRS]
    assert ONE_LEVEL.key(SHA).startswith(folders[int(SHA[:2], 16)])
    two = TWO_LEVELS.folders()
    assert [next(two), next(two)] == ["originals/00/00/", "originals/00/01/"]


def test_a_layout_is_a_frozen_value() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        ONE_LEVEL.levels = 2  # type: ignore[misc]
    for levels in (0, -1, 33):
        with pytest.raises(errors.InvalidInput):
            OriginalsLayout(levels=levels)


def test_the_marker_round_trips() -> None:
    for layout in (ONE_LEVEL, TWO_LEVELS):
        assert json.loads(marker_bytes(layout)) == {
            "version": 1,
            "originals": {"levels": layout.levels},
        }


# -- fresh stores ---------------------------------------------------------------------------


def test_a_fresh_store_records_and_uses_one_level(
    store: pinsphere.PinStore, alice: pinsphere.User
) -> None:
    assert store.layout == ONE_LEVEL
    assert json.loads(read_blob(store, LAYOUT_MARKER_KEY)) == {
        "version": 1,
        "originals": {"levels": 1},
    }
    data = png_bytes()
    pin = store.as_user(alice).upload(data)
    sha256 = pin.media.sha256
    assert originals(store) == [f"originals/{sha256[:2]}/{sha256}"]
    with store.as_user(alice).open(pin.id) as original:
        assert original.read() == data


def test_a_fresh_local_store_has_its_256_folders_and_uploads_make_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pinsphere.open(tmp_path, settings=FAST_SETTINGS) as store:
        folder = tmp_path / "blobs" / "originals"
        assert sorted(path.name for path in folder.iterdir()) == PAIRS
        assert all(path.is_dir() and not any(path.iterdir()) for path in folder.iterdir())
        made: list[str] = []
        real = writers.make_folders

        def recording(path: str) -> list[str]:
            if "/originals/" in path:  # thumbnails get a folder per pin, as ever
                made.append(path)
            return real(path)

        monkeypatch.setattr(writers, "make_folders", recording)
        me = store.as_user(store.users.create("alice", password="alice-password"))
        pins = [me.upload(data) for data in (png_bytes(), jpeg_bytes(), gif_bytes())]
        assert made == []  # the folders were there: no commit of an original made one
        for pin in pins:
            sha256 = pin.media.sha256
            assert (folder / sha256[:2] / sha256).is_file()
        # The last blob of a folder takes its folder with it; the next upload there makes
        # it again.
        pair = pins[0].media.sha256[:2]
        assert all(pin.media.sha256[:2] != pair for pin in pins[1:])
        me.delete(pins[0].id)
        assert not (folder / pair).exists()
        again = me.upload(png_bytes())
        assert len(made) == 1
        assert made[0].endswith(f"/originals/{pair}")
        assert (folder / again.media.sha256[:2] / again.media.sha256).is_file()


def test_a_store_opened_again_reads_its_marker_without_listing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pinsphere.open(tmp_path, settings=FAST_SETTINGS).close()

    def no_listing(self: FsspecBlobBackend, prefix: str = "") -> Iterator[str]:
        raise AssertionError("a store with a marker lists no keys when opened")

    monkeypatch.setattr(FsspecBlobBackend, "keys", no_listing)
    with pinsphere.open(tmp_path, settings=FAST_SETTINGS) as store:
        assert store.layout == ONE_LEVEL


def test_the_marker_survives_a_sweep(store: pinsphere.PinStore, alice: pinsphere.User) -> None:
    me = store.as_user(alice)
    pin = me.upload(jpeg_bytes((700, 500)))
    me.delete(pin.id)
    with store.blobs.writer() as writer:
        writer.write(b"orphaned bytes")
        writer.commit(store.layout.key("ab" * 32))
    report = store.sweep(older_than=timedelta(0))
    assert report.orphans_removed == 1
    assert list(store.blobs.keys()) == [LAYOUT_MARKER_KEY]
    assert read_marker(store.blobs) == ONE_LEVEL


def _alice_pin_without_marker(folder: Path, data: bytes, *, legacy: bool = False) -> Pin:
    """One pin of alice's in a new store (or one written with two-level originals), whose
    layout marker is then lost."""
    opened = open_legacy_store(folder) if legacy else pinsphere.open(folder, settings=FAST_SETTINGS)
    with opened as store:
        pin = store.as_user(store.users.create("alice", password="alice-password")).upload(data)
    drop_layout_marker(folder)
    return pin


def _assert_serves(
    store: pinsphere.PinStore,
    layout: OriginalsLayout,
    marker: OriginalsLayout | None,
    pin: Pin,
    data: bytes,
) -> None:
    """The store reads ``layout``, has recorded ``marker``, and serves the pin's bytes."""
    assert store.layout == layout
    assert read_marker(store.blobs) == marker
    with store.as_user("alice").open(pin.id) as original:
        assert original.read() == data


def test_a_store_whose_marker_was_lost_keeps_its_layout(tmp_path: Path) -> None:
    pin = _alice_pin_without_marker(tmp_path, png_bytes())
    with pinsphere.open(tmp_path, settings=FAST_SETTINGS) as store:
        _assert_serves(store, ONE_LEVEL, ONE_LEVEL, pin, png_bytes())


STRAYS = {
    # Stray files people and tools leave under originals/, listed before the originals.
    "originals/.DS_Store": b"Finder",
    "originals/00/notes.txt": b"moved the cat pictures",
    "originals/00/" + "0" * 63: b"one digit short of a digest",
    "originals/00/" + "A" * 64: b"upper case: not a digest Pinsphere writes",
    "originals/00/" + "0" * 64 + ".bak": b"a copy",
}


def add_strays(folder: Path) -> FsspecBlobBackend:
    blobs = FsspecBlobBackend.from_url((folder / "blobs").as_uri())
    for key, data in STRAYS.items():
        write_blob(blobs, key, data)
    return blobs


def test_stray_files_do_not_decide_the_layout_of_a_store_that_lost_its_marker(
    tmp_path: Path,
) -> None:
    pin = _alice_pin_without_marker(tmp_path, png_bytes())
    blobs = add_strays(tmp_path)
    listed = list(blobs.keys(ORIGINALS_PREFIX))
    assert listed.index(ONE_LEVEL.key(pin.media.sha256)) == len(STRAYS)  # strays come first

    with pinsphere.open(tmp_path, settings=FAST_SETTINGS) as store:
        _assert_serves(store, ONE_LEVEL, ONE_LEVEL, pin, png_bytes())
        for key, data in STRAYS.items():
            assert read_blob(store, key) == data


def test_stray_files_do_not_decide_the_layout_of_a_two_level_store(tmp_path: Path) -> None:
    pin = _alice_pin_without_marker(tmp_path, gif_bytes(), legacy=True)
    add_strays(tmp_path)
    with pinsphere.open(tmp_path, settings=FAST_SETTINGS) as store:
        _assert_serves(store, TWO_LEVELS, TWO_LEVELS, pin, gif_bytes())


def test_a_store_holding_stray_files_only_gets_the_fresh_layout(tmp_path: Path) -> None:
    add_strays(tmp_path)
    with pinsphere.open(tmp_path, settings=FAST_SETTINGS) as store:
        assert store.layout == NEW_STORE_LAYOUT
        assert read_marker(store.blobs) == NEW_STORE_LAYOUT
        me = store.as_user(store.users.create("alice", password="alice-password"))
        pin = me.upload(png_bytes())
        with me.open(pin.id) as original:
            assert original.read() == png_bytes()
        assert originals(store) == sorted([*STRAYS, NEW_STORE_LAYOUT.key(pin.media.sha256)])


@pytest.mark.parametrize("first", [ONE_LEVEL, TWO_LEVELS])
def test_a_store_with_originals_of_both_layouts_is_refused_and_nothing_recorded(
    tmp_path: Path, first: OriginalsLayout
) -> None:
    # A move between layouts left half done: the first folder is moved, the next is not.
    other = TWO_LEVELS if first == ONE_LEVEL else ONE_LEVEL
    moved, waiting = "00" + "1" * 62, "01" + "2" * 62
    blobs = add_strays(tmp_path)
    write_blob(blobs, first.key(moved), b"moved")
    write_blob(blobs, other.key(waiting), b"waiting")
    with pytest.raises(errors.UnknownLayout) as caught:
        settle_layout(blobs)
    assert caught.value.key == LAYOUT_MARKER_KEY
    message = str(caught.value)
    assert first.key(moved) in message
    assert other.key(waiting) in message
    assert "originals/ab/<sha256>" in message
    assert "originals/ab/cd/<sha256>" in message
    assert LAYOUT_MARKER_KEY in message
    assert read_marker(blobs) is None
    with pytest.raises(errors.UnknownLayout):
        pinsphere.open(tmp_path, settings=FAST_SETTINGS)
    assert read_marker(blobs) is None
    assert sorted(blobs.keys(ORIGINALS_PREFIX)) == sorted(
        [*STRAYS, first.key(moved), other.key(waiting)]
    )

    # Finished by hand and marked, the store opens.
    write_blob(blobs, LAYOUT_MARKER_KEY, marker_bytes(first))
    assert settle_layout(blobs) == first


@pytest.mark.parametrize(
    "key",
    [
        f"originals/{SHA}",  # no folder
        f"originals/{SHA[:2]}/{SHA[2:4]}/{SHA[4:6]}/{SHA}",  # three levels
        f"originals/ff/{SHA}",  # a folder not named after the digest
    ],
)
def test_an_original_where_no_known_layout_puts_one_is_refused(tmp_path: Path, key: str) -> None:
    blobs = add_strays(tmp_path)
    write_blob(blobs, key, b"an original")
    with pytest.raises(errors.UnknownLayout) as caught:
        settle_layout(blobs)
    assert key in str(caught.value)
    assert caught.value.key == LAYOUT_MARKER_KEY
    assert read_marker(blobs) is None


def test_detection_reads_a_bounded_number_of_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blobs = FsspecBlobBackend.from_url((tmp_path / "blobs").as_uri())
    digests = [f"{index:02x}" + "0" * 62 for index in range(8)]
    for digest in digests[:-1]:
        write_blob(blobs, ONE_LEVEL.key(digest), b"x")
    write_blob(blobs, TWO_LEVELS.key(digests[-1]), b"x")  # the last key listed
    real_keys = FsspecBlobBackend.keys
    read: list[str] = []

    def counted(self: FsspecBlobBackend, prefix: str = "") -> Iterator[str]:
        for key in real_keys(self, prefix):
            read.append(key)
            yield key

    monkeypatch.setattr(FsspecBlobBackend, "keys", counted)
    monkeypatch.setattr(layout_marker, "_DETECTION_KEYS", 3)
    # The two-level key lies past the keys read: not seen, the store is not listed whole.
    assert settle_layout(blobs) == ONE_LEVEL
    assert read == [ONE_LEVEL.key(digest) for digest in digests[:3]]
    blobs.delete(LAYOUT_MARKER_KEY)
    # Within the keys read, it is seen.
    monkeypatch.setattr(layout_marker, "_DETECTION_KEYS", 8)
    read.clear()
    with pytest.raises(errors.UnknownLayout):
        settle_layout(blobs)
    assert len(read) == 8


# -- stores written before the marker -------------------------------------------------------


def test_a_two_level_store_without_a_marker_is_detected_and_keeps_working(
    tmp_path: Path,
) -> None:
    with open_legacy_store(tmp_path) as old:
        alice = old.users.create("alice", password="alice-password")
        bob = old.users.create("bob", password="bob-password")
        shared = old.as_user(alice).upload(png_bytes(), visibility="public")
        gone = old.as_user(alice).upload(gif_bytes())
        kept = old.as_user(bob).upload(jpeg_bytes((90, 60)))
    drop_layout_marker(tmp_path)
    before = (tmp_path / "blobs" / "originals").iterdir()
    first_folders = sorted(path.name for path in before)

    with pinsphere.open(tmp_path, settings=FAST_SETTINGS) as store:
        assert store.layout == TWO_LEVELS
        # Recorded, so that the next open need not list keys; no one-level folders made.
        assert read_marker(store.blobs) == TWO_LEVELS
        folders = sorted(path.name for path in (tmp_path / "blobs" / "originals").iterdir())
        assert folders == first_folders
        assert originals(store) == sorted(
            TWO_LEVELS.key(pin.media.sha256) for pin in (shared, gone, kept)
        )

        # Read.
        assert store.as_user("alice").get(shared.id) == shared
        with store.anonymous.open(shared.id) as original:
            assert original.read() == png_bytes()
        with store.as_user("bob").open(kept.id) as original:
            assert original.read() == jpeg_bytes((90, 60))

        # Upload: identical bytes share the blob already there; new bytes go two levels deep.
        again = store.as_user(bob).upload(png_bytes())
        assert again.media.sha256 == shared.media.sha256
        fresh = store.as_user(bob).upload(jpeg_bytes((40, 30), color="green"))
        assert originals(store) == sorted(
            TWO_LEVELS.key(pin.media.sha256) for pin in (shared, gone, kept, fresh)
        )

        # Delete: the last pin of a blob takes it; a shared blob stays.
        store.as_user(alice).delete(gone.id)
        store.as_user(alice).delete(shared.id)
        assert not store.blobs.exists(TWO_LEVELS.key(gone.media.sha256))
        assert store.blobs.exists(TWO_LEVELS.key(shared.media.sha256))
        with store.as_user(bob).open(again.id) as original:
            assert original.read() == png_bytes()

        # Sweep: an unused two-level original goes, the rest (and the marker) stay.
        with store.blobs.writer() as writer:
            writer.write(b"orphaned bytes")
            writer.commit(TWO_LEVELS.key("cd" * 32))
        report = store.sweep(older_than=timedelta(0))
        assert report.orphans_removed == 1
        assert originals(store) == sorted(
            TWO_LEVELS.key(pin.media.sha256) for pin in (shared, kept, fresh)
        )
        assert read_marker(store.blobs) == TWO_LEVELS

    with pinsphere.open(tmp_path, settings=FAST_SETTINGS) as store:
        assert store.layout == TWO_LEVELS


def test_a_two_level_store_derives_media_in_the_background(tmp_path: Path) -> None:
    with open_legacy_store(tmp_path) as old:
        first = old.as_user(old.users.create("alice", password="alice-password")).upload(
            png_bytes()
        )
    drop_layout_marker(tmp_path)
    settings = FAST_SETTINGS.model_copy(update={"processing": "background"})
    with pinsphere.open(tmp_path, settings=settings) as store:
        assert store.layout == TWO_LEVELS
        me = store.as_user("alice")
        pin = me.upload(jpeg_bytes((700, 500)))
        assert pin.processing == "pending"
        assert store.wait_for_processing(timeout=60)
        ready = me.get(pin.id)
        assert ready.processing == "ready"
        assert ready.thumbnails == (256, 640)
        assert ready.media.blurhash
        with me.open_thumbnail(pin.id, width=256) as thumbnail:
            assert thumbnail.read(4) == b"RIFF"
        assert originals(store) == sorted(
            TWO_LEVELS.key(each.media.sha256) for each in (first, pin)
        )


# -- markers that cannot be used --------------------------------------------------------------


@pytest.mark.parametrize(
    "marker",
    [
        b'{"version": 1, "originals": {"levels": 3}}',
        b'{"version": 1, "originals": {"levels": true}}',
        b'{"version": 1, "originals": {"levels": "1"}}',
        b'{"version": 1}',
        b'{"version": 2, "originals": {"levels": 1}}',
        b"[1]",
        b"not json at all",
        b"\xff\xfe\x00garbled",
        b"",
        b"[" * 60_000,
        b" " * 70_000,
    ],
)
def test_an_unknown_or_garbled_marker_is_a_typed_error(tmp_path: Path, marker: bytes) -> None:
    blobs = FsspecBlobBackend.from_url((tmp_path / "blobs").as_uri())
    write_blob(blobs, LAYOUT_MARKER_KEY, marker)
    with pytest.raises(errors.UnknownLayout) as caught:
        pinsphere.open(tmp_path, settings=FAST_SETTINGS)
    assert caught.value.key == LAYOUT_MARKER_KEY
    assert LAYOUT_MARKER_KEY in str(caught.value)
    assert isinstance(caught.value, errors.BackendUnavailable)
    # Never overwritten: the marker may be a newer version's, which must not be lost.
    with blobs.open(LAYOUT_MARKER_KEY) as stored:
        assert stored.read() == marker
    assert list(blobs.keys(ORIGINALS_PREFIX)) == []


# -- opening at the same time, or without write access -----------------------------------


def test_the_store_that_loses_the_race_reads_the_winners_marker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blobs = FsspecBlobBackend.from_url((tmp_path / "blobs").as_uri())
    real_writer = blobs.writer

    def racing_writer() -> BlobWriter:
        # Another process records its layout between this one's check and its commit.
        if not blobs.exists(LAYOUT_MARKER_KEY):
            with real_writer() as other:
                other.write(marker_bytes(TWO_LEVELS))
                assert other.commit(LAYOUT_MARKER_KEY)
        return real_writer()

    monkeypatch.setattr(blobs, "writer", racing_writer)
    assert settle_layout(blobs) == TWO_LEVELS
    assert read_marker(blobs) == TWO_LEVELS


def test_stores_opening_a_fresh_store_at_once_agree(tmp_path: Path) -> None:
    url = (tmp_path / "blobs").as_uri()
    start = threading.Barrier(8)
    found: list[OriginalsLayout] = []

    def open_one() -> None:
        blobs = FsspecBlobBackend.from_url(url)
        start.wait()
        found.append(settle_layout(blobs))

    threads = [threading.Thread(target=open_one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert found == [ONE_LEVEL] * 8
    assert read_marker(FsspecBlobBackend.from_url(url)) == ONE_LEVEL


def test_a_store_that_cannot_be_written_still_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pin = _alice_pin_without_marker(tmp_path, png_bytes(), legacy=True)

    def refused(self: FsspecBlobBackend) -> BlobWriter:
        raise errors.BackendUnavailable("read-only credentials")

    monkeypatch.setattr(FsspecBlobBackend, "writer", refused)
    with pinsphere.open(tmp_path, settings=FAST_SETTINGS) as store:
        _assert_serves(store, TWO_LEVELS, None, pin, png_bytes())
