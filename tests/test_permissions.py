"""Sharing, public links, API tokens and the audit trail, through the facade."""

from __future__ import annotations

from datetime import timedelta

import pytest

import pinsphere
from pinsphere import errors
from pinsphere.testing.media import jpeg_bytes, png_bytes


@pytest.fixture
def carol(store: pinsphere.PinStore) -> pinsphere.User:
    """A third member."""
    return store.users.create("carol", password="carol-password")


@pytest.fixture
def private_pin(store: pinsphere.PinStore, alice: pinsphere.User) -> pinsphere.Pin:
    return store.as_user(alice).upload(png_bytes(), title="secret", tags=["plans"])


class TestSharingPins:
    def test_a_shared_private_pin_becomes_visible_to_that_user_only(
        self,
        store: pinsphere.PinStore,
        alice: pinsphere.User,
        bob: pinsphere.User,
        carol: pinsphere.User,
        private_pin: pinsphere.Pin,
    ) -> None:
        share = store.as_user(alice).share(private_pin.id, "bob", role="viewer")
        assert (share.username, share.role, share.target_kind) == ("bob", "viewer", "pin")
        bob_scope = store.as_user(bob)
        assert bob_scope.get(private_pin.id).title == "secret"
        assert [p.id for p in bob_scope.search("tag:plans").items] == [private_pin.id]
        assert bob_scope.count() == 1
        assert [t.tag for t in bob_scope.tags()] == ["plans"]
        with bob_scope.open(private_pin.id) as original:
            assert original.read(4) == b"\x89PNG"
        assert store.as_user(carol).search().items == ()
        with pytest.raises(errors.NotFound):
            store.as_user(carol).get(private_pin.id)
        assert "shared with bob as viewer" in bob_scope.explain(private_pin.id)

    def test_viewers_read_editors_edit_nobody_else_deletes_or_reshares(
        self,
        store: pinsphere.PinStore,
        alice: pinsphere.User,
        bob: pinsphere.User,
        carol: pinsphere.User,
        private_pin: pinsphere.Pin,
    ) -> None:
        me, bob_scope = store.as_user(alice), store.as_user(bob)
        me.share(private_pin.id, "bob")
        with pytest.raises(errors.PermissionDenied):
            bob_scope.update(private_pin.id, title="changed by a viewer")
        me.share(private_pin.id, "bob", role="editor")  # sharing again changes the role
        assert [s.role for s in me.shares(private_pin.id)] == ["editor"]
        updated = bob_scope.update(private_pin.id, title="edited", add_tags=["reviewed"])
        assert (updated.title, updated.tags) == ("edited", ("plans", "reviewed"))
        with pytest.raises(errors.PermissionDenied):
            bob_scope.delete(private_pin.id)
        with pytest.raises(errors.PermissionDenied):
            bob_scope.share(private_pin.id, "carol")
        with pytest.raises(errors.PermissionDenied):
            bob_scope.create_link(private_pin.id)

    def test_an_editor_share_does_not_lift_the_viewer_role(
        self, store: pinsphere.PinStore, alice: pinsphere.User, private_pin: pinsphere.Pin
    ) -> None:
        store.users.create("vic", password="vic-password", role="viewer")
        store.as_user(alice).share(private_pin.id, "vic", role="editor")
        vic = store.as_user("vic")
        assert vic.get(private_pin.id).id == private_pin.id
        with pytest.raises(errors.PermissionDenied):
            vic.update(private_pin.id, title="no")

    def test_unshare_hides_it_again(
        self,
        store: pinsphere.PinStore,
        alice: pinsphere.User,
        bob: pinsphere.User,
        private_pin: pinsphere.Pin,
    ) -> None:
        me = store.as_user(alice)
        me.share(private_pin.id, "bob")
        me.unshare(private_pin.id, "bob")
        assert me.shares(private_pin.id) == []
        with pytest.raises(errors.NotFound):
            store.as_user(bob).get(private_pin.id)
        with pytest.raises(errors.NotFound):
            store.as_user(bob).open(private_pin.id)

    def test_bad_shares(
        self,
        store: pinsphere.PinStore,
        alice: pinsphere.User,
        bob: pinsphere.User,
        private_pin: pinsphere.Pin,
    ) -> None:
        me = store.as_user(alice)
        with pytest.raises(errors.NotFound):
            me.share(private_pin.id, "nobody")
        with pytest.raises(errors.InvalidInput):
            me.share(private_pin.id, "bob", role="owner")
        with pytest.raises(errors.InvalidInput):
            me.share(private_pin.id, "alice")
        with pytest.raises(errors.NotFound):
            store.as_user(bob).share(private_pin.id, "alice")  # invisible to bob
        with pytest.raises(errors.NotFound):
            me.share("0" * 13, "bob")


