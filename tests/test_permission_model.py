"""The permission policy against a plain-Python oracle, in random worlds.

A hypothesis state machine builds a world step by step — users of each role, pins of each
visibility, boards, shares of pins and boards, public links, revocations, deletions, disabled
accounts — on a real store, and after every step checks what each user, an anonymous caller
and every link holder can get, open, search (every page), count and see in tags against a
model written independently below. Any disagreement is a failure; it runs on the memory
backends, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    precondition,
    rule,
)

import pinsphere
from pinsphere import errors
from pinsphere.backends.sql.metadata import SQLMetadataBackend
from pinsphere.testing.media import png_bytes
from store_support import FAST_SETTINGS, AlwaysProbing, postgres_url, require_postgres

USERS = {"ada": "admin", "mia": "member", "max": "member", "val": "viewer"}
MEMBERS = ["ada", "mia", "max"]
TAGS = ["cats", "cats/small", "dogs"]
VISIBILITIES = ["private", "internal", "public"]


@dataclass
class PinModel:
    owner: str
    visibility: str
    tag: str


@dataclass
class LinkModel:
    kind: str
    target: str
    token: str
    revoked: bool = False


@dataclass
class World:
    """The oracle: what exists and who may see it, decided without the library's help."""

    disabled: set[str] = field(default_factory=set)
    pins: dict[str, PinModel] = field(default_factory=dict)
    boards: dict[str, str] = field(default_factory=dict)  # board id -> owner
    members: dict[str, set[str]] = field(default_factory=dict)  # board id -> pin ids
    shares: dict[tuple[str, str, str], str] = field(default_factory=dict)
    links: list[LinkModel] = field(default_factory=list)

    def sees(self, user: str | None, pin_id: str) -> bool:
        pin = self.pins[pin_id]
        if user is None or user in self.disabled:
            return pin.visibility == "public"
        if USERS[user] == "admin" or pin.owner == user:
            return True
        if pin.visibility in ("public", "internal"):
            return True
        if ("pin", pin_id, user) in self.shares:
            return True
        return any(
            pin_id in pins
            and self.boards[board] == pin.owner
            and ("board", board, user) in self.shares
            for board, pins in self.members.items()
        )

    def link_shows(self, link: LinkModel, pin_id: str) -> bool:
        if link.kind == "pin":
            return pin_id == link.target
        return (
            pin_id in self.members.get(link.target, set())
            and self.boards[link.target] == self.pins[pin_id].owner
        )

    def link_alive(self, link: LinkModel) -> bool:
        if link.revoked:
            return False
        return link.target in (self.pins if link.kind == "pin" else self.boards)


def _newest_first(pin_ids: Iterator[str] | list[str]) -> list[str]:
    return sorted(pin_ids, reverse=True)


