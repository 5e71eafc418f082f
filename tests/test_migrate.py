"""``migrate_store`` and ``pinsphere migrate``: an embedded store (SQLite + files) copied to
PostgreSQL + S3 (moto's server on loopback), verified pin by pin, blob by blob and share by
share; interrupted and resumed; a corrupt source blob reported and never copied."""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner
from PIL import Image

import pinsphere
from pinsphere.cli import cli
from pinsphere.layout import ONE_LEVEL, TWO_LEVELS
from pinsphere.layout_marker import LAYOUT_MARKER_KEY, read_marker
from pinsphere.migrate import MigrationProgress, MigrationReport, migrate_store
from pinsphere.models import Pin, TargetKind
from pinsphere.policy import AccessRule
from pinsphere.query import Query
from store_support import FAST_SETTINGS, drop_layout_marker, open_legacy_store

EVERYTHING = AccessRule(everything=True)
PINS = 240
FORMATS = ("PNG", "JPEG", "GIF")


# -- servers and stores ---------------------------------------------------------------------


@pytest.fixture
def s3_blobs_url(s3_endpoint: str) -> str:
    bucket = f"migrate-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(
        Bucket=bucket
    )
    return f"s3://{bucket}/store?endpoint_url={s3_endpoint}&max_attempts=2"


@pytest.fixture
def target(postgres_schema_url: str, s3_blobs_url: str) -> Iterator[pinsphere.PinStore]:
    with pinsphere.open(
        metadata=postgres_schema_url,
        users=postgres_schema_url,
        blobs=s3_blobs_url,
        settings=FAST_SETTINGS,
    ) as store:
        yield store


def image(index: int) -> bytes:
    """A small real image, different for every index (a few share bytes on purpose)."""
    seed = index if index % 40 else 0  # every 40th pin has the same bytes as pin 0
    color = (seed % 251, (seed * 7) % 253, (seed * 13) % 255)
    buffer = io.BytesIO()
    Image.new("RGB", (12 + seed % 5, 9), color).save(buffer, FORMATS[seed % 3])
    return buffer.getvalue()


