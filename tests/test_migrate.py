"""``migrate_store`` and ``pinsphere migrate``: an embedded store (SQLite + files) copied to
PostgreSQL + S3 (moto's server on loopback), verified pin by pin, blob by blob and share by
share, and its links and tokens used with their original secrets; interrupted and resumed;
a corrupt source blob reported and never copied."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

import boto3
import mongomock
import pytest
from click.testing import CliRunner
from PIL import Image

import pinsphere
from pinsphere import errors
from pinsphere.backends.base import MetadataBackend, RefreshTokenRecord, UserBackend
from pinsphere.backends.memory.metadata import MemoryMetadataBackend
from pinsphere.backends.memory.users import MemoryUserBackend
from pinsphere.cli import cli
from pinsphere.layout import ONE_LEVEL, TWO_LEVELS
from pinsphere.layout_marker import LAYOUT_MARKER_KEY, read_marker
from pinsphere.migrate import MigrationProgress, MigrationReport, migrate_store
from pinsphere.models import ApiToken, Link, Pin, TargetKind
from pinsphere.policy import AccessRule
from pinsphere.query import Query
from store_support import FAST_SETTINGS, drop_layout_marker, open_legacy_store

EVERYTHING = AccessRule(everything=True)
PINS = 240
FORMATS = ("PNG", "JPEG", "GIF")
LINK_PASSWORD = "link-password"


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


@dataclass(frozen=True)
class Secrets:
    """What the holders of a generated store's links and tokens keep: the store has only
    their digests.

    Attributes:
        open_link: A link to one of alice's pins.
        limited_link: A link with 3 uses, one of them taken.
        locked_link: A link that needs :data:`LINK_PASSWORD`.
        revoked_link: A revoked link.
        board_link: A link to alice's "Animals" board.
        reader_token: Alice's read-only API token, used once.
        writer_token: Bob's read and write API token, never used.
        session: Alice's refresh token after one rotation.
        rotated_session: The refresh token that rotation used up.
        signed_out_session: Bob's refresh token, revoked when he signed out.
    """

    open_link: str
    limited_link: str
    locked_link: str
    revoked_link: str
    board_link: str
    reader_token: str
    writer_token: str
    session: str
    rotated_session: str
    signed_out_session: str


SECRETS_FILE = "secrets.json"  # beside a generated store, outside its backends


def read_secrets(folder: Path) -> Secrets:
    return Secrets(**json.loads((folder / SECRETS_FILE).read_text()))


def generate(folder: Path, pins: int = PINS) -> pinsphere.PinStore:
    """Users, boards (two owners with an "Animals" board), pins, shares, links, API tokens
    and refresh tokens, whose secrets are written to :data:`SECRETS_FILE`."""
    database = f"sqlite:///{folder / 'pinsphere.db'}"
    blobs = (folder / "blobs").as_uri() + "?fsync=false"  # the embedded layout, written faster
    store = pinsphere.open(metadata=database, users=database, blobs=blobs, settings=FAST_SETTINGS)
    names = ("alice", "bob", "carol")
    users = {name: store.users.create(name, password=f"{name}-password") for name in names}
    scopes = {name: store.as_user(user) for name, user in users.items()}
    scopes["alice"].boards.create("Animals", visibility="public")
    scopes["bob"].boards.create("animals", description="bob's", visibility="public")
    scopes["carol"].boards.create("Secret")
    uploaded: list[Pin] = []
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
        uploaded.append(pin)
        if index % 9 == 0 and owner != "bob":
            scopes[owner].share(pin.id, "bob", role="editor" if index % 2 else "viewer")
        if index % 11 == 0 and pin.visibility == "public" and owner == "alice":
            # Alice's pin on Bob's board of the same name as hers: ids must decide.
            scopes["bob"].boards.add("animals", pin.id)
        if index % 50 == 0:
            scopes[owner].create_link(pin.id)
    secret = scopes["carol"].boards.get("Secret")
    scopes["carol"].share(secret.id, "alice")
    alice = scopes["alice"]  # owns the pins of every index divisible by 3
    limited = alice.create_link(uploaded[6].id, max_uses=3, expires_in=timedelta(days=30))
    store.open_link(limited.token)
    revoked = alice.create_link(uploaded[12].id)
    alice.revoke_link(revoked.id)
    reader = alice.api_tokens.create("backup", scopes=["read"])
    store.as_token(reader.token)  # records its last use
    rotated = store.refresh_tokens.issue(users["alice"])
    _, session = store.refresh_tokens.rotate(rotated)
    signed_out = store.refresh_tokens.issue(users["bob"])
    store.refresh_tokens.revoke(signed_out)
    secrets = Secrets(
        open_link=alice.create_link(uploaded[3].id, allow_download=False).token,
        limited_link=limited.token,
        locked_link=alice.create_link(uploaded[9].id, password=LINK_PASSWORD).token,
        revoked_link=revoked.token,
        board_link=alice.create_link(alice.boards.get("Animals").id).token,
        reader_token=reader.token,
        writer_token=scopes["bob"].api_tokens.create("uploader", scopes=["read", "write"]).token,
        session=session,
        rotated_session=rotated,
        signed_out_session=signed_out,
    )
    (folder / SECRETS_FILE).write_text(json.dumps(asdict(secrets)))
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


def links_and_tokens(
    store: pinsphere.PinStore,
) -> tuple[
    list[tuple[Link, str, str | None]], list[tuple[ApiToken, str]], list[RefreshTokenRecord]
]:
    """Every link, API token and refresh token as stored, digests and state included."""
    return (
        list(store.metadata.export_links()),
        list(store.user_backend.export_api_tokens()),
        list(store.user_backend.export_refresh_tokens()),
    )


def assert_links_and_tokens_work(target: pinsphere.PinStore, secrets: Secrets) -> None:
    """Every secret of the source works in the target as it did, and no more."""
    opened = target.open_link(secrets.open_link)
    assert opened.get(opened.link.target_id).id == opened.link.target_id
    assert not opened.link.allow_download
    # Three uses, one taken in the source: two are left (a scope shows the link as it was
    # before its own opening was counted).
    for uses_before in (1, 2):
        assert target.open_link(secrets.limited_link).link.uses == uses_before
    with pytest.raises(errors.NotFound):
        target.open_link(secrets.limited_link)
    with pytest.raises(errors.AuthenticationError):
        target.open_link(secrets.locked_link)
    with pytest.raises(errors.AuthenticationError):
        target.open_link(secrets.locked_link, password="wrong")
    locked = target.open_link(secrets.locked_link, password=LINK_PASSWORD)
    assert locked.get(locked.link.target_id).title == "pin 9"
    with pytest.raises(errors.NotFound):
        target.open_link(secrets.revoked_link)
    board = target.open_link(secrets.board_link)
    assert board.link.target_kind == "board"
    assert board.search().items
    for pin in board.search(limit=100).items:
        assert "Animals" in pin.boards

    reader = target.as_token(secrets.reader_token)
    assert reader.user is not None
    assert (reader.user.username, reader.read_only) == ("alice", True)
    writer = target.as_token(secrets.writer_token)
    assert writer.user is not None
    assert (writer.user.username, writer.read_only) == ("bob", False)
    with pytest.raises(errors.AuthenticationError):
        target.as_token("pst_" + "x" * 43)

    user, renewed = target.refresh_tokens.rotate(secrets.session)
    assert user.username == "alice"
    assert target.refresh_tokens.rotate(renewed)[0].username == "alice"
    with pytest.raises(errors.AuthenticationError):
        target.refresh_tokens.rotate(secrets.signed_out_session)
    # Presenting a token that was used up in the source is reuse: the family is revoked.
    with pytest.raises(errors.AuthenticationError):
        target.refresh_tokens.rotate(secrets.rotated_session)


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
    # Links and tokens with their digests and whole state (uses, revocation, last use...).
    links, api_tokens, refresh_tokens = links_and_tokens(source)
    links = [record for record in links if record[0].target_id not in except_pins]
    assert links_and_tokens(target) == (links, api_tokens, refresh_tokens)
    # Derived media (thumbnails and the like) byte for byte; the target keeps its own marker.
    for key in source.blobs.keys(prefix=""):
        if not key.startswith("originals/") and key != LAYOUT_MARKER_KEY:
            assert target.blobs.size(key) == source.blobs.size(key)
    assert read_marker(target.blobs) == target.layout


# -- tests ----------------------------------------------------------------------------------


def test_a_store_moves_from_sqlite_and_files_to_postgresql_and_s3(
    source: pinsphere.PinStore, target: pinsphere.PinStore, source_folder: Path
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
    assert report.copied["links"] == len(source.metadata.list_links()) == 10
    assert report.copied["api_tokens"] == 2
    assert report.copied["refresh_tokens"] == 3
    assert report.not_migrated == []
    assert report.left_out == {}
    assert_same_store(source, target)
    assert_links_and_tokens_work(target, read_secrets(source_folder))
    pins_seen = [state for state in seen if state.stage == "pins"]
    assert pins_seen[-1].done == pins_seen[-1].total == PINS
    assert 0 < pins_seen[-1].bytes_copied <= seen[-1].bytes_copied == report.bytes_copied
    assert [state.done for state in seen if state.stage == "links"] == [10]
    assert seen[-1].stage == "refresh_tokens"

    again = migrate_store(source, target)
    assert again.ok
    assert again.copied.get("pins", 0) == again.copied.get("blobs", 0) == 0
    assert again.skipped["pins"] == PINS
    assert again.copied.get("audit_events", 0) == again.copied.get("shares", 0) == 0
    for kind, count in (("links", 10), ("api_tokens", 2), ("refresh_tokens", 3)):
        assert (again.copied.get(kind, 0), again.skipped[kind]) == (0, count)
    # What the target did with them since is kept: nothing was copied over it.
    with pytest.raises(errors.NotFound):
        target.open_link(read_secrets(source_folder).limited_link)


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


def test_a_migration_interrupted_among_the_links_resumes_without_copying_twice(
    source: pinsphere.PinStore, source_folder: Path, tmp_path: Path
) -> None:
    class StopError(Exception):
        pass

    def stop_among_links(state: MigrationProgress) -> None:
        if state.stage == "links" and state.done == 4:
            raise StopError

    with pinsphere.open(tmp_path / "target", settings=FAST_SETTINGS) as target:
        with pytest.raises(StopError):
            migrate_store(source, target, progress=stop_among_links, page_size=2)
        assert len(list(target.metadata.export_links())) == 4
        assert list(target.user_backend.export_api_tokens()) == []

        report = migrate_store(source, target, page_size=2)
        assert report.ok, report.summary()
        assert (report.skipped["links"], report.copied["links"]) == (4, 6)
        assert report.copied["api_tokens"] == 2
        assert report.copied["refresh_tokens"] == 3
        assert_same_store(source, target)
        assert_links_and_tokens_work(target, read_secrets(source_folder))


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
        orphaned = source.as_user(victim.owner).create_link(victim.id)
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
            assert [(p.kind, p.id) for p in report.errors] == [
                ("blob", key),
                ("link", orphaned.id),
            ]
            assert "corrupt" in report.errors[0].reason
            assert report.errors[1].reason == f"its pin {victim.id} was not copied"
            assert not target.blobs.exists(target.layout.key(victim.media.sha256))
            assert report.copied["pins"] == PINS - 1
            assert (report.copied["links"], report.left_out) == (10, {"links": 1})
            assert "links: 10 copied, 0 already there, 1 left out" in report.summary()
            assert target.metadata.get_link(orphaned.id) is None
            with pytest.raises(errors.NotFound):
                target.open_link(orphaned.token)
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
    assert "links: 10 copied, 0 already there" in result.output
    assert "api tokens: 2 copied, 0 already there" in result.output
    assert "refresh tokens: 3 copied, 0 already there" in result.output
    assert "not migrated" not in result.output
    secrets = read_secrets(source_folder)
    with pinsphere.open(
        metadata=f"sqlite:///{target_db}",
        users=f"sqlite:///{target_db}",
        blobs=(tmp_path / "target-blobs").as_uri(),
    ) as target:
        assert target.metadata.count_pins(Query(), EVERYTHING) == PINS
        assert target.open_link(secrets.open_link).link.target_kind == "pin"
        assert target.as_token(secrets.writer_token).user is not None


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


# -- backends written before links and tokens could be exported ----------------------------


class MetadataWithoutExports(MemoryMetadataBackend):
    """A metadata backend written before ``export_links`` and ``import_link``."""

    export_links = MetadataBackend.export_links  # type: ignore[assignment]
    import_link = MetadataBackend.import_link


class UsersWithoutExports(MemoryUserBackend):
    """A user backend written before API and refresh tokens could be exported."""

    export_api_tokens = UserBackend.export_api_tokens  # type: ignore[assignment]
    import_api_token = UserBackend.import_api_token
    export_refresh_tokens = UserBackend.export_refresh_tokens  # type: ignore[assignment]
    import_refresh_token = UserBackend.import_refresh_token


def store_on(metadata: MetadataBackend, users: UserBackend) -> pinsphere.PinStore:
    """A store on these backends and fresh memory blobs."""
    blobs = pinsphere.open(
        metadata="memory://", users="memory://", blobs="memory://", settings=FAST_SETTINGS
    ).blobs
    return pinsphere.PinStore(metadata=metadata, users=users, blobs=blobs, settings=FAST_SETTINGS)


def small_store(store: pinsphere.PinStore) -> pinsphere.PinStore:
    """Two pins, three links, an API token and a refresh token."""
    alice = store.users.create("alice", password="alice-password")
    me = store.as_user(alice)
    for index in range(2):
        pin = me.upload(image(index), title=f"pin {index}")
        me.create_link(pin.id)
    me.create_link(pin.id, max_uses=2)
    me.api_tokens.create("script")
    store.refresh_tokens.issue(alice)
    return store


def test_links_and_tokens_a_target_cannot_import_are_counted_and_explained() -> None:
    source = small_store(store_on(MemoryMetadataBackend(), MemoryUserBackend()))
    target = store_on(MetadataWithoutExports(), UsersWithoutExports())
    report = migrate_store(source, target)
    assert report.ok, report.summary()
    assert (report.copied["users"], report.copied["pins"]) == (1, 2)
    assert report.left_out == {"links": 3, "api_tokens": 1, "refresh_tokens": 1}
    assert [(p.kind, p.id) for p in report.not_migrated] == [
        ("link", "*"),
        ("api_token", "*"),
        ("refresh_token", "*"),
    ]
    reasons = [p.reason for p in report.not_migrated]
    assert reasons[0] == (
        "links: the new store cannot import them: MetadataWithoutExports cannot import public "
        "links; make them again on the new store"
    )
    assert "UsersWithoutExports cannot import API tokens" in reasons[1]
    assert reasons[2].endswith("their users sign in again on the new store")
    summary = report.summary()
    assert "links: 0 copied, 0 already there, 3 left out" in summary
    assert f"not migrated: {reasons[0]}" in summary
    assert target.metadata.list_links() == []


def test_links_and_tokens_a_source_cannot_export_are_explained() -> None:
    source = small_store(store_on(MetadataWithoutExports(), UsersWithoutExports()))
    target = store_on(MemoryMetadataBackend(), MemoryUserBackend())
    report = migrate_store(source, target)
    assert report.ok, report.summary()
    assert report.copied["pins"] == 2
    assert report.left_out == {}
    assert [p.kind for p in report.not_migrated] == ["link", "api_token", "refresh_token"]
    assert all("the source store cannot export them" in p.reason for p in report.not_migrated)
    assert "MetadataWithoutExports cannot export public links" in report.not_migrated[0].reason
    assert target.metadata.list_links() == []


def test_links_moved_to_mongodb_keep_their_uses_password_and_revocation() -> None:
    from pinsphere.backends.mongo.metadata import MongoMetadataBackend

    source = store_on(MemoryMetadataBackend(), MemoryUserBackend())
    me = source.as_user(source.users.create("alice", password="alice-password"))
    pin = me.upload(image(1), title="shared")
    limited = me.create_link(pin.id, max_uses=2)
    source.open_link(limited.token)
    locked = me.create_link(pin.id, password=LINK_PASSWORD)
    revoked = me.create_link(pin.id)
    me.revoke_link(revoked.id)
    mongo = MongoMetadataBackend(mongomock.MongoClient(), database=f"t{uuid.uuid4().hex[:12]}")
    target = store_on(mongo, MemoryUserBackend())

    report = migrate_store(source, target)

    assert report.ok, report.summary()
    assert report.copied["links"] == 3
    assert list(mongo.export_links()) == list(source.metadata.export_links())
    assert target.open_link(limited.token).get(pin.id).title == "shared"
    with pytest.raises(errors.NotFound):
        target.open_link(limited.token)  # its second and last use was taken above
    with pytest.raises(errors.AuthenticationError):
        target.open_link(locked.token, password="wrong")
    assert target.open_link(locked.token, password=LINK_PASSWORD).link.id == locked.id
    with pytest.raises(errors.NotFound):
        target.open_link(revoked.token)


def test_the_default_export_and_import_methods_raise_unsupported() -> None:
    metadata, users = MetadataWithoutExports(), UsersWithoutExports()
    calls = [
        lambda: metadata.export_links(),
        lambda: metadata.import_link(None, "", None),  # type: ignore[arg-type]
        lambda: users.export_api_tokens(),
        lambda: users.import_api_token(None, ""),  # type: ignore[arg-type]
        lambda: users.export_refresh_tokens(),
        lambda: users.import_refresh_token(None),  # type: ignore[arg-type]
    ]
    operations = []
    for call in calls:
        with pytest.raises(errors.Unsupported) as caught:
            call()
        assert isinstance(caught.value, NotImplementedError)
        operations.append(caught.value.operation)
    assert operations == [
        "export_links",
        "import_link",
        "export_api_tokens",
        "import_api_token",
        "export_refresh_tokens",
        "import_refresh_token",
    ]


def test_report_summary_lists_errors() -> None:
    report = MigrationReport()
    report.count_copied("pins", 3)
    assert "pins: 3 copied, 0 already there" in report.summary()
    assert report.ok
