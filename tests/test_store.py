"""The PinStore facade end to end, on memory and on SQLite + local files."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest

import pinsphere
from pinsphere import errors
from pinsphere.backends.fsspec.writers import AnonymousWriter
from pinsphere.layout_marker import LAYOUT_MARKER_KEY
from pinsphere.testing.media import gif_bytes, jpeg_bytes, mp4_bytes, png_bytes
from pinsphere.upload import Source


def stored_originals(store: pinsphere.PinStore) -> list[str]:
    return list(store.blobs.keys("originals/"))


class TestUpload:
    def test_upload_bytes_path_and_file_object(
        self, store: pinsphere.PinStore, alice: pinsphere.User, tmp_path: Path
    ) -> None:
        me = store.as_user(alice)
        path = tmp_path / "cat.jpg"
        path.write_bytes(jpeg_bytes((80, 60)))
        from_path = me.upload(path, title="From a path")
        from_bytes = me.upload(png_bytes(), title="From bytes")
        from_file = me.upload(io.BytesIO(gif_bytes()), title="From a file object")

        assert from_path.media.mime_type == "image/jpeg"
        assert (from_path.media.width, from_path.media.height) == (80, 60)
        assert from_bytes.media.mime_type == "image/png"
        assert (from_bytes.media.width, from_bytes.media.height) == (30, 20)
        assert from_file.media.mime_type == "image/gif"
        assert from_file.media.kind == "gif"
        assert from_path.owner == "alice"
        assert from_path.owner_id == alice.id
        assert from_path.visibility == "private"

    def test_metadata_is_normalised(self, store: pinsphere.PinStore, alice: pinsphere.User) -> None:
        pin = store.as_user(alice).upload(
            jpeg_bytes(),
            title="  Cat  ",
            tags=["Animals / Cats", "funny", "FUNNY"],
            board="Animals",
            visibility="public",
        )
        assert pin.title == "Cat"
        assert pin.tags == ("animals/cats", "funny")
        assert pin.boards == ("Animals",)
        assert pin.visibility == "public"

    def test_read_back_the_same_bytes(
        self, store: pinsphere.PinStore, alice: pinsphere.User
    ) -> None:
        data = jpeg_bytes((300, 200))
        me = store.as_user(alice)
        pin = me.upload(data)
        with me.open(pin.id) as original:
            assert original.read() == data
        with me.open(pin.id) as original:
            original.seek(10)
            assert original.read(5) == data[10:15]

    def test_identical_bytes_share_one_blob_until_the_last_pin_goes(
        self, store: pinsphere.PinStore, alice: pinsphere.User, bob: pinsphere.User
    ) -> None:
        data = png_bytes()
        first = store.as_user(alice).upload(data)
        second = store.as_user(bob).upload(data)
        assert first.media.sha256 == second.media.sha256
        assert stored_originals(store) == [store.layout.key(first.media.sha256)]
        store.as_user(alice).delete(first.id)
        assert stored_originals(store) == [store.layout.key(first.media.sha256)]
        store.as_user(bob).delete(second.id)
        assert stored_originals(store) == []

    def test_header_beyond_the_kept_bytes_is_read_from_the_stored_file(
        self, store: pinsphere.PinStore, alice: pinsphere.User
    ) -> None:
        jpeg = jpeg_bytes((90, 70))
        comment = b"\xff\xfe" + (65535).to_bytes(2, "big") + b"c" * 65533
        big_header = jpeg[:2] + comment * 6 + jpeg[2:]  # the frame header starts past 384 KiB
        pin = store.as_user(alice).upload(big_header)
        assert (pin.media.width, pin.media.height) == (90, 70)
        with pytest.raises(errors.InvalidMedia):
            store.as_user(alice).upload(big_header[:2] + comment * 6 + b"\xff\xd9")
        assert stored_originals(store) == [store.layout.key(pin.media.sha256)]

    def test_every_kind_of_source_gives_the_same_media(
        self, store: pinsphere.PinStore, alice: pinsphere.User, tmp_path: Path
    ) -> None:
        data = jpeg_bytes((120, 90))
        path = tmp_path / "same.jpg"
        path.write_bytes(data)
        sources: list[Source] = [
            data,
            bytearray(data),
            memoryview(data),
            io.BytesIO(data),
            path,
        ]
        me = store.as_user(alice)
        media = {me.upload(source).media for source in sources}
        assert len(media) == 1
        (only,) = media
        assert (only.mime_type, only.size, only.width, only.height) == (
            "image/jpeg",
            len(data),
            120,
            90,
        )

    def test_header_past_the_first_chunk_of_a_stream(
        self, store: pinsphere.PinStore, alice: pinsphere.User
    ) -> None:
        jpeg = jpeg_bytes((70, 50))
        comment = b"\xff\xfe" + (40_000).to_bytes(2, "big") + b"c" * 39_998
        # The frame header starts past the first chunk (8 KiB) but within the kept head.
        pin = store.as_user(alice).upload(io.BytesIO(jpeg[:2] + comment + jpeg[2:]))
        assert (pin.media.width, pin.media.height) == (70, 50)

    def test_video_is_accepted_by_its_bytes(
        self, store: pinsphere.PinStore, alice: pinsphere.User
    ) -> None:
        pin = store.as_user(alice).upload(mp4_bytes(), title="clip")
        assert pin.media.mime_type == "video/mp4"
        assert pin.media.kind == "video"


class TestBadUploads:
    """Each bad input is a typed error and leaves no pin and no blob behind."""

    def assert_nothing_left(self, store: pinsphere.PinStore, user: pinsphere.User) -> None:
        assert store.as_user(user).count() == 0
        assert stored_originals(store) == []
        assert list(store.blobs.keys()) == [LAYOUT_MARKER_KEY]

    def test_text_file_named_png(
        self, store: pinsphere.PinStore, alice: pinsphere.User, tmp_path: Path
    ) -> None:
        fake = tmp_path / "cat.png"
        fake.write_text("<html><script>alert(1)</script></html>")
        with pytest.raises(errors.InvalidMedia):
            store.as_user(alice).upload(fake)
        self.assert_nothing_left(store, alice)

    def test_truncated_jpeg(self, store: pinsphere.PinStore, alice: pinsphere.User) -> None:
        data = jpeg_bytes((200, 200))
        with pytest.raises(errors.InvalidMedia):
            store.as_user(alice).upload(data[: len(data) // 2])
        self.assert_nothing_left(store, alice)

    def test_zero_bytes(self, store: pinsphere.PinStore, alice: pinsphere.User) -> None:
        with pytest.raises(errors.InvalidMedia):
            store.as_user(alice).upload(b"")
        self.assert_nothing_left(store, alice)

    def test_oversized_upload(self, store: pinsphere.PinStore, alice: pinsphere.User) -> None:
        limit = store.settings.max_upload_bytes
        huge = png_bytes() + b"\0" * limit
        with pytest.raises(errors.TooLarge) as caught:
            store.as_user(alice).upload(io.BytesIO(huge))
        assert caught.value.limit == limit
        self.assert_nothing_left(store, alice)

    def test_oversized_bytes_are_refused_before_anything_is_written(
        self, store: pinsphere.PinStore, alice: pinsphere.User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        limit = store.settings.max_upload_bytes

        def no_writes() -> None:
            raise AssertionError("a blob writer was opened for bytes over the limit")

        monkeypatch.setattr(store.blobs, "writer", no_writes)
        for huge in (png_bytes() + b"\0" * limit, bytearray(png_bytes() + b"\0" * limit)):
            with pytest.raises(errors.TooLarge) as caught:
                store.as_user(alice).upload(huge)
            assert caught.value.limit == limit
        # The type is checked first, whatever the source: as for a stream of the same bytes.
        text = b"<html>" + b"\0" * limit
        for source in (text, io.BytesIO(text)):
            with pytest.raises(errors.InvalidMedia):
                store.as_user(alice).upload(source)
        self.assert_nothing_left(store, alice)

    def test_type_outside_the_allowlist(
        self, store: pinsphere.PinStore, alice: pinsphere.User
    ) -> None:
        bmp = io.BytesIO()
        from PIL import Image

        Image.new("RGB", (4, 4)).save(bmp, "BMP")
        with pytest.raises(errors.InvalidMedia) as caught:
            store.as_user(alice).upload(bmp.getvalue())
        assert caught.value.detected_type == "image/bmp"
        self.assert_nothing_left(store, alice)

    def test_invalid_tag_leaves_nothing(
        self, store: pinsphere.PinStore, alice: pinsphere.User
    ) -> None:
        with pytest.raises(errors.InvalidInput):
            store.as_user(alice).upload(png_bytes(), tags=["ok", "bad\x00tag"])
        self.assert_nothing_left(store, alice)

    def test_text_mode_file_object(self, store: pinsphere.PinStore, alice: pinsphere.User) -> None:
        with pytest.raises(errors.InvalidInput):
            store.as_user(alice).upload(io.StringIO("hello"))  # type: ignore[arg-type]
        self.assert_nothing_left(store, alice)

    def test_missing_path(
        self, store: pinsphere.PinStore, alice: pinsphere.User, tmp_path: Path
    ) -> None:
        with pytest.raises(errors.InvalidInput):
            store.as_user(alice).upload(tmp_path / "nope.jpg")


class TestSweep:
    def test_removes_only_old_unreferenced_originals(
        self, store: pinsphere.PinStore, alice: pinsphere.User
    ) -> None:
        kept = store.as_user(alice).upload(png_bytes())
        # An original whose pin is gone, as an interrupted delete would leave it.
        with store.blobs.writer() as writer:
            writer.write(b"orphaned bytes")
            writer.commit(store.layout.key("ab" * 32))
        # A partial write abandoned by a crashed upload.
        abandoned = store.blobs.writer()
        abandoned.write(b"half an upload")

        young = store.sweep(older_than=timedelta(hours=1))
        assert (young.staged_removed, young.orphans_removed) == (0, 0)
        assert store.blobs.exists(store.layout.key("ab" * 32))

        # Thumbnails of a pin whose deletion was interrupted.
        with store.blobs.writer() as writer:
            writer.write(b"a webp")
            writer.commit("derived/00000000000zz/256.webp")

        old = store.sweep(older_than=timedelta(0))
        # A write into a file made ahead has no name until committed: nothing to sweep.
        staged = 0 if isinstance(abandoned, AnonymousWriter) else 1
        assert (old.staged_removed, old.orphans_removed, old.derived_removed) == (staged, 1, 1)
        abandoned.discard()
        assert stored_originals(store) == [store.layout.key(kept.media.sha256)]
        assert sorted(store.blobs.keys("derived/")) == [
            f"derived/{kept.id}/{width}.webp" for width in kept.thumbnails
        ]


class TestVisibility:
    @pytest.fixture
    def pins(self, store: pinsphere.PinStore, alice: pinsphere.User) -> dict[str, pinsphere.Pin]:
        me = store.as_user(alice)
        return {
            visibility: me.upload(png_bytes(color=color), title=visibility, visibility=visibility)
            for visibility, color in (("private", "red"), ("internal", "green"), ("public", "blue"))
        }

    def test_what_each_caller_sees(
        self,
        store: pinsphere.PinStore,
        alice: pinsphere.User,
        bob: pinsphere.User,
        pins: dict[str, pinsphere.Pin],
    ) -> None:
        def titles(scope: pinsphere.PinScope) -> set[str]:
            return {pin.title for pin in scope.search().items}

        admin = store.users.create("root", password="root-password", role="admin")
        viewer = store.users.create("val", password="val-password", role="viewer")
        assert titles(store.as_user(alice)) == {"private", "internal", "public"}
        assert titles(store.as_user(bob)) == {"internal", "public"}
        assert titles(store.as_user(viewer)) == {"internal", "public"}
        assert titles(store.anonymous) == {"public"}
        assert titles(store.as_user(admin)) == {"private", "internal", "public"}
        assert store.anonymous.count() == 1
        assert store.as_user(bob).count() == 2

    def test_invisible_is_not_found_everywhere(
        self,
        store: pinsphere.PinStore,
        bob: pinsphere.User,
        pins: dict[str, pinsphere.Pin],
    ) -> None:
        private = pins["private"].id
        bob_scope = store.as_user(bob)
        for call in (
            lambda: bob_scope.get(private),
            lambda: bob_scope.open(private),
            lambda: bob_scope.update(private, title="mine now"),
            lambda: bob_scope.delete(private),
        ):
            with pytest.raises(errors.NotFound):
                call()
        with pytest.raises(errors.NotFound):
            store.anonymous.get(pins["internal"].id)

    def test_visible_but_not_allowed_is_permission_denied(
        self,
        store: pinsphere.PinStore,
        bob: pinsphere.User,
        pins: dict[str, pinsphere.Pin],
    ) -> None:
        public = pins["public"].id
        with pytest.raises(errors.PermissionDenied):
            store.as_user(bob).update(public, title="mine now")
        with pytest.raises(errors.PermissionDenied):
            store.as_user(bob).delete(public)
        assert store.anonymous.get(public).title == "public"

    def test_viewer_and_anonymous_cannot_upload(self, store: pinsphere.PinStore) -> None:
        viewer = store.users.create("val", password="val-password", role="viewer")
        for scope in (store.as_user(viewer), store.anonymous):
            with pytest.raises(errors.PermissionDenied):
                scope.upload(png_bytes())
            with pytest.raises(errors.PermissionDenied):
                scope.boards.create("Mine")
        assert list(store.blobs.keys()) == [LAYOUT_MARKER_KEY]

    def test_admin_may_edit_and_delete_anything(
        self, store: pinsphere.PinStore, pins: dict[str, pinsphere.Pin]
    ) -> None:
        admin = store.as_user(store.users.create("root", password="root-pass", role="admin"))
        assert admin.update(pins["private"].id, title="moderated").title == "moderated"
        admin.delete(pins["private"].id)
        with pytest.raises(errors.NotFound):
            admin.get(pins["private"].id)

    def test_disabled_user_sees_only_public(
        self,
        store: pinsphere.PinStore,
        alice: pinsphere.User,
        pins: dict[str, pinsphere.Pin],
    ) -> None:
        scope = store.as_user(alice)
        store.users.disable(alice)
        assert {pin.title for pin in store.as_user(alice).search().items} == {"public"}
        # A scope made before the change also loses its rights to act.
        with pytest.raises(errors.PermissionDenied):
            store.as_user(alice).upload(png_bytes())
        assert scope.user is not None

    def test_malformed_ids_are_not_found(self, store: pinsphere.PinStore) -> None:
        for bad in ("", "x", "../../etc/passwd", "0" * 13 + "z", "ZZZZZZZZZZZZZ"):
            with pytest.raises(errors.NotFound):
                store.anonymous.get(bad)


class TestUpdateAndDelete:
    def test_update_fields_and_tags(self, store: pinsphere.PinStore, alice: pinsphere.User) -> None:
        me = store.as_user(alice)
        pin = me.upload(png_bytes(), title="old", tags=["a", "b"])
        updated = me.update(
            pin.id,
            title="new",
            description="words",
            add_tags=["C"],
            remove_tags=["a"],
            visibility="internal",
        )
        assert (updated.title, updated.description, updated.visibility) == (
            "new",
            "words",
            "internal",
        )
        assert updated.tags == ("b", "c")
        assert updated.updated_at >= pin.updated_at
        assert me.update(pin.id, tags=["x/y"]).tags == ("x/y",)

    def test_bad_updates_are_rejected(
        self, store: pinsphere.PinStore, alice: pinsphere.User
    ) -> None:
        me = store.as_user(alice)
        pin = me.upload(png_bytes(), title="keep")
        with pytest.raises(errors.InvalidInput):
            me.update(pin.id, visibility="secret")
        with pytest.raises(errors.InvalidInput):
            me.update(pin.id, title="x" * 1000)
        with pytest.raises(errors.InvalidInput):
            me.update(pin.id, add_tags=[f"t{i}" for i in range(100)])
        assert me.get(pin.id).title == "keep"

    def test_delete(self, store: pinsphere.PinStore, alice: pinsphere.User) -> None:
        me = store.as_user(alice)
        pin = me.upload(png_bytes(), board="B")
        me.delete(pin.id)
        with pytest.raises(errors.NotFound):
            me.get(pin.id)
        with pytest.raises(errors.NotFound):
            me.delete(pin.id)
        assert me.boards.get("B").pin_count == 0


class TestSearch:
    @pytest.fixture
    def me(self, store: pinsphere.PinStore, alice: pinsphere.User) -> pinsphere.PinScope:
        scope = store.as_user(alice)
        scope.upload(gif_bytes(), title="Sleepy cat", tags=["animals/cats"], board="Animals")
        scope.upload(jpeg_bytes((1200, 800)), title="Dog run", tags=["animals/dogs"])
        scope.upload(png_bytes(), title="Chart", description="sleepy numbers", tags=["work"])
        return scope

    def titles(self, scope: pinsphere.PinScope, query: str) -> list[str]:
        return [pin.title for pin in scope.search(query).items]

    def test_language(self, me: pinsphere.PinScope) -> None:
        assert self.titles(me, "tag:animals") == ["Dog run", "Sleepy cat"]
        assert self.titles(me, "tag:animals -tag:animals/dogs") == ["Sleepy cat"]
        assert self.titles(me, "type:gif") == ["Sleepy cat"]
        assert self.titles(me, "type:image/png") == ["Chart"]
        assert self.titles(me, "board:animals") == ["Sleepy cat"]
        assert self.titles(me, "sleepy") == ["Chart", "Sleepy cat"]
        assert self.titles(me, '"sleepy cat"') == ["Sleepy cat"]
        assert self.titles(me, "width>=1000") == ["Dog run"]
        assert self.titles(me, "by:alice order:oldest") == ["Sleepy cat", "Dog run", "Chart"]
        assert self.titles(me, "by:nobody") == []
        assert self.titles(me, "after:2000-01-01 before:2999-01-01") == [
            "Chart",
            "Dog run",
            "Sleepy cat",
        ]
        assert me.count("tag:animals") == 2

    def test_pages_with_cursors(self, me: pinsphere.PinScope) -> None:
        seen: list[str] = []
        page = me.search(limit=1)
        while True:
            seen.extend(pin.title for pin in page.items)
            if page.next_cursor is None:
                break
            page = me.search(limit=1, cursor=page.next_cursor)
        assert seen == ["Chart", "Dog run", "Sleepy cat"]

    def test_cursor_of_another_search_is_rejected(self, me: pinsphere.PinScope) -> None:
        cursor = me.search("", limit=1).next_cursor
        assert cursor is not None
        with pytest.raises(errors.InvalidQuery):
            me.search("tag:work", limit=1, cursor=cursor)
        with pytest.raises(errors.InvalidQuery):
            me.search("", limit=1, cursor="garbage!")

    def test_malformed_query(self, me: pinsphere.PinScope) -> None:
        with pytest.raises(errors.InvalidQuery) as caught:
            me.search('tag:animals "unterminated')
        assert caught.value.position is not None

    def test_limits(self, me: pinsphere.PinScope) -> None:
        for bad in (0, -1, 10_000):
            with pytest.raises(errors.InvalidInput):
                me.search(limit=bad)

    def test_tags_with_counts(self, store: pinsphere.PinStore, me: pinsphere.PinScope) -> None:
        counts = {tag.tag: tag.count for tag in me.tags()}
        assert counts == {"animals/cats": 1, "animals/dogs": 1, "work": 1}
        assert store.anonymous.tags() == []


class TestBoards:
    def test_create_list_rename_delete(
        self, store: pinsphere.PinStore, alice: pinsphere.User
    ) -> None:
        me = store.as_user(alice)
        board = me.boards.create("Animals", description="furry")
        with pytest.raises(errors.Conflict):
            me.boards.create("animals")
        pin = me.upload(png_bytes())
        me.boards.add("Animals", pin.id)
        me.boards.add("Animals", pin.id)  # idempotent
        assert me.get(pin.id).boards == ("Animals",)
        assert me.boards.get("animals").pin_count == 1
        renamed = me.boards.update("Animals", name="Pets")
        assert renamed.id == board.id
        assert [b.name for b in me.boards.list()] == ["Pets"]
        me.boards.remove("Pets", pin.id)
        assert me.get(pin.id).boards == ()
        me.boards.delete("Pets")
        assert me.boards.list() == []
        assert me.get(pin.id).id == pin.id

    def test_private_board_of_another_user(
        self, store: pinsphere.PinStore, alice: pinsphere.User, bob: pinsphere.User
    ) -> None:
        me = store.as_user(alice)
        pin = me.upload(png_bytes(), board="Secret plans", visibility="public")
        bob_scope = store.as_user(bob)
        assert bob_scope.get(pin.id).boards == ()
        assert bob_scope.search("board:secret").items == ()
        with pytest.raises(errors.NotFound):
            bob_scope.boards.get("Secret plans", owner="alice")
        assert bob_scope.boards.list(owner="alice") == []
        me.boards.update("Secret plans", visibility="public")
        assert bob_scope.get(pin.id).boards == ("Secret plans",)
        with pytest.raises(errors.PermissionDenied):
            bob_scope.boards.add(me.boards.get("Secret plans").id, pin.id)


class TestUsers:
    def test_create_and_authenticate(self, store: pinsphere.PinStore) -> None:
        created = store.users.create("Carol", password="carol-password", email="C@Example.com")
        assert store.users.authenticate("carol", "carol-password") == created
        assert store.users.find("CAROL").id == created.id

    def test_duplicates_conflict_case_insensitively(
        self, store: pinsphere.PinStore, alice: pinsphere.User
    ) -> None:
        with pytest.raises(errors.Conflict):
            store.users.create("ALICE", password="another-password")
        with pytest.raises(errors.Conflict):
            store.users.create("alice2", password="another-password", email="ALICE@example.com")

    def test_failures_look_the_same(self, store: pinsphere.PinStore, alice: pinsphere.User) -> None:
        messages = set()
        for username, password in (("alice", "wrong-password"), ("nobody", "alice-password")):
            with pytest.raises(errors.AuthenticationError) as caught:
                store.users.authenticate(username, password)
            messages.add(str(caught.value))
        store.users.disable(alice)
        with pytest.raises(errors.AuthenticationError) as caught:
            store.users.authenticate("alice", "alice-password")
        messages.add(str(caught.value))
        assert len(messages) == 1

    def test_invalid_accounts(self, store: pinsphere.PinStore) -> None:
        for bad in ("", "has space", "x" * 65, "_hidden", "a/b"):
            with pytest.raises(errors.InvalidInput):
                store.users.create(bad, password="long-enough")
        with pytest.raises(errors.InvalidInput):
            store.users.create("shortpw", password="short")
        with pytest.raises(errors.InvalidInput):
            store.users.create("bademail", password="long-enough", email="not-an-email")
        with pytest.raises(errors.InvalidInput):
            store.users.create("badrole", password="long-enough", role="root")

    def test_change_password_and_role(
        self, store: pinsphere.PinStore, alice: pinsphere.User
    ) -> None:
        store.users.change_password(alice, "alice-password", "new-alice-password")
        with pytest.raises(errors.AuthenticationError):
            store.users.authenticate("alice", "alice-password")
        store.users.authenticate("alice", "new-alice-password")
        assert store.users.set_role(alice, "viewer").role == "viewer"
        with pytest.raises(errors.PermissionDenied):
            store.as_user(alice).upload(png_bytes())

    def test_delete_user_removes_their_pins_and_boards(
        self, store: pinsphere.PinStore, alice: pinsphere.User, bob: pinsphere.User
    ) -> None:
        store.as_user(alice).upload(png_bytes(), board="Mine", visibility="public")
        kept = store.as_user(bob).upload(jpeg_bytes(), visibility="public")
        store.delete_user(alice)
        with pytest.raises(errors.NotFound):
            store.users.get(alice.id)
        assert [pin.id for pin in store.anonymous.search().items] == [kept.id]
        assert store.as_user(bob).boards.list() == []
        assert stored_originals(store) == [store.layout.key(kept.media.sha256)]


class TestRefreshTokens:
    def test_rotation_issues_a_new_token_each_time(
        self, store: pinsphere.PinStore, alice: pinsphere.User
    ) -> None:
        first = store.refresh_tokens.issue(alice)
        user, second = store.refresh_tokens.rotate(first)
        assert user.id == alice.id
        assert second != first
        user, third = store.refresh_tokens.rotate(second)
        assert third not in (first, second)

    def test_reuse_revokes_the_whole_family(
        self, store: pinsphere.PinStore, alice: pinsphere.User
    ) -> None:
        stolen = store.refresh_tokens.issue(alice)
        _, current = store.refresh_tokens.rotate(stolen)
        with pytest.raises(errors.AuthenticationError):
            store.refresh_tokens.rotate(stolen)
        # The legitimate holder's newer token died with the family.
        with pytest.raises(errors.AuthenticationError):
            store.refresh_tokens.rotate(current)

    def test_other_families_survive_a_reuse(
        self, store: pinsphere.PinStore, alice: pinsphere.User
    ) -> None:
        laptop = store.refresh_tokens.issue(alice)
        phone = store.refresh_tokens.issue(alice)
        store.refresh_tokens.rotate(laptop)
        with pytest.raises(errors.AuthenticationError):
            store.refresh_tokens.rotate(laptop)
        store.refresh_tokens.rotate(phone)

    def test_sign_out_password_change_and_disable_end_sessions(
        self, store: pinsphere.PinStore, alice: pinsphere.User
    ) -> None:
        token = store.refresh_tokens.issue(alice)
        store.refresh_tokens.revoke(token)
        with pytest.raises(errors.AuthenticationError):
            store.refresh_tokens.rotate(token)

        token = store.refresh_tokens.issue(alice)
        store.users.set_password(alice, "a-brand-new-password")
        with pytest.raises(errors.AuthenticationError):
            store.refresh_tokens.rotate(token)

        token = store.refresh_tokens.issue(alice)
        store.users.disable(alice)
        with pytest.raises(errors.AuthenticationError):
            store.refresh_tokens.rotate(token)

    @pytest.mark.parametrize("forged", ["", "short", "x" * 43, "é" * 50, "a" * 5000])
    def test_forged_tokens(self, store: pinsphere.PinStore, forged: str) -> None:
        with pytest.raises(errors.AuthenticationError):
            store.refresh_tokens.rotate(forged)

    def test_expired_tokens_fail_and_are_purged(self, store: pinsphere.PinStore) -> None:
        short_lived = pinsphere.PinStore(
            metadata=store.metadata,
            users=store.user_backend,
            blobs=store.blobs,
            settings=store.settings.model_copy(
                update={"refresh_token_lifetime": timedelta(microseconds=1)}
            ),
        )
        user = short_lived.users.create("carol", password="carol-password")
        token = short_lived.refresh_tokens.issue(user)
        with pytest.raises(errors.AuthenticationError):
            short_lived.refresh_tokens.rotate(token)
        assert short_lived.refresh_tokens.purge_expired() >= 1
