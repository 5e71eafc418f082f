"""Uploads: ``scope.upload(bytes)`` on SQLite and local files against doing it by hand.

The hand-written side does the minimum a crash-safe content-addressed store needs: hash the
bytes, write them to a temporary file, ``fsync`` it, rename it to its digest in a plain folder
and ``fsync`` the folder (without that last step a power cut can lose the rename, leaving a
recorded pin without its file, so Pinsphere does it too). Pinsphere also sniffs the type,
checks the image's integrity, reads its dimensions and records the pin in SQLite; the ratio
says what all that costs on top. Thumbnails and placeholders (``derive_media``) are left out
here: they are compared with doing the same by hand in ``benchmarks.media_bench``.

A local store makes the file of its next blob ahead of time, on a background thread
(:mod:`pinsphere.backends.fsspec.ahead`); the hand-written side creates its file inline, as
plain code would. A second store with ``files_ahead=false`` is timed in the same rounds, so
the report shows what that part is worth.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.report import Report, UploadResult
from benchmarks.targets import open_store, owners_of, remove_tree

__all__ = ["make_images", "run_upload"]


def make_images(count: int, seed: int) -> list[bytes]:
    """``count`` distinct images of about 100 KB, alternately JPEG and PNG (random noise)."""
    from PIL import Image

    rng = random.Random(f"pinsphere-bench-images-{seed}")
    images = []
    for index in range(count):
        side = 200 if index % 2 == 0 else 184
        image = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
        out = io.BytesIO()
        if index % 2 == 0:
            image.save(out, "JPEG", quality=95, subsampling=0)
        else:
            image.save(out, "PNG")
        images.append(out.getvalue())
    return images


def _by_hand(data: bytes, folder: Path) -> None:
    digest = hashlib.sha256(data).hexdigest()
    staging = folder / f".{digest}.tmp"
    with open(staging, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(staging, folder / digest)
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# Untimed uploads first, both ways: the first one imports and compiles what an upload uses
# (several milliseconds, once per process), which is no part of a steady upload rate.
_WARM_UP = 5


def run_upload(cache: Path, count: int, seed: int, report: Report, *, quiet: bool) -> None:
    """Upload ``count`` images by hand and into two stores (files made ahead or not), the
    three interleaved file by file in rotating order, into fresh folders."""
    images = make_images(count + _WARM_UP, seed)
    warm_up, images = images[:_WARM_UP], images[_WARM_UP:]
    folder = cache / f"upload-{os.getpid()}"
    remove_tree(folder)
    hand = folder / "hand"
    for side in (hand, folder / "ahead", folder / "inline"):
        side.mkdir(parents=True)
    stores = [
        open_store(
            f"sqlite:///{folder / name / 'pinsphere.db'}",
            blobs_url=f"file://{folder / name / 'blobs'}{options}",
            derive_media=False,
        )
        for name, options in (("ahead", ""), ("inline", "?files_ahead=false"))
    ]
    try:
        scopes = [store.as_user(owners_of(store)[0]) for store in stores]

        def by_store(which: int) -> Callable[[bytes, int], None]:
            def upload(data: bytes, index: int) -> None:
                scopes[which].upload(
                    data, title=f"upload {index}", tags=["bench/upload"], visibility="public"
                )

            return upload

        sides = [by_store(0), by_store(1), lambda data, _: _by_hand(data, hand)]
        for index, data in enumerate(warm_up):
            for side in sides:
                side(data, index)
        spent = [0, 0, 0]
        for index, data in enumerate(images):
            for turn in range(3):
                which = (index + turn) % 3
                start = time.perf_counter_ns()
                sides[which](data, index)
                spent[which] += time.perf_counter_ns() - start
    finally:
        for store in stores:
            store.close()
        remove_tree(folder)
    hand_rate = count / (spent[2] / 1e9)
    results = [
        UploadResult(
            database="sqlite+file",
            files=count,
            pinsphere_files_per_s=count / (spent[0] / 1e9),
            hand_files_per_s=hand_rate,
        ),
        UploadResult(
            database="sqlite+file, files_ahead=false",
            files=count,
            pinsphere_files_per_s=count / (spent[1] / 1e9),
            hand_files_per_s=hand_rate,
            target=None,
        ),
    ]
    report.uploads.extend(results)
    if not quiet:
        size = sum(map(len, images)) // len(images)
        for result in results:
            print(
                f"  upload {count} files of ~{size // 1000} KB ({result.database}): pinsphere"
                f" {result.pinsphere_files_per_s:,.0f} files/s, hand"
                f" {result.hand_files_per_s:,.0f} files/s, ratio {result.ratio:.2f}",
                flush=True,
            )
