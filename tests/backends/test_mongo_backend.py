"""The MongoDB metadata backend: the conformance suite, operator injection, errors, URLs.

The suite runs on ``mongomock`` (an in-process fake of pymongo's client) always, and on a
real MongoDB server when ``PINSPHERE_TEST_MONGODB_URL`` names one, e.g.::

    PINSPHERE_TEST_MONGODB_URL=mongodb://127.0.0.1:27017/pinsphere_test pytest tests/backends

Every real-server test works in a fresh database (``<name>_<random>``) dropped afterwards;
without the variable those tests are skipped, saying why. Under CI (``CI`` set) with the
variable set, an unreachable server is a failure, not a skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import mongomock
import pymongo
import pytest
from pymongo.errors import (
    AutoReconnect,
    BulkWriteError,
    ConfigurationError,
    DuplicateKeyError,
    NetworkTimeout,
    OperationFailure,
    ServerSelectionTimeoutError,
)

from pinsphere.backends.base import MetadataBackend, PinChanges
from pinsphere.backends.mongo import MongoMetadataBackend, parse_mongo_url
from pinsphere.backends.mongo.errors import translate, translating
from pinsphere.errors import BackendUnavailable, Conflict, InvalidInput, NotFound, PinsphereError
from pinsphere.ids import encode_id, new_id
from pinsphere.models import AuditEvent, Link, Share
from pinsphere.policy import AccessRule, link_rule
from pinsphere.query import BoardTerm, OwnerTerm, Query, TagTerm, TextTerm
from pinsphere.testing.factories import ANONYMOUS, EVERYTHING, make_board, make_pin, signed_in
from pinsphere.testing.metadata import MetadataBackendSuite

ENV = "PINSPHERE_TEST_MONGODB_URL"


def mock_backend(**kwargs: Any) -> MongoMetadataBackend:
    """A backend on a fresh mongomock client and database."""
    return MongoMetadataBackend(
        mongomock.MongoClient(), database=f"t{uuid.uuid4().hex[:12]}", **kwargs
    )


@pytest.fixture
def mongo() -> Iterator[MongoMetadataBackend]:
    backend = mock_backend()
    yield backend
    backend.close()


def _real_url() -> str:
    url = os.environ.get(ENV)
    if not url:
        pytest.skip(f"no MongoDB server: set {ENV}=mongodb://host:port/dbname to run these")
    return url


def _fresh_database_url(url: str) -> tuple[str, str]:
    """The URL with a fresh database name, and that name."""
    parts = urlsplit(url)
    base = parts.path.strip("/") or "pinsphere_test"
    name = f"{base}_{uuid.uuid4().hex[:10]}"
    return urlunsplit(parts._replace(path=f"/{name}")), name


class TestMongoMetadataOnMongomock(MetadataBackendSuite):
    """The whole conformance suite on mongomock, a fresh database per test."""

    @pytest.fixture
    def backend(self) -> Iterator[MetadataBackend]:
        backend = mock_backend()
        yield backend
        backend.close()


class TestMongoMetadataOnAServer(MetadataBackendSuite):
    """The whole conformance suite on a real MongoDB (``PINSPHERE_TEST_MONGODB_URL``)."""

    @pytest.fixture
    def backend(self) -> Iterator[MetadataBackend]:
        url, name = _fresh_database_url(_real_url())
        try:
            backend = MongoMetadataBackend.from_url(with_timeout(url))
        except BackendUnavailable as exc:
            if os.environ.get("CI"):
                pytest.fail(f"MongoDB at {url} is not reachable: {exc}")
            pytest.skip(f"MongoDB at {url} is not reachable: {exc}")
        yield backend
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(url)
        client.drop_database(name)
        client.close()
        backend.close()


def with_timeout(url: str) -> str:
    if "serverSelectionTimeoutMS" in url:
        return url
    return f"{url}{'&' if '?' in url else '?'}serverSelectionTimeoutMS=3000"


# -- operator injection ---------------------------------------------------------------------------

# Strings that would be operators, JavaScript or field paths if they ever reached a query as
# anything but a value.
SMUGGLED = [
    '{"$ne": null}',
    "$ne",
    "$where",
    "$gt",
    "$regex",
    "$expr",
    "this.owner_id != ''",
    "'; return true; var x='",
    ".*",
    "$tags",
    "a.b",
]


class TestOperatorInjection:
    """Input that looks like MongoDB query syntax is only ever compared as text."""

    @pytest.mark.parametrize("smuggled", SMUGGLED)
    def test_tags_are_text(self, mongo: MongoMetadataBackend, smuggled: str) -> None:
        literal = make_pin(tags=[smuggled], visibility="public")
        other = make_pin(tags=["plain"], visibility="public")
        mongo.insert_pins([(literal, ()), (other, ())])
        found = mongo.search_pins(Query(terms=(TagTerm(tag=smuggled),)), ANONYMOUS, limit=10)
        assert [p.id for p in found] == [literal.id]
        negated = Query(terms=(TagTerm(tag=smuggled, negated=True),))
        assert [p.id for p in mongo.search_pins(negated, ANONYMOUS, limit=10)] == [other.id]
        got = mongo.get_pin(literal.id, EVERYTHING)
        assert got is not None
        assert got.tags == (smuggled,)

    def test_an_operator_as_a_tag_matches_no_other_pin(self, mongo: MongoMetadataBackend) -> None:
        mongo.insert_pins([(make_pin(tags=["cats"], visibility="public"), ())])
        for smuggled in ["$ne", '{"$ne": ""}', "$exists", "$where"]:
            query = Query(terms=(TagTerm(tag=smuggled),))
            assert mongo.search_pins(query, ANONYMOUS, limit=10) == []
            assert mongo.count_pins(query, ANONYMOUS) == 0

    def test_query_words_are_text(self, mongo: MongoMetadataBackend) -> None:
        pin = make_pin(title="where ne gt", visibility="public")
        mongo.insert_pins([(pin, ())])
        for smuggled in ["$where", "$ne", "$gt", "function() { return true }", ".*", "^"]:
            for phrase in (False, True):
                term = TextTerm(words=(smuggled,), phrase=phrase)
                assert mongo.search_pins(Query(terms=(term,)), ANONYMOUS, limit=10) == []
        phrase = TextTerm(words=("where", ".*"), phrase=True)
        assert mongo.search_pins(Query(terms=(phrase,)), ANONYMOUS, limit=10) == []
        found = mongo.search_pins(
            Query(terms=(TextTerm(words=("where", "ne"), phrase=True),)), ANONYMOUS, limit=10
        )
        assert [p.id for p in found] == [pin.id]

    @pytest.mark.parametrize("smuggled", ["$where", "$ne", '{"$gt": ""}', "a.b", "$name"])
    def test_board_names_are_text(self, mongo: MongoMetadataBackend, smuggled: str) -> None:
        board = mongo.create_board(make_board(smuggled, owner_id="alice", visibility="public"))
        decoy = mongo.create_board(make_board("Decoy", owner_id="alice", visibility="public"))
        on, off = make_pin(visibility="public"), make_pin(visibility="public")
        mongo.insert_pins([(on, (board.id,)), (off, (decoy.id,))])
        found = mongo.search_pins(Query(terms=(BoardTerm(name=smuggled),)), ANONYMOUS, limit=10)
        assert [p.id for p in found] == [on.id]
        assert mongo.find_board("alice", smuggled, ANONYMOUS) == board.model_copy(
            update={"pin_count": 1}
        )
        # Another operator-looking name finds nothing, not "any board".
        other = "$exists" if smuggled != "$exists" else "$in"
        assert mongo.find_board("alice", other, ANONYMOUS) is None

    @pytest.mark.parametrize("smuggled", ["$ne", "$where", '{"$ne": null}', "$gt"])
    def test_user_ids_are_text(self, mongo: MongoMetadataBackend, smuggled: str) -> None:
        private = make_pin(owner_id="alice", visibility="private")
        mongo.insert_pins([(private, ())])
        # A caller whose id looks like an operator still sees only what that id owns.
        assert mongo.search_pins(Query(), signed_in(smuggled), limit=10) == []
        rule = AccessRule(owner_id=smuggled, visibilities=frozenset(), shares=True)
        assert mongo.count_pins(Query(), rule) == 0
        owner = Query(terms=(OwnerTerm(username=smuggled, user_id=smuggled),))
        assert mongo.count_pins(owner, EVERYTHING) == 0
        assert mongo.owner_pin_ids(smuggled) == []
        assert mongo.list_boards(EVERYTHING, owner_id=smuggled) == []

    def test_usernames_in_shares_are_stored_as_written(self, mongo: MongoMetadataBackend) -> None:
        pin = make_pin(owner_id="alice", visibility="private")
        mongo.insert_pins([(pin, ())])
        share = _share(pin.id, user_id="$ne", username='{"$ne": null}')
        mongo.put_share(share)
        assert [s.username for s in mongo.list_shares("pin", pin.id)] == ['{"$ne": null}']
        rule = AccessRule(owner_id="$ne", visibilities=frozenset(), shares=True)
        assert [p.id for p in mongo.search_pins(Query(), rule, limit=10)] == [pin.id]
        assert mongo.search_pins(Query(), signed_in("bob"), limit=10) == []

    @pytest.mark.parametrize("value", [{"$ne": None}, {"$gt": ""}, ["$where"], 7])
    def test_non_string_values_are_refused(self, mongo: MongoMetadataBackend, value: Any) -> None:
        # Typed callers cannot do this; an untyped one gets InvalidInput, not a query.
        mongo.insert_pins([(make_pin(owner_id="alice"), ())])
        with pytest.raises(InvalidInput):
            mongo.owner_pin_ids(value)
        with pytest.raises(InvalidInput):
            mongo.get_board(value, EVERYTHING)
        with pytest.raises(InvalidInput):
            mongo.find_link(value)
        with pytest.raises(InvalidInput):
            mongo.count_blob_references(value)
        assert mongo.get_pin(value, EVERYTHING) is None

    def test_audit_details_with_operator_names(self, mongo: MongoMetadataBackend) -> None:
        event = AuditEvent(
            id=encode_id(new_id()),
            at=datetime.now(UTC),
            actor_id="$where",
            action="share",
            target_kind="pin",
            target_id="$ne",
            details={"$set": "x", "a.b": "$gt"},
        )
        mongo.add_audit_event(event)
        assert mongo.list_audit_events() == [event]

    def test_a_prefix_is_text_in_tag_counts(self, mongo: MongoMetadataBackend) -> None:
        mongo.insert_pins([(make_pin(tags=["a.b", "axb", "$x"], visibility="public"), ())])
        assert [t.tag for t in mongo.tag_counts(ANONYMOUS, prefix="a.")] == ["a.b"]
        assert [t.tag for t in mongo.tag_counts(ANONYMOUS, prefix="$")] == ["$x"]
        assert mongo.tag_counts(ANONYMOUS, prefix=".*") == []


# -- shares, links and audit -----------------------------------------------------------------


def _share(
    target_id: str,
    *,
    user_id: str = "bob",
    username: str = "bob",
    kind: str = "pin",
    role: str = "viewer",
) -> Share:
    return Share(
        id=encode_id(new_id()),
        target_kind=kind,  # type: ignore[arg-type]
        target_id=target_id,
        user_id=user_id,
        username=username,
        role=role,  # type: ignore[arg-type]
        created_by="alice",
        created_at=datetime.now(UTC),
    )


def _link(target_id: str, *, kind: str = "pin", **fields: Any) -> Link:
    return Link(
        id=encode_id(new_id()),
        target_kind=kind,  # type: ignore[arg-type]
        target_id=target_id,
        created_by="alice",
        created_at=datetime.now(UTC),
        **fields,
    )


class TestSharing:
    """Shares, links and audit as the ABC words them (the facade tests cover the rest)."""

    def test_put_share_keeps_id_and_time_and_replaces_the_role(
        self, mongo: MongoMetadataBackend
    ) -> None:
        pin = make_pin(owner_id="alice")
        mongo.insert_pins([(pin, ())])
        first = mongo.put_share(_share(pin.id))
        assert first.created_at.tzinfo is not None
        again = mongo.put_share(_share(pin.id, role="editor"))
        assert (again.id, again.created_at, again.role) == (first.id, first.created_at, "editor")
        assert mongo.list_shares("pin", pin.id) == [again]
        assert mongo.share_role("pin", pin.id, "bob") == "editor"
        assert mongo.delete_share("pin", pin.id, "bob") is True
        assert mongo.delete_share("pin", pin.id, "bob") is False
        with pytest.raises(NotFound):
            mongo.put_share(_share(make_pin().id))
        with pytest.raises(NotFound):
            mongo.put_share(_share("no-board", kind="board"))

    def test_board_shares_cover_only_the_board_owners_pins(
        self, mongo: MongoMetadataBackend
    ) -> None:
        board = mongo.create_board(make_board("Shared", owner_id="alice"))
        hers = make_pin(owner_id="alice", visibility="private")
        carols = make_pin(owner_id="carol", owner="carol", visibility="private")
        mongo.insert_pins([(hers, (board.id,)), (carols, (board.id,))])
        mongo.put_share(_share(board.id, kind="board", role="editor"))
        bob = AccessRule(
            owner_id="bob", visibilities=frozenset({"internal", "public"}), shares=True
        )
        assert [p.id for p in mongo.search_pins(Query(), bob, limit=10)] == [hers.id]
        assert mongo.count_pins(Query(), bob) == 1
        assert mongo.share_role("pin", hers.id, "bob") == "editor"
        assert mongo.share_role("pin", carols.id, "bob") is None
        got = mongo.get_board(board.id, bob)
        assert got is not None
        assert got.pin_count == 1
        assert mongo.get_pin(carols.id, bob) is None
        assert [t.count for t in mongo.tag_counts(bob)] == []

    def test_board_links_show_the_owners_pins_on_the_board(
        self, mongo: MongoMetadataBackend
    ) -> None:
        board = mongo.create_board(make_board("Linked", owner_id="alice"))
        hers = make_pin(owner_id="alice", visibility="private")
        carols = make_pin(owner_id="carol", owner="carol", visibility="public")
        elsewhere = make_pin(owner_id="alice", visibility="public")
        mongo.insert_pins([(hers, (board.id,)), (carols, (board.id,)), (elsewhere, ())])
        rule = link_rule("board", board.id)
        assert [p.id for p in mongo.search_pins(Query(), rule, limit=10)] == [hers.id]
        assert [b.id for b in mongo.list_boards(rule)] == [board.id]
        pin_rule = link_rule("pin", elsewhere.id)
        assert [p.id for p in mongo.search_pins(Query(), pin_rule, limit=10)] == [elsewhere.id]
        assert mongo.list_boards(pin_rule) == []
        assert mongo.search_pins(Query(), link_rule("board", "gone"), limit=10) == []

    def test_use_link_counts_down_atomically(self, mongo: MongoMetadataBackend) -> None:
        pin = make_pin()
        mongo.insert_pins([(pin, ())])
        now = datetime.now(UTC)
        twice = _link(pin.id, max_uses=2)
        forever = _link(pin.id)
        expiring = _link(pin.id, expires_at=now + timedelta(hours=1))
        for link in (twice, forever, expiring):
            mongo.add_link(link, link.id.ljust(64, "0"), None)
        assert [mongo.use_link(twice.id, now) for _ in range(3)] == [True, True, False]
        assert all(mongo.use_link(forever.id, now) for _ in range(5))
        assert mongo.use_link(expiring.id, now) is True
        assert mongo.use_link(expiring.id, now + timedelta(hours=1)) is False
        assert mongo.revoke_link(forever.id, now) is True
        assert mongo.revoke_link(forever.id, now) is False
        assert mongo.use_link(forever.id, now) is False
        assert mongo.use_link("no-such-link", now) is False
        stored = mongo.get_link(twice.id)
        assert stored is not None
        assert stored.uses == 2
        assert [link.id for link in mongo.list_links(created_by="alice")] == [
            expiring.id,
            forever.id,
            twice.id,
        ]

    def test_links_keep_their_fields_and_password(self, mongo: MongoMetadataBackend) -> None:
        pin = make_pin()
        mongo.insert_pins([(pin, ())])
        link = _link(
            pin.id,
            expires_at=datetime.now(UTC) + timedelta(days=1),
            max_uses=3,
            has_password=True,
            allow_download=False,
        )
        mongo.add_link(link, "ab" * 32, "password-hash")
        assert mongo.find_link("ab" * 32) == (link, "password-hash")
        assert mongo.get_link(link.id) == link
        assert mongo.list_links(target=("pin", pin.id)) == [link]
        with pytest.raises(Conflict):
            mongo.add_link(_link(pin.id), "ab" * 32, None)
        with pytest.raises(NotFound):
            mongo.add_link(_link("no-board", kind="board"), "cd" * 32, None)
        mongo.delete_pin(pin.id)
        assert mongo.find_link("ab" * 32) is None

    def test_audit_events_page_newest_first(self, mongo: MongoMetadataBackend) -> None:
        events = [
            AuditEvent(
                id=encode_id(new_id()),
                at=datetime.now(UTC),
                actor_id=None,
                action="share",
                target_kind="pin",
                target_id=str(i),
                details={"n": str(i)},
            )
            for i in range(5)
        ]
        for event in events:
            mongo.add_audit_event(event)
        assert mongo.list_audit_events(limit=2) == events[::-1][:2]
        assert mongo.list_audit_events(limit=10, before=events[2].id) == events[1::-1]
        assert mongo.list_audit_events(limit=0) == []
        assert mongo.list_audit_events(before="bad") == []


# -- error translation ---------------------------------------------------------------------------


class TestErrors:
    @pytest.mark.parametrize(
        ("native", "expected"),
        [
            (DuplicateKeyError("E11000", 11000), Conflict),
            (
                BulkWriteError({"writeErrors": [{"code": 11000}], "nInserted": 0}),
                Conflict,
            ),
            (ServerSelectionTimeoutError("no server"), BackendUnavailable),
            (AutoReconnect("lost"), BackendUnavailable),
            (NetworkTimeout("slow"), BackendUnavailable),
            (OperationFailure("not authorised", 13), BackendUnavailable),
            (ConfigurationError("bad"), InvalidInput),
        ],
    )
    def test_native_errors_are_translated_with_their_cause(
        self, native: Exception, expected: type[PinsphereError]
    ) -> None:
        assert isinstance(translate(native), expected)
        with pytest.raises(expected) as caught, translating():
            raise native
        assert caught.value.__cause__ is native

    def test_an_unreachable_server_is_backend_unavailable(self) -> None:
        with pytest.raises(BackendUnavailable) as caught:
            MongoMetadataBackend.from_url("mongodb://127.0.0.1:9/pins?serverSelectionTimeoutMS=50")
        assert isinstance(caught.value.__cause__, pymongo.errors.PyMongoError)

    def test_a_server_that_goes_away_is_backend_unavailable(self) -> None:
        backend = MongoMetadataBackend.from_url(
            "mongodb://127.0.0.1:9/pins?serverSelectionTimeoutMS=50&create_indexes=false"
        )
        try:
            with pytest.raises(BackendUnavailable):
                backend.ping()
            with pytest.raises(BackendUnavailable):
                backend.search_pins(Query(), EVERYTHING, limit=5)
            with pytest.raises(BackendUnavailable):
                backend.insert_pins([(make_pin(), ())])
        finally:
            backend.close()

    def test_duplicate_boards_are_conflicts(self, mongo: MongoMetadataBackend) -> None:
        board = mongo.create_board(make_board("Cats", owner_id="alice"))
        with pytest.raises(Conflict) as caught:
            mongo.create_board(board.model_copy(update={"name": "Dogs"}))
        assert isinstance(caught.value.__cause__, DuplicateKeyError)

    def test_a_pin_inserted_concurrently_undoes_the_batch(
        self, mongo: MongoMetadataBackend, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        fresh, racing = make_pin(), make_pin()
        pins = mongo._c.pins
        original = pins.insert_many

        def race(docs: Any, **kwargs: Any) -> Any:
            # Another writer inserts the second pin between the check and the insert.
            pins.insert_one({"_id": docs[1]["_id"], "by": "someone else"})
            return original(docs, **kwargs)

        monkeypatch.setattr(pins, "insert_many", race)
        with pytest.raises(Conflict):
            mongo.insert_pins([(fresh, ()), (racing, ())])
        assert pins.count_documents({}) == 1
        assert mongo.get_pin(fresh.id, EVERYTHING) is None

    def test_tag_changes_survive_a_concurrent_update(
        self, mongo: MongoMetadataBackend, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        pin = make_pin(tags=["base"])
        mongo.insert_pins([(pin, ())])
        pins = mongo._c.pins
        original = pins.find_one_and_update
        raced = []

        def race(*args: Any, **kwargs: Any) -> Any:
            if not raced:
                raced.append(True)
                # Someone else adds a tag after this update read the pin.
                pins.update_one(
                    {"_id": args[0]["_id"]}, {"$push": {"tags": "theirs"}, "$inc": {"rev": 1}}
                )
            return original(*args, **kwargs)

        monkeypatch.setattr(pins, "find_one_and_update", race)
        from pinsphere.testing.factories import now_ms

        updated = mongo.update_pin(pin.id, PinChanges(add_tags=("mine",), updated_at=now_ms()))
        assert updated is not None
        assert updated.tags == ("base", "mine", "theirs")


# -- URLs and options -------------------------------------------------------------------------


class TestURLs:
    def test_database_and_options(self) -> None:
        target = parse_mongo_url(
            "mongodb://h1:27017,h2:27017/pins?replicaSet=rs0&collection_prefix=p_"
            "&serverSelectionTimeoutMS=100"
        )
        assert target.database == "pins"
        assert target.options.collection_prefix == "p_"
        assert "collection_prefix" not in target.client_url
        assert "replicaSet=rs0" in target.client_url
        assert parse_mongo_url("mongodb://h").database == "pinsphere"

    @pytest.mark.parametrize(
        "url",
        [
            "postgresql://h/db",
            "mongodb://h/db?no_such_option=1",
            "mongodb://h/db?collection_prefix=bad.prefix",
            "mongodb://h/db?create_indexes=maybe",
        ],
    )
    def test_bad_urls_are_invalid_input(self, url: str) -> None:
        with pytest.raises(InvalidInput):
            parse_mongo_url(url)

    def test_collection_prefix_separates_stores(self) -> None:
        client = mongomock.MongoClient()
        first = MongoMetadataBackend(client, "shared", collection_prefix="a_")
        second = MongoMetadataBackend(client, "shared", collection_prefix="b_")
        first.insert_pins([(make_pin(), ())])
        assert first.count_pins(Query(), EVERYTHING) == 1
        assert second.count_pins(Query(), EVERYTHING) == 0
        names = set(client["shared"].list_collection_names())
        assert {"a_pins", "a_boards", "b_pins", "b_boards"} <= names
        assert all(name.startswith(("a_", "b_")) for name in names)
        with pytest.raises(InvalidInput):
            MongoMetadataBackend(client, "shared", collection_prefix="$bad")

    def test_the_scheme_is_registered(self) -> None:
        from pinsphere.plugins import get_hooks

        registry = get_hooks().registry
        for scheme in ("mongodb", "mongodb+srv"):
            entry = registry.registration("metadata", scheme)
            assert entry.target == "pinsphere.backends.mongo.metadata:MongoMetadataBackend"
            assert entry.extra == "mongo"


class TestDocuments:
    """What the documents and indexes look like (the searches rely on them)."""

    def test_pin_document(self, mongo: MongoMetadataBackend) -> None:
        board = mongo.create_board(make_board("Cats", owner_id="alice"))
        pin = make_pin(title="Big", description="red", tags=["balloon/party"])
        mongo.insert_pins([(pin, (board.id,))])
        doc = mongo._c.pins.find_one({})
        assert doc is not None
        assert doc["tag_paths"] == ["balloon", "balloon/party"]
        assert doc["words"] == ["balloon", "big", "party", "red"]
        assert doc["word_text"] == " big red balloon party "
        assert doc["board_ids"] == [board.id]
        assert isinstance(doc["_id"], int)

    def test_indexes(self, mongo: MongoMetadataBackend) -> None:
        keys = [list(info["key"]) for info in mongo._c.pins.index_information().values()]
        for field in ("tag_paths", "words", "board_ids", "owner_id", "visibility"):
            assert [(field, 1), ("_id", -1)] in keys
        boards = mongo._c.boards.index_information().values()
        assert any(
            info.get("unique") and list(info["key"]) == [("owner_id", 1), ("name_key", 1)]
            for info in boards
        )
