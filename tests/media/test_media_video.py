"""Videos probed with PyAV, posters, and animation frame counts."""

from __future__ import annotations

import io

import media_samples as samples
import pytest

from pinsphere.errors import InvalidMedia
from pinsphere.media.animation import Animation, read_animation
from pinsphere.media.limits import MediaLimits
from pinsphere.media.video import check_video_structure, probe_video


def test_mp4_facts_and_poster() -> None:
    data = samples.video("mp4", "libx264", size=(64, 48), frames=10, rate=10)
    facts, poster = probe_video(io.BytesIO(data), "video/mp4", MediaLimits())
    assert (facts.width, facts.height) == (64, 48)
    assert facts.duration == pytest.approx(1.0, abs=0.15)
    assert facts.frame_count == 10
    assert facts.codec == "h264"
    assert not facts.has_audio
    assert poster is not None
    assert poster.size == (64, 48)
    assert poster.mode == "RGB"


def test_webm_facts_without_a_recorded_frame_count() -> None:
    data = samples.video("webm", "libvpx", size=(80, 60), frames=6, rate=6)
    facts, poster = probe_video(io.BytesIO(data), "video/webm", MediaLimits())
    assert (facts.width, facts.height, facts.codec) == (80, 60, "vp8")
    assert facts.duration == pytest.approx(1.0, abs=0.2)
    assert facts.frame_count is None
    assert poster is not None
    assert poster.size == (80, 60)


def test_poster_is_taken_about_a_second_in() -> None:
    def colour(index: int) -> tuple[int, int, int]:
        return (220, 20, 20) if index < 10 else (20, 20, 220)  # red first second, then blue

    data = samples.video("mp4", "libx264", size=(64, 48), frames=30, rate=10, colour_at=colour)
    _, poster = probe_video(io.BytesIO(data), "video/mp4", MediaLimits())
    assert poster is not None
    red, _, blue = poster.getpixel((32, 24))  # type: ignore[misc]
    assert blue > 150
    assert red < 80


def test_a_short_clip_still_has_a_poster() -> None:
    data = samples.video("mp4", "mpeg4", size=(32, 32), frames=1, rate=25)
    facts, poster = probe_video(io.BytesIO(data), "video/mp4", MediaLimits())
    assert poster is not None
    assert facts.codec == "mpeg4"


def test_probing_without_a_poster_decodes_nothing() -> None:
    data = samples.video()
    facts, poster = probe_video(io.BytesIO(data), "video/mp4", MediaLimits(), poster=False)
    assert poster is None
    assert facts.width == 64


def test_frames_over_the_pixel_limit_are_refused_before_decoding() -> None:
    data = samples.video(size=(320, 240), frames=2)
    with pytest.raises(InvalidMedia, match="over the limit"):
        probe_video(io.BytesIO(data), "video/mp4", MediaLimits(max_pixels=320 * 240 - 1))


def test_structure_check_finds_cut_files() -> None:
    mp4 = samples.video()
    check_video_structure(io.BytesIO(mp4), "video/mp4")
    webm = samples.video("webm", "libvpx")
    check_video_structure(io.BytesIO(webm), "video/webm")
    for data, mime_type in ((mp4, "video/mp4"), (webm, "video/webm")):
        with pytest.raises(InvalidMedia, match="truncated"):
            check_video_structure(io.BytesIO(data[: len(data) - 10]), mime_type)


@pytest.mark.parametrize(
    ("data", "mime_type", "expected"),
    [
        (samples.animated_gif(frames=5, delay_ms=80), "image/gif", Animation(5, 0.4)),
        (samples.animated_gif(frames=3, delay_ms=0), "image/gif", Animation(3, 0.3)),
        (samples.animated_webp(frames=4, delay_ms=100), "image/webp", Animation(4, 0.4)),
        (samples.animated_png(frames=3, delay_ms=50), "image/png", Animation(3, 0.15)),
        (samples.camera_png(), "image/png", Animation(1, None)),
        (samples.camera_webp(), "image/webp", Animation(1, None)),
        (samples.plain_jpeg(), "image/jpeg", Animation(1, None)),
        (samples.gif_frames(1000), "image/gif", Animation(1000, 100.0)),
    ],
)
def test_animation_frames_and_duration(data: bytes, mime_type: str, expected: Animation) -> None:
    assert read_animation(io.BytesIO(data), mime_type, MediaLimits()) == expected


def test_frame_cap_applies() -> None:
    with pytest.raises(InvalidMedia, match="limit of 999"):
        read_animation(
            io.BytesIO(samples.gif_frames(1000)), "image/gif", MediaLimits(max_frames=999)
        )
