"""Ids, tags, text, policy and the error tree."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinsphere import errors, ids, tags, text
from pinsphere.models import Media, Pin
from pinsphere.policy import AccessRule, Principal, access_rule, can, explain


@given(st.integers(min_value=0, max_value=ids.MAX_ID), st.integers(0, ids.MAX_ID))
def test_ids_round_trip_and_keep_their_order(a: int, b: int) -> None:
    assert ids.decode_id(ids.encode_id(a)) == a
    assert (ids.encode_id(a) < ids.encode_id(b)) == (a < b)


def test_new_ids_are_unique_and_increasing() -> None:
    made = [ids.new_id() for _ in range(10_000)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)


def test_id_time_and_bounds() -> None:
    when = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    value = ids.new_id(when)
    assert ids.id_time(value) == when
    assert ids.id_at(when) <= value <= ids.id_at(when, low=False)


@pytest.mark.parametrize("bad", ["", "abc", "u" * 13, "0000000000000!", "zzzzzzzzzzzzz"])
def test_malformed_ids(bad: str) -> None:
    assert ids.decode_id(bad) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Animals", "animals"),
        ("  Animals /  Big   Cats ", "animals/big cats"),
        ("CAFE\u0301", "caf\u00e9"),
        ("straße", "strasse"),
    ],
)
def test_tags_are_normalised(raw: str, expected: str) -> None:
    assert tags.normalize_tag(raw) == expected


@pytest.mark.parametrize(
    "bad", ["", "  ", "a//b", "/a", "a/", "-neg", 'quo"te', "ctl\x07", "x" * 101, "a/" * 9 + "a"]
)
def test_bad_tags(bad: str) -> None:
    with pytest.raises(errors.InvalidInput):
        tags.normalize_tag(bad)


def test_bad_tags_fail_every_time_and_long_texts_are_not_kept() -> None:
    for _ in range(2):  # a failure is never remembered as a result
        with pytest.raises(errors.InvalidInput):
            tags.normalize_tag("a//b")
    spaced = "a" + " " * 10_000 + "b"  # collapses to a valid tag
    before = tags._normalize_cached.cache_info().currsize
    assert tags.normalize_tag(spaced) == "a b"
    assert tags._normalize_cached.cache_info().currsize == before


@given(st.text(max_size=40))
def test_kept_normal_forms_equal_fresh_ones(raw: str) -> None:
    try:
        fresh: str | None = tags._normalize(raw)
    except errors.InvalidInput:
        fresh = None
    for _ in range(2):
        try:
            assert tags.normalize_tag(raw) == fresh
        except errors.InvalidInput:
            assert fresh is None


def test_tag_lists() -> None:
    assert tags.normalize_tags(["b", "A", "a"]) == ("a", "b")
    assert tags.tag_ancestors("a/b/c") == ["a", "a/b", "a/b/c"]
    with pytest.raises(errors.InvalidInput):
        tags.normalize_tags("animals")
    with pytest.raises(errors.InvalidInput):
        tags.normalize_tags([f"t{i}" for i in range(tags.MAX_TAGS_PER_PIN + 1)])


def test_board_names() -> None:
    assert tags.normalize_board_name("  My   Board ") == "My Board"
    assert tags.board_key("My Board") == "my board"
    for bad in ("", "   ", "x" * 101, "bell\x07"):
        with pytest.raises(errors.InvalidInput):
            tags.normalize_board_name(bad)


def test_words() -> None:
    assert text.words("Sleepy_Cat, café!") == ["sleepy", "cat", "café"]
    assert text.search_words("Title", "", ["animals/cats"]) == ["title", "animals", "cats"]


# Text with the characters that could interact across a field boundary: combining marks,
# Hangul jamo, compatibility forms, separators and underscores.
_TRICKY = st.text(
    alphabet=st.sampled_from("aZé\u0301\u0327\u1100\u1161\u11a8\ufb01\u2460_ \n-9"),
    max_size=12,
)


@given(_TRICKY, _TRICKY, st.lists(_TRICKY, max_size=3))
def test_search_words_are_the_words_of_each_field_in_turn(
    title: str, description: str, pin_tags: list[str]
) -> None:
    expected = [word for field in (title, description, *pin_tags) for word in text.words(field)]
    assert text.search_words(title, description, pin_tags) == expected


def _pin(owner_id: str, visibility: str) -> Pin:
    now = datetime.now(UTC)
    media = Media(mime_type="image/png", size=1, sha256="0" * 64)
    return Pin(
        id=ids.encode_id(ids.new_id()),
        owner_id=owner_id,
        owner=owner_id,
        visibility=visibility,  # type: ignore[arg-type]
        media=media,
        created_at=now,
        updated_at=now,
    )


def _user(user_id: str, role: str, disabled: bool = False) -> Principal:
    from pinsphere.models import User

    return Principal(
        User(
            id=user_id,
            username=user_id,
            role=role,  # type: ignore[arg-type]
            disabled=disabled,
            created_at=datetime.now(UTC),
        )
    )


@given(
    role=st.sampled_from(["anonymous", "viewer", "member", "admin", "disabled"]),
    owner_is_caller=st.booleans(),
    visibility=st.sampled_from(["private", "internal", "public"]),
)
def test_policy_matches_the_table(role: str, owner_is_caller: bool, visibility: str) -> None:
    """The rule from the policy docstring, restated independently."""
    if role == "anonymous":
        principal = Principal(None)
    else:
        principal = _user("me", "member" if role == "disabled" else role, role == "disabled")
    pin = _pin("me" if owner_is_caller else "other", visibility)
    rule = access_rule(principal)
    signed_in = role in ("viewer", "member", "admin")
    expected_visible = (
        visibility == "public"
        or role == "admin"
        or (signed_in and visibility == "internal")
        or (signed_in and owner_is_caller)
    )
    assert rule.allows(pin.owner_id, pin.visibility) == expected_visible
    may_change = role == "admin" or (role == "member" and owner_is_caller)
    assert can(principal, "edit", pin) == may_change
    assert can(principal, "delete", pin) == may_change
    assert can(principal, "upload") == (role in ("member", "admin"))
    assert explain(principal, pin)


def test_anonymous_rule() -> None:
    assert access_rule(Principal(None)) == AccessRule()


def test_error_tree() -> None:
    assert issubclass(errors.NotFound, KeyError)
    assert issubclass(errors.InvalidQuery, ValueError)
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.PinsphereError)
    assert str(errors.NotFound("no such pin")) == "no such pin"
    assert errors.InvalidQuery("bad", position=3).position == 3
    assert "position 3" in str(errors.InvalidQuery("bad", position=3))


def test_store_settings_from_the_environment() -> None:
    from datetime import timedelta

    from pinsphere.settings import StoreSettings

    settings = StoreSettings.from_env(
        {
            "PINSPHERE_MAX_UPLOAD_BYTES": "1048576",
            "PINSPHERE_ALLOWED_TYPES": "image/png, IMAGE/JPEG",
            "PINSPHERE_REFRESH_TOKEN_LIFETIME": "3600",
            "PINSPHERE_ARGON2_TIME_COST": "2",
            "UNRELATED": "x",
        }
    )
    assert settings.max_upload_bytes == 1048576
    assert settings.allowed_types == frozenset({"image/png", "image/jpeg"})
    assert settings.refresh_token_lifetime == timedelta(hours=1)
    assert settings.password_hashing.time_cost == 2
    assert StoreSettings.from_env({}) == StoreSettings()
    for bad in (
        {"PINSPHERE_MAX_UPLOAD_BYTES": "lots"},
        {"PINSPHERE_MAX_UPLOAD_BYTES": "-1"},
        {"PINSPHERE_REFRESH_TOKEN_LIFETIME": "soon"},
        {"PINSPHERE_ARGON2_PARALLELISM": "0"},
    ):
        with pytest.raises(errors.InvalidInput):
            StoreSettings.from_env(bad)
