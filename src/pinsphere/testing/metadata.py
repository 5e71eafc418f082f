"""The conformance suite for :class:`~pinsphere.backends.base.MetadataBackend`.

Subclass :class:`MetadataBackendSuite` in a test module and provide a ``backend`` fixture
that yields a fresh, empty backend::

    class TestMyMetadata(MetadataBackendSuite):
        @pytest.fixture
        def backend(self) -> Iterator[MetadataBackend]:
            backend = MyMetadataBackend.from_url("my://...")
            yield backend
            backend.close()

Besides example tests of every method and every search term, the suite runs a property test
(:meth:`MetadataBackendSuite.test_search_agrees_with_a_plain_python_oracle`) that builds small
random worlds and checks searches against :class:`Oracle`, a deliberately naive
implementation of the rules in :mod:`pinsphere.query` written independently of any backend.
"""

from __future__ import annotations

import functools
import hashlib
import operator
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from pinsphere.backends.base import BoardChanges, MetadataBackend, PinChanges
from pinsphere.backends.memory.metadata import MemoryMetadataBackend
from pinsphere.errors import Conflict, InvalidInput, InvalidQuery, NotFound
from pinsphere.ids import encode_id, new_id
from pinsphere.models import (
    PROCESSING_STATES,
    VISIBILITIES,
    Board,
    Link,
    Pin,
    ProcessingState,
    TagCount,
    TargetKind,
    Visibility,
)
from pinsphere.policy import AccessRule
from pinsphere.query import (
    BoardTerm,
    Comparison,
    DateTerm,
    DimensionTerm,
    MediaKind,
    Order,
    OwnerTerm,
    Query,
    TagTerm,
    Term,
    TextTerm,
    TypeTerm,
    VisibilityTerm,
)
from pinsphere.testing.factories import (
    ANONYMOUS,
    EVERYTHING,
    make_board,
    make_pin,
    now_ms,
    signed_in,
)
from pinsphere.text import words

__all__ = ["MetadataBackendSuite", "Oracle"]

ALICE = "user-alice"
BOB = "user-bob"
CAROL = "user-carol"

# When the date tests' pins were made: far enough from "now" that no other pin interferes.
_DAY = datetime(2026, 1, 10, tzinfo=UTC)


# -- small helpers ----------------------------------------------------------------------------


_alice_pin = functools.partial(make_pin, owner_id=ALICE, owner="alice")
_bob_pin = functools.partial(make_pin, owner_id=BOB, owner="bob")


def _insert(backend: MetadataBackend, *pins: Pin, boards: Sequence[str] = ()) -> None:
    """Insert pins, each on the given boards."""
    backend.insert_pins([(pin, tuple(boards)) for pin in pins])


def _query(*terms: Term, order: Order = "newest") -> Query:
    return Query(terms=terms, order=order)


def _text(text: str, *, phrase: bool = False, negated: bool = False) -> TextTerm:
    """A text term holding the normalised words of ``text``, as the parser makes it."""
    return TextTerm(words=tuple(words(text)), phrase=phrase, negated=negated)


def _ids(pins: Sequence[Pin]) -> list[str]:
    return [pin.id for pin in pins]


def _found(
    backend: MetadataBackend, *terms: Term, access: AccessRule = EVERYTHING, order: Order = "newest"
) -> set[str]:
    """Ids of every pin a search finds (one large page), as a set."""
    return set(_ids(backend.search_pins(_query(*terms, order=order), access, limit=1000)))


def _newest_first(pins: Sequence[Pin]) -> list[str]:
    return sorted(_ids(pins), reverse=True)


def _all_pages(
    backend: MetadataBackend, query: Query, access: AccessRule, page_size: int
) -> list[str]:
    """Walk every page of a search by keyset; fail if the walk does not end."""
    seen: list[str] = []
    after: str | None = None
    for _ in range(1000):
        page = backend.search_pins(query, access, limit=page_size, after=after)
        assert len(page) <= page_size
        if not page:
            return seen
        seen.extend(_ids(page))
        after = page[-1].id
    pytest.fail("paging did not end")


def _pin_fields(pin: Pin) -> dict[str, object]:
    """The stored fields of a pin (``boards`` depends on who asks)."""
    return pin.model_dump(exclude={"boards"})


# Links are checked at these times; microseconds included, since every one must survive.
_LINK_TIME = datetime(2026, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)
_LINK_LATER = _LINK_TIME + timedelta(days=7, microseconds=654321)
_LINK_PASSWORD_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"  # noqa: S105 - not a real one


def _link(
    target_id: str,
    *,
    kind: TargetKind = "pin",
    expires_at: datetime | None = None,
    max_uses: int | None = None,
    has_password: bool = False,
    allow_download: bool = True,
) -> Link:
    """A new link (ids increase in call order, so export order is creation order)."""
    return Link(
        id=encode_id(new_id()),
        target_kind=kind,
        target_id=target_id,
        created_by=ALICE,
        created_at=_LINK_TIME - timedelta(hours=1),
        expires_at=expires_at,
        max_uses=max_uses,
        has_password=has_password,
        allow_download=allow_download,
    )