class TestSharingBoards:
    def test_a_board_share_covers_its_owners_pins_on_it(
        self,
        store: pinsphere.PinStore,
        alice: pinsphere.User,
        bob: pinsphere.User,
        carol: pinsphere.User,
    ) -> None:
        me = store.as_user(alice)
        mine = me.upload(png_bytes(), title="mine", board="Trip")
        elsewhere = me.upload(jpeg_bytes(), title="not on the board")
        # Carol's private pin can't get on Alice's board (Alice can't see it); her public
        # one can, and stays visible for its own reason.
        carols = store.as_user(carol).upload(png_bytes(color="red"), visibility="internal")
        me.boards.add("Trip", carols.id)
        store.as_user(carol).update(carols.id, visibility="private")

        board = me.boards.get("Trip")
        me.share(board.id, "bob", role="viewer")
        bob_scope = store.as_user(bob)
        assert {p.title for p in bob_scope.search().items} == {"mine"}
        assert bob_scope.get(mine.id).boards == ("Trip",)
        assert [b.name for b in bob_scope.boards.list(owner="alice")] == ["Trip"]
        with pytest.raises(errors.NotFound):
            bob_scope.get(elsewhere.id)
        with pytest.raises(errors.NotFound):
            bob_scope.get(carols.id)  # never revealed through someone else's board

        me.boards.remove("Trip", mine.id)
        with pytest.raises(errors.NotFound):
            bob_scope.get(mine.id)

    def test_a_board_editor_share_lets_pins_be_edited(
        self, store: pinsphere.PinStore, alice: pinsphere.User, bob: pinsphere.User
    ) -> None:
        me = store.as_user(alice)
        pin = me.upload(png_bytes(), board="Work")
        me.share(me.boards.get("Work").id, "bob", role="editor")
        assert store.as_user(bob).update(pin.id, title="by bob").title == "by bob"

    def test_deleting_a_board_ends_its_shares(
        self, store: pinsphere.PinStore, alice: pinsphere.User, bob: pinsphere.User
    ) -> None:
        me = store.as_user(alice)
        pin = me.upload(png_bytes(), board="Temp")
        me.share(me.boards.get("Temp").id, "bob")
        me.boards.delete("Temp")
        with pytest.raises(errors.NotFound):
            store.as_user(bob).get(pin.id)


