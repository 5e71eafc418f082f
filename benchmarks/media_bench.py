"""Media pipeline: ``derive`` against the same steps by hand with Pillow, and memory for a
200 MB video.

``python -m benchmarks.media_bench [--images 8] [--repeat 5] [--video-mb 200] [--skip-video]``

1. **Thumbnails of camera-sized JPEGs** (3000x2000, ~1 MB, EXIF with an orientation):
   ``pinsphere.media.pipeline.derive`` (EXIF facts, animation check, DCT-scaled decode,
   three WebP thumbnails, blurhash) against a hand-written Pillow function doing the same
   work the way the field notes recommend (``draft``, ``exif_transpose``, LANCZOS from the
   decoded picture, WebP ``method=0``, blurhash of a 32 px copy). Interleaved runs; the
   ratio of medians is the figure (target <= 1.25). An "upload + derive" line adds storing
   the original through a store (SQLite + local files), as an upload with thumbnails will.
2. **A 200 MB video** (MPEG-4 Part 2 at a huge bitrate, so the file is large for little
   encoding time; moov at the end, as most encoders write it): peak resident memory and
   Python-heap peak (tracemalloc) while probing it and making its poster and thumbnails,
   and while uploading it through a store. Peak RSS is reset before each step through
   ``/proc/self/clear_refs`` (Linux).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

from benchmarks.timing import time_alternating
from pinsphere.media.pipeline import derive
from pinsphere.media.probe import read_dimensions
from pinsphere.media.video import probe_video
from pinsphere.models import Media

WIDTHS = (256, 640, 1280)


# -- inputs ------------------------------------------------------------------------------------


def camera_jpeg(seed: int, size: tuple[int, int] = (3000, 2000)) -> bytes:
    """A ~1 MB photo-like JPEG: shapes, gradients and grain, with an EXIF orientation."""
    rng = random.Random(seed)
    width, height = size
    small = Image.new("RGB", (width // 8, height // 8))
    draw = ImageDraw.Draw(small)
    for _ in range(60):
        x, y = rng.randrange(width // 8), rng.randrange(height // 8)
        radius = rng.randrange(10, 120)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colour)
    image = small.resize(size, Image.Resampling.BICUBIC)
    grain = Image.frombytes("L", size, rng.randbytes(width * height))
    image = Image.blend(image, Image.merge("RGB", (grain, grain, grain)), 0.06)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "Bench", "Camera", 1
    out = io.BytesIO()
    image.save(out, "JPEG", quality=86, exif=exif)
    return out.getvalue()


def _media(data: bytes, mime_type: str = "image/jpeg") -> Media:
    width, height = read_dimensions(io.BytesIO(data), mime_type)
    return Media(
        mime_type=mime_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        width=width,
        height=height,
    )


def make_video(path: Path, target_bytes: int) -> float:
    """Encode a large MP4 cheaply; returns the seconds it took."""
    import av

    started = time.perf_counter()
    rng = random.Random(5)
    size = (1280, 720)
    frames = [
        av.VideoFrame.from_image(Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3)))
        for _ in range(6)
    ]
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=25)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = 25
        stream.codec_context.qscale = 1
        stream.codec_context.bit_rate = 400_000_000
        stream.codec_context.options = {"qmin": "1", "qmax": "2"}
        index = 0
        written = 0
        while written < target_bytes * 0.97:
            frame = frames[index % len(frames)]
            frame.pts = index
            for packet in stream.encode(frame):
                written += packet.size
                container.mux(packet)
            index += 1
        for packet in stream.encode():
            container.mux(packet)
    return time.perf_counter() - started


# -- the two sides -----------------------------------------------------------------------------


def by_hand(data: bytes, *, cascade: bool = False) -> list[bytes]:
    """The same work written directly against Pillow and blurhash-python.

    ``cascade`` makes each smaller thumbnail from the previous one, as ``derive`` does;
    without it each is resized from the decoded picture, the plain way.
    """
    import warnings

    import blurhash

    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        _ = exif.get(0x010F), exif.get(0x0110), exif.get_ifd(0x8769), exif.get_ifd(0x8825)
        image.draft("RGB", (WIDTHS[-1], WIDTHS[-1] * image.height // image.width))
        image.load()
        picture = ImageOps.exif_transpose(image)
    out = []
    source = picture
    for width in sorted(WIDTHS, reverse=True):
        height = round(picture.height * width / picture.width)
        thumbnail = source.resize((width, height), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        thumbnail.save(buffer, "WEBP", quality=80, method=0)
        out.append(buffer.getvalue())
        if cascade:
            source = thumbnail
    sample = picture.resize((32, round(32 * picture.height / picture.width)), Image.Resampling.BOX)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        blurhash.encode(sample, 4, 3)
    return out


def through_derive(data: bytes, media: Media) -> list[bytes]:
    return [thumbnail.data for thumbnail in derive(io.BytesIO(data), media).thumbnails]


# -- measurements ------------------------------------------------------------------------------


def _cycle(items: list[Callable[[], object]]) -> Callable[[], None]:
    state = {"index": 0}

    def run() -> None:
        items[state["index"] % len(items)]()
        state["index"] += 1

    return run


def bench_jpegs(count: int, repeat: int) -> None:
    started = time.perf_counter()
    images = [camera_jpeg(seed) for seed in range(count)]
    medias = [_media(data) for data in images]
    mean_size = statistics.mean(len(data) for data in images) / 1e6
    print(
        f"jpegs: {count} x 3000x2000, mean {mean_size:.2f} MB, made in "
        f"{time.perf_counter() - started:.1f} s; widths {WIDTHS}"
    )
    ours = _cycle(
        [lambda d=d, m=m: through_derive(d, m) for d, m in zip(images, medias, strict=True)]
    )
    hand = _cycle([lambda d=d: by_hand(d) for d in images])
    cascaded = _cycle([lambda d=d: by_hand(d, cascade=True) for d in images])
    derived, manual = time_alternating(ours, hand, repeat=repeat * count, warmup=2)
    derived_again, manual_cascaded = time_alternating(
        ours, cascaded, repeat=repeat * count, warmup=1
    )
    for label, samples in (
        ("derive", derived),
        ("by hand, each from the decode", manual),
        ("derive (second run)", derived_again),
        ("by hand, cascaded like derive", manual_cascaded),
    ):
        print(
            f"  {label:<30} p50 {samples.p50_ms:7.1f} ms  ({1000 / samples.p50_ms:5.1f} images/s)"
        )
    print(
        f"  ratio derive / by hand: {derived.p50_ms / manual.p50_ms:.2f} against the plain way, "
        f"{derived_again.p50_ms / manual_cascaded.p50_ms:.2f} against the same cascade "
        "(target <= 1.25)"
    )
    sizes = [len(blob) for blob in through_derive(images[0], medias[0])]
    print(f"  thumbnail bytes (first image): {sizes}")
    bench_upload_with_thumbnails(images, medias)


def bench_upload_with_thumbnails(images: list[bytes], medias: list[Media]) -> None:
    import pinsphere
    from pinsphere.settings import PasswordHashing, StoreSettings

    settings = StoreSettings(
        password_hashing=PasswordHashing(time_cost=1, memory_cost_kib=8, parallelism=1)
    )
    with tempfile.TemporaryDirectory() as folder:
        store = pinsphere.open(Path(folder) / "data", settings=settings)
        with store:
            scope = store.as_user(store.users.create("bench", password="benchmark-pw"))
            started = time.perf_counter()
            for data, media in zip(images, medias, strict=True):
                pin = scope.upload(data)
                with scope.open(pin.id) as original:
                    derive(original, media)
            elapsed = time.perf_counter() - started
    print(
        f"  upload + derive (SQLite + files, inline): {len(images) / elapsed:.1f} images/s "
        f"({1000 * elapsed / len(images):.1f} ms each)"
    )


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _measure(label: str, operation: Callable[[], object]) -> None:
    resettable = _reset_peak_rss()
    before = _rss_kib("VmRSS")
    tracemalloc.start()
    started = time.perf_counter()
    operation()
    elapsed = time.perf_counter() - started
    _, heap_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak = _rss_kib("VmHWM")
    scope = "peak RSS" if resettable else "process peak RSS (not resettable here)"
    print(
        f"  {label:<34} {elapsed:6.2f} s   {scope} {peak / 1024:7.1f} MiB "
        f"(+{(peak - before) / 1024:6.1f} over before)   Python heap peak "
        f"{heap_peak / 1e6:6.2f} MB"
    )


def bench_video(megabytes: int) -> None:
    import pinsphere
    from pinsphere.settings import PasswordHashing, StoreSettings

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "large.mp4"
        seconds = make_video(path, megabytes * 1_000_000)
        size = path.stat().st_size
        print(f"video: {size / 1e6:.0f} MB MPEG-4 1280x720, encoded in {seconds:.1f} s")
        media = Media(mime_type="video/mp4", size=size, sha256="0" * 64)

        def probe() -> None:
            with open(path, "rb") as handle:
                probe_video(handle, "video/mp4", derive_limits(), poster=True)

        def full() -> None:
            with open(path, "rb") as handle:
                derive(handle, media)

        _measure("probe + poster", probe)
        _measure("derive (poster thumbnails)", full)

        settings = StoreSettings(
            password_hashing=PasswordHashing(time_cost=1, memory_cost_kib=8, parallelism=1),
            max_upload_bytes=max(size + 1, 200 * 1024 * 1024),
        )
        store = pinsphere.open(Path(folder) / "data", settings=settings)
        with store:
            scope = store.as_user(store.users.create("bench", password="benchmark-pw"))

            def upload() -> None:
                pin = scope.upload(path)
                with scope.open(pin.id) as original:
                    derive(original, pin.media)

            _measure("upload (file) + derive", upload)


def derive_limits():  # type: ignore[no-untyped-def]
    from pinsphere.media.limits import MediaLimits

    return MediaLimits()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.media_bench")
    parser.add_argument("--images", type=int, default=8, help="distinct JPEGs (default 8)")
    parser.add_argument("--repeat", type=int, default=4, help="timed passes over them")
    parser.add_argument("--video-mb", type=int, default=200, help="video size in MB")
    parser.add_argument("--skip-video", action="store_true")
    args = parser.parse_args(argv)
    print(f"pid {os.getpid()}, {os.cpu_count()} CPUs")
    bench_jpegs(args.images, args.repeat)
    if not args.skip_video:
        bench_video(args.video_mb)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
