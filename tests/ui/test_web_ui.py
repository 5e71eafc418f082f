"""The web UI in headless Chromium against a real ``pinsphere serve``.

One story runs from sign-in to sharing (each step needs the one before), and a few
narrower tests look at uploads that are refused, screenshots at a phone's and a desktop's
width, infinite scrolling and the weight of the app shell.
"""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from ui_media import gif_bytes, jpeg_bytes, mp4_bytes
from ui_support import MAX_UPLOAD_BYTES, Console, Service, screenshot, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

STATIC = Path(__file__).parents[2] / "src" / "pinsphere_http" / "static"
NOT_FOUND = "the server responded with a status of 404"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A JPEG, a GIF and an MP4 on disk, for the file picker."""
    folder = tmp_path_factory.mktemp("media")
    made = {"photo.jpg": jpeg_bytes(), "loop.gif": gif_bytes(), "clip.mp4": mp4_bytes()}
    for name, content in made.items():
        (folder / name).write_bytes(content)
    return {name: folder / name for name in made}


def _cards(page: Page) -> int:
    return page.locator(".grid .card").count()


def _wait_cards(page: Page, count: int) -> None:
    page.wait_for_function(
        "n => document.querySelectorAll('.grid .card').length === n && "
        "document.querySelector('.grid').getAttribute('aria-busy') === 'false'",
        arg=count,
    )


def _media_loaded(page: Page, selector: str) -> bool:
    return bool(
        page.eval_on_selector(
            selector,
            "el => el.tagName === 'VIDEO' ? el.readyState >= 1 "
            ": el.complete && el.naturalWidth > 0",
        )
    )


def test_sign_in_upload_tag_search_share_and_revoke(
    service: Service, new_context: Any, console: Console, files: dict[str, Path]
) -> None:
    page = console.watch(new_context().new_page())

    # Sign in; the session is in HttpOnly cookies: nothing a script could read but the CSRF
    # token.
    sign_in(page, "alice")
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    assert cookies["pinsphere_access"]["httpOnly"]
    assert cookies["pinsphere_refresh"]["httpOnly"]
    assert cookies["pinsphere_access"]["sameSite"] == "Strict"
    assert "pinsphere_access" not in page.evaluate("document.cookie")

    # Upload three files at once, with tags.
    page.click("#upload-button")
    page.set_input_files("#upload-files", [str(path) for path in files.values()])
    page.fill("#upload-title", "Sunset")
    page.fill("#upload-tags", "e2e, animals/cats")
    assert page.locator(".upload-row").count() == 3
    assert page.locator(".upload-row progress").count() == 3
    page.locator("dialog").get_by_role("button", name="Upload", exact=True).click()
    page.wait_for_selector("dialog", state="detached")
    _wait_cards(page, 3)
    assert page.locator(".card video[preload=metadata]").count() == 1
    assert page.locator(".card img[loading=lazy]").count() == 2
    page.wait_for_function(
        "() => [...document.querySelectorAll('.card img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )

    # Search by tag through the search box; the URL keeps the query.
    page.fill("#q", "tag:animals")
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r"/\?q=tag%3Aanimals$"))
    _wait_cards(page, 3)

    # Open the GIF and tag it in place.
    page.locator(".card", has=page.locator(".badge", has_text="GIF")).locator("a").click()
    page.wait_for_selector(".pin-title")
    pin_url = page.url
    assert _media_loaded(page, ".full-media")
    page.fill("#add-tag", "looping")
    page.get_by_role("button", name="Add", exact=True).click()
    page.wait_for_selector(".chip a:text-is('#looping')")

    # A tag link searches for it: only the GIF has it. Then a filter writes the query.
    page.locator(".chip a:text-is('#looping')").click()
    page.wait_for_url(re.compile(r"q=tag%3Alooping"))
    _wait_cards(page, 1)
    page.goto("/?q=tag:e2e")
    _wait_cards(page, 3)
    page.select_option("#filter-type", "video")
    page.wait_for_url(re.compile(r"q=tag%3Ae2e(\+|%20)type%3Avideo"))
    _wait_cards(page, 1)
    assert page.input_value("#q") == "tag:e2e type:video"
    page.reload()  # bookmarkable: the same search after a reload
    _wait_cards(page, 1)

    # The video's page: full size with controls, seekable (the service answers ranges).
    page.locator(".card a").first.click()
    page.wait_for_selector("video.full-media[controls]")
    page.wait_for_function("() => document.querySelector('video.full-media').readyState >= 1")
    page.eval_on_selector("video.full-media", "v => { v.currentTime = 1.0; }")
    page.wait_for_function(
        "() => Math.abs(document.querySelector('video.full-media').currentTime - 1) < 0.2"
    )

    # Back to the GIF: make a public link, then open it as an anonymous visitor.
    page.goto(pin_url)
    page.get_by_role("button", name="Share").click()
    page.get_by_role("button", name="Create link").click()
    link = page.input_value("#link-url")
    assert re.fullmatch(rf"{re.escape(service.base)}/s/[\w-]+", link), link
    screenshot(page, "share-dialog-1440")

    visitor_console = Console()
    visitor = visitor_console.watch(new_context().new_page())
    visitor.goto(link)
    visitor.wait_for_selector(".pin-title")
    assert visitor.inner_text(".pin-title") == "Sunset"
    visitor.wait_for_function("() => document.querySelector('.full-media').naturalWidth > 0")
    # Nothing of the service but the pin: no search, upload, boards or account.
    for chrome in ("#upload-button", "#search-form", "#sidebar", "#account"):
        assert not visitor.locator(chrome).is_visible(), chrome
    assert visitor_console.errors == []

    # Revoke it: a fresh visitor now gets the "does not work" page.
    page.get_by_role("button", name="Revoke").click()
    page.wait_for_selector(".share-list li.revoked")
    page.keyboard.press("Escape")
    gone_console = Console()
    gone = gone_console.watch(new_context().new_page())
    gone.goto(link)
    gone.wait_for_selector("text=This link does not work")
    assert gone_console.unexpected(NOT_FOUND) == []

    # Bob cannot see alice's private pins, in the grid or by their address.
    bob_console = Console()
    bob = bob_console.watch(new_context().new_page())
    sign_in(bob, "bob")
    bob.goto("/?q=tag:e2e")
    bob.wait_for_selector("text=No pins match this search.")
    assert _cards(bob) == 0
    bob.goto(pin_url.removeprefix(service.base))
    bob.wait_for_selector("text=Pin not found")
    assert bob_console.unexpected(NOT_FOUND) == []

    # Sign out: the cookies go, and the private pins with them.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_selector("#account a:text-is('Sign in')")
    assert not any(c["name"].startswith("pinsphere_") for c in page.context.cookies())
    assert console.errors == []


def test_refused_uploads_say_why(
    service: Service, new_context: Any, console: Console, tmp_path: Path
) -> None:
    page = console.watch(new_context().new_page())
    sign_in(page, "alice")
    big = tmp_path / "huge.jpg"
    big.write_bytes(jpeg_bytes() + b"\0" * (MAX_UPLOAD_BYTES + 1))
    text = tmp_path / "notes.txt"
    text.write_text("not media")
    fake = tmp_path / "fake.jpg"
    fake.write_bytes(b"this is not a JPEG at all" * 20)
    page.click("#upload-button")
    page.set_input_files("#upload-files", [str(big), str(text)])
    rows = page.locator(".upload-row.rejected")
    assert rows.count() == 2
    assert "too large: the limit is 1.0 MB" in rows.nth(0).inner_text()
    assert "not a supported type" in rows.nth(1).inner_text()
    # One the browser cannot tell: the service sniffs the bytes and answers 415.
    page.set_input_files("#upload-files", [str(fake)])
    page.locator("dialog").get_by_role("button", name="Upload", exact=True).click()
    page.wait_for_selector(".upload-row.rejected >> nth=2")
    assert "fake.jpg is not a supported type" in page.locator(".upload-row").nth(2).inner_text()
    screenshot(page, "upload-refused-1440")
    assert console.unexpected("the server responded with a status of 415") == []


@pytest.fixture(scope="module")
def seeded(service: Service) -> str:
    """Forty pins of bob's, public, in several shapes: enough for two pages."""
    headers = service.bearer("bob")
    shapes = [(800, 600), (600, 900), (900, 500), (700, 700), (500, 800)]
    with httpx.Client(base_url=service.base, headers=headers, timeout=30) as client:
        client.post("/api/v1/boards", json={"name": "Holidays", "visibility": "public"})
        for index in range(40):
            content = gif_bytes() if index % 7 == 3 else jpeg_bytes(shapes[index % len(shapes)])
            created = client.post(
                "/api/v1/pins",
                files={"file": (f"seed-{index}.jpg", content, "image/jpeg")},
                data={
                    "title": f"Seed {index}",
                    "tags": "seed,travel/beach" if index % 2 else "seed",
                    "visibility": "public",
                    "board": "Holidays" if index < 10 else "",
                },
            )
            assert created.status_code == 201, created.text
        clip = client.post(
            "/api/v1/pins",
            files={"file": ("clip.mp4", mp4_bytes(), "video/mp4")},
            data={"title": "A short clip", "tags": "seed,video", "visibility": "public"},
        )
        assert clip.status_code == 201, clip.text
    return "tag:seed"