def image_of_size(width: int, height: int) -> bytes:
    """A JPEG large enough to get thumbnails."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (40, 120, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


def generate(folder: Path, pins: int = PINS) -> pinsphere.PinStore:
    """Users, boards (two owners with an "Animals" board), pins, shares, links."""
    database = f"sqlite:///{folder / 'pinsphere.db'}"
    blobs = (folder / "blobs").as_uri() + "?fsync=false"  # the embedded layout, written faster
    store = pinsphere.open(metadata=database, users=database, blobs=blobs, settings=FAST_SETTINGS)
    names = ("alice", "bob", "carol")
    users = {name: store.users.create(name, password=f"{name}-password") for name in names}
    scopes = {name: store.as_user(user) for name, user in users.items()}
    scopes["alice"].boards.create("Animals", visibility="public")
    scopes["bob"].boards.create("animals", description="bob's", visibility="public")
    scopes["carol"].boards.create("Secret")
    for index in range(pins):
        owner = names[index % 3]
        pin = scopes[owner].upload(
            image(index),
            title=f"pin {index}",
            description="generated",
            tags=[f"n/{index % 7}", "generated"],
            board=["Animals"] if index % 4 == 0 else ["Misc", "Secret"] if index % 5 == 0 else [],
            visibility=("private", "internal", "public")[index % 3],
        )
        if index % 9 == 0 and owner != "bob":
            scopes[owner].share(pin.id, "bob", role="editor" if index % 2 else "viewer")
        if index % 11 == 0 and pin.visibility == "public" and owner == "alice":
            # Alice's pin on Bob's board of the same name as hers: ids must decide.
            scopes["bob"].boards.add("animals", pin.id)
        if index % 50 == 0:
            scopes[owner].create_link(pin.id)
    secret = scopes["carol"].boards.get("Secret")
    scopes["carol"].share(secret.id, "alice")
    return store


@pytest.fixture(scope="module")
def source_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("source")
    generate(folder).close()
    return folder


@pytest.fixture
def source(source_folder: Path) -> Iterator[pinsphere.PinStore]:
    with pinsphere.open(source_folder, settings=FAST_SETTINGS) as store:
        yield store


# -- verification ---------------------------------------------------------------------------


def all_pins(store: pinsphere.PinStore) -> Iterator[Pin]:
    after = None
    while page := store.metadata.search_pins(Query(), EVERYTHING, limit=100, after=after):
        yield from page
        after = page[-1].id


def shares_of(store: pinsphere.PinStore, kind: TargetKind, target_id: str) -> set[tuple[str, ...]]:
    return {
        (share.id, share.user_id, share.role, share.created_by)
        for share in store.metadata.list_shares(kind, target_id)
    }


def blob_digest(store: pinsphere.PinStore, key: str) -> str:
    digest = hashlib.sha256()
    with store.blobs.open(key) as blob:
        while chunk := blob.read(65536):
            digest.update(chunk)
    return digest.hexdigest()


def assert_same_store(
    source: pinsphere.PinStore,
    target: pinsphere.PinStore,
    *,
    except_pins: frozenset[str] = frozenset(),
) -> None:
    source_users = source.user_backend.list_users(limit=1000)
    assert target.user_backend.list_users(limit=1000) == source_users
    for user in source_users:
        assert target.user_backend.get_password_hash(user.id) == (
            source.user_backend.get_password_hash(user.id)
        )
    assert target.users.authenticate("alice", "alice-password").username == "alice"
    source_boards = source.metadata.list_boards(EVERYTHING)
    assert target.metadata.list_boards(EVERYTHING) == source_boards
    for board in source_boards:
        assert shares_of(target, "board", board.id) == shares_of(source, "board", board.id)
    checked = 0
    for pin in all_pins(source):
        if pin.id in except_pins:
            assert target.metadata.get_pin(pin.id, EVERYTHING) is None
            continue
        assert target.metadata.get_pin(pin.id, EVERYTHING) == pin
        assert blob_digest(target, target.layout.key(pin.media.sha256)) == pin.media.sha256
        assert shares_of(target, "pin", pin.id) == shares_of(source, "pin", pin.id)
        for owner in ("alice", "bob"):  # board membership by id, as each owner sees it
            rule = target.as_user(owner).access
            assert target.metadata.get_pin(pin.id, rule) == source.metadata.get_pin(pin.id, rule)
        checked += 1
    assert checked == PINS - len(except_pins)
    assert target.metadata.list_audit_events(limit=1000) == source.metadata.list_audit_events(
        limit=1000
    )
    # Derived media (thumbnails and the like) byte for byte; the target keeps its own marker.
    for key in source.blobs.keys(prefix=""):
        if not key.startswith("originals/") and key != LAYOUT_MARKER_KEY:
            assert target.blobs.size(key) == source.blobs.size(key)
    assert read_marker(target.blobs) == target.layout


# -- tests ----------------------------------------------------------------------------------


def test_a_store_moves_from_sqlite_and_files_to_postgresql_and_s3(
    source: pinsphere.PinStore, target: pinsphere.PinStore
) -> None:
    seen: list[MigrationProgress] = []
    report = migrate_store(source, target, progress=seen.append, page_size=50)
    assert report.ok, report.summary()
    assert report.copied["users"] == 3
    assert report.copied["boards"] == len(source.metadata.list_boards(EVERYTHING)) == 9
    assert report.copied["pins"] == PINS
    distinct = len({image(index) for index in range(PINS)})
    assert report.copied["blobs"] == distinct
    assert report.skipped["blobs"] == PINS - distinct
    assert report.copied["shares"] > 10
    assert report.copied["audit_events"] > 10
    links = source.metadata.list_links()
    assert len(report.not_migrated) == len(links) > 0
    assert all("digest" in problem.reason for problem in report.not_migrated)
    assert_same_store(source, target)
    pins_seen = [state for state in seen if state.stage == "pins"]
    assert pins_seen[-1].done == pins_seen[-1].total == PINS
    assert 0 < pins_seen[-1].bytes_copied <= seen[-1].bytes_copied == report.bytes_copied

    again = migrate_store(source, target)
    assert again.ok
    assert again.copied.get("pins", 0) == again.copied.get("blobs", 0) == 0
    assert again.skipped["pins"] == PINS
    assert again.copied.get("audit_events", 0) == again.copied.get("shares", 0) == 0


def test_an_interrupted_migration_resumes_where_it_stopped(
    source: pinsphere.PinStore, target: pinsphere.PinStore
) -> None:
    class StopError(Exception):
        pass

    def stop_midway(state: MigrationProgress) -> None:
        if state.stage == "pins" and state.done >= PINS // 2:
            raise StopError

    with pytest.raises(StopError):
        migrate_store(source, target, progress=stop_midway, page_size=40)
    copied = target.metadata.count_pins(Query(), EVERYTHING)
    assert copied == PINS // 2
    for pin in all_pins(target):  # every pin there has its blob
        assert target.blobs.size(target.layout.key(pin.media.sha256)) == pin.media.size

    report = migrate_store(source, target, page_size=40)
    assert report.ok, report.summary()
    assert report.skipped["pins"] == PINS // 2
    assert report.copied["pins"] == PINS - PINS // 2
    assert report.skipped["users"] == 3
    assert_same_store(source, target)


def test_a_corrupt_source_blob_is_reported_and_its_pin_left_out(
    tmp_path: Path, source_folder: Path, s3_blobs_url: str
) -> None:
    folder = tmp_path / "copy"
    folder.mkdir()
    (folder / "pinsphere.db").write_bytes((source_folder / "pinsphere.db").read_bytes())
    for path in (source_folder / "blobs").rglob("*"):
        if path.is_file():
            copy = folder / "blobs" / path.relative_to(source_folder / "blobs")
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_bytes(path.read_bytes())
    with pinsphere.open(folder, settings=FAST_SETTINGS) as source:
        victim = next(pin for pin in all_pins(source) if pin.title == "pin 7")
        key = source.layout.key(victim.media.sha256)
        stored = folder / "blobs" / key
        data = bytearray(stored.read_bytes())
        data[len(data) // 2] ^= 0xFF  # same length, other bytes
        stored.write_bytes(bytes(data))
        database = f"sqlite:///{tmp_path / 'target.db'}"
        with pinsphere.open(
            metadata=database, users=database, blobs=s3_blobs_url, settings=FAST_SETTINGS
        ) as target:
            report = migrate_store(source, target)
            assert not report.ok
            assert [(p.kind, p.id) for p in report.errors] == [("blob", key)]
            assert "corrupt" in report.errors[0].reason
            assert not target.blobs.exists(target.layout.key(victim.media.sha256))
            assert report.copied["pins"] == PINS - 1
            assert_same_store(source, target, except_pins=frozenset({victim.id}))


def test_a_two_level_store_migrated_to_a_fresh_one_is_converted(tmp_path: Path) -> None:
    with open_legacy_store(tmp_path / "old") as old:
        me = old.as_user(old.users.create("alice", password="alice-password"))
        pins = [me.upload(image(index), title=f"pin {index}") for index in range(12)]
        pins.append(me.upload(image(40), title="same bytes as pin 0"))
        big = me.upload(image_of_size(700, 500), title="with thumbnails")
        pins.append(big)
    drop_layout_marker(tmp_path / "old")

    with (
        pinsphere.open(tmp_path / "old", settings=FAST_SETTINGS) as source,
        pinsphere.open(tmp_path / "new", settings=FAST_SETTINGS) as target,
    ):
        assert (source.layout, target.layout) == (TWO_LEVELS, ONE_LEVEL)
        report = migrate_store(source, target, page_size=5)
        assert report.ok, report.summary()
        assert report.copied["pins"] == len(pins)
        assert report.copied["blobs"] == len(pins) - 1
        assert report.skipped["blobs"] == 1
        # Thumbnails only: the source's marker is not one of them.
        assert big.thumbnails == (256, 640)
        thumbnails = sorted(source.blobs.keys("derived/"))
        assert report.copied["derived_blobs"] == len(thumbnails)
        assert report.skipped.get("derived_blobs", 0) == 0  # the marker is not even looked at
        assert len(thumbnails) == sum(len(pin.thumbnails) for pin in pins)
        assert sorted(target.blobs.keys("derived/")) == thumbnails

        digests = {pin.media.sha256 for pin in pins}
        assert sorted(target.blobs.keys("originals/")) == sorted(map(ONE_LEVEL.key, digests))
        assert sorted(source.blobs.keys("originals/")) == sorted(map(TWO_LEVELS.key, digests))
        assert read_marker(target.blobs) == ONE_LEVEL
        assert read_marker(source.blobs) == TWO_LEVELS
        reader = target.as_user("alice")
        for pin in pins:
            with reader.open(pin.id) as original:
                assert hashlib.sha256(original.read()).hexdigest() == pin.media.sha256
        with reader.open_thumbnail(big.id, width=256) as thumbnail:
            assert thumbnail.read(4) == b"RIFF"

        again = migrate_store(source, target)
        assert again.ok, again.summary()
        assert again.copied.get("blobs", 0) == again.copied.get("derived_blobs", 0) == 0
        assert again.skipped["blobs"] == len(pins)

    with pinsphere.open(tmp_path / "new", settings=FAST_SETTINGS) as reopened:
        assert reopened.layout == ONE_LEVEL


def test_the_cli_migrates_and_prints_the_report(tmp_path: Path, source_folder: Path) -> None:
    target_db = tmp_path / "target.db"
    result = CliRunner().invoke(
        cli,
        [
            "--data",
            str(source_folder),
            "migrate",
            "--to-metadata",
            f"sqlite:///{target_db}",
            "--to-blobs",
            (tmp_path / "target-blobs").as_uri() + "?fsync=false",
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"pins: {PINS} copied, 0 already there" in result.output
    assert "not migrated: " in result.output
    with pinsphere.open(
        metadata=f"sqlite:///{target_db}",
        users=f"sqlite:///{target_db}",
        blobs=(tmp_path / "target-blobs").as_uri(),
    ) as target:
        assert target.metadata.count_pins(Query(), EVERYTHING) == PINS


def test_the_cli_refuses_a_target_that_is_the_source(source_folder: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "--data",
            str(source_folder),
            "migrate",
            "--to-metadata",
            f"sqlite:///{(source_folder / 'pinsphere.db').resolve()}",
            "--to-blobs",
            "memory://",
        ],
    )
    assert result.exit_code != 0
    assert "must not share a backend" in result.output


def test_report_summary_lists_errors() -> None:
    report = MigrationReport()
    report.count_copied("pins", 3)
    assert "pins: 3 copied, 0 already there" in report.summary()
    assert report.ok