class TestLinks:
    def test_a_link_shows_its_pin_and_nothing_else(
        self, store: pinsphere.PinStore, alice: pinsphere.User, private_pin: pinsphere.Pin
    ) -> None:
        me = store.as_user(alice)
        other = me.upload(jpeg_bytes(), title="other")
        link = me.create_link(private_pin.id, expires_in=timedelta(days=7))
        assert link.token.startswith("psl_")
        assert len(link.token) >= 40
        visitor = store.open_link(link.token)
        assert visitor.target.id == private_pin.id
        assert [p.id for p in visitor.search().items] == [private_pin.id]
        with visitor.open(private_pin.id) as original:
            assert original.read(4) == b"\x89PNG"
        with pytest.raises(errors.NotFound):
            visitor.get(other.id)
        with pytest.raises(errors.PermissionDenied):
            visitor.update(private_pin.id, title="vandal")
        with pytest.raises(errors.PermissionDenied):
            visitor.upload(png_bytes())
        assert store.anonymous.search().items == ()

    def test_revoking_stops_even_an_open_visit(
        self, store: pinsphere.PinStore, alice: pinsphere.User, private_pin: pinsphere.Pin
    ) -> None:
        me = store.as_user(alice)
        link = me.create_link(private_pin.id)
        visitor = store.open_link(link.token)
        me.revoke_link(link.id)
        with pytest.raises(errors.NotFound):
            visitor.get(private_pin.id)
        with pytest.raises(errors.NotFound):
            visitor.open(private_pin.id)
        with pytest.raises(errors.NotFound):
            store.open_link(link.token)
        assert me.links()[0].revoked_at is not None

    def test_expired_used_up_and_password_links(
        self, store: pinsphere.PinStore, alice: pinsphere.User, private_pin: pinsphere.Pin
    ) -> None:
        me = store.as_user(alice)
        expired = me.create_link(private_pin.id, expires_in=timedelta(microseconds=1))
        with pytest.raises(errors.NotFound):
            store.open_link(expired.token)

        twice = me.create_link(private_pin.id, max_uses=2)
        store.open_link(twice.token)
        store.open_link(twice.token, count_use=False)  # a follow-up request of one visit
        store.open_link(twice.token)
        # The last visit's own follow-ups (its media) still work; a new visit does not.
        store.open_link(twice.token, count_use=False).open(private_pin.id).close()
        with pytest.raises(errors.NotFound):
            store.open_link(twice.token)

        locked = me.create_link(private_pin.id, password="open sesame")
        assert locked.has_password
        with pytest.raises(errors.AuthenticationError):
            store.open_link(locked.token)
        with pytest.raises(errors.AuthenticationError):
            store.open_link(locked.token, password="wrong")
        store.open_link(locked.token, password="open sesame")

        for forged in ("", "psl_" + "A" * 43, locked.token[:-1], "x" * 5000):
            with pytest.raises(errors.NotFound):
                store.open_link(forged)

    def test_view_only_links(
        self, store: pinsphere.PinStore, alice: pinsphere.User, private_pin: pinsphere.Pin
    ) -> None:
        link = store.as_user(alice).create_link(private_pin.id, allow_download=False)
        visitor = store.open_link(link.token)
        assert visitor.get(private_pin.id).id == private_pin.id
        with pytest.raises(errors.PermissionDenied):
            visitor.open(private_pin.id)
        with pytest.raises(errors.PermissionDenied):
            visitor.open_pin(private_pin.id)

    def test_deleting_the_target_kills_the_link(
        self, store: pinsphere.PinStore, alice: pinsphere.User, private_pin: pinsphere.Pin
    ) -> None:
        me = store.as_user(alice)
        link = me.create_link(private_pin.id)
        visitor = store.open_link(link.token)
        me.delete(private_pin.id)
        with pytest.raises(errors.NotFound):
            store.open_link(link.token)
        with pytest.raises(errors.NotFound):
            visitor.get(private_pin.id)

    def test_a_board_link(
        self,
        store: pinsphere.PinStore,
        alice: pinsphere.User,
        bob: pinsphere.User,
    ) -> None:
        me = store.as_user(alice)
        on_board = me.upload(png_bytes(), title="on board", board="Album")
        me.upload(jpeg_bytes(), title="off board")
        bobs = store.as_user(bob).upload(png_bytes(color="red"), visibility="public")
        me.boards.add("Album", bobs.id)
        store.as_user(bob).update(bobs.id, visibility="private")
        link = me.create_link(me.boards.get("Album").id)
        visitor = store.open_link(link.token)
        assert visitor.target.name == "Album"  # type: ignore[union-attr]
        assert [p.id for p in visitor.search().items] == [on_board.id]
        assert [p.id for p in visitor.search("board:Album").items] == [on_board.id]

    def test_only_the_owner_links_or_revokes(
        self,
        store: pinsphere.PinStore,
        alice: pinsphere.User,
        bob: pinsphere.User,
    ) -> None:
        me = store.as_user(alice)
        public = me.upload(png_bytes(), visibility="public")
        with pytest.raises(errors.PermissionDenied):
            store.as_user(bob).create_link(public.id)
        link = me.create_link(public.id)
        with pytest.raises(errors.NotFound):
            store.as_user(bob).revoke_link(link.id)
        assert [li.id for li in me.links(public.id)] == [link.id]

    def test_bad_link_options(
        self, store: pinsphere.PinStore, alice: pinsphere.User, private_pin: pinsphere.Pin
    ) -> None:
        me = store.as_user(alice)
        for options in (
            {"expires_in": timedelta(0)},
            {"expires_in": timedelta(days=-1)},
            {"max_uses": 0},
            {"password": ""},
        ):
            with pytest.raises(errors.InvalidInput):
                me.create_link(private_pin.id, **options)  # type: ignore[arg-type]