def _digest(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


# -- the suite --------------------------------------------------------------------------------


class MetadataBackendSuite:
    """Tests every metadata backend must pass; needs a ``backend`` fixture."""

    # -- basics -----------------------------------------------------------------------------

    def test_ping_answers(self, backend: MetadataBackend) -> None:
        backend.ping()

    def test_a_fresh_backend_is_empty(self, backend: MetadataBackend) -> None:
        assert backend.search_pins(Query(), EVERYTHING, limit=10) == []
        assert backend.count_pins(Query(), EVERYTHING) == 0
        assert backend.tag_counts(EVERYTHING) == []
        assert backend.list_boards(EVERYTHING) == []
        assert backend.owner_pin_ids(ALICE) == []

    # -- inserting and reading pins ---------------------------------------------------------

    def test_insert_returns_how_many(self, backend: MetadataBackend) -> None:
        pins = [_alice_pin(), _alice_pin(), _bob_pin()]
        assert backend.insert_pins((pin, ()) for pin in pins) == 3
        assert backend.insert_pins([]) == 0
        assert backend.count_pins(Query(), EVERYTHING) == 3

    def test_get_returns_every_field_as_inserted(self, backend: MetadataBackend) -> None:
        pin = _alice_pin(
            title="Sleepy cat",
            description="On the sofa, again.",
            tags=["animals/cats", "funny"],
            visibility="internal",
            mime_type="image/gif",
            width=320,
            height=200,
            size=98765,
            duration=2.5,
            thumbnails=(160, 640),
        )
        _insert(backend, pin)
        got = backend.get_pin(pin.id, EVERYTHING)
        assert got is not None
        assert _pin_fields(got) == _pin_fields(pin)
        assert got.boards == ()

    def test_unknown_dimensions_round_trip(self, backend: MetadataBackend) -> None:
        pin = _alice_pin(width=None, height=None, mime_type="video/mp4")
        _insert(backend, pin)
        got = backend.get_pin(pin.id, EVERYTHING)
        assert got is not None
        assert (got.media.width, got.media.height) == (None, None)

    def test_get_unknown_or_malformed_id_is_none(self, backend: MetadataBackend) -> None:
        _insert(backend, _alice_pin(visibility="public"))
        assert backend.get_pin(make_pin().id, EVERYTHING) is None
        assert backend.get_pin("not-an-id", EVERYTHING) is None
        assert backend.get_pin("", EVERYTHING) is None

    def test_boards_given_on_the_pin_are_ignored(self, backend: MetadataBackend) -> None:
        pin = _alice_pin().model_copy(update={"boards": ("Made up",)})
        _insert(backend, pin)
        got = backend.get_pin(pin.id, EVERYTHING)
        assert got is not None
        assert got.boards == ()

    def test_duplicate_pin_id_is_a_conflict(self, backend: MetadataBackend) -> None:
        pin = _alice_pin(title="first")
        _insert(backend, pin)
        with pytest.raises(Conflict):
            _insert(backend, pin.model_copy(update={"title": "second"}))
        got = backend.get_pin(pin.id, EVERYTHING)
        assert got is not None
        assert got.title == "first"

    def test_insert_is_all_or_nothing_on_conflict(self, backend: MetadataBackend) -> None:
        existing = _alice_pin()
        _insert(backend, existing)
        fresh = _alice_pin()
        with pytest.raises(Conflict):
            _insert(backend, fresh, existing)
        assert backend.get_pin(fresh.id, EVERYTHING) is None
        assert backend.count_pins(Query(), EVERYTHING) == 1

    def test_the_same_id_twice_in_one_batch_is_a_conflict(self, backend: MetadataBackend) -> None:
        pin = _alice_pin()
        with pytest.raises(Conflict):
            _insert(backend, pin, pin)
        assert backend.count_pins(Query(), EVERYTHING) == 0

    def test_insert_on_an_unknown_board_is_not_found_and_stores_nothing(
        self, backend: MetadataBackend
    ) -> None:
        pin = _alice_pin()
        with pytest.raises(NotFound):
            backend.insert_pins([(_alice_pin(), ()), (pin, ("no-such-board",))])
        assert backend.count_pins(Query(), EVERYTHING) == 0

    def test_insert_puts_pins_on_their_boards(self, backend: MetadataBackend) -> None:
        cats = backend.create_board(make_board("Cats", owner_id=ALICE))
        funny = backend.create_board(make_board("Funny", owner_id=ALICE))
        pin = _alice_pin()
        other = _alice_pin()
        backend.insert_pins([(pin, (funny.id, cats.id)), (other, (cats.id,))])
        got = backend.get_pin(pin.id, EVERYTHING)
        assert got is not None
        assert got.boards == ("Cats", "Funny")
        cats_now = backend.get_board(cats.id, EVERYTHING)
        assert cats_now is not None
        assert cats_now.pin_count == 2

    # -- updating pins ----------------------------------------------------------------------

    def test_update_changes_only_what_is_named(self, backend: MetadataBackend) -> None:
        pin = _alice_pin(title="Old", description="Keep me", tags=["a"], visibility="private")
        _insert(backend, pin)
        later = pin.updated_at + timedelta(minutes=5)
        updated = backend.update_pin(
            pin.id, PinChanges(title="New", visibility="public", updated_at=later)
        )
        assert updated is not None
        assert (updated.title, updated.description, updated.visibility) == (
            "New",
            "Keep me",
            "public",
        )
        assert updated.tags == ("a",)
        assert updated.updated_at == later
        assert updated.created_at == pin.created_at
        assert updated.media == pin.media
        got = backend.get_pin(pin.id, EVERYTHING)
        assert got is not None
        assert _pin_fields(got) == _pin_fields(updated)

    def test_update_description_thumbnails_and_blurhash(self, backend: MetadataBackend) -> None:
        pin = _alice_pin(thumbnails=())
        _insert(backend, pin)
        changes = PinChanges(
            description="Now described",
            thumbnails=(320, 640, 1280),
            blurhash="LEHV6nWB2yk8pyo0adR*.7kCMdnj",
            updated_at=now_ms(),
        )
        updated = backend.update_pin(pin.id, changes)
        assert updated is not None
        assert updated.description == "Now described"
        assert updated.thumbnails == (320, 640, 1280)
        assert updated.media.blurhash == "LEHV6nWB2yk8pyo0adR*.7kCMdnj"
        assert updated.media.sha256 == pin.media.sha256
        got = backend.get_pin(pin.id, EVERYTHING)
        assert got is not None
        assert _pin_fields(got) == _pin_fields(updated)

    @pytest.mark.parametrize("state", PROCESSING_STATES)
    def test_processing_state_round_trips(
        self, backend: MetadataBackend, state: ProcessingState
    ) -> None:
        pin = _alice_pin().model_copy(update={"processing": state})
        _insert(backend, pin)
        got = backend.get_pin(pin.id, EVERYTHING)
        assert got is not None
        assert got.processing == state
        found = backend.search_pins(Query(), EVERYTHING, limit=10)
        assert [found_pin.processing for found_pin in found] == [state]

    @pytest.mark.parametrize(
        ("before", "after"),
        [("pending", "ready"), ("pending", "failed"), ("failed", "ready"), ("ready", "pending")],
    )
    def test_update_changes_the_processing_state(
        self, backend: MetadataBackend, before: ProcessingState, after: ProcessingState
    ) -> None:
        pin = _alice_pin(title="Kept").model_copy(update={"processing": before})
        _insert(backend, pin)
        updated = backend.update_pin(pin.id, PinChanges(processing=after, updated_at=now_ms()))
        assert updated is not None
        assert (updated.processing, updated.title) == (after, "Kept")
        got = backend.get_pin(pin.id, EVERYTHING)
        assert got is not None
        assert _pin_fields(got) == _pin_fields(updated)
        untouched = backend.update_pin(pin.id, PinChanges(title="New", updated_at=now_ms()))
        assert untouched is not None
        assert untouched.processing == after

    def test_update_the_derived_media_facts(self, backend: MetadataBackend) -> None:
        pin = _alice_pin(width=None, height=None, mime_type="video/mp4", thumbnails=())
        pin = pin.model_copy(update={"processing": "pending"})
        _insert(backend, pin)
        changes = PinChanges(
            thumbnails=(256, 640),
            blurhash="LEHV6nWB2yk8pyo0adR*.7kCMdnj",
            duration=12.5,
            width=1920,
            height=1080,
            processing="ready",
            updated_at=now_ms(),
        )
        updated = backend.update_pin(pin.id, changes)
        assert updated is not None
        media = updated.media
        assert (media.width, media.height, media.duration) == (1920, 1080, 12.5)
        assert media.blurhash == "LEHV6nWB2yk8pyo0adR*.7kCMdnj"
        assert (media.size, media.sha256, media.mime_type) == (
            pin.media.size,
            pin.media.sha256,
            pin.media.mime_type,
        )
        assert (updated.thumbnails, updated.processing) == ((256, 640), "ready")
        got = backend.get_pin(pin.id, EVERYTHING)
        assert got is not None
        assert _pin_fields(got) == _pin_fields(updated)
        # Dimension searches see the new facts.
        wide = DimensionTerm(field="width", op=">=", value=1900)
        assert _found(backend, wide) == {pin.id}

    @pytest.mark.parametrize(
        "taken_at",
        [
            datetime(2024, 5, 1, 14, 30, 5, 250000, tzinfo=timezone(timedelta(hours=2))),
            datetime(2023, 12, 31, 23, 59, 59, tzinfo=UTC),
            datetime(2024, 5, 1, 14, 30, 5),  # naive: camera-local, no offset recorded
            None,
        ],
        ids=["offset", "utc", "naive", "none"],
    )
    def test_media_facts_round_trip(
        self, backend: MetadataBackend, taken_at: datetime | None
    ) -> None:
        pin = _alice_pin()
        media = pin.media.model_copy(
            update={
                "frame_count": 42,
                "codec": "h264",
                "camera": "Pinsphere Optics PX-1",
                "taken_at": taken_at,
            }
        )
        pin = pin.model_copy(update={"media": media})
        _insert(backend, pin)
        got = backend.get_pin(pin.id, EVERYTHING)
        found = backend.search_pins(Query(), EVERYTHING, limit=10)
        assert got is not None
        assert [found_pin.id for found_pin in found] == [pin.id]
        for read in (got.media, found[0].media):
            assert (read.frame_count, read.codec, read.camera) == (
                42,
                "h264",
                "Pinsphere Optics PX-1",
            )
            assert read.taken_at == taken_at
            if taken_at is not None:
                assert read.taken_at is not None
                # The offset the camera recorded is kept; a naive time stays naive.
                assert read.taken_at.utcoffset() == taken_at.utcoffset()
        assert _pin_fields(got) == _pin_fields(pin)
        assert _pin_fields(found[0]) == _pin_fields(pin)

    def test_media_facts_are_none_when_unknown(self, backend: MetadataBackend) -> None:
        pin = _alice_pin()
        _insert(backend, pin)
        got = backend.get_pin(pin.id, EVERYTHING)
        assert got is not None
        media = got.media
        assert (media.frame_count, media.codec, media.camera, media.taken_at) == (None,) * 4

    def test_update_sets_the_exif_and_stream_facts(self, backend: MetadataBackend) -> None:
        pin = _alice_pin(mime_type="video/mp4", thumbnails=())
        pin = pin.model_copy(update={"processing": "pending"})
        _insert(backend, pin)
        taken = datetime(2024, 5, 1, 9, 15, 0, tzinfo=timezone(timedelta(hours=-7)))
        changes = PinChanges(
            frame_count=300,
            codec="hevc",
            camera="Canon EOS R6",
            taken_at=taken,
            processing="ready",
            updated_at=now_ms(),
        )
        updated = backend.update_pin(pin.id, changes)
        assert updated is not None
        media = updated.media
        assert (media.frame_count, media.codec, media.camera) == (300, "hevc", "Canon EOS R6")
        assert media.taken_at == taken
        assert media.taken_at is not None
        assert media.taken_at.utcoffset() == timedelta(hours=-7)
        assert (media.width, media.height, media.sha256) == (
            pin.media.width,
            pin.media.height,
            pin.media.sha256,
        )
        got = backend.get_pin(pin.id, EVERYTHING)
        assert got is not None
        assert _pin_fields(got) == _pin_fields(updated)
        # A later update that names none of them leaves them as they are.
        kept = backend.update_pin(pin.id, PinChanges(title="Later", updated_at=now_ms()))
        assert kept is not None
        assert kept.media == updated.media

    def test_size_and_digest_are_not_changeable(self) -> None:
        for name in ("size", "sha256", "mime_type"):
            with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
                PinChanges.model_validate({name: "x", "updated_at": now_ms()})

    def test_pins_in_state_finds_them_oldest_first(self, backend: MetadataBackend) -> None:
        start = now_ms() - timedelta(hours=1)
        made = [
            _alice_pin(created_at=start + timedelta(seconds=i)).model_copy(
                update={"processing": state}
            )
            for i, state in enumerate(["pending", "ready", "failed", "pending", "pending"])
        ]
        _insert(backend, *made[::-1], _bob_pin())
        pending = [pin.id for pin in made if pin.processing == "pending"]
        assert _ids(backend.pins_in_state("pending", limit=10)) == pending
        assert _ids(backend.pins_in_state("pending", limit=2)) == pending[:2]
        assert _ids(backend.pins_in_state("failed", limit=10)) == [made[2].id]
        assert len(backend.pins_in_state("ready", limit=10)) == 2
        got = backend.pins_in_state("failed", limit=1)[0]
        assert _pin_fields(got) == _pin_fields(made[2])
        backend.update_pin(made[0].id, PinChanges(processing="ready", updated_at=now_ms()))
        backend.delete_pin(made[3].id)
        assert _ids(backend.pins_in_state("pending", limit=10)) == [made[4].id]

    def test_pins_in_state_limit_below_one_is_invalid(self, backend: MetadataBackend) -> None:
        with pytest.raises(InvalidInput):
            backend.pins_in_state("pending", limit=0)

    def test_update_can_empty_the_title(self, backend: MetadataBackend) -> None:
        pin = _alice_pin(title="Something")
        _insert(backend, pin)
        updated = backend.update_pin(pin.id, PinChanges(title="", updated_at=now_ms()))
        assert updated is not None
        assert updated.title == ""

    def test_update_adds_and_removes_tags(self, backend: MetadataBackend) -> None:
        pin = _alice_pin(tags=["b", "c"])
        _insert(backend, pin)
        changes = PinChanges(add_tags=("d", "a", "b"), remove_tags=("c",), updated_at=now_ms())
        updated = backend.update_pin(pin.id, changes)
        assert updated is not None
        assert updated.tags == ("a", "b", "d")

    def test_removing_an_absent_tag_is_fine(self, backend: MetadataBackend) -> None:
        pin = _alice_pin(tags=["a"])
        _insert(backend, pin)
        updated = backend.update_pin(pin.id, PinChanges(remove_tags=("z",), updated_at=now_ms()))
        assert updated is not None
        assert updated.tags == ("a",)

    def test_a_tag_both_added_and_removed_ends_up_removed(self, backend: MetadataBackend) -> None:
        pin = _alice_pin(tags=["keep", "x"])
        _insert(backend, pin)
        changes = PinChanges(add_tags=("y", "x"), remove_tags=("x", "y"), updated_at=now_ms())
        updated = backend.update_pin(pin.id, changes)
        assert updated is not None
        assert updated.tags == ("keep",)

    def test_tag_changes_apply_to_the_current_tags(self, backend: MetadataBackend) -> None:
        # Two updates made from the same stale copy of the pin must both take effect: tag
        # changes are deltas, not a replacement of the whole list.
        pin = _alice_pin(tags=["base"])
        _insert(backend, pin)
        backend.update_pin(pin.id, PinChanges(add_tags=("one",), updated_at=now_ms()))
        backend.update_pin(pin.id, PinChanges(add_tags=("two",), updated_at=now_ms()))
        got = backend.get_pin(pin.id, EVERYTHING)
        assert got is not None
        assert got.tags == ("base", "one", "two")

    def test_tag_changes_are_searchable(self, backend: MetadataBackend) -> None:
        pin = _alice_pin(tags=["old"])
        _insert(backend, pin)
        backend.update_pin(
            pin.id, PinChanges(add_tags=("new/child",), remove_tags=("old",), updated_at=now_ms())
        )
        assert _found(backend, TagTerm(tag="new")) == {pin.id}
        assert _found(backend, TagTerm(tag="old")) == set()
        assert _found(backend, _text("child")) == {pin.id}

    def test_update_unknown_pin_is_none(self, backend: MetadataBackend) -> None:
        assert backend.update_pin(make_pin().id, PinChanges(title="x", updated_at=now_ms())) is None

    def test_update_returns_every_board_the_pin_is_on(self, backend: MetadataBackend) -> None:
        pin = _alice_pin(visibility="public")
        _insert(backend, pin)
        mine = backend.create_board(make_board("Mine", owner_id=ALICE, visibility="private"))
        bobs = backend.create_board(make_board("Bobs", owner_id=BOB, owner="bob"))
        backend.add_to_board(mine.id, pin.id)
        backend.add_to_board(bobs.id, pin.id)
        updated = backend.update_pin(pin.id, PinChanges(title="t", updated_at=now_ms()))
        assert updated is not None
        assert updated.boards == ("Bobs", "Mine")

    # -- deleting pins ----------------------------------------------------------------------

    def test_delete_returns_the_pin_and_removes_it(self, backend: MetadataBackend) -> None:
        pin = _alice_pin(tags=["gone"], visibility="public")
        keep = _alice_pin(tags=["kept"], visibility="public")
        _insert(backend, pin, keep)
        deleted = backend.delete_pin(pin.id)
        assert deleted is not None
        assert _pin_fields(deleted) == _pin_fields(pin)
        assert backend.get_pin(pin.id, EVERYTHING) is None
        assert backend.delete_pin(pin.id) is None
        assert _found(backend) == {keep.id}
        assert backend.tag_counts(EVERYTHING) == [TagCount(tag="kept", count=1)]

    def test_delete_unknown_pin_is_none(self, backend: MetadataBackend) -> None:
        assert backend.delete_pin(make_pin().id) is None

    def test_delete_takes_the_pin_off_its_boards(self, backend: MetadataBackend) -> None:
        board = backend.create_board(make_board("Cats", owner_id=ALICE))
        pin, keep = _alice_pin(), _alice_pin()
        _insert(backend, pin, keep, boards=[board.id])
        deleted = backend.delete_pin(pin.id)
        assert deleted is not None
        assert deleted.boards == ("Cats",)
        got = backend.get_board(board.id, EVERYTHING)
        assert got is not None
        assert got.pin_count == 1
        assert _found(backend, BoardTerm(name="cats")) == {keep.id}

    def test_a_deleted_id_may_not_come_back_as_a_leftover(self, backend: MetadataBackend) -> None:
        board = backend.create_board(make_board("Cats", owner_id=ALICE))
        pin = _alice_pin()
        _insert(backend, pin, boards=[board.id])
        backend.delete_pin(pin.id)
        _insert(backend, pin)
        got = backend.get_pin(pin.id, EVERYTHING)
        assert got is not None
        assert got.boards == ()

    # -- blob references and owners ---------------------------------------------------------

    def test_count_blob_references(self, backend: MetadataBackend) -> None:
        digest = "ab" * 32
        first = _alice_pin(sha256=digest, visibility="private")
        second = _bob_pin(sha256=digest, visibility="private")
        _insert(backend, first, second, _alice_pin())
        assert backend.count_blob_references(digest) == 2
        assert backend.count_blob_references("cd" * 32) == 0
        backend.delete_pin(first.id)
        assert backend.count_blob_references(digest) == 1
        backend.delete_pin(second.id)
        assert backend.count_blob_references(digest) == 0

    def test_owner_pin_ids(self, backend: MetadataBackend) -> None:
        alices = [_alice_pin(visibility=v) for v in VISIBILITIES]
        _insert(backend, *alices, _bob_pin())
        assert sorted(backend.owner_pin_ids(ALICE)) == sorted(_ids(alices))
        assert backend.owner_pin_ids(CAROL) == []

    # -- who sees which pins ----------------------------------------------------------------

    @pytest.mark.parametrize(
        ("visibility", "anonymous", "other_user", "owner", "admin"),
        [
            ("private", False, False, True, True),
            ("internal", False, True, True, True),
            ("public", True, True, True, True),
        ],
    )
    def test_get_applies_the_access_rule(
        self,
        backend: MetadataBackend,
        visibility: Visibility,
        anonymous: bool,
        other_user: bool,
        owner: bool,
        admin: bool,
    ) -> None:
        pin = _alice_pin(visibility=visibility)
        _insert(backend, pin)
        for access, expected in (
            (ANONYMOUS, anonymous),
            (signed_in(BOB), other_user),
            (signed_in(ALICE), owner),
            (EVERYTHING, admin),
        ):
            assert (backend.get_pin(pin.id, access) is not None) is expected, access

    def test_search_and_count_apply_the_access_rule(self, backend: MetadataBackend) -> None:
        pins = {
            (owner, visibility): make_pin(owner_id=owner, owner=owner, visibility=visibility)
            for owner in (ALICE, BOB)
            for visibility in VISIBILITIES
        }
        _insert(backend, *pins.values())
        expected = {
            ANONYMOUS: {pins[ALICE, "public"].id, pins[BOB, "public"].id},
            signed_in(ALICE): {p.id for k, p in pins.items() if k != (BOB, "private")},
            signed_in(CAROL): {p.id for k, p in pins.items() if k[1] != "private"},
            EVERYTHING: {p.id for p in pins.values()},
            AccessRule(owner_id=ALICE, visibilities=frozenset()): {
                p.id for k, p in pins.items() if k[0] == ALICE
            },
        }
        for access, visible in expected.items():
            assert _found(backend, access=access) == visible, access
            assert backend.count_pins(Query(), access) == len(visible), access

    def test_negated_terms_never_reveal_hidden_pins(self, backend: MetadataBackend) -> None:
        hidden = _bob_pin(tags=["secret"], visibility="private")
        shown = _bob_pin(tags=["open"], visibility="public")
        _insert(backend, hidden, shown)
        query = _query(TagTerm(tag="open", negated=True))
        assert backend.search_pins(query, ANONYMOUS, limit=10) == []
        assert backend.count_pins(query, ANONYMOUS) == 0

    # -- boards -----------------------------------------------------------------------------

    def test_create_and_get_board(self, backend: MetadataBackend) -> None:
        board = make_board("Cute Cats", owner_id=ALICE, description="so cute", visibility="public")
        created = backend.create_board(board)
        assert created.model_dump() == board.model_dump()
        got = backend.get_board(board.id, EVERYTHING)
        assert got is not None
        assert got.model_dump() == board.model_dump()

    def test_new_board_pin_count_is_zero(self, backend: MetadataBackend) -> None:
        board = make_board("Cats", owner_id=ALICE).model_copy(update={"pin_count": 7})
        created = backend.create_board(board)
        assert created.pin_count == 0

    def test_get_unknown_board_is_none(self, backend: MetadataBackend) -> None:
        assert backend.get_board("no-such-board", EVERYTHING) is None

    def test_board_names_are_unique_per_owner_ignoring_case(self, backend: MetadataBackend) -> None:
        backend.create_board(make_board("Cats", owner_id=ALICE))
        with pytest.raises(Conflict):
            backend.create_board(make_board("CATS", owner_id=ALICE))
        with pytest.raises(Conflict):
            backend.create_board(make_board("cats", owner_id=ALICE, visibility="public"))
        backend.create_board(make_board("cats", owner_id=BOB, owner="bob"))
        assert len(backend.list_boards(EVERYTHING)) == 2

    def test_find_board_ignores_case(self, backend: MetadataBackend) -> None:
        board = backend.create_board(make_board("Cute Cats", owner_id=ALICE))
        for spelling in ("Cute Cats", "cute cats", "CUTE CATS"):
            found = backend.find_board(ALICE, spelling, EVERYTHING)
            assert found is not None
            assert found.id == board.id
            assert found.name == "Cute Cats"
        assert backend.find_board(BOB, "Cute Cats", EVERYTHING) is None
        assert backend.find_board(ALICE, "Cute", EVERYTHING) is None

    @pytest.mark.parametrize(
        ("visibility", "anonymous", "other_user"),
        [("private", False, False), ("internal", False, True), ("public", True, True)],
    )
    def test_board_reads_apply_the_access_rule(
        self,
        backend: MetadataBackend,
        visibility: Visibility,
        anonymous: bool,
        other_user: bool,
    ) -> None:
        board = backend.create_board(make_board("Cats", owner_id=ALICE, visibility=visibility))
        for access, expected in (
            (ANONYMOUS, anonymous),
            (signed_in(BOB), other_user),
            (signed_in(ALICE), True),
            (EVERYTHING, True),
        ):
            assert (backend.get_board(board.id, access) is not None) is expected
            assert (backend.find_board(ALICE, "cats", access) is not None) is expected
            assert [b.id for b in backend.list_boards(access)] == ([board.id] if expected else [])

    def test_board_pin_count_counts_visible_pins(self, backend: MetadataBackend) -> None:
        board = backend.create_board(make_board("Mixed", owner_id=ALICE, visibility="public"))
        pins = [_alice_pin(visibility=v) for v in VISIBILITIES]
        _insert(backend, *pins, boards=[board.id])
        for access, count in (
            (ANONYMOUS, 1),
            (signed_in(BOB), 2),
            (signed_in(ALICE), 3),
            (EVERYTHING, 3),
        ):
            got = backend.get_board(board.id, access)
            found = backend.find_board(ALICE, "mixed", access)
            listed = backend.list_boards(access)
            assert got is not None
            assert found is not None
            assert (got.pin_count, found.pin_count, listed[0].pin_count) == (count,) * 3

    def test_list_boards_sorts_by_owner_then_name(self, backend: MetadataBackend) -> None:
        for owner_id, owner, name in (
            (BOB, "bob", "Birds"),
            (ALICE, "alice", "Zebras"),
            (BOB, "bob", "Ants"),
            (ALICE, "alice", "Cats"),
        ):
            backend.create_board(make_board(name, owner_id=owner_id, owner=owner))
        listed = [(b.owner, b.name) for b in backend.list_boards(EVERYTHING)]
        assert listed == [("alice", "Cats"), ("alice", "Zebras"), ("bob", "Ants"), ("bob", "Birds")]
        mine = [b.name for b in backend.list_boards(EVERYTHING, owner_id=BOB)]
        assert mine == ["Ants", "Birds"]
        assert backend.list_boards(EVERYTHING, owner_id=CAROL) == []

    def test_list_boards_of_one_owner_applies_the_access_rule(
        self, backend: MetadataBackend
    ) -> None:
        for visibility in VISIBILITIES:
            backend.create_board(make_board(visibility, owner_id=ALICE, visibility=visibility))
        names = [b.name for b in backend.list_boards(signed_in(BOB), owner_id=ALICE)]
        assert names == ["internal", "public"]

    def test_update_board(self, backend: MetadataBackend) -> None:
        board = backend.create_board(make_board("Cats", owner_id=ALICE, description="d"))
        changes = BoardChanges(name="Felines", visibility="public")
        updated = backend.update_board(board.id, changes)
        assert updated is not None
        assert (updated.name, updated.description, updated.visibility) == (
            "Felines",
            "d",
            "public",
        )
        assert backend.find_board(ALICE, "cats", EVERYTHING) is None
        found = backend.find_board(ALICE, "felines", ANONYMOUS)
        assert found is not None
        assert found.id == board.id
        described = backend.update_board(board.id, BoardChanges(description="new"))
        assert described is not None
        assert (described.name, described.description) == ("Felines", "new")

    def test_update_board_counts_its_pins(self, backend: MetadataBackend) -> None:
        board = backend.create_board(make_board("Cats", owner_id=ALICE))
        _insert(backend, _alice_pin(), _bob_pin(), boards=[board.id])
        updated = backend.update_board(board.id, BoardChanges(description="x"))
        assert updated is not None
        assert updated.pin_count == 2

    def test_rename_board_to_a_taken_name_is_a_conflict(self, backend: MetadataBackend) -> None:
        cats = backend.create_board(make_board("Cats", owner_id=ALICE))
        backend.create_board(make_board("Dogs", owner_id=ALICE))
        with pytest.raises(Conflict):
            backend.update_board(cats.id, BoardChanges(name="DOGS"))
        got = backend.get_board(cats.id, EVERYTHING)
        assert got is not None
        assert got.name == "Cats"

    def test_rename_board_may_change_only_case(self, backend: MetadataBackend) -> None:
        cats = backend.create_board(make_board("cats", owner_id=ALICE))
        backend.create_board(make_board("Dogs", owner_id=BOB, owner="bob"))
        updated = backend.update_board(cats.id, BoardChanges(name="Cats"))
        assert updated is not None
        assert updated.name == "Cats"
        # Another owner's board of that name is no obstacle.
        renamed = backend.update_board(cats.id, BoardChanges(name="dogs"))
        assert renamed is not None
        assert renamed.name == "dogs"

    def test_update_unknown_board_is_none(self, backend: MetadataBackend) -> None:
        assert backend.update_board("no-such-board", BoardChanges(name="x")) is None

    def test_delete_board_keeps_its_pins(self, backend: MetadataBackend) -> None:
        board = backend.create_board(make_board("Cats", owner_id=ALICE))
        pin = _alice_pin()
        _insert(backend, pin, boards=[board.id])
        assert backend.delete_board(board.id) is True
        assert backend.get_board(board.id, EVERYTHING) is None
        got = backend.get_pin(pin.id, EVERYTHING)
        assert got is not None
        assert got.boards == ()
        assert _found(backend, BoardTerm(name="Cats")) == set()
        assert backend.delete_board(board.id) is False
        again = backend.create_board(make_board("CATS", owner_id=ALICE))
        assert backend.find_board(ALICE, "cats", EVERYTHING) == again

    def test_add_to_board_is_idempotent(self, backend: MetadataBackend) -> None:
        board = backend.create_board(make_board("Cats", owner_id=ALICE))
        pin = _alice_pin()
        _insert(backend, pin)
        backend.add_to_board(board.id, pin.id)
        backend.add_to_board(board.id, pin.id)
        got = backend.get_board(board.id, EVERYTHING)
        assert got is not None
        assert got.pin_count == 1
        got_pin = backend.get_pin(pin.id, EVERYTHING)
        assert got_pin is not None
        assert got_pin.boards == ("Cats",)

    def test_add_to_board_needs_both_to_exist(self, backend: MetadataBackend) -> None:
        board = backend.create_board(make_board("Cats", owner_id=ALICE))
        pin = _alice_pin()
        _insert(backend, pin)
        with pytest.raises(NotFound):
            backend.add_to_board("no-such-board", pin.id)
        with pytest.raises(NotFound):
            backend.add_to_board(board.id, make_pin().id)

    def test_remove_from_board(self, backend: MetadataBackend) -> None:
        board = backend.create_board(make_board("Cats", owner_id=ALICE))
        pin, other = _alice_pin(), _alice_pin()
        _insert(backend, pin, other, boards=[board.id])
        backend.remove_from_board(board.id, pin.id)
        backend.remove_from_board(board.id, pin.id)
        got = backend.get_pin(pin.id, EVERYTHING)
        assert got is not None
        assert got.boards == ()
        assert _found(backend, BoardTerm(name="cats")) == {other.id}

    def test_remove_a_pin_that_is_not_on_the_board_is_fine(self, backend: MetadataBackend) -> None:
        board = backend.create_board(make_board("Cats", owner_id=ALICE))
        pin = _alice_pin()
        _insert(backend, pin)
        backend.remove_from_board(board.id, pin.id)
        backend.remove_from_board(board.id, make_pin().id)
        got = backend.get_board(board.id, EVERYTHING)
        assert got is not None
        assert got.pin_count == 0

    def test_pin_boards_lists_only_visible_boards_sorted_by_name(
        self, backend: MetadataBackend
    ) -> None:
        pin = _alice_pin(visibility="public")
        _insert(backend, pin)
        boards = [
            backend.create_board(make_board("Mine", owner_id=ALICE, visibility="private")),
            backend.create_board(
                make_board("Inside", owner_id=BOB, owner="bob", visibility="internal")
            ),
            backend.create_board(
                make_board("Everyone", owner_id=BOB, owner="bob", visibility="public")
            ),
        ]
        for board in boards:
            backend.add_to_board(board.id, pin.id)
        for access, expected in (
            (ANONYMOUS, ("Everyone",)),
            (signed_in(CAROL), ("Everyone", "Inside")),
            (signed_in(ALICE), ("Everyone", "Inside", "Mine")),
            (EVERYTHING, ("Everyone", "Inside", "Mine")),
        ):
            got = backend.get_pin(pin.id, access)
            assert got is not None
            assert got.boards == expected, access
            (found,) = backend.search_pins(Query(), access, limit=10)
            assert found.boards == expected, access

    # -- tag counts -------------------------------------------------------------------------

    def test_tag_counts_count_direct_tags_of_visible_pins(self, backend: MetadataBackend) -> None:
        _insert(
            backend,
            _alice_pin(tags=["animals/cats", "funny"], visibility="public"),
            _alice_pin(tags=["animals/cats"], visibility="public"),
            _alice_pin(tags=["animals", "zoo"], visibility="public"),
            _alice_pin(tags=["funny", "secret"], visibility="private"),
        )
        assert backend.tag_counts(ANONYMOUS) == [
            TagCount(tag="animals/cats", count=2),
            TagCount(tag="animals", count=1),
            TagCount(tag="funny", count=1),
            TagCount(tag="zoo", count=1),
        ]
        assert backend.tag_counts(signed_in(ALICE)) == [
            TagCount(tag="animals/cats", count=2),
            TagCount(tag="funny", count=2),
            TagCount(tag="animals", count=1),
            TagCount(tag="secret", count=1),
            TagCount(tag="zoo", count=1),
        ]
        assert backend.tag_counts(signed_in(BOB)) == backend.tag_counts(ANONYMOUS)

    def test_tag_counts_prefix_and_limit(self, backend: MetadataBackend) -> None:
        _insert(
            backend,
            _alice_pin(tags=["animals", "animals/cats", "animalsx", "art"]),
            _alice_pin(tags=["animals/cats", "art"]),
            _alice_pin(tags=["art"]),
        )
        assert [t.tag for t in backend.tag_counts(EVERYTHING, prefix="animals")] == [
            "animals/cats",
            "animals",
            "animalsx",
        ]
        assert backend.tag_counts(EVERYTHING, prefix="animals/") == [
            TagCount(tag="animals/cats", count=2)
        ]
        assert backend.tag_counts(EVERYTHING, prefix="nothing") == []
        assert backend.tag_counts(EVERYTHING, limit=2) == [
            TagCount(tag="art", count=3),
            TagCount(tag="animals/cats", count=2),
        ]

    def test_tag_counts_follow_updates(self, backend: MetadataBackend) -> None:
        pin = _alice_pin(tags=["old"], visibility="public")
        _insert(backend, pin)
        backend.update_pin(pin.id, PinChanges(visibility="private", updated_at=now_ms()))
        assert backend.tag_counts(ANONYMOUS) == []
        backend.update_pin(
            pin.id, PinChanges(add_tags=("new",), remove_tags=("old",), updated_at=now_ms())
        )
        assert backend.tag_counts(EVERYTHING) == [TagCount(tag="new", count=1)]

    # -- search: tags -----------------------------------------------------------------------

    def test_no_terms_matches_every_visible_pin(self, backend: MetadataBackend) -> None:
        pins = [_alice_pin(visibility="public") for _ in range(3)]
        _insert(backend, *pins)
        assert _found(backend, access=ANONYMOUS) == set(_ids(pins))

    def test_tag_matches_itself_and_descendants_only(self, backend: MetadataBackend) -> None:
        animals = _alice_pin(tags=["animals"])
        cats = _alice_pin(tags=["animals/cats"])
        kittens = _alice_pin(tags=["animals/cats/kittens"])
        lookalike = _alice_pin(tags=["animalsx", "animals-x", "zoo/animals"])
        _insert(backend, animals, cats, kittens, lookalike)
        assert _found(backend, TagTerm(tag="animals")) == {animals.id, cats.id, kittens.id}
        assert _found(backend, TagTerm(tag="animals/cats")) == {cats.id, kittens.id}
        assert _found(backend, TagTerm(tag="animals/cats/kittens")) == {kittens.id}
        assert _found(backend, TagTerm(tag="animalsx")) == {lookalike.id}
        assert _found(backend, TagTerm(tag="cats")) == set()
        assert _found(backend, TagTerm(tag="anim")) == set()

    def test_negated_tag_excludes_the_subtree(self, backend: MetadataBackend) -> None:
        cats = _alice_pin(tags=["animals/cats"])
        dogs = _alice_pin(tags=["animals/dogs"])
        untagged = _alice_pin()
        _insert(backend, cats, dogs, untagged)
        assert _found(backend, TagTerm(tag="animals/dogs", negated=True)) == {cats.id, untagged.id}
        assert _found(
            backend, TagTerm(tag="animals"), TagTerm(tag="animals/dogs", negated=True)
        ) == {cats.id}
        assert _found(backend, TagTerm(tag="animals", negated=True)) == {untagged.id}

    def test_unicode_tags(self, backend: MetadataBackend) -> None:
        pin = _alice_pin(tags=["tiere/kätzchen", "日本"])
        _insert(backend, pin)
        assert _found(backend, TagTerm(tag="tiere")) == {pin.id}
        assert _found(backend, TagTerm(tag="tiere/kätzchen")) == {pin.id}
        assert _found(backend, TagTerm(tag="日本")) == {pin.id}
        assert _found(backend, TagTerm(tag="日")) == set()

    # -- search: text -----------------------------------------------------------------------

    def test_text_matches_title_description_and_tags(self, backend: MetadataBackend) -> None:
        by_title = _alice_pin(title="A sleepy cat")
        by_description = _alice_pin(description="the cat sleeps")
        by_tag = _alice_pin(tags=["animals/cat"])
        neither = _alice_pin(title="dog", description="catalogue", tags=["cats"])
        _insert(backend, by_title, by_description, by_tag, neither)
        assert _found(backend, _text("cat")) == {by_title.id, by_description.id, by_tag.id}
        assert _found(backend, _text("animals")) == {by_tag.id}

    def test_text_needs_every_word_in_any_order(self, backend: MetadataBackend) -> None:
        both = _alice_pin(title="cat", description="very sleepy")
        one = _alice_pin(title="sleepy dog")
        _insert(backend, both, one)
        assert _found(backend, _text("sleepy cat")) == {both.id}
        assert _found(backend, _text("cat sleepy")) == {both.id}
        assert _found(backend, _text("sleepy")) == {both.id, one.id}

    def test_text_is_case_insensitive_and_unicode_aware(self, backend: MetadataBackend) -> None:
        german = _alice_pin(title="Große STRASSE")
        french = _alice_pin(description="Crème Brûlée au café")
        ligature = _alice_pin(title="ﬁsh tank")
        greek = _alice_pin(title="ΚΑΛΗΜΕΡΑ κόσμε")
        _insert(backend, german, french, ligature, greek)
        assert _found(backend, _text("große straße")) == {german.id}
        assert _found(backend, _text("GROSSE strasse")) == {german.id}
        assert _found(backend, _text("CAFÉ brûlée")) == {french.id}
        assert _found(backend, _text("cafe")) == set()
        assert _found(backend, _text("fish")) == {ligature.id}
        assert _found(backend, _text("καλημερα")) == {greek.id}

    def test_text_matches_whole_words_only(self, backend: MetadataBackend) -> None:
        pin = _alice_pin(title="caterpillar under_score", description="well-known")
        _insert(backend, pin)
        assert _found(backend, _text("cat")) == set()
        assert _found(backend, _text("caterpillar")) == {pin.id}
        assert _found(backend, _text("score")) == {pin.id}
        assert _found(backend, _text("known")) == {pin.id}
        assert _found(backend, _text("wellknown")) == set()

    def test_negated_text(self, backend: MetadataBackend) -> None:
        cat = _alice_pin(title="cat")
        dog = _alice_pin(title="dog")
        _insert(backend, cat, dog)
        assert _found(backend, _text("cat", negated=True)) == {dog.id}
        assert _found(backend, _text("cat dog", negated=True)) == {cat.id, dog.id}

    def test_phrase_needs_consecutive_words_in_order(self, backend: MetadataBackend) -> None:
        exact = _alice_pin(title="the sleepy cat naps")
        apart = _alice_pin(title="sleepy old cat")
        reversed_ = _alice_pin(title="cat sleepy")
        _insert(backend, exact, apart, reversed_)
        assert _found(backend, _text("sleepy cat", phrase=True)) == {exact.id}
        assert _found(backend, _text("sleepy cat")) == {exact.id, apart.id, reversed_.id}
        assert _found(backend, _text("Sleepy, CAT!", phrase=True)) == {exact.id}
        assert _found(backend, _text("sleepy cat", phrase=True, negated=True)) == {
            apart.id,
            reversed_.id,
        }

    def test_phrase_runs_over_title_description_and_tags_in_order(
        self, backend: MetadataBackend
    ) -> None:
        pin = _alice_pin(title="big", description="red", tags=["balloon/party"])
        _insert(backend, pin)
        assert _found(backend, _text("big red balloon party", phrase=True)) == {pin.id}
        assert _found(backend, _text("red big", phrase=True)) == set()

    def test_a_one_word_phrase_is_a_word(self, backend: MetadataBackend) -> None:
        pin = _alice_pin(title="cat")
        _insert(backend, pin, _alice_pin(title="dog"))
        assert _found(backend, _text("cat", phrase=True)) == {pin.id}

    # -- search: boards ---------------------------------------------------------------------

    def test_board_term_ignores_case(self, backend: MetadataBackend) -> None:
        board = backend.create_board(make_board("Cute Cats", owner_id=ALICE))
        on, off = _alice_pin(), _alice_pin()
        _insert(backend, on, boards=[board.id])
        _insert(backend, off)
        assert _found(backend, BoardTerm(name="cute cats")) == {on.id}
        assert _found(backend, BoardTerm(name="CUTE CATS")) == {on.id}
        assert _found(backend, BoardTerm(name="Cute")) == set()
        assert _found(backend, BoardTerm(name="Cute Cats", negated=True)) == {off.id}

    def test_board_term_matches_any_visible_board_of_that_name(
        self, backend: MetadataBackend
    ) -> None:
        alices = backend.create_board(make_board("Cats", owner_id=ALICE, visibility="public"))
        bobs = backend.create_board(
            make_board("cats", owner_id=BOB, owner="bob", visibility="public")
        )
        first, second = _alice_pin(visibility="public"), _bob_pin(visibility="public")
        _insert(backend, first, boards=[alices.id])
        _insert(backend, second, boards=[bobs.id])
        assert _found(backend, BoardTerm(name="Cats"), access=ANONYMOUS) == {first.id, second.id}

    def test_board_term_ignores_boards_the_caller_cannot_see(
        self, backend: MetadataBackend
    ) -> None:
        secret = backend.create_board(make_board("Secret", owner_id=ALICE, visibility="private"))
        pin = _alice_pin(visibility="public")
        _insert(backend, pin, boards=[secret.id])
        assert _found(backend, BoardTerm(name="Secret"), access=ANONYMOUS) == set()
        assert _found(backend, BoardTerm(name="Secret"), access=signed_in(BOB)) == set()
        assert _found(backend, BoardTerm(name="Secret", negated=True), access=ANONYMOUS) == {pin.id}
        assert _found(backend, BoardTerm(name="Secret"), access=signed_in(ALICE)) == {pin.id}
        assert backend.count_pins(_query(BoardTerm(name="Secret")), ANONYMOUS) == 0

    # -- search: type, owner, visibility ----------------------------------------------------

    def test_type_term_by_kind(self, backend: MetadataBackend) -> None:
        png = _alice_pin(mime_type="image/png")
        jpeg = _alice_pin(mime_type="image/jpeg")
        gif = _alice_pin(mime_type="image/gif")
        mp4 = _alice_pin(mime_type="video/mp4")
        webm = _alice_pin(mime_type="video/webm")
        _insert(backend, png, jpeg, gif, mp4, webm)
        kinds: dict[MediaKind, set[str]] = {
            "image": {png.id, jpeg.id},
            "gif": {gif.id},
            "video": {mp4.id, webm.id},
        }
        every = {png.id, jpeg.id, gif.id, mp4.id, webm.id}
        for kind, expected in kinds.items():
            assert _found(backend, TypeTerm(media_kind=kind)) == expected
            assert _found(backend, TypeTerm(media_kind=kind, negated=True)) == every - expected

    def test_type_term_by_exact_mime_type(self, backend: MetadataBackend) -> None:
        png = _alice_pin(mime_type="image/png")
        jpeg = _alice_pin(mime_type="image/jpeg")
        _insert(backend, png, jpeg)
        assert _found(backend, TypeTerm(mime_type="image/png")) == {png.id}
        assert _found(backend, TypeTerm(mime_type="image/png", negated=True)) == {jpeg.id}
        assert _found(backend, TypeTerm(mime_type="image/webp")) == set()

    def test_owner_term(self, backend: MetadataBackend) -> None:
        alices, bobs = _alice_pin(visibility="public"), _bob_pin(visibility="public")
        _insert(backend, alices, bobs)
        assert _found(backend, OwnerTerm(username="alice", user_id=ALICE)) == {alices.id}
        assert _found(backend, OwnerTerm(username="alice", user_id=ALICE, negated=True)) == {
            bobs.id
        }
        assert _found(backend, OwnerTerm(username="carol", user_id=CAROL)) == set()

    def test_owner_term_for_an_unknown_user(self, backend: MetadataBackend) -> None:
        pins = [_alice_pin(), _bob_pin()]
        _insert(backend, *pins)
        assert _found(backend, OwnerTerm(username="ghost", user_id=None)) == set()
        assert _found(backend, OwnerTerm(username="ghost", user_id=None, negated=True)) == set(
            _ids(pins)
        )

    def test_visibility_term(self, backend: MetadataBackend) -> None:
        pins = {v: _alice_pin(visibility=v) for v in VISIBILITIES}
        _insert(backend, *pins.values())
        for visibility, pin in pins.items():
            assert _found(backend, VisibilityTerm(visibility=visibility)) == {pin.id}
            others = {p.id for v, p in pins.items() if v != visibility}
            assert _found(backend, VisibilityTerm(visibility=visibility, negated=True)) == others
        assert _found(backend, VisibilityTerm(visibility="private"), access=ANONYMOUS) == set()

    # -- search: dates ----------------------------------------------------------------------

    def _date_world(self, backend: MetadataBackend) -> dict[str, Pin]:
        """Pins around the UTC day boundaries of 2026-01-10 and 2026-01-11, by name."""
        times = {
            "day_before_last_ms": _DAY - timedelta(milliseconds=1),
            "midnight": _DAY,
            "noon": _DAY + timedelta(hours=12),
            "last_ms": _DAY + timedelta(days=1, milliseconds=-1),
            "next_midnight": _DAY + timedelta(days=1),
            "next_noon": _DAY + timedelta(days=1, hours=12),
        }
        pins = {name: _alice_pin(created_at=when) for name, when in times.items()}
        _insert(backend, *pins.values())
        return pins

    def test_before_is_strictly_before_the_day_starts(self, backend: MetadataBackend) -> None:
        world = self._date_world(backend)
        day = _DAY.date()
        assert _found(backend, DateTerm(op="before", day=day)) == {world["day_before_last_ms"].id}
        assert _found(backend, DateTerm(op="before", day=day + timedelta(days=1))) == {
            world[n].id for n in ("day_before_last_ms", "midnight", "noon", "last_ms")
        }

    def test_after_starts_with_the_next_day(self, backend: MetadataBackend) -> None:
        world = self._date_world(backend)
        day = _DAY.date()
        assert _found(backend, DateTerm(op="after", day=day)) == {
            world["next_midnight"].id,
            world["next_noon"].id,
        }
        assert _found(backend, DateTerm(op="after", day=day - timedelta(days=1))) == {
            world[n].id for n in ("midnight", "noon", "last_ms", "next_midnight", "next_noon")
        }

    def test_negated_dates_and_a_range(self, backend: MetadataBackend) -> None:
        world = self._date_world(backend)
        day = _DAY.date()
        assert _found(backend, DateTerm(op="before", day=day, negated=True)) == {
            world[n].id for n in ("midnight", "noon", "last_ms", "next_midnight", "next_noon")
        }
        # "on 2026-01-10": after the 9th and before the 11th.
        on_the_day = _found(
            backend,
            DateTerm(op="after", day=day - timedelta(days=1)),
            DateTerm(op="before", day=day + timedelta(days=1)),
        )
        assert on_the_day == {world[n].id for n in ("midnight", "noon", "last_ms")}

    def test_dates_far_away(self, backend: MetadataBackend) -> None:
        pin = _alice_pin(created_at=_DAY)
        _insert(backend, pin)
        assert _found(backend, DateTerm(op="before", day=date(2100, 1, 1))) == {pin.id}
        assert _found(backend, DateTerm(op="after", day=date(2100, 1, 1))) == set()
        assert _found(backend, DateTerm(op="after", day=date(1970, 1, 1))) == {pin.id}
        assert _found(backend, DateTerm(op="before", day=date(1970, 1, 1))) == set()

    # -- search: dimensions -----------------------------------------------------------------

    @pytest.mark.parametrize(
        ("op", "expected"),
        [("<", {500}), ("<=", {500, 1000}), ("=", {1000}), (">=", {1000, 1500}), (">", {1500})],
    )
    def test_dimension_comparisons(
        self, backend: MetadataBackend, op: Comparison, expected: set[int]
    ) -> None:
        pins = {w: _alice_pin(width=w, height=w // 2) for w in (500, 1000, 1500)}
        unknown = _alice_pin(width=None, height=None)
        _insert(backend, *pins.values(), unknown)
        matching = {pins[w].id for w in expected}
        assert _found(backend, DimensionTerm(field="width", op=op, value=1000)) == matching
        assert _found(backend, DimensionTerm(field="height", op=op, value=500)) == matching
        negated = DimensionTerm(field="width", op=op, value=1000, negated=True)
        assert _found(backend, negated) == {p.id for p in pins.values()} - matching | {unknown.id}

    def test_unknown_dimension_never_matches(self, backend: MetadataBackend) -> None:
        no_height = _alice_pin(width=800, height=None)
        _insert(backend, no_height)
        assert _found(backend, DimensionTerm(field="height", op=">=", value=0)) == set()
        assert _found(backend, DimensionTerm(field="height", op="<", value=10**9)) == set()
        assert _found(backend, DimensionTerm(field="width", op=">=", value=0)) == {no_height.id}
        assert _found(backend, DimensionTerm(field="height", op=">=", value=0, negated=True)) == {
            no_height.id
        }

    # -- search: combinations ---------------------------------------------------------------

    def test_all_terms_must_hold(self, backend: MetadataBackend) -> None:
        board = backend.create_board(make_board("Animals", owner_id=ALICE, visibility="public"))
        target = _alice_pin(
            title="sleepy",
            tags=["animals/cats"],
            mime_type="image/gif",
            width=1200,
            visibility="public",
        )
        wrong_type = _alice_pin(
            title="sleepy",
            tags=["animals/cats"],
            mime_type="image/png",
            width=1200,
            visibility="public",
        )
        dog = _alice_pin(
            title="sleepy",
            tags=["animals/dogs"],
            mime_type="image/gif",
            width=1200,
            visibility="public",
        )
        _insert(backend, target, wrong_type, dog, boards=[board.id])
        terms: list[Term] = [
            TagTerm(tag="animals"),
            TagTerm(tag="animals/dogs", negated=True),
            TypeTerm(media_kind="gif"),
            BoardTerm(name="animals"),
            _text("sleepy"),
            DimensionTerm(field="width", op=">=", value=1000),
            OwnerTerm(username="alice", user_id=ALICE),
            VisibilityTerm(visibility="public"),
        ]
        assert _found(backend, *terms, access=ANONYMOUS) == {target.id}
        assert backend.count_pins(_query(*terms), ANONYMOUS) == 1

    def test_contradictory_terms_match_nothing(self, backend: MetadataBackend) -> None:
        _insert(backend, _alice_pin(tags=["a"]))
        assert _found(backend, TagTerm(tag="a"), TagTerm(tag="a", negated=True)) == set()

    # -- order and pagination ---------------------------------------------------------------

    def test_newest_and_oldest_order(self, backend: MetadataBackend) -> None:
        start = _DAY
        pins = [_alice_pin(created_at=start + timedelta(seconds=s)) for s in (30, 10, 20, 0)]
        _insert(backend, *pins)
        newest = _ids(backend.search_pins(_query(), EVERYTHING, limit=10))
        oldest = _ids(backend.search_pins(_query(order="oldest"), EVERYTHING, limit=10))
        assert newest == _newest_first(pins)
        assert oldest == list(reversed(newest))

    def test_pins_of_the_same_millisecond_order_by_id(self, backend: MetadataBackend) -> None:
        pins = [_alice_pin(created_at=_DAY) for _ in range(5)]
        _insert(backend, *reversed(pins))
        assert _ids(backend.search_pins(_query(), EVERYTHING, limit=10)) == _newest_first(pins)

    def test_limit(self, backend: MetadataBackend) -> None:
        pins = [_alice_pin() for _ in range(5)]
        _insert(backend, *pins)
        assert _ids(backend.search_pins(_query(), EVERYTHING, limit=2)) == _newest_first(pins)[:2]
        assert len(backend.search_pins(_query(), EVERYTHING, limit=1)) == 1
        assert len(backend.search_pins(_query(), EVERYTHING, limit=50)) == 5

    def test_limit_below_one_is_invalid(self, backend: MetadataBackend) -> None:
        with pytest.raises(InvalidInput):
            backend.search_pins(_query(), EVERYTHING, limit=0)

    def test_after_is_exclusive_in_both_orders(self, backend: MetadataBackend) -> None:
        pins = [_alice_pin() for _ in range(5)]
        _insert(backend, *pins)
        ordered = _newest_first(pins)
        middle = ordered[2]
        newer = backend.search_pins(_query(), EVERYTHING, limit=10, after=middle)
        older = backend.search_pins(_query(order="oldest"), EVERYTHING, limit=10, after=middle)
        assert _ids(newer) == ordered[3:]
        assert _ids(older) == list(reversed(ordered[:2]))

    def test_after_need_not_be_a_stored_pin(self, backend: MetadataBackend) -> None:
        early = _alice_pin(created_at=_DAY)
        late = _alice_pin(created_at=_DAY + timedelta(hours=2))
        _insert(backend, early, late)
        between = make_pin(created_at=_DAY + timedelta(hours=1)).id
        assert _ids(backend.search_pins(_query(), EVERYTHING, limit=5, after=between)) == [early.id]
        assert _ids(
            backend.search_pins(_query(order="oldest"), EVERYTHING, limit=5, after=between)
        ) == [late.id]

    def test_malformed_after_is_an_invalid_query(self, backend: MetadataBackend) -> None:
        with pytest.raises(InvalidQuery):
            backend.search_pins(_query(), EVERYTHING, limit=5, after="not a pin id")

    @pytest.mark.parametrize("order", ["newest", "oldest"])
    @pytest.mark.parametrize("page_size", [1, 2, 3, 7])
    def test_pages_return_every_match_exactly_once(
        self, backend: MetadataBackend, order: Order, page_size: int
    ) -> None:
        pins = [
            make_pin(
                owner_id=owner,
                owner=owner,
                visibility=VISIBILITIES[i % 3],
                tags=["even"] if i % 2 == 0 else ["odd"],
                created_at=_DAY + timedelta(minutes=i // 2),
            )
            for i, owner in enumerate([ALICE, BOB] * 8)
        ]
        _insert(backend, *pins)
        access = signed_in(ALICE)
        query = _query(TagTerm(tag="odd", negated=True), order=order)
        expected = [
            p.id for p in pins if "even" in p.tags and access.allows(p.owner_id, p.visibility)
        ]
        expected.sort(reverse=order == "newest")
        assert _all_pages(backend, query, access, page_size) == expected
        assert backend.count_pins(query, access) == len(expected)

    @pytest.mark.parametrize("page_size", [1, 3, 5, 6])
    def test_search_page_says_whether_more_follow(
        self, backend: MetadataBackend, page_size: int
    ) -> None:
        pins = [_alice_pin(created_at=_DAY + timedelta(minutes=i)) for i in range(5)]
        _insert(backend, *pins)
        expected = _newest_first(pins)
        walked: list[str] = []
        after: str | None = None
        while True:
            page, more = backend.search_page(_query(), EVERYTHING, limit=page_size, after=after)
            assert _ids(page) == _ids(
                backend.search_pins(_query(), EVERYTHING, limit=page_size, after=after)
            )
            walked.extend(_ids(page))
            assert more == (len(walked) < len(expected))
            if not more:
                break
            after = page[-1].id
        assert walked == expected

    # -- links: export and import -----------------------------------------------------------

    def test_a_fresh_backend_exports_no_links(self, backend: MetadataBackend) -> None:
        assert list(backend.export_links()) == []

    def test_export_links_returns_every_link_as_stored(self, backend: MetadataBackend) -> None:
        pin = _alice_pin()
        _insert(backend, pin)
        board = backend.create_board(make_board("Shown"))
        plain = _link(pin.id)
        limited = _link(pin.id, max_uses=3, expires_at=_LINK_LATER, allow_download=False)
        locked = _link(board.id, kind="board", has_password=True)
        backend.add_link(plain, _digest("plain"), None)
        backend.add_link(limited, _digest("limited"), None)
        backend.add_link(locked, _digest("locked"), _LINK_PASSWORD_HASH)
        assert backend.use_link(limited.id, _LINK_TIME) is True
        assert backend.revoke_link(plain.id, _LINK_TIME) is True
        exported = list(backend.export_links())
        assert exported == [
            (plain.model_copy(update={"revoked_at": _LINK_TIME}), _digest("plain"), None),
            (limited.model_copy(update={"uses": 1}), _digest("limited"), None),
            (locked, _digest("locked"), _LINK_PASSWORD_HASH),
        ]
        for link, token_hash, password_hash in exported:
            assert backend.find_link(token_hash) == (link, password_hash)

    def test_export_links_pages_through_every_link_once(self, backend: MetadataBackend) -> None:
        pin = _alice_pin()
        _insert(backend, pin)
        links = [_link(pin.id) for _ in range(5)]
        for number, link in enumerate(links):
            backend.add_link(link, _digest(f"link {number}"), None)
        for page_size in (1, 2, 5, 6):
            exported = list(backend.export_links(page_size=page_size))
            assert [link.id for link, _, _ in exported] == sorted(link.id for link in links)
        with pytest.raises(InvalidInput):
            backend.export_links(page_size=0)

    def test_links_of_a_deleted_target_are_not_exported(self, backend: MetadataBackend) -> None:
        kept, gone = _alice_pin(), _alice_pin()
        _insert(backend, kept, gone)
        board = backend.create_board(make_board("Gone"))
        backend.add_link(_link(gone.id), _digest("gone"), None)
        backend.add_link(_link(board.id, kind="board"), _digest("board"), None)
        backend.add_link(_link(kept.id), _digest("kept"), None)
        backend.delete_pin(gone.id)
        backend.delete_board(board.id)
        assert [token_hash for _, token_hash, _ in backend.export_links()] == [_digest("kept")]

    def test_imported_links_keep_their_whole_state(self, backend: MetadataBackend) -> None:
        # Made and used in the reference backend, exported, then imported into this fresh one.
        reference = MemoryMetadataBackend()
        pin = _alice_pin()
        board = make_board("Shown")
        for store in (reference, backend):
            _insert(store, pin)
            store.create_board(board)
        used_up = _link(pin.id, max_uses=2)
        partly_used = _link(pin.id, max_uses=3, allow_download=False)
        revoked = _link(board.id, kind="board", expires_at=_LINK_LATER)
        expired = _link(pin.id, expires_at=_LINK_TIME - timedelta(seconds=1))
        locked = _link(pin.id, has_password=True, expires_at=_LINK_LATER)
        for link in (used_up, partly_used, revoked, expired):
            reference.add_link(link, _digest(link.id), None)
        reference.add_link(locked, _digest(locked.id), _LINK_PASSWORD_HASH)
        for link in (used_up, used_up, partly_used):
            assert reference.use_link(link.id, _LINK_TIME) is True
        assert reference.revoke_link(revoked.id, _LINK_TIME) is True
        exported = list(reference.export_links())

        for record in exported:
            backend.import_link(*record)

        assert list(backend.export_links()) == exported
        assert list(backend.export_links(page_size=2)) == exported
        for link, token_hash, password_hash in exported:
            assert backend.get_link(link.id) == link
            assert backend.find_link(token_hash) == (link, password_hash)
        assert backend.find_link(_digest(locked.id)) == (locked, _LINK_PASSWORD_HASH)
        # They go on behaving as they did: remaining uses, revocation and expiry hold.
        assert backend.use_link(used_up.id, _LINK_TIME) is False
        assert backend.use_link(partly_used.id, _LINK_TIME) is True
        assert backend.use_link(partly_used.id, _LINK_TIME) is True
        assert backend.use_link(partly_used.id, _LINK_TIME) is False
        assert backend.use_link(revoked.id, _LINK_TIME) is False
        assert backend.use_link(expired.id, _LINK_TIME) is False
        assert backend.use_link(locked.id, _LINK_TIME) is True
        assert backend.revoke_link(revoked.id, _LINK_LATER) is False
        stored = backend.get_link(revoked.id)
        assert stored is not None
        assert stored.revoked_at == _LINK_TIME

    def test_exported_links_import_unchanged_into_a_fresh_backend(
        self, backend: MetadataBackend
    ) -> None:
        pin = _alice_pin()
        board = make_board("Shown")
        _insert(backend, pin)
        backend.create_board(board)
        limited = _link(pin.id, max_uses=4, expires_at=_LINK_LATER)
        revoked = _link(board.id, kind="board", has_password=True)
        backend.add_link(limited, _digest("limited"), None)
        backend.add_link(revoked, _digest("revoked"), _LINK_PASSWORD_HASH)
        backend.use_link(limited.id, _LINK_TIME)
        backend.revoke_link(revoked.id, _LINK_TIME)
        fresh = MemoryMetadataBackend()
        _insert(fresh, pin)
        fresh.create_board(board)

        for record in backend.export_links(page_size=1):
            fresh.import_link(*record)

        assert list(fresh.export_links()) == list(backend.export_links())
        assert fresh.find_link(_digest("revoked")) == backend.find_link(_digest("revoked"))

    def test_import_link_refuses_a_taken_id_or_digest(self, backend: MetadataBackend) -> None:
        pin = _alice_pin()
        _insert(backend, pin)
        link = _link(pin.id)
        backend.import_link(link, _digest("first"), None)
        with pytest.raises(Conflict):
            backend.import_link(link, _digest("second"), None)
        with pytest.raises(Conflict):
            backend.import_link(_link(pin.id), _digest("first"), None)
        assert list(backend.export_links()) == [(link, _digest("first"), None)]

    def test_import_link_needs_its_target(self, backend: MetadataBackend) -> None:
        with pytest.raises(NotFound):
            backend.import_link(_link(_alice_pin().id), _digest("pin"), None)
        with pytest.raises(NotFound):
            backend.import_link(_link("no-such-board", kind="board"), _digest("board"), None)
        assert list(backend.export_links()) == []

    # -- results are values -----------------------------------------------------------------

    def test_returned_pins_are_independent_of_the_store(self, backend: MetadataBackend) -> None:
        pin = _alice_pin(tags=["a"])
        _insert(backend, pin)
        first = backend.get_pin(pin.id, EVERYTHING)
        backend.update_pin(pin.id, PinChanges(add_tags=("b",), title="t", updated_at=now_ms()))
        assert first is not None
        assert (first.tags, first.title) == (("a",), "")

    # -- the property test ------------------------------------------------------------------

    @settings(
        max_examples=40,
        deadline=None,
        # One suite method runs for every backend that subclasses the suite (and several
        # may share a test process): the executors differ by design.
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.differing_executors,
        ],
    )
    @given(data=st.data())
    def test_search_agrees_with_a_plain_python_oracle(
        self, backend: MetadataBackend, data: st.DataObject
    ) -> None:
        # One backend serves every example, so each example works in its own owner
        # namespace and removes what it made, whatever happens.
        namespace = uuid.uuid4().hex[:12]
        world = data.draw(_world_specs(), label="world")
        pins, boards, memberships = _materialize(world, namespace)
        try:
            for board in boards:
                backend.create_board(board)
            backend.insert_pins((pin, memberships.get(pin.id, ())) for pin in pins)
            oracle = Oracle(pins, boards, memberships)
            owner_ids = sorted({pin.owner_id for pin in pins} | {b.owner_id for b in boards})
            # An empty query is covered by the example tests; every query here has a term.
            for _ in range(4):
                query = data.draw(_queries(owner_ids or [f"{namespace}-nobody"]), label="query")
                access = data.draw(_access_rules(owner_ids), label="access")
                page_size = data.draw(st.integers(1, 4), label="page size")
                _check_against_oracle(backend, oracle, query, access, page_size)
        finally:
            for pin in pins:
                backend.delete_pin(pin.id)
            for board in boards:
                backend.delete_board(board.id)


def _check_against_oracle(
    backend: MetadataBackend,
    oracle: Oracle,
    query: Query,
    access: AccessRule,
    page_size: int,
) -> None:
    expected = oracle.search(query, access)
    results: list[Pin] = []
    after: str | None = None
    while True:
        page = backend.search_pins(query, access, limit=page_size, after=after)
        assert len(page) <= page_size
        if not page:
            break
        results.extend(page)
        after = page[-1].id
        assert len(results) <= len(expected), "more results than the oracle allows"
    assert _ids(results) == expected, (query, access)
    assert backend.count_pins(query, access) == len(expected)
    for pin in results:
        assert pin.boards == oracle.visible_board_names(pin.id, access)


# -- the oracle -------------------------------------------------------------------------------


class Oracle:
    """A naive, obviously-correct reading of the search rules, for property tests.

    It scans a list of pins and checks each term the way :mod:`pinsphere.query` words it,
    sharing no code with any backend (only :func:`pinsphere.text.words`, which *defines* how
    text is cut into words).

    Args:
        pins: Every stored pin.
        boards: Every stored board.
        memberships: For each pin id, the ids of the boards it is on.
    """

    def __init__(
        self, pins: Sequence[Pin], boards: Sequence[Board], memberships: dict[str, tuple[str, ...]]
    ) -> None:
        self.pins = list(pins)
        self.boards = {board.id: board for board in boards}
        self.memberships = memberships

    def search(self, query: Query, access: AccessRule) -> list[str]:
        """Ids of the visible pins matching every term, in the query's order."""
        hits = [
            pin.id
            for pin in self.pins
            if access.allows(pin.owner_id, pin.visibility)
            and all(self.holds(term, pin, access) for term in query.terms)
        ]
        # Ids are fixed-width strings whose order is their numeric order.
        return sorted(hits, reverse=query.order == "newest")

    def visible_board_names(self, pin_id: str, access: AccessRule) -> tuple[str, ...]:
        """Names of the pin's boards the caller can see, sorted."""
        return tuple(sorted(b.name for b in self._visible_boards(pin_id, access)))

    def holds(self, term: Term, pin: Pin, access: AccessRule) -> bool:
        """Whether the term, negation included, holds for the pin."""
        matched = self._matches(term, pin, access)
        return not matched if term.negated else matched

    def _visible_boards(self, pin_id: str, access: AccessRule) -> list[Board]:
        boards = [self.boards[board_id] for board_id in self.memberships.get(pin_id, ())]
        return [b for b in boards if access.allows(b.owner_id, b.visibility)]

    def _matches(self, term: Term, pin: Pin, access: AccessRule) -> bool:
        if isinstance(term, TagTerm):
            return any(t == term.tag or t.startswith(term.tag + "/") for t in pin.tags)
        if isinstance(term, TextTerm):
            pin_words: list[str] = []
            for field in (pin.title, pin.description, *pin.tags):
                pin_words += words(field)
            if term.phrase:
                n = len(term.words)
                return any(pin_words[i : i + n] == list(term.words) for i in range(len(pin_words)))
            return all(word in pin_words for word in term.words)
        if isinstance(term, BoardTerm):
            wanted = term.name.casefold()
            return any(b.name.casefold() == wanted for b in self._visible_boards(pin.id, access))
        if isinstance(term, TypeTerm):
            mime = pin.media.mime_type
            kind = (
                "gif" if mime == "image/gif" else "video" if mime.startswith("video/") else "image"
            )
            return term.media_kind in (None, kind) and term.mime_type in (None, mime)
        if isinstance(term, OwnerTerm):
            return term.user_id is not None and term.user_id == pin.owner_id
        if isinstance(term, VisibilityTerm):
            return term.visibility == pin.visibility
        if isinstance(term, DateTerm):
            midnight = datetime(term.day.year, term.day.month, term.day.day, tzinfo=UTC)
            if term.op == "before":
                return pin.created_at < midnight
            return pin.created_at >= midnight + timedelta(days=1)
        if isinstance(term, DimensionTerm):
            size = pin.media.width if term.field == "width" else pin.media.height
            if size is None:
                return False
            compare: Callable[[int, int], bool] = {
                "<": operator.lt,
                "<=": operator.le,
                "=": operator.eq,
                ">=": operator.ge,
                ">": operator.gt,
            }[term.op]
            return compare(size, term.value)
        raise AssertionError(f"the oracle does not know {term!r}")


# -- random worlds and queries ----------------------------------------------------------------

_TAGS = ["animals", "animals/cats", "animals/dogs", "animals/cats/kittens", "animalsx", "art"]
_TITLES = ["", "Sleepy cat", "big DOG", "Café au lait", "cat sleepy", "Straße"]
_DESCRIPTIONS = ["", "very sleepy", "a cat on a mat"]
_QUERY_WORDS = ["sleepy", "cat", "dog", "café", "cafe", "strasse", "animals", "cats", "mat"]
# Phrases that occur in some titles and descriptions, in order or reversed.
_QUERY_PHRASES = ["sleepy cat", "cat sleepy", "big dog", "Café au", "on a mat", "very sleepy"]
_MIME_TYPES = ["image/png", "image/jpeg", "image/gif", "video/mp4"]
_SIZES = [None, 100, 500, 1000]
_BOARD_NAMES = ["Animals", "Work"]
_OWNERS = 3


@dataclass(frozen=True)
class _PinSpec:
    owner: int
    tags: frozenset[str]
    title: str
    description: str
    visibility: Visibility
    mime_type: str
    width: int | None
    height: int | None
    minutes: int
    boards: frozenset[int]


@dataclass(frozen=True)
class _BoardSpec:
    owner: int
    name: str
    visibility: Visibility


@dataclass(frozen=True)
class _WorldSpec:
    boards: tuple[_BoardSpec, ...]
    pins: tuple[_PinSpec, ...]


@st.composite
def _world_specs(draw: st.DrawFn) -> _WorldSpec:
    """A few boards and up to a dozen pins over three owners and a few days."""
    owners_and_names = draw(
        st.lists(
            st.tuples(st.integers(0, _OWNERS - 1), st.sampled_from(_BOARD_NAMES)),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    boards = tuple(
        _BoardSpec(owner=owner, name=name, visibility=draw(st.sampled_from(VISIBILITIES)))
        for owner, name in owners_and_names
    )
    pin_specs = st.builds(
        _PinSpec,
        owner=st.integers(0, _OWNERS - 1),
        tags=st.frozensets(st.sampled_from(_TAGS), max_size=3),
        title=st.sampled_from(_TITLES),
        description=st.sampled_from(_DESCRIPTIONS),
        visibility=st.sampled_from(VISIBILITIES),
        mime_type=st.sampled_from(_MIME_TYPES),
        width=st.sampled_from(_SIZES),
        height=st.sampled_from(_SIZES),
        # Several pins per day, some in the same minute, across four days.
        minutes=st.integers(0, 4 * 24 * 60 - 1).map(lambda m: m - m % 360),
        boards=st.frozensets(st.integers(0, max(len(boards) - 1, 0)), max_size=len(boards)),
    )
    pins = tuple(draw(st.lists(pin_specs, min_size=1, max_size=12)))
    return _WorldSpec(boards=boards, pins=pins)


def _materialize(
    world: _WorldSpec, namespace: str
) -> tuple[list[Pin], list[Board], dict[str, tuple[str, ...]]]:
    """Real pins and boards for a world, with owner ids unique to ``namespace``."""

    def owner_id(index: int) -> str:
        return f"{namespace}-owner{index}"

    boards = [
        make_board(
            spec.name,
            owner_id=owner_id(spec.owner),
            owner=f"owner{spec.owner}",
            visibility=spec.visibility,
        )
        for spec in world.boards
    ]
    pins: list[Pin] = []
    memberships: dict[str, tuple[str, ...]] = {}
    for spec in world.pins:
        pin = make_pin(
            owner_id=owner_id(spec.owner),
            owner=f"owner{spec.owner}",
            title=spec.title,
            description=spec.description,
            tags=sorted(spec.tags),
            visibility=spec.visibility,
            mime_type=spec.mime_type,
            width=spec.width,
            height=spec.height,
            created_at=_DAY + timedelta(minutes=spec.minutes),
        )
        pins.append(pin)
        memberships[pin.id] = tuple(boards[i].id for i in sorted(spec.boards) if i < len(boards))
    return pins, boards, memberships


def _terms(owner_ids: Sequence[str]) -> st.SearchStrategy[Term]:
    """Any one search term, drawn from vocabularies the random worlds use."""
    negated = st.booleans()
    comparisons: list[Comparison] = ["<", "<=", "=", ">=", ">"]
    kinds: list[MediaKind] = ["image", "gif", "video"]
    strategies: list[st.SearchStrategy[Term]] = [
        st.builds(
            TagTerm, tag=st.sampled_from([*_TAGS, "animals/cats/kittens/x", "cat"]), negated=negated
        ),
        st.builds(
            TextTerm,
            words=st.one_of(
                st.lists(st.sampled_from(_QUERY_WORDS), min_size=1, max_size=3).map(" ".join),
                st.sampled_from(_QUERY_PHRASES),
            ).map(lambda text: tuple(words(text))),
            phrase=st.booleans(),
            negated=negated,
        ),
        # Phrases again, so that word order is tested often, not by luck.
        st.builds(
            TextTerm,
            words=st.sampled_from(_QUERY_PHRASES).map(lambda text: tuple(words(text))),
            phrase=st.just(True),
            negated=negated,
        ),
        st.builds(BoardTerm, name=st.sampled_from(["animals", "WORK", "Other"]), negated=negated),
        st.builds(TypeTerm, media_kind=st.sampled_from(kinds), negated=negated),
        st.builds(
            TypeTerm, mime_type=st.sampled_from([*_MIME_TYPES, "video/webm"]), negated=negated
        ),
        st.builds(
            OwnerTerm,
            username=st.just("someone"),
            user_id=st.sampled_from([*owner_ids, None]),
            negated=negated,
        ),
        st.builds(VisibilityTerm, visibility=st.sampled_from(VISIBILITIES), negated=negated),
        st.builds(
            DateTerm,
            op=st.sampled_from(["before", "after"]),
            day=st.integers(-1, 5).map(lambda d: _DAY.date() + timedelta(days=d)),
            negated=negated,
        ),
        st.builds(
            DimensionTerm,
            field=st.sampled_from(["width", "height"]),
            op=st.sampled_from(comparisons),
            value=st.sampled_from([0, 100, 500, 750, 1000]),
            negated=negated,
        ),
    ]
    return st.one_of(strategies)


def _queries(owner_ids: Sequence[str]) -> st.SearchStrategy[Query]:
    orders: list[Order] = ["newest", "oldest"]
    return st.builds(
        Query,
        terms=st.lists(_terms(owner_ids), min_size=1, max_size=3).map(tuple),
        order=st.sampled_from(orders),
    )


def _access_rules(owner_ids: Sequence[str]) -> st.SearchStrategy[AccessRule]:
    """Anonymous, an admin, or a signed-in user (one of the owners, or a stranger)."""
    users = st.sampled_from([*owner_ids, "stranger"]).map(signed_in)
    return st.one_of(st.just(ANONYMOUS), st.just(EVERYTHING), users)
