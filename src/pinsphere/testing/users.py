"""The conformance suite for :class:`~pinsphere.backends.base.UserBackend`.

Subclass :class:`UserBackendSuite` in a test module and provide a ``backend`` fixture that
yields a fresh, empty backend::

    class TestMyUsers(UserBackendSuite):
        @pytest.fixture
        def backend(self) -> Iterator[UserBackend]:
            backend = MyUserBackend.from_url("my://...")
            yield backend
            backend.close()
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from pinsphere.backends.base import RefreshTokenRecord, UserBackend, UserChanges
from pinsphere.backends.memory.users import MemoryUserBackend
from pinsphere.errors import Conflict, InvalidInput, NotFound, PinsphereError
from pinsphere.ids import encode_id, new_id
from pinsphere.models import ApiToken, Scope, User
from pinsphere.testing.factories import make_user

__all__ = ["UserBackendSuite"]


class UserBackendSuite:
    """Tests every user backend must pass; needs a ``backend`` fixture."""

    # -- basics -----------------------------------------------------------------------------

    def test_ping_answers(self, backend: UserBackend) -> None:
        backend.ping()

    def test_a_fresh_backend_is_empty(self, backend: UserBackend) -> None:
        assert backend.list_users() == []
        assert backend.find_user("alice") is None

    # -- create and read --------------------------------------------------------------------

    def test_create_then_get_returns_the_same_user(self, backend: UserBackend) -> None:
        user = make_user("Alice", email="Alice@Example.com", role="admin")
        created = backend.create_user(user, "hash-1")
        assert created == user
        assert backend.get_user(user.id) == user

    def test_every_field_survives_a_round_trip(self, backend: UserBackend) -> None:
        user = make_user("zoë", email="zoe@example.org", role="viewer", disabled=True)
        backend.create_user(user, None)
        stored = backend.get_user(user.id)
        assert stored is not None
        assert stored.model_dump() == user.model_dump()

    def test_get_unknown_id_is_none(self, backend: UserBackend) -> None:
        assert backend.get_user("no-such-user") is None

    def test_find_user_ignores_case_and_keeps_the_written_form(self, backend: UserBackend) -> None:
        user = backend.create_user(make_user("Alice"), None)
        for spelling in ("alice", "ALICE", "aLiCe", "Alice"):
            assert backend.find_user(spelling) == user
        found = backend.find_user("alice")
        assert found is not None
        assert found.username == "Alice"

    def test_find_user_uses_full_case_folding(self, backend: UserBackend) -> None:
        user = backend.create_user(make_user("Straße"), None)
        assert backend.find_user("STRASSE") == user

    def test_find_user_unknown_is_none(self, backend: UserBackend) -> None:
        backend.create_user(make_user("alice"), None)
        assert backend.find_user("alic") is None
        assert backend.find_user("alice2") is None

    def test_find_user_by_email_ignores_case(self, backend: UserBackend) -> None:
        user = backend.create_user(make_user("alice", email="Alice@Example.COM"), None)
        assert backend.find_user_by_email("alice@example.com") == user
        assert backend.find_user_by_email("ALICE@EXAMPLE.COM") == user
        assert backend.find_user_by_email("bob@example.com") is None

    def test_users_without_email_are_not_found_by_email(self, backend: UserBackend) -> None:
        backend.create_user(make_user("alice"), None)
        backend.create_user(make_user("bob"), None)
        assert backend.find_user_by_email("") is None

    # -- uniqueness -------------------------------------------------------------------------

    def test_duplicate_username_is_a_conflict(self, backend: UserBackend) -> None:
        backend.create_user(make_user("alice"), None)
        with pytest.raises(Conflict):
            backend.create_user(make_user("ALICE"), None)

    def test_duplicate_email_is_a_conflict(self, backend: UserBackend) -> None:
        backend.create_user(make_user("alice", email="shared@example.com"), None)
        with pytest.raises(Conflict):
            backend.create_user(make_user("bob", email="SHARED@example.com"), None)

    def test_a_conflict_stores_nothing(self, backend: UserBackend) -> None:
        backend.create_user(make_user("alice", email="a@example.com"), None)
        loser = make_user("bob", email="A@EXAMPLE.COM")
        with pytest.raises(Conflict):
            backend.create_user(loser, "hash")
        assert backend.get_user(loser.id) is None
        assert backend.find_user("bob") is None
        assert backend.get_password_hash(loser.id) is None

    def test_conflict_message_does_not_say_which_value_clashed(self, backend: UserBackend) -> None:
        backend.create_user(make_user("alice", email="a@example.com"), None)
        with pytest.raises(Conflict) as by_name:
            backend.create_user(make_user("alice", email="other@example.com"), None)
        with pytest.raises(Conflict) as by_email:
            backend.create_user(make_user("carol", email="a@example.com"), None)
        assert str(by_name.value) == str(by_email.value)

    def test_many_users_may_have_no_email(self, backend: UserBackend) -> None:
        for name in ("alice", "bob", "carol"):
            backend.create_user(make_user(name), None)
        assert len(backend.list_users()) == 3

    def test_conflict_is_a_pinsphere_error(self, backend: UserBackend) -> None:
        backend.create_user(make_user("alice"), None)
        with pytest.raises(PinsphereError):
            backend.create_user(make_user("alice"), None)

    # -- password hashes --------------------------------------------------------------------

    def test_password_hash_is_stored(self, backend: UserBackend) -> None:
        user = backend.create_user(make_user("alice"), "$argon2id$v=19$fake")
        assert backend.get_password_hash(user.id) == "$argon2id$v=19$fake"

    def test_no_password_hash_is_none(self, backend: UserBackend) -> None:
        user = backend.create_user(make_user("alice"), None)
        assert backend.get_password_hash(user.id) is None

    def test_password_hash_of_unknown_user_is_none(self, backend: UserBackend) -> None:
        assert backend.get_password_hash("nobody") is None

    def test_password_hash_is_not_on_the_user(self, backend: UserBackend) -> None:
        user = backend.create_user(make_user("alice"), "secret-hash")
        stored = backend.get_user(user.id)
        assert stored is not None
        assert "secret-hash" not in stored.model_dump_json()

    # -- update -----------------------------------------------------------------------------

    def test_update_role_and_disabled(self, backend: UserBackend) -> None:
        user = backend.create_user(make_user("alice", role="member"), None)
        changes = UserChanges(role="admin", disabled=True)
        updated = backend.update_user(user.id, changes)
        assert updated is not None
        assert (updated.role, updated.disabled) == ("admin", True)
        assert backend.get_user(user.id) == updated

    def test_update_leaves_unnamed_fields_alone(self, backend: UserBackend) -> None:
        user = backend.create_user(make_user("alice", email="a@example.com", role="viewer"), "hash")
        updated = backend.update_user(user.id, UserChanges(disabled=True))
        assert updated is not None
        assert updated.model_dump(exclude={"disabled"}) == user.model_dump(exclude={"disabled"})
        assert backend.get_password_hash(user.id) == "hash"

    def test_update_can_enable_again(self, backend: UserBackend) -> None:
        user = backend.create_user(make_user("alice", disabled=True), None)
        updated = backend.update_user(user.id, UserChanges(disabled=False))
        assert updated is not None
        assert updated.disabled is False

    def test_update_email(self, backend: UserBackend) -> None:
        user = backend.create_user(make_user("alice", email="old@example.com"), None)
        updated = backend.update_user(user.id, UserChanges(email="New@example.com"))
        assert updated is not None
        assert updated.email == "New@example.com"
        assert backend.find_user_by_email("new@example.com") == updated
        assert backend.find_user_by_email("old@example.com") is None

    def test_update_email_to_a_taken_one_is_a_conflict(self, backend: UserBackend) -> None:
        backend.create_user(make_user("alice", email="a@example.com"), None)
        bob = backend.create_user(make_user("bob", email="b@example.com"), None)
        with pytest.raises(Conflict):
            backend.update_user(bob.id, UserChanges(email="A@example.com"))
        assert backend.get_user(bob.id) == bob

    def test_update_email_to_own_email_in_other_case_is_fine(self, backend: UserBackend) -> None:
        user = backend.create_user(make_user("alice", email="a@example.com"), None)
        updated = backend.update_user(user.id, UserChanges(email="A@Example.com"))
        assert updated is not None
        assert updated.email == "A@Example.com"

    def test_update_password_hash(self, backend: UserBackend) -> None:
        user = backend.create_user(make_user("alice"), None)
        new_hash = "$argon2id$v=19$new"
        updated = backend.update_user(user.id, UserChanges(password_hash=new_hash))
        assert updated == user
        assert backend.get_password_hash(user.id) == new_hash

    def test_update_to_an_unknown_role_is_invalid(self, backend: UserBackend) -> None:
        user = backend.create_user(make_user("alice"), None)
        with pytest.raises(InvalidInput):
            backend.update_user(user.id, UserChanges(role="emperor"))
        assert backend.get_user(user.id) == user

    def test_update_unknown_user_is_none(self, backend: UserBackend) -> None:
        assert backend.update_user("nobody", UserChanges(role="admin")) is None

    # -- delete -----------------------------------------------------------------------------

    def test_delete_removes_the_user_and_frees_the_names(self, backend: UserBackend) -> None:
        user = backend.create_user(make_user("alice", email="a@example.com"), "hash")
        assert backend.delete_user(user.id) is True
        assert backend.get_user(user.id) is None
        assert backend.find_user("alice") is None
        assert backend.find_user_by_email("a@example.com") is None
        assert backend.get_password_hash(user.id) is None
        again = backend.create_user(make_user("ALICE", email="A@example.com"), None)
        assert backend.find_user("alice") == again

    def test_delete_unknown_user_is_false(self, backend: UserBackend) -> None:
        assert backend.delete_user("nobody") is False

    def test_delete_leaves_other_users(self, backend: UserBackend) -> None:
        alice = backend.create_user(make_user("alice"), None)
        bob = backend.create_user(make_user("bob"), "b")
        backend.delete_user(alice.id)
        assert backend.get_user(bob.id) == bob
        assert backend.get_password_hash(bob.id) == "b"

    # -- list -------------------------------------------------------------------------------

    def test_list_orders_by_case_folded_username(self, backend: UserBackend) -> None:
        for name in ("carol", "Bob", "alice", "Dave"):
            backend.create_user(make_user(name), None)
        assert _names(backend.list_users()) == ["alice", "Bob", "carol", "Dave"]

    def test_list_limit(self, backend: UserBackend) -> None:
        for name in ("a1", "a2", "a3", "a4"):
            backend.create_user(make_user(name), None)
        assert _names(backend.list_users(limit=2)) == ["a1", "a2"]

    def test_list_after_is_exclusive_and_case_insensitive(self, backend: UserBackend) -> None:
        for name in ("alice", "Bob", "carol"):
            backend.create_user(make_user(name), None)
        assert _names(backend.list_users(after="bob")) == ["carol"]
        assert _names(backend.list_users(after="ALICE")) == ["Bob", "carol"]
        assert _names(backend.list_users(after="b")) == ["Bob", "carol"]
        assert backend.list_users(after="zzz") == []

    def test_list_pages_cover_every_user_once(self, backend: UserBackend) -> None:
        names = [f"User{i:02d}" if i % 2 else f"user{i:02d}" for i in range(11)]
        for name in names:
            backend.create_user(make_user(name), None)
        seen: list[str] = []
        after: str | None = None
        while True:
            page = backend.list_users(limit=3, after=after)
            if not page:
                break
            seen.extend(_names(page))
            after = page[-1].username
        assert seen == sorted(names, key=str.casefold)

    # -- e-mail clearing ----------------------------------------------------------------------

    def test_an_empty_email_clears_it_and_frees_it(self, backend: UserBackend) -> None:
        user = backend.create_user(make_user("alice", email="a@example.com"), None)
        cleared = backend.update_user(user.id, UserChanges(email=""))
        assert cleared is not None
        assert cleared.email is None
        assert backend.find_user_by_email("a@example.com") is None
        backend.create_user(make_user("bob", email="A@example.com"), None)

    # -- refresh tokens -----------------------------------------------------------------------

    def test_refresh_token_round_trip(self, backend: UserBackend) -> None:
        user = backend.create_user(make_user("alice"), None)
        record = _token(user, "1", family="f1")
        backend.add_refresh_token(record)
        assert backend.get_refresh_token(record.token_hash) == record
        assert backend.get_refresh_token("f" * 64) is None

    def test_refresh_token_hash_is_unique(self, backend: UserBackend) -> None:
        user = backend.create_user(make_user("alice"), None)
        backend.add_refresh_token(_token(user, "1", family="f1"))
        with pytest.raises(Conflict):
            backend.add_refresh_token(_token(user, "1", family="f2"))

    def test_refresh_token_needs_a_user(self, backend: UserBackend) -> None:
        ghost = make_user("ghost")
        with pytest.raises(NotFound):
            backend.add_refresh_token(_token(ghost, "1", family="f1"))

    def test_a_token_is_used_once(self, backend: UserBackend) -> None:
        user = backend.create_user(make_user("alice"), None)
        record = _token(user, "1", family="f1")
        backend.add_refresh_token(record)
        assert backend.use_refresh_token(record.token_hash, _NOW) is True
        assert backend.use_refresh_token(record.token_hash, _NOW) is False
        stored = backend.get_refresh_token(record.token_hash)
        assert stored is not None
        assert stored.used_at == _NOW
        assert backend.use_refresh_token("0" * 64, _NOW) is False

    def test_revoking_a_family_or_a_user(self, backend: UserBackend) -> None:
        alice = backend.create_user(make_user("alice"), None)
        bob = backend.create_user(make_user("bob"), None)
        a1, a2, a3 = (
            _token(alice, n, family=f) for n, f in (("1", "f1"), ("2", "f1"), ("3", "f2"))
        )
        b1 = _token(bob, "4", family="f3")
        for record in (a1, a2, a3, b1):
            backend.add_refresh_token(record)
        assert backend.revoke_refresh_tokens(family_id="f1") == 2
        assert backend.revoke_refresh_tokens(family_id="f1") == 0
        assert backend.use_refresh_token(a1.token_hash, _NOW) is False
        assert backend.use_refresh_token(a3.token_hash, _NOW) is True
        assert backend.revoke_refresh_tokens(user_id=alice.id) == 1
        stored = backend.get_refresh_token(b1.token_hash)
        assert stored is not None
        assert not stored.revoked
        with pytest.raises(InvalidInput):
            backend.revoke_refresh_tokens()

    def test_purging_expired_tokens(self, backend: UserBackend) -> None:
        user = backend.create_user(make_user("alice"), None)
        old = _token(user, "1", family="f1", expires=_NOW - timedelta(days=1))
        fresh = _token(user, "2", family="f1", expires=_NOW + timedelta(days=1))
        backend.add_refresh_token(old)
        backend.add_refresh_token(fresh)
        assert backend.purge_refresh_tokens(_NOW) == 1
        assert backend.get_refresh_token(old.token_hash) is None
        assert backend.get_refresh_token(fresh.token_hash) == fresh

    def test_deleting_a_user_deletes_their_tokens(self, backend: UserBackend) -> None:
        user = backend.create_user(make_user("alice"), None)
        record = _token(user, "1", family="f1")
        backend.add_refresh_token(record)
        backend.delete_user(user.id)
        assert backend.get_refresh_token(record.token_hash) is None

    # -- API tokens and refresh tokens: export and import -----------------------------------

    def test_a_fresh_backend_exports_no_tokens(self, backend: UserBackend) -> None:
        assert list(backend.export_api_tokens()) == []
        assert list(backend.export_refresh_tokens()) == []

    def test_export_api_tokens_returns_every_token_as_stored(self, backend: UserBackend) -> None:
        alice = backend.create_user(make_user("alice"), None)
        bob = backend.create_user(make_user("bob"), None)
        reader = _api_token(alice, "reader")
        writer = _api_token(alice, "writer", scopes=("read", "write"), expires_at=_LATER)
        bobs = _api_token(bob, "bob's")
        for token in (reader, writer, bobs):
            backend.add_api_token(token, _hash(token.name))
        backend.touch_api_token(writer.id, _USED)
        exported = list(backend.export_api_tokens())
        assert exported == [
            (reader, _hash("reader")),
            (writer.model_copy(update={"last_used_at": _USED}), _hash("writer")),
            (bobs, _hash("bob's")),
        ]
        for token, token_hash in exported:
            assert backend.find_api_token(token_hash) == token

    def test_export_api_tokens_pages_through_every_token_once(self, backend: UserBackend) -> None:
        user = backend.create_user(make_user("alice"), None)
        tokens = [_api_token(user, f"token {number}") for number in range(5)]
        for token in tokens:
            backend.add_api_token(token, _hash(token.name))
        for page_size in (1, 2, 5, 6):
            exported = list(backend.export_api_tokens(page_size=page_size))
            assert [token.id for token, _ in exported] == sorted(token.id for token in tokens)
        with pytest.raises(InvalidInput):
            backend.export_api_tokens(page_size=0)

    def test_imported_api_tokens_keep_their_whole_state(self, backend: UserBackend) -> None:
        # Made and used in the reference backend, exported, then imported into this fresh one.
        reference = MemoryUserBackend()
        alice = make_user("alice")
        for store in (reference, backend):
            store.create_user(alice, None)
        used = _api_token(alice, "used", scopes=("read", "write"), expires_at=_LATER)
        unused = _api_token(alice, "unused")
        reference.add_api_token(used, _hash("used"))
        reference.add_api_token(unused, _hash("unused"))
        reference.touch_api_token(used.id, _USED)
        exported = list(reference.export_api_tokens())

        for token, token_hash in exported:
            backend.import_api_token(token, token_hash)

        assert list(backend.export_api_tokens()) == exported
        stored = backend.find_api_token(_hash("used"))
        assert stored == used.model_copy(update={"last_used_at": _USED})
        assert backend.list_api_tokens(alice.id) == reference.list_api_tokens(alice.id)

    def test_exported_api_tokens_import_unchanged_into_a_fresh_backend(
        self, backend: UserBackend
    ) -> None:
        alice = backend.create_user(make_user("alice"), None)
        token = _api_token(alice, "cron", expires_at=_LATER)
        backend.add_api_token(token, _hash("cron"))
        backend.touch_api_token(token.id, _USED)
        fresh = MemoryUserBackend()
        fresh.create_user(alice, None)

        for record in backend.export_api_tokens(page_size=1):
            fresh.import_api_token(*record)

        assert list(fresh.export_api_tokens()) == list(backend.export_api_tokens())

    def test_import_api_token_refuses_a_taken_id_or_digest(self, backend: UserBackend) -> None:
        alice = backend.create_user(make_user("alice"), None)
        token = _api_token(alice, "first")
        backend.import_api_token(token, _hash("first"))
        with pytest.raises(Conflict):
            backend.import_api_token(token, _hash("second"))
        with pytest.raises(Conflict):
            backend.import_api_token(_api_token(alice, "other"), _hash("first"))
        assert list(backend.export_api_tokens()) == [(token, _hash("first"))]

    def test_import_api_token_needs_its_user(self, backend: UserBackend) -> None:
        with pytest.raises(NotFound):
            backend.import_api_token(_api_token(make_user("ghost"), "x"), _hash("x"))
        assert list(backend.export_api_tokens()) == []

    def test_export_refresh_tokens_returns_every_token_as_stored(
        self, backend: UserBackend
    ) -> None:
        alice = backend.create_user(make_user("alice"), None)
        bob = backend.create_user(make_user("bob"), None)
        rotated, current = _token(alice, "1", family="f1"), _token(alice, "2", family="f1")
        signed_out = _token(bob, "3", family="f2")
        for record in (rotated, current, signed_out):
            backend.add_refresh_token(record)
        assert backend.use_refresh_token(rotated.token_hash, _USED) is True
        assert backend.revoke_refresh_tokens(family_id="f2") == 1
        expected = [
            rotated.model_copy(update={"used_at": _USED}),
            current,
            signed_out.model_copy(update={"revoked": True}),
        ]
        exported = list(backend.export_refresh_tokens())
        assert exported == sorted(expected, key=lambda record: record.token_hash)
        assert list(backend.export_refresh_tokens(page_size=1)) == exported
        with pytest.raises(InvalidInput):
            backend.export_refresh_tokens(page_size=0)

    def test_imported_refresh_tokens_keep_their_whole_state(self, backend: UserBackend) -> None:
        # Issued, rotated and revoked in the reference backend, then imported into this one.
        reference = MemoryUserBackend()
        alice = make_user("alice")
        for store in (reference, backend):
            store.create_user(alice, None)
        rotated, current = _token(alice, "1", family="f1"), _token(alice, "2", family="f1")
        revoked = _token(alice, "3", family="f2")
        expired = _token(alice, "4", family="f3", expires=_NOW - timedelta(days=1))
        for record in (rotated, current, revoked, expired):
            reference.add_refresh_token(record)
        reference.use_refresh_token(rotated.token_hash, _USED)
        reference.revoke_refresh_tokens(family_id="f2")
        exported = list(reference.export_refresh_tokens())

        for record in exported:
            backend.import_refresh_token(record)

        assert list(backend.export_refresh_tokens()) == exported
        for record in exported:
            assert backend.get_refresh_token(record.token_hash) == record
        # They go on behaving as they did: a used or revoked token cannot be used again.
        assert backend.use_refresh_token(rotated.token_hash, _NOW) is False
        assert backend.use_refresh_token(revoked.token_hash, _NOW) is False
        assert backend.use_refresh_token(current.token_hash, _NOW) is True
        assert backend.purge_refresh_tokens(_NOW) == 1
        assert backend.get_refresh_token(expired.token_hash) is None

    def test_exported_refresh_tokens_import_unchanged_into_a_fresh_backend(
        self, backend: UserBackend
    ) -> None:
        alice = backend.create_user(make_user("alice"), None)
        rotated, current = _token(alice, "1", family="f1"), _token(alice, "2", family="f1")
        backend.add_refresh_token(rotated)
        backend.add_refresh_token(current)
        backend.use_refresh_token(rotated.token_hash, _USED)
        backend.revoke_refresh_tokens(user_id=alice.id)
        fresh = MemoryUserBackend()
        fresh.create_user(alice, None)

        for record in backend.export_refresh_tokens(page_size=1):
            fresh.import_refresh_token(record)

        assert list(fresh.export_refresh_tokens()) == list(backend.export_refresh_tokens())

    def test_import_refresh_token_refuses_a_taken_hash(self, backend: UserBackend) -> None:
        alice = backend.create_user(make_user("alice"), None)
        record = _token(alice, "1", family="f1")
        backend.import_refresh_token(record)
        with pytest.raises(Conflict):
            backend.import_refresh_token(record.model_copy(update={"revoked": True}))
        assert list(backend.export_refresh_tokens()) == [record]

    def test_import_refresh_token_needs_its_user(self, backend: UserBackend) -> None:
        with pytest.raises(NotFound):
            backend.import_refresh_token(_token(make_user("ghost"), "1", family="f1"))
        assert list(backend.export_refresh_tokens()) == []

    def test_deleting_a_user_takes_their_tokens_out_of_the_export(
        self, backend: UserBackend
    ) -> None:
        alice = backend.create_user(make_user("alice"), None)
        bob = backend.create_user(make_user("bob"), None)
        backend.add_api_token(_api_token(alice, "hers"), _hash("hers"))
        kept = _api_token(bob, "his")
        backend.add_api_token(kept, _hash("his"))
        backend.add_refresh_token(_token(alice, "1", family="f1"))
        his_session = _token(bob, "2", family="f2")
        backend.add_refresh_token(his_session)
        backend.delete_user(alice.id)
        assert list(backend.export_api_tokens()) == [(kept, _hash("his"))]
        assert list(backend.export_refresh_tokens()) == [his_session]


_NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
# Microseconds included: every one must survive a round trip.
_USED = _NOW - timedelta(minutes=5, microseconds=123457)
_LATER = _NOW + timedelta(days=90, microseconds=654321)


def _hash(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def _api_token(
    user: User,
    name: str,
    *,
    scopes: tuple[Scope, ...] = ("read",),
    expires_at: datetime | None = None,
) -> ApiToken:
    """A new API token (ids increase in call order, so export order is creation order)."""
    return ApiToken(
        id=encode_id(new_id()),
        user_id=user.id,
        name=name,
        scopes=scopes,
        created_at=_NOW - timedelta(days=1, microseconds=1),
        expires_at=expires_at,
    )


def _token(
    user: User, seed: str, *, family: str, expires: datetime | None = None
) -> RefreshTokenRecord:
    return RefreshTokenRecord(
        token_hash=hashlib.sha256(seed.encode()).hexdigest(),
        family_id=family,
        user_id=user.id,
        created_at=_NOW - timedelta(hours=1),
        expires_at=expires or _NOW + timedelta(days=30),
    )


def _names(users: list[User]) -> list[str]:
    return [user.username for user in users]