class TestApiTokens:
    def test_read_tokens_read_write_tokens_write(
        self, store: pinsphere.PinStore, alice: pinsphere.User, private_pin: pinsphere.Pin
    ) -> None:
        me = store.as_user(alice)
        reader = me.api_tokens.create("backup script")
        writer = me.api_tokens.create("uploader", scopes=["read", "write"])
        assert reader.token.startswith("pst_")
        read_scope = store.as_token(reader.token)
        assert read_scope.get(private_pin.id).id == private_pin.id
        with pytest.raises(errors.PermissionDenied):
            read_scope.upload(png_bytes())
        with pytest.raises(errors.PermissionDenied):
            read_scope.update(private_pin.id, title="no")
        with pytest.raises(errors.PermissionDenied):
            read_scope.api_tokens.create("escalate", scopes=["write"])
        store.as_token(writer.token).upload(jpeg_bytes())
        listed = {t.name: t for t in me.api_tokens.list()}
        assert set(listed) == {"backup script", "uploader"}
        assert listed["backup script"].last_used_at is not None
        assert not hasattr(listed["uploader"], "token")

    def test_revoked_expired_forged_and_disabled(
        self, store: pinsphere.PinStore, alice: pinsphere.User
    ) -> None:
        me = store.as_user(alice)
        token = me.api_tokens.create("cron")
        me.api_tokens.revoke(token.id)
        with pytest.raises(errors.AuthenticationError):
            store.as_token(token.token)
        with pytest.raises(errors.NotFound):
            me.api_tokens.revoke(token.id)

        expired = me.api_tokens.create("old", expires_in=timedelta(microseconds=1))
        with pytest.raises(errors.AuthenticationError):
            store.as_token(expired.token)

        for forged in ("", "pst_nope", "Bearer x"):
            with pytest.raises(errors.AuthenticationError):
                store.as_token(forged)

        live = me.api_tokens.create("live")
        store.users.disable(alice)
        with pytest.raises(errors.AuthenticationError):
            store.as_token(live.token)

    def test_bad_tokens_requests(self, store: pinsphere.PinStore, alice: pinsphere.User) -> None:
        me = store.as_user(alice)
        with pytest.raises(errors.InvalidInput):
            me.api_tokens.create("")
        with pytest.raises(errors.InvalidInput):
            me.api_tokens.create("x", scopes=["admin"])
        with pytest.raises(errors.PermissionDenied):
            store.anonymous.api_tokens.create("anon")


