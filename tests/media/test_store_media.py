"""Derived media through the store: thumbnails, placeholders, facts and privacy on upload."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from media_samples import animated_gif, audio_only, camera_jpeg, video
from PIL import Image

import pinsphere
from pinsphere import errors
from pinsphere.layout import TWO_LEVELS
from pinsphere.layout_marker import LAYOUT_MARKER_KEY
from pinsphere.media.exif import read_exif
from pinsphere.testing.media import mp4_bytes
from store_support import FAST_SETTINGS, drop_layout_marker, open_legacy_store


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[pinsphere.PinStore]:
    if request.param == "memory":
        opened = pinsphere.open(
            metadata="memory://", users="memory://", blobs="memory://", settings=FAST_SETTINGS
        )
    else:
        opened = pinsphere.open(tmp_path / "data", settings=FAST_SETTINGS)
    with opened:
        yield opened


@pytest.fixture
def me(store: pinsphere.PinStore) -> pinsphere.PinScope:
    return store.as_user(store.users.create("alice", password="alice-password"))


def test_a_photo_gets_thumbnails_a_placeholder_and_loses_its_location(
    store: pinsphere.PinStore, me: pinsphere.PinScope
) -> None:
    photo = camera_jpeg((1600, 1200))
    assert read_exif(io.BytesIO(photo), "image/jpeg").gps is not None
    pin = me.upload(photo, visibility="public")

    assert pin.thumbnails == (256, 640, 1280)
    assert pin.media.blurhash
    assert (pin.media.width, pin.media.height) == (1600, 1200)
    with store.anonymous.open_thumbnail(pin.id, width=600) as thumbnail:
        image = Image.open(io.BytesIO(thumbnail.read()))
        assert (image.format, image.width) == ("WEBP", 640)
    with store.anonymous.open(pin.id) as served:
        cleaned = served.read()
    facts = read_exif(io.BytesIO(cleaned), "image/jpeg")
    assert facts.gps is None
    assert facts.camera_model is not None  # the camera is not identifying; it stays
    assert pin.media.size == len(cleaned)
    # The stored original is the cleaned copy: the uploaded bytes are nowhere.
    assert len(list(store.blobs.keys("originals/"))) == 1


def test_a_two_level_store_keeps_the_cleaned_copy_two_levels_deep(tmp_path: Path) -> None:
    with open_legacy_store(tmp_path) as old:
        old.as_user(old.users.create("alice", password="alice-password")).upload(
            camera_jpeg((300, 200), quality=80)
        )
    drop_layout_marker(tmp_path)
    with pinsphere.open(tmp_path, settings=FAST_SETTINGS) as store:
        assert store.layout == TWO_LEVELS
        me = store.as_user("alice")
        photo = camera_jpeg((400, 300))
        pin = me.upload(photo)
        assert pin.media.sha256 != hashlib.sha256(photo).hexdigest()  # a cleaned copy
        with me.open(pin.id) as served:
            assert read_exif(io.BytesIO(served.read()), "image/jpeg").gps is None
        keys = list(store.blobs.keys("originals/"))
        assert TWO_LEVELS.key(pin.media.sha256) in keys
        assert all(TWO_LEVELS.matches(key) for key in keys)
        assert len(keys) == 2  # the uploaded bytes are nowhere


def test_the_owner_may_keep_the_location(me: pinsphere.PinScope) -> None:
    pin = me.upload(camera_jpeg((400, 300)), keep_location=True)
    with me.open(pin.id) as served:
        facts = read_exif(io.BytesIO(served.read()), "image/jpeg")
    assert facts.gps is not None
    assert "BodySerialNumber" not in (facts.identifying or ())


def test_orientation_gives_displayed_dimensions(me: pinsphere.PinScope) -> None:
    pin = me.upload(camera_jpeg((400, 200), orientation=6))
    assert (pin.media.width, pin.media.height) == (200, 400)
    assert me.search("height>=300").items[0].id == pin.id


def test_gif_and_video_facts(store: pinsphere.PinStore, me: pinsphere.PinScope) -> None:
    gif = me.upload(animated_gif(frames=5, delay_ms=100))
    assert gif.media.duration == pytest.approx(0.5)
    clip = me.upload(video("mp4", size=(320, 240), frames=20, rate=10))
    assert clip.media.kind == "video"
    assert (clip.media.width, clip.media.height) == (320, 240)
    assert clip.media.duration == pytest.approx(2.0, abs=0.2)
    assert clip.thumbnails == (256,)
    with me.open_thumbnail(clip.id) as poster:
        assert Image.open(io.BytesIO(poster.read())).width == 256


def test_a_photo_keeps_its_camera_and_time_but_not_its_position(
    store: pinsphere.PinStore, me: pinsphere.PinScope
) -> None:
    pin = me.upload(camera_jpeg((400, 300)))
    # Make "Pinsphere Optics" and model "PX-1" joined; the time with the recorded offset.
    assert pin.media.camera == "Pinsphere Optics PX-1"
    taken = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone(timedelta(hours=2)))
    assert pin.media.taken_at == taken
    assert pin.media.taken_at is not None
    assert pin.media.taken_at.utcoffset() == timedelta(hours=2)
    assert (pin.media.frame_count, pin.media.codec) == (1, None)  # a still: one frame
    stored = me.get(pin.id)
    assert stored.media == pin.media
    assert "gps" not in stored.media.model_dump()


def test_a_time_without_an_offset_stays_camera_local(me: pinsphere.PinScope) -> None:
    pin = me.upload(camera_jpeg((200, 150), offset=None))
    assert pin.media.taken_at == datetime(2024, 5, 6, 7, 8, 9)
    assert me.get(pin.id).media.taken_at == datetime(2024, 5, 6, 7, 8, 9)


def test_frame_count_and_codec(me: pinsphere.PinScope) -> None:
    gif = me.upload(animated_gif(frames=4))
    assert gif.media.frame_count == 4
    assert (gif.media.codec, gif.media.camera, gif.media.taken_at) == (None, None, None)
    clip = me.upload(mp4_bytes(frames=10))
    assert clip.media.codec == "h264"
    assert clip.media.frame_count == 10
    assert me.get(clip.id).media == clip.media


def test_a_video_without_pictures_is_refused_and_leaves_nothing(
    store: pinsphere.PinStore, me: pinsphere.PinScope
) -> None:
    with pytest.raises(errors.InvalidMedia):
        me.upload(audio_only("mp4"))
    assert list(store.blobs.keys()) == [LAYOUT_MARKER_KEY]
    assert me.count() == 0


def test_deleting_a_pin_deletes_its_thumbnails(
    store: pinsphere.PinStore, me: pinsphere.PinScope
) -> None:
    pin = me.upload(camera_jpeg((700, 500)))
    assert list(store.blobs.keys("derived/"))
    me.delete(pin.id)
    assert list(store.blobs.keys()) == [LAYOUT_MARKER_KEY]


def test_thumbnails_follow_the_pins_visibility(
    store: pinsphere.PinStore, me: pinsphere.PinScope
) -> None:
    pin = me.upload(camera_jpeg((500, 400)))
    with pytest.raises(errors.NotFound):
        store.anonymous.open_thumbnail(pin.id)
    link = me.create_link(pin.id, allow_download=False)
    with store.open_link(link.token).open_thumbnail(pin.id, width=256) as preview:
        assert preview.read(4) == b"RIFF"


def test_derivation_can_be_turned_off(tmp_path: Path) -> None:
    settings = FAST_SETTINGS.model_copy(update={"derive_media": False})
    with pinsphere.open(tmp_path / "plain", settings=settings) as store:
        me = store.as_user(store.users.create("bob", password="bob-password"))
        pin = me.upload(camera_jpeg((400, 300)))
        assert pin.thumbnails == ()
        with pytest.raises(errors.NotFound):
            me.open_thumbnail(pin.id)
