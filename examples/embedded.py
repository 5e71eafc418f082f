"""Pinsphere embedded in a Python program: SQLite and local files, no server.

Run it with ``python3 dev.py demo`` (or ``python examples/embedded.py [FOLDER]``). It makes a
few real images with Pillow, uploads them as two users, tags them, puts them on boards,
searches, pages through results, reads a file back, and shows that private pins stay
private.
"""

from __future__ import annotations

import io
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

import pinsphere
from pinsphere import errors


def make_jpeg(color: str, size: tuple[int, int] = (640, 480)) -> bytes:
    """A real JPEG: a coloured canvas with a circle on it."""
    image = Image.new("RGB", size, color)
    ImageDraw.Draw(image).ellipse((80, 60, size[0] - 80, size[1] - 60), fill="white")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def make_png(size: tuple[int, int] = (300, 200)) -> bytes:
    """A real PNG with a gradient."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def make_gif(frames: int = 6) -> bytes:
    """A real animated GIF: a square moving across."""
    images = []
    for i in range(frames):
        frame = Image.new("P", (120, 80), 0)
        ImageDraw.Draw(frame).rectangle((i * 15, 20, i * 15 + 30, 50), fill=1)
        frame.putpalette([255, 255, 255, 200, 60, 60] + [0] * 762)
        images.append(frame)
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return out.getvalue()


def main(folder: Path) -> None:
    """Build a small store in ``folder`` and show what it can do."""
    settings = pinsphere.StoreSettings(
        # Cheap hashing keeps the demo quick; keep the defaults in a real deployment.
        password_hashing=pinsphere.PasswordHashing(time_cost=1, memory_cost_kib=1024)
    )
    with pinsphere.open(folder, settings=settings) as store:
        store.users.create("alice", password="correct horse", email="a@example.com")
        store.users.create("bob", password="battery staple", role="member")
        print(f"store in {folder}; users: alice, bob")

        me = store.as_user(store.users.authenticate("alice", "correct horse"))
        sunset = me.upload(
            make_jpeg("orange"),
            title="Sleepy sunset",
            description="An orange evening",
            tags=["nature/sky", "Sunset"],
            board="Favourites",
            visibility="public",
        )
        cat = me.upload(
            make_gif(),
            title="Cat chasing a box",
            tags=["animals/cats", "funny"],
            board=["Animals", "Favourites"],
            visibility="internal",
        )
        diagram = me.upload(make_png(), title="Secret diagram", tags=["work"])
        for pin in (sunset, cat, diagram):
            media = pin.media
            print(
                f"uploaded {pin.id} {media.mime_type:<10} {media.width}x{media.height} "
                f"{media.size:>6} B  {pin.visibility:<8} tags={list(pin.tags)} "
                f"boards={list(pin.boards)}"
            )

        # The same bytes again share one stored file.
        again = me.upload(make_png(), title="Diagram, once more")
        assert again.media.sha256 == diagram.media.sha256

        for query in ("tag:animals", "board:Favourites", "type:gif funny", "sleepy", "-tag:work"):
            titles = [pin.title for pin in me.search(query).items]
            print(f"alice searches {query!r:<20} -> {titles}")

        page = me.search("", limit=2)
        rest = me.search("", limit=2, cursor=page.next_cursor)
        print(f"page 1: {[p.title for p in page.items]}; page 2: {[p.title for p in rest.items]}")

        bob = store.as_user("bob")
        print(f"bob sees {[p.title for p in bob.search().items]}")
        print(f"anonymous sees {[p.title for p in store.anonymous.search().items]}")
        try:
            bob.get(diagram.id)
        except errors.NotFound:
            print("bob asking for alice's private diagram: NotFound")

        me.update(cat.id, add_tags=["sleepy"], remove_tags=["funny"], visibility="public")
        print(f"tags now: {[(t.tag, t.count) for t in me.tags()]}")
        with me.open(sunset.id) as original:
            print(f"read back {len(original.read())} bytes of {sunset.title!r}")

        try:
            me.upload(b"<html>not an image</html>", title="fake.png")
        except errors.InvalidMedia as exc:
            print(f"rejected a fake image: {exc}")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory(prefix="pinsphere-demo-") as tmp:
            main(Path(tmp))
