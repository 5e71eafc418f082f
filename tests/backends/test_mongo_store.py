"""The facade on a MongoDB metadata store: upload, search, boards, shares, links, audit.

The same tests the facade runs on memory, SQLite and PostgreSQL (``tests/test_store.py``,
``tests/test_permissions.py`` and the permission state machine of
``tests/test_permission_model.py``) run again here through
``pinsphere.PinStore(metadata=MongoMetadataBackend(...))`` on mongomock, with users and
blobs in memory: the facade has no special case for a document database.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import mongomock
import pytest
from hypothesis import HealthCheck, settings

import pinsphere
import test_permissions
import test_store
from pinsphere import errors
from pinsphere.backends.fsspec import FsspecBlobBackend
from pinsphere.backends.memory.users import MemoryUserBackend
from pinsphere.backends.mongo import MongoMetadataBackend
from pinsphere.testing.media import png_bytes
from store_support import FAST_SETTINGS
from test_permission_model import PermissionMachine
from test_permissions import carol, private_pin  # noqa: F401 - fixtures the tests need


def mongo_store() -> pinsphere.PinStore:
    """A store whose metadata lives in a fresh mongomock database."""
    metadata = MongoMetadataBackend(mongomock.MongoClient(), database=f"s{uuid.uuid4().hex[:12]}")
    return pinsphere.PinStore(
        metadata=metadata,
        users=MemoryUserBackend.from_url("memory://"),
        blobs=FsspecBlobBackend.from_url("memory://"),
        settings=FAST_SETTINGS,
    )


@pytest.fixture
def store() -> Iterator[pinsphere.PinStore]:
    """Overrides the shared ``store`` fixture for every test in this module."""
    with mongo_store() as opened:
        yield opened


# -- the facade tests, again ----------------------------------------------------------------


class TestMongoUpload(test_store.TestUpload):
    pass


class TestMongoBadUploads(test_store.TestBadUploads):
    pass


class TestMongoSweep(test_store.TestSweep):
    pass


class TestMongoVisibility(test_store.TestVisibility):
    pass


class TestMongoUpdateAndDelete(test_store.TestUpdateAndDelete):
    pass


class TestMongoSearch(test_store.TestSearch):
    pass


class TestMongoBoards(test_store.TestBoards):
    pass


class TestMongoSharingPins(test_permissions.TestSharingPins):
    pass


class TestMongoSharingBoards(test_permissions.TestSharingBoards):
    pass


class TestMongoLinks(test_permissions.TestLinks):
    pass


class TestMongoAudit(test_permissions.TestAudit):
    pass


# -- the permission model -------------------------------------------------------------------


def _open_mongo_store() -> tuple[pinsphere.PinStore, Callable[[], None]]:
    return mongo_store(), lambda: None


def test_permissions_agree_with_the_model_on_mongo() -> None:
    machine = type(
        "PermissionMachine_mongo",
        (PermissionMachine,),
        {"open_store": staticmethod(_open_mongo_store)},
    )
    runner: Any = machine.TestCase
    runner.settings = settings(
        max_examples=60,
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    runner("runTest").runTest()


# -- what is Mongo's own at the facade ------------------------------------------------------


def test_search_pages_and_counts_through_the_facade(
    store: pinsphere.PinStore, alice: pinsphere.User, bob: pinsphere.User
) -> None:
    me = store.as_user(alice)
    made = [
        me.upload(png_bytes(color=f"#{i * 30:02x}0000"), title=f"cat {i}", tags=["animals/cats"])
        for i in range(5)
    ]
    me.share(made[1].id, "bob")
    seen: list[str] = []
    page = store.as_user(bob).search("tag:animals cat", limit=1)
    while True:
        seen.extend(pin.id for pin in page.items)
        if page.next_cursor is None:
            break
        page = store.as_user(bob).search("tag:animals cat", limit=1, cursor=page.next_cursor)
    assert seen == [made[1].id]
    assert store.as_user(bob).count("tag:animals") == 1
    assert [p.id for p in me.search('"cat 3"').items] == [made[3].id]


def test_open_with_a_mongodb_url_picks_this_backend() -> None:
    # No server here: the URL must reach pymongo (and fail as unavailable, not unknown).
    url = "mongodb://127.0.0.1:9/pins?serverSelectionTimeoutMS=50"
    with pytest.raises(errors.BackendUnavailable):
        pinsphere.open(metadata=url, users="memory://", blobs="memory://")


def test_operators_typed_into_the_search_box_are_text(
    store: pinsphere.PinStore, alice: pinsphere.User, bob: pinsphere.User
) -> None:
    me = store.as_user(alice)
    store.as_user(alice).boards.create("{$gt: ''}")
    tagged = me.upload(
        png_bytes(color="#010203"), tags=["$ne", "$where"], board="{$gt: ''}", visibility="public"
    )
    secret = me.upload(png_bytes(color="#040506"), title="where gt ne", tags=["$gt"])
    bob_scope = store.as_user(bob)
    assert [p.id for p in bob_scope.search("tag:$ne").items] == [tagged.id]
    assert [p.id for p in bob_scope.search("tag:$where").items] == [tagged.id]
    assert bob_scope.search("tag:$gt").items == ()
    # The board is private: it finds the pin for its owner only.
    assert [p.id for p in me.search("board:\"{$gt: ''}\"").items] == [tagged.id]
    assert bob_scope.search("board:\"{$gt: ''}\"").items == ()
    # Free words are cut by the tokenizer: "$where" is the word "where", found in the
    # tag "$where" (public) and the title "where gt ne" (private), never an operator.
    assert [p.id for p in bob_scope.search("$where $ne").items] == [tagged.id]
    assert {p.id for p in me.search("$where $ne").items} == {tagged.id, secret.id}
    assert bob_scope.search("by:$ne").items == ()
    assert bob_scope.count("-tag:$ne") == 0
    assert {t.tag for t in bob_scope.tags()} == {"$ne", "$where"}