@pytest.mark.parametrize(
    ("name", "content", "selector"),
    [
        ("photo.jpg", "jpeg", "img.full-media"),
        ("clip.mp4", "mp4", "video.full-media"),
    ],
)
def test_a_password_link_shows_its_media(
    service: Service, new_context: Any, name: str, content: str, selector: str
) -> None:
    # Media elements cannot send the password header: the proof cookie set when the
    # visitor typed the password is what loads the picture and plays the video.
    made = jpeg_bytes() if content == "jpeg" else mp4_bytes()
    with httpx.Client(base_url=service.base, headers=service.bearer("bob"), timeout=30) as api:
        pin = api.post(
            "/api/v1/pins",
            files={"file": (name, made, "application/octet-stream")},
            data={"title": f"Protected {content}", "visibility": "private"},
        )
        assert pin.status_code == 201, pin.text
        link = api.post(
            "/api/v1/links", json={"target_id": pin.json()["id"], "password": "open sesame"}
        )
        assert link.status_code == 201, link.text
    visitor_console = Console()
    visitor = visitor_console.watch(new_context().new_page())
    refused: list[str] = []
    visitor.on(
        "response", lambda answer: refused.append(answer.url) if answer.status >= 400 else None
    )
    token = link.json()["token"]
    visitor.goto(f"/s/{token}")
    visitor.fill("#link-password", "open sesame")
    visitor.get_by_role("button", name="Open").click()
    visitor.wait_for_selector(".pin-title")
    visitor.wait_for_selector(selector, state="attached")
    visitor.wait_for_function(
        "s => { const el = document.querySelector(s); return el.tagName === 'VIDEO' ?"
        " el.readyState >= 1 : el.complete && el.naturalWidth > 0; }",
        arg=selector,
    )
    # Only the first request, before the password was typed, was refused.
    assert refused == [f"{service.base}/api/v1/shared/{token}"]
    assert visitor_console.unexpected("status of 401") == []