class PermissionMachine(RuleBasedStateMachine):
    """Drives one store; subclasses say which backends it runs on."""

    open_store: Callable[[], tuple[pinsphere.PinStore, Callable[[], None]]]

    pins = Bundle("pins")
    boards = Bundle("boards")

    def __init__(self) -> None:
        super().__init__()
        self.store, self._cleanup = type(self).open_store()
        self.world = World()
        self.colour = 0

    def teardown(self) -> None:
        self.store.close()
        self._cleanup()

    def scope(self, user: str | None) -> pinsphere.PinScope:
        return self.store.anonymous if user is None else self.store.as_user(user)

    @initialize()
    def make_users(self) -> None:
        for name, role in USERS.items():
            self.store.users.create(name, password=f"{name}-password", role=role)

    # -- steps ------------------------------------------------------------------------------

    @rule(
        target=pins,
        owner=st.sampled_from(MEMBERS),
        visibility=st.sampled_from(VISIBILITIES),
        tag=st.sampled_from(TAGS),
    )
    def upload(self, owner: str, visibility: str, tag: str) -> str:
        if owner in self.world.disabled:
            with pytest.raises(errors.PermissionDenied):
                self.scope(owner).upload(png_bytes(), visibility=visibility)
            return "0" * 13  # a pin id that never exists
        self.colour += 1
        image = png_bytes(color=f"#{self.colour * 40503 % 0xFFFFFF:06x}")
        pin = self.scope(owner).upload(image, tags=[tag], visibility=visibility)
        self.world.pins[pin.id] = PinModel(owner, visibility, tag)
        return pin.id

    @rule(pin=pins, visibility=st.sampled_from(VISIBILITIES))
    def change_visibility(self, pin: str, visibility: str) -> None:
        model = self.world.pins.get(pin)
        if model is None or model.owner in self.world.disabled:
            return
        self.scope(model.owner).update(pin, visibility=visibility)
        model.visibility = visibility

    @rule(target=boards, owner=st.sampled_from(MEMBERS), name=st.sampled_from(["A", "B"]))
    def make_board(self, owner: str, name: str) -> str:
        if owner in self.world.disabled:
            return "0" * 13
        scope = self.scope(owner)
        with contextlib.suppress(errors.Conflict):
            scope.boards.create(name)
        board = scope.boards.get(name)
        self.world.boards.setdefault(board.id, owner)
        self.world.members.setdefault(board.id, set())
        return board.id

    @rule(board=boards, pin=pins)
    def put_on_board(self, board: str, pin: str) -> None:
        owner = self.world.boards.get(board)
        if owner is None or pin not in self.world.pins or owner in self.world.disabled:
            return
        scope = self.scope(owner)
        if self.world.sees(owner, pin):
            scope.boards.add(board, pin)
            self.world.members[board].add(pin)
        else:
            with pytest.raises(errors.NotFound):
                scope.boards.add(board, pin)

    @rule(board=boards, pin=pins)
    def take_off_board(self, board: str, pin: str) -> None:
        owner = self.world.boards.get(board)
        if owner is None or owner in self.world.disabled:
            return
        self.scope(owner).boards.remove(board, pin)
        self.world.members[board].discard(pin)

    @rule(
        data=st.data(),
        user=st.sampled_from(list(USERS)),
        role=st.sampled_from(["viewer", "editor"]),
    )
    def share(self, data: st.DataObject, user: str, role: str) -> None:
        kind, target, owner = self._some_target(data)
        if target is None or owner == user or owner in self.world.disabled:
            return
        self.scope(owner).share(target, user, role=role)
        self.world.shares[(kind, target, user)] = role

    @rule(data=st.data())
    def unshare(self, data: st.DataObject) -> None:
        if not self.world.shares:
            return
        kind, target, user = data.draw(st.sampled_from(sorted(self.world.shares)))
        owner = self.world.pins[target].owner if kind == "pin" else self.world.boards[target]
        if owner in self.world.disabled:
            return
        self.scope(owner).unshare(target, user)
        del self.world.shares[(kind, target, user)]

    @rule(data=st.data())
    def make_link(self, data: st.DataObject) -> None:
        kind, target, owner = self._some_target(data)
        if target is None or owner in self.world.disabled:
            return
        link = self.scope(owner).create_link(target)
        self.world.links.append(LinkModel(kind, target, link.token))
        self._link_ids = getattr(self, "_link_ids", {})
        self._link_ids[link.token] = (owner, link.id)

    @rule(data=st.data())
    def revoke_link(self, data: st.DataObject) -> None:
        live = [link for link in self.world.links if self.world.link_alive(link)]
        if not live:
            return
        link = data.draw(st.sampled_from(live))
        owner, link_id = self._link_ids[link.token]
        if owner in self.world.disabled:
            return
        self.scope(owner).revoke_link(link_id)
        link.revoked = True

    @rule(pin=consumes(pins))
    def delete(self, pin: str) -> None:
        model = self.world.pins.get(pin)
        if model is None or model.owner in self.world.disabled:
            return
        self.scope(model.owner).delete(pin)
        del self.world.pins[pin]
        for members in self.world.members.values():
            members.discard(pin)
        self.world.shares = {k: v for k, v in self.world.shares.items() if k[1] != pin}

    @precondition(lambda self: len(self.world.disabled) < 2)
    @rule(user=st.sampled_from(["mia", "max", "val"]))
    def disable(self, user: str) -> None:
        self.store.users.disable(self.store.users.find(user))
        self.world.disabled.add(user)

    @rule(user=st.sampled_from(["mia", "max", "val"]))
    def enable(self, user: str) -> None:
        self.store.users.enable(self.store.users.find(user))
        self.world.disabled.discard(user)

    def _some_target(self, data: st.DataObject) -> tuple[str, str | None, str]:
        candidates = [("pin", p, m.owner) for p, m in self.world.pins.items()] + [
            ("board", b, owner) for b, owner in self.world.boards.items()
        ]
        if not candidates:
            return "pin", None, ""
        return data.draw(st.sampled_from(sorted(candidates)))

    # -- what every caller observes ---------------------------------------------------------

    def _check(self, scope: pinsphere.PinScope, expected: list[str], who: str) -> None:
        seen: list[str] = []
        page = scope.search(limit=2)
        while True:
            seen.extend(pin.id for pin in page.items)
            if page.next_cursor is None:
                break
            page = scope.search(limit=2, cursor=page.next_cursor)
        assert seen == expected, f"{who} searched"
        assert scope.count() == len(expected), f"{who} counted"
        for tag in ("cats", "dogs"):
            wanted = [p for p in expected if self.world.pins[p].tag.split("/")[0] == tag]
            assert [p.id for p in scope.search(f"tag:{tag}", limit=50).items] == wanted, who
        counts: dict[str, int] = {}
        for pin_id in expected:
            counts[self.world.pins[pin_id].tag] = counts.get(self.world.pins[pin_id].tag, 0) + 1
        assert {t.tag: t.count for t in scope.tags()} == counts, f"{who}'s tags"
        for pin_id in self.world.pins:
            if pin_id in expected:
                assert scope.get(pin_id).id == pin_id
                with scope.open(pin_id) as original:
                    assert original.read(4) == b"\x89PNG"
            else:
                with pytest.raises(errors.NotFound):
                    scope.get(pin_id)
                with pytest.raises(errors.NotFound):
                    scope.open(pin_id)

    @invariant()
    def everyone_sees_what_the_model_says(self) -> None:
        if not hasattr(self, "world"):
            return
        for user in [None, *USERS]:
            expected = _newest_first([p for p in self.world.pins if self.world.sees(user, p)])
            self._check(self.scope(user), expected, user or "anonymous")

    @invariant()
    def links_show_their_target_only(self) -> None:
        if not hasattr(self, "world"):
            return
        for link in self.world.links:
            if not self.world.link_alive(link):
                with pytest.raises(errors.NotFound):
                    self.store.open_link(link.token, count_use=False)
                continue
            visitor = self.store.open_link(link.token, count_use=False)
            expected = _newest_first([p for p in self.world.pins if self.world.link_shows(link, p)])
            self._check(visitor, expected, f"a {link.kind} link")


