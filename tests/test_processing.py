"""Background processing: uploads return ``pending`` pins, a worker pool derives their media,
failures are recorded and retried, and a pin deleted meanwhile leaves nothing behind."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from PIL import Image

import pinsphere
from pinsphere import derivation
from pinsphere.cli import cli
from pinsphere.derivation import DERIVED_PREFIX, DerivedMedia
from pinsphere.errors import InvalidMedia, NotFound, PermissionDenied
from pinsphere.layout_marker import LAYOUT_MARKER_KEY
from pinsphere.media.exif import read_exif
from pinsphere.testing.media import mp4_bytes
from pinsphere.upload import StoredOriginal
from store_support import FAST_SETTINGS

BACKGROUND = FAST_SETTINGS.model_copy(update={"processing": "background"})
WAIT = 30.0

_GPS_IFD = 0x8825


def _photo(size: tuple[int, int] = (800, 600), *, gps: bool = False) -> bytes:
    """A JPEG, with a GPS position in its EXIF when asked."""
    exif = Image.Exif()
    exif[0x0110] = "Test camera"  # Model: not identifying, it stays
    if gps:
        exif[_GPS_IFD] = {
            1: "N",
            2: (52.0, 22.0, 12.0),
            3: "E",
            4: (4.0, 53.0, 33.0),
        }
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def _camera_photo() -> bytes:
    """A JPEG whose EXIF names its camera and when (with the UTC offset) it was taken."""
    exif = Image.Exif()
    exif[0x010F] = "Canon"  # Make
    exif[0x0110] = "Canon EOS R6"  # Model
    sub = exif.get_ifd(0x8769)  # the Exif sub-IFD
    sub[0x9003] = "2024:05:06 07:08:09"  # DateTimeOriginal
    sub[0x9011] = "-05:00"  # OffsetTimeOriginal
    out = io.BytesIO()
    Image.new("RGB", (400, 300), (40, 120, 200)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def _animation(frames: int) -> bytes:
    """An animated GIF whose frames all differ (identical frames would be merged)."""
    images = [
        Image.new("RGB", (40, 30), (60 * index, 0, 255 - 60 * index)) for index in range(frames)
    ]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=80)
    return out.getvalue()


def _open(kind: str, tmp_path: Path, settings: pinsphere.StoreSettings) -> pinsphere.PinStore:
    if kind == "memory":
        return pinsphere.open(
            metadata="memory://", users="memory://", blobs="memory://", settings=settings
        )
    return pinsphere.open(tmp_path / "data", settings=settings)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[pinsphere.PinStore]:
    with _open(request.param, tmp_path, BACKGROUND) as opened:
        yield opened


@pytest.fixture
def me(store: pinsphere.PinStore) -> pinsphere.PinScope:
    return store.as_user(store.users.create("alice", password="alice-password"))


def _derived_keys(store: pinsphere.PinStore, pin_id: str) -> list[str]:
    return list(store.blobs.keys(f"{DERIVED_PREFIX}{pin_id}/"))


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Holds every background derivation until the test sets the event."""
    opened = threading.Event()
    real = derivation.derive_media

    def held(*args: Any, **kwargs: Any) -> DerivedMedia:
        assert opened.wait(WAIT), "the test never released the derivation"
        return real(*args, **kwargs)

    monkeypatch.setattr("pinsphere.store.derive_media", held)
    yield opened
    opened.set()  # never leave a worker blocked past the test


def test_an_upload_returns_pending_then_becomes_ready(
    store: pinsphere.PinStore, me: pinsphere.PinScope, gate: threading.Event
) -> None:
    pin = me.upload(_photo(), title="Later")
    assert pin.processing == "pending"
    assert pin.thumbnails == ()
    assert me.get(pin.id).processing == "pending"
    with pytest.raises(NotFound):
        me.open_thumbnail(pin.id)

    gate.set()
    assert store.wait_for_processing(WAIT)
    ready = me.get(pin.id)
    assert ready.processing == "ready"
    assert ready.thumbnails == (256, 640)
    assert ready.media.blurhash
    assert (ready.media.width, ready.media.height) == (800, 600)
    assert ready.title == "Later"
    with me.open_thumbnail(pin.id, width=600) as thumbnail:
        assert Image.open(io.BytesIO(thumbnail.read())).width == 640
    assert me.search("width>=700").items[0].id == pin.id


def test_the_worker_records_the_camera_time_and_stream_facts(
    store: pinsphere.PinStore, me: pinsphere.PinScope, gate: threading.Event
) -> None:
    photo = me.upload(_camera_photo())
    clip = me.upload(mp4_bytes(frames=10))
    gif = me.upload(_animation(frames=3))
    assert (photo.media.camera, photo.media.taken_at) == (None, None)
    assert (clip.media.codec, clip.media.frame_count) == (None, None)
    gate.set()
    assert store.wait_for_processing(WAIT)
    photo = me.get(photo.id)
    assert photo.processing == "ready"
    assert photo.media.camera == "Canon EOS R6"  # make "Canon" is part of the model
    assert photo.media.taken_at == datetime(
        2024, 5, 6, 7, 8, 9, tzinfo=timezone(timedelta(hours=-5))
    )
    clip = me.get(clip.id)
    assert (clip.media.codec, clip.media.frame_count) == ("h264", 10)
    assert me.get(gif.id).media.frame_count == 3