class TestAudit:
    def test_permission_changes_are_recorded_for_admins(
        self,
        store: pinsphere.PinStore,
        alice: pinsphere.User,
        bob: pinsphere.User,
        private_pin: pinsphere.Pin,
    ) -> None:
        admin = store.users.create("root", password="root-password", role="admin")
        me = store.as_user(alice)
        me.share(private_pin.id, "bob", role="editor")
        me.unshare(private_pin.id, "bob")
        link = me.create_link(private_pin.id)
        me.revoke_link(link.id)
        store.users.set_role(bob, "viewer", actor=admin)

        events = store.as_user(admin).audit()
        assert [e.action for e in events] == [
            "role.change",
            "link.revoke",
            "link.create",
            "unshare",
            "share",
        ]
        share = events[-1]
        assert (share.actor_id, share.target_id, share.details) == (
            alice.id,
            private_pin.id,
            {"user": "bob", "role": "editor"},
        )
        older = store.as_user(admin).audit(limit=2, before=events[1].id)
        assert [e.action for e in older] == ["link.create", "unshare"]
        with pytest.raises(errors.PermissionDenied):
            me.audit()


class TestAdmin:
    def test_admins_manage_other_users_and_it_is_recorded(
        self, store: pinsphere.PinStore, alice: pinsphere.User, bob: pinsphere.User
    ) -> None:
        root = store.users.create("root", password="root-password", role="admin")
        admin = store.as_user(root).admin
        assert [u.username for u in admin.list_users()] == ["alice", "bob", "root"]
        assert admin.set_role("bob", "viewer").role == "viewer"
        assert admin.disable("bob").disabled
        assert not admin.enable("bob").disabled
        store.as_user(alice).upload(png_bytes(), visibility="public")
        admin.delete_user("alice")
        with pytest.raises(errors.NotFound):
            admin.get_user("alice")
        assert store.anonymous.count() == 0
        actions = [(e.action, e.actor_id) for e in store.as_user(root).audit()]
        assert actions == [
            ("user.delete", root.id),
            ("user.enable", root.id),
            ("user.disable", root.id),
            ("role.change", root.id),
        ]

    def test_admins_cannot_lock_themselves_out(self, store: pinsphere.PinStore) -> None:
        root = store.users.create("root", password="root-password", role="admin")
        admin = store.as_user(root).admin
        for action in (
            lambda: admin.set_role("root", "member"),
            lambda: admin.disable("root"),
            lambda: admin.delete_user("root"),
        ):
            with pytest.raises(errors.Conflict):
                action()

    def test_a_read_only_admin_token_reads_but_does_not_change(
        self, store: pinsphere.PinStore, alice: pinsphere.User
    ) -> None:
        root = store.users.create("root", password="root-password", role="admin")
        token = store.as_user(root).api_tokens.create("audit reader")
        reader = store.as_token(token.token)
        assert [u.username for u in reader.admin.list_users()] == ["alice", "root"]
        assert reader.audit() is not None
        with pytest.raises(errors.PermissionDenied):
            reader.admin.disable("alice")

    def test_only_admins(self, store: pinsphere.PinStore, alice: pinsphere.User) -> None:
        for scope in (store.as_user(alice), store.anonymous):
            with pytest.raises(errors.PermissionDenied):
                scope.admin.list_users()
            with pytest.raises(errors.PermissionDenied):
                scope.admin.set_role("alice", "admin")


class TestScopeHelpers:
    def test_can_answers_before_any_object(
        self, store: pinsphere.PinStore, alice: pinsphere.User
    ) -> None:
        viewer = store.users.create("vic", password="vic-password", role="viewer")
        assert store.as_user(alice).can("upload")
        assert not store.as_user(viewer).can("upload")
        assert not store.anonymous.can("upload")
        token = store.as_user(alice).api_tokens.create("ro")
        assert not store.as_token(token.token).can("upload")

    def test_open_pin_returns_both(
        self, store: pinsphere.PinStore, alice: pinsphere.User, private_pin: pinsphere.Pin
    ) -> None:
        pin, original = store.as_user(alice).open_pin(private_pin.id)
        with original:
            assert pin.id == private_pin.id
            assert original.read(4) == b"\x89PNG"

    def test_health_names_each_backend(self, store: pinsphere.PinStore) -> None:
        assert store.health() == {"metadata": None, "users": None, "blobs": None}