def test_infinite_scroll_loads_every_page(
    service: Service, new_context: Any, console: Console, seeded: str
) -> None:
    page = console.watch(new_context(1440, 900).new_page())
    page.goto(f"/?q={seeded}")
    page.wait_for_function("() => document.querySelectorAll('.grid .card').length >= 30")
    for _ in range(10):
        if _cards(page) == 41:
            break
        page.mouse.wheel(0, 5000)
        page.wait_for_timeout(200)
    _wait_cards(page, 41)
    assert console.errors == []


@pytest.mark.parametrize("width", [375, 1440])
def test_screenshots(
    service: Service, new_context: Any, console: Console, seeded: str, width: int
) -> None:
    page = console.watch(new_context(width, 812 if width < 500 else 900).new_page())
    sign_in(page, "bob")
    page.goto(f"/?q={seeded}")
    page.wait_for_function("() => document.querySelectorAll('.grid .card').length >= 30")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.card img')].slice(0, 8)"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    page.wait_for_timeout(350)  # the fade-in
    screenshot(page, f"grid-{width}")
    # Nothing wider than the screen (no sideways scrolling on a phone).
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.click("#upload-button")
    page.wait_for_selector("dialog .drop-zone")
    screenshot(page, f"upload-{width}")
    page.keyboard.press("Escape")
    page.wait_for_selector("dialog", state="detached")

    page.locator(".card a").first.click()
    page.wait_for_selector(".pin-title")
    page.wait_for_function(
        "() => document.querySelector('.full-media').readyState >= 1 || "
        "document.querySelector('.full-media').naturalWidth > 0"
    )
    screenshot(page, f"pin-{width}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # Every image has alt text.
    assert page.locator("img:not([alt])").count() == 0
    assert console.errors == []


def test_board_page_and_admin(
    service: Service, new_context: Any, console: Console, seeded: str
) -> None:
    page = console.watch(new_context().new_page())
    sign_in(page, "bob")
    page.locator(".board-list a", has_text="Holidays").click()
    page.wait_for_selector(".board-head h1:text-is('Holidays')")
    _wait_cards(page, 10)
    page.get_by_role("button", name="Rename").click()
    page.fill("#board-name", "Summer")
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector(".board-head h1:text-is('Summer')")
    _wait_cards(page, 10)
    # Bob is no admin: the page says so.
    page.goto("/admin")
    page.wait_for_selector("text=Only administrators can see this page.")

    admin = console.watch(new_context().new_page())
    sign_in(admin, "alice")
    admin.get_by_role("link", name="Administration").click()
    admin.wait_for_selector("table.users")
    row = admin.locator("tr", has=admin.locator("th:text-is('bob')"))
    row.get_by_role("button", name="Disable").click()
    admin.wait_for_selector("tr.disabled th:text-is('bob')")
    # Bob's next request fails, and his page says he was signed out.
    page.goto("/")
    page.wait_for_selector("#account a:text-is('Sign in')")
    admin.locator("tr", has=admin.locator("th:text-is('bob')")).get_by_role(
        "button", name="Enable"
    ).click()
    admin.wait_for_selector("tr:not(.disabled) th:text-is('bob')")
    assert console.unexpected("status of 401") == []


def test_keyboard_reaches_the_app(service: Service, new_context: Any, console: Console) -> None:
    page = console.watch(new_context().new_page())
    page.goto("/")
    page.wait_for_selector("body.ready")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    # Sign in with the keyboard alone.
    page.goto("/signin")
    page.wait_for_selector("#username:focus")
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    page.keyboard.type("alice-password")
    page.keyboard.press("Enter")
    page.wait_for_selector(".who", state="attached")
    page.keyboard.press("Escape")
    assert console.errors == []


def test_app_shell_is_light_and_strict(service: Service, browser: Any) -> None:
    """Under 200 KB of HTML, CSS and scripts before any media; a strict CSP on every page;
    nothing inline and nothing from another host."""
    with httpx.Client(base_url=service.base, timeout=10) as client:
        page = client.get("/")
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert "default-src 'none'" in policy
        assert page.headers["x-content-type-options"] == "nosniff"
        html = page.text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline scripts
        assert "style=" not in html
        assert "<style" not in html
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # no other host
        total = len(page.content)
        for path in sorted(STATIC.rglob("*")):
            if path.suffix in {".js", ".css"}:
                name = path.relative_to(STATIC).as_posix()
                answer = client.get(f"/static/{name}")
                assert answer.status_code == 200, name
                assert "content-security-policy" in answer.headers
                assert "http://" not in answer.text, name
                assert "https://" not in answer.text, name
                total += len(answer.content)
        assert total < 200 * 1024, f"the app shell weighs {total} bytes"
        for page_path in ("/pins/x", "/s/x", "/admin", "/boards/x", "/signin"):
            assert client.get(page_path).headers["content-security-policy"] == policy
        assert client.get("/static/nope.js").status_code == 404
        etag = client.get("/static/app.css").headers["etag"]
        assert client.get("/static/app.css", headers={"If-None-Match": etag}).status_code == 304

    # What the browser actually fetched to show an (empty) page.
    context = browser.new_context(base_url=service.base)
    try:
        tab = context.new_page()
        tab.goto("/signin")
        tab.wait_for_selector("#username")
        fetched = tab.evaluate(
            "performance.getEntriesByType('resource').concat(performance.getEntriesByType("
            "'navigation')).filter(e => ['script','link','css','navigation','other']"
            ".includes(e.initiatorType) || e.entryType === 'navigation')"
            ".reduce((sum, e) => sum + (e.decodedBodySize || 0), 0)"
        )
        assert 0 < fetched < 200 * 1024
    finally:
        context.close()


def test_blurhash_placeholders_decode_like_the_reference(
    service: Service, new_context: Any, console: Console
) -> None:
    blurhash = pytest.importorskip("blurhash")
    from PIL import Image

    image = Image.open(io.BytesIO(jpeg_bytes((64, 48))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the library's use of Pillow
        code = blurhash.encode(image, x_components=4, y_components=3)
        raw = blurhash.decode(code, 8, 6).convert("RGB").tobytes()
    expected = [tuple(raw[i : i + 3]) for i in range(0, len(raw), 3)]
    page = console.watch(new_context().new_page())
    page.goto("/signin")
    page.wait_for_selector("#username")
    decoded = page.evaluate(
        "async (code) => Array.from((await import('/static/js/blurhash.js')).decode(code, 8, 6))",
        code,
    )
    pixels = [tuple(decoded[i : i + 3]) for i in range(0, len(decoded), 4)]
    assert len(pixels) == len(expected)
    for got, want in zip(pixels, expected, strict=True):
        assert all(abs(a - b) <= 3 for a, b in zip(got, want, strict=True)), (got, want)
    # And a canvas for the grid, sized to the media's shape.
    size = page.evaluate(
        "async (code) => { const c = (await import('/static/js/blurhash.js'))"
        ".placeholderCanvas(code, 2); return [c.width, c.height]; }",
        code,
    )
    assert size == [32, 16]
    assert console.errors == []