def _memory_store() -> tuple[pinsphere.PinStore, Callable[[], None]]:
    store = pinsphere.open(
        metadata="memory://", users="memory://", blobs="memory://", settings=FAST_SETTINGS
    )
    return store, lambda: None


def _sqlite_store(folder: Path) -> Callable[[], tuple[pinsphere.PinStore, Callable[[], None]]]:
    def make() -> tuple[pinsphere.PinStore, Callable[[], None]]:
        path = folder / uuid.uuid4().hex
        return pinsphere.open(path, settings=FAST_SETTINGS), lambda: None

    return make


def _probing_sqlite_store(
    folder: Path,
) -> Callable[[], tuple[pinsphere.PinStore, Callable[[], None]]]:
    """SQLite stores whose searches always read ids and revisions first, then the rows of
    pins they do not keep (see pinsphere.backends.sql.pin_cache)."""
    make_plain = _sqlite_store(folder)

    def make() -> tuple[pinsphere.PinStore, Callable[[], None]]:
        store, drop = make_plain()
        metadata = store.metadata
        assert isinstance(metadata, SQLMetadataBackend)
        metadata._pin_cache = AlwaysProbing(4096)
        return store, drop

    return make


def _postgres_store() -> tuple[pinsphere.PinStore, Callable[[], None]]:
    import psycopg

    schema = f"perm_{uuid.uuid4().hex[:12]}"
    url = f"{postgres_url()}{'&' if '?' in postgres_url() else '?'}schema={schema}"
    store = pinsphere.open(
        metadata=url, users=url, blobs=f"memory://{schema}", settings=FAST_SETTINGS
    )

    def drop() -> None:
        plain = postgres_url().replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    return store, drop


_SETTINGS: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much],
}


@pytest.mark.parametrize("backend", ["memory", "sqlite", "sqlite-probing", "postgresql"])
def test_permissions_agree_with_the_model(backend: str, tmp_path: Path) -> None:
    # Long runs find the interesting worlds (a private pin on a shared board of its owner);
    # the memory backend affords many, the databases fewer.
    if backend == "memory":
        factory, examples, steps = _memory_store, 100, 40
    elif backend == "sqlite":
        factory, examples, steps = _sqlite_store(tmp_path), 15, 30
    elif backend == "sqlite-probing":
        factory, examples, steps = _probing_sqlite_store(tmp_path), 15, 30
    else:
        require_postgres(postgres_url())
        factory, examples, steps = _postgres_store, 10, 30
    machine = type(
        f"PermissionMachine_{backend}", (PermissionMachine,), {"open_store": staticmethod(factory)}
    )
    runner = machine.TestCase
    runner.settings = settings(max_examples=examples, stateful_step_count=steps, **_SETTINGS)
    runner("runTest").runTest()