def test_the_location_is_stripped_in_the_upload_itself(
    store: pinsphere.PinStore, me: pinsphere.PinScope, gate: threading.Event
) -> None:
    photo = _photo(gps=True)
    assert read_exif(io.BytesIO(photo), "image/jpeg").gps is not None
    pin = me.upload(photo, visibility="public")
    assert pin.processing == "pending"
    # Before any worker ran, what anyone is served has no position left.
    with store.anonymous.open(pin.id) as served:
        cleaned = served.read()
    facts = read_exif(io.BytesIO(cleaned), "image/jpeg")
    assert facts.gps is None
    assert facts.camera_model == "Test camera"
    assert pin.media.size == len(cleaned)
    assert len(list(store.blobs.keys("originals/"))) == 1
    gate.set()
    assert store.wait_for_processing(WAIT)
    assert me.get(pin.id).processing == "ready"


def test_a_bad_file_still_fails_the_upload(
    store: pinsphere.PinStore, me: pinsphere.PinScope
) -> None:
    with pytest.raises(InvalidMedia):
        me.upload(b"not a picture at all")
    assert list(store.blobs.keys("")) == [LAYOUT_MARKER_KEY]


def test_a_failed_derivation_is_recorded_and_retried(
    store: pinsphere.PinStore, me: pinsphere.PinScope, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> DerivedMedia:
        raise InvalidMedia("the decoder gave up")

    monkeypatch.setattr("pinsphere.store.derive_media", broken)
    pin = me.upload(_photo())
    assert store.wait_for_processing(WAIT)
    failed = me.get(pin.id)
    assert failed.processing == "failed"
    assert failed.thumbnails == ()
    assert _derived_keys(store, pin.id) == []

    monkeypatch.undo()
    assert store.process_pending() == 1
    ready = me.get(pin.id)
    assert (ready.processing, ready.thumbnails) == ("ready", (256, 640))
    assert store.process_pending() == 0


def test_the_owner_may_retry(
    store: pinsphere.PinStore, me: pinsphere.PinScope, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "pinsphere.store.derive_media", lambda *a, **k: (_ for _ in ()).throw(OSError("disk"))
    )
    pin = me.upload(_photo(), visibility="public")
    assert store.wait_for_processing(WAIT)
    assert me.get(pin.id).processing == "failed"
    other = store.as_user(store.users.create("bob", password="bob-password"))
    with pytest.raises(PermissionDenied):
        other.retry_processing(pin.id)

    monkeypatch.undo()
    assert me.retry_processing(pin.id).processing in ("pending", "ready")
    assert store.wait_for_processing(WAIT)
    assert me.get(pin.id).processing == "ready"
    assert me.retry_processing(pin.id).processing == "ready"


def test_pending_pins_of_a_stopped_process_are_picked_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A worker that never gets to run stands for a process that stopped mid-queue.
    with _open("sqlite", tmp_path, BACKGROUND) as first:
        monkeypatch.setattr(first, "_submit", lambda pin_id: None)
        owner = first.as_user(first.users.create("alice", password="alice-password"))
        pin = owner.upload(_photo())
    with _open("sqlite", tmp_path, FAST_SETTINGS) as second:
        assert second.as_user("alice").get(pin.id).processing == "pending"
        # Young pending pins may still be queued elsewhere: left alone by default.
        assert second.process_pending() == 0
        assert second.process_pending(stale_after=timedelta(0)) == 1
        assert second.as_user("alice").get(pin.id).thumbnails == (256, 640)


def test_a_pin_deleted_while_pending_leaves_nothing(
    store: pinsphere.PinStore, me: pinsphere.PinScope, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = threading.Event()
    deleted = threading.Event()
    real = derivation.derive_media

    def slow(blobs: Any, stored: StoredOriginal, pin_id: str, settings: Any) -> DerivedMedia:
        # Derive from bytes read before the delete removes the original, then write the
        # thumbnails after it: the worst order for the worker.
        data = blobs.open(stored.key).read()
        started.set()
        assert deleted.wait(WAIT)
        with blobs.writer() as writer:
            writer.write(data)
            writer.commit(stored.key)
        try:
            return real(blobs, stored, pin_id, settings)
        finally:
            blobs.delete(stored.key)

    monkeypatch.setattr("pinsphere.store.derive_media", slow)
    pin = me.upload(_photo())
    assert started.wait(WAIT)
    me.delete(pin.id)
    deleted.set()
    assert store.wait_for_processing(WAIT)
    with pytest.raises(NotFound):
        me.get(pin.id)
    assert list(store.blobs.keys(DERIVED_PREFIX)) == []
    assert list(store.blobs.keys("originals/")) == []
    assert store.metadata.pins_in_state("failed", limit=10) == []


def test_close_waits_for_running_derivations(tmp_path: Path) -> None:
    store = _open("memory", tmp_path, BACKGROUND)
    owner = store.as_user(store.users.create("alice", password="alice-password"))
    pins = [owner.upload(_photo((300, 200))) for _ in range(3)]
    assert all(pin.processing == "pending" for pin in pins)
    assert store.wait_for_processing(WAIT)
    assert {owner.get(pin.id).processing for pin in pins} == {"ready"}
    store.close()


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_inline_processing_is_unchanged(kind: str, tmp_path: Path) -> None:
    with _open(kind, tmp_path, FAST_SETTINGS) as store:
        owner = store.as_user(store.users.create("alice", password="alice-password"))
        pin = owner.upload(_photo())
        assert (pin.processing, pin.thumbnails) == ("ready", (256, 640))
        assert store.wait_for_processing(0)
        assert store.process_pending() == 0
        assert owner.retry_processing(pin.id) == owner.get(pin.id)


def test_a_store_without_derived_media_makes_ready_pins(tmp_path: Path) -> None:
    settings = BACKGROUND.model_copy(update={"derive_media": False})
    with _open("memory", tmp_path, settings) as store:
        owner = store.as_user(store.users.create("alice", password="alice-password"))
        pin = owner.upload(_photo())
        assert (pin.processing, pin.thumbnails) == ("ready", ())


def test_processing_settings_from_the_environment() -> None:
    settings = pinsphere.StoreSettings.from_env(
        {"PINSPHERE_PROCESSING": "background", "PINSPHERE_PROCESSING_WORKERS": "4"}
    )
    assert (settings.processing, settings.processing_workers) == ("background", 4)


def test_the_process_command_derives_pins_a_stopped_process_left_pending(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("PINSPHERE_METADATA_URL", "PINSPHERE_USERS_URL", "PINSPHERE_BLOBS_URL"):
        monkeypatch.delenv(name, raising=False)
    with _open("sqlite", tmp_path, BACKGROUND) as first:
        monkeypatch.setattr(first, "_submit", lambda pin_id: None)
        owner = first.as_user(first.users.create("alice", password="alice-password"))
        pin = owner.upload(_photo())
    runner = CliRunner()
    data = str(tmp_path / "data")
    young = runner.invoke(cli, ["--data", data, "process"])
    assert (young.exit_code, young.output) == (0, "0 pins ready\n")
    done = runner.invoke(cli, ["--data", data, "process", "--stale-after", "0"])
    assert (done.exit_code, done.output) == (0, "1 pin ready\n")
    with _open("sqlite", tmp_path, FAST_SETTINGS) as second:
        processed = second.as_user("alice").get(pin.id)
        assert (processed.processing, processed.thumbnails) == ("ready", (256, 640))
    again = runner.invoke(cli, ["--data", data, "process", "--stale-after", "0"])
    assert again.output == "0 pins ready\n"
    refused = runner.invoke(cli, ["--data", data, "process", "--limit", "0"])
    assert refused.exit_code == 2


def test_a_failed_derivation_leaves_the_files_another_run_made(
    store: pinsphere.PinStore, me: pinsphere.PinScope, gate: threading.Event
) -> None:
    # Two runs deriving one pin (a worker's queue and `pinsphere process`): the one that
    # fails removes only what it wrote itself, never the other's thumbnails.
    pin = me.upload(_photo())
    theirs = derivation.thumbnail_key(pin.id, 256)
    with store.blobs.writer() as writer:
        writer.write(b"the other run's thumbnail")
        assert writer.commit(theirs)
    real_writer = store.blobs.writer

    class FailingAt640:
        def __init__(self) -> None:
            self._inner = real_writer()

        def __enter__(self) -> FailingAt640:
            self._inner.__enter__()
            return self

        def __exit__(self, *exc: object) -> None:
            self._inner.__exit__(*exc)

        def write(self, data: bytes) -> None:
            self._inner.write(data)

        def commit(self, key: str) -> bool:
            if key.endswith("/640.webp"):
                raise OSError("disk full")
            return self._inner.commit(key)

    stored = StoredOriginal(media=pin.media, key=store.layout.key(pin.media.sha256), created=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store.blobs, "writer", FailingAt640)
        with pytest.raises(OSError, match="disk full"):
            derivation.derive_media(store.blobs, stored, pin.id, store.settings)
    with store.blobs.open(theirs) as kept:
        assert kept.read() == b"the other run's thumbnail"
    assert not store.blobs.exists(derivation.thumbnail_key(pin.id, 640))
    gate.set()
    assert store.wait_for_processing(WAIT)
