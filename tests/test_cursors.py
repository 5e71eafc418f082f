"""Keyset cursors: they round-trip, are bound to one search and viewer, and fail cleanly."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pinsphere.cursors import MAX_CURSOR_LENGTH, decode_cursor, encode_cursor
from pinsphere.errors import InvalidQuery
from pinsphere.ids import MAX_ID, encode_id, new_id
from pinsphere.query import OwnerTerm, Query, TagTerm
from pinsphere.search import parse_query

QUERY = parse_query("tag:animals -tag:animals/dogs sleepy")
PIN_ID = encode_id(new_id())
_CURSOR_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def b64(payload: object) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def fields(cursor: str) -> dict[str, object]:
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    decoded: dict[str, object] = json.loads(raw)
    return decoded


def test_round_trip() -> None:
    cursor = encode_cursor(PIN_ID, QUERY, "user-1")
    assert decode_cursor(cursor, QUERY, "user-1") == PIN_ID


def test_round_trip_anonymous() -> None:
    cursor = encode_cursor(PIN_ID, QUERY, None)
    assert decode_cursor(cursor, QUERY, None) == PIN_ID


def test_cursor_is_url_safe_compact_and_versioned() -> None:
    cursor = encode_cursor(PIN_ID, QUERY, "user-1")
    assert set(cursor) <= set(_CURSOR_ALPHABET)
    assert len(cursor) <= 120
    payload = fields(cursor)
    assert payload["v"] == 1
    assert payload["id"] == PIN_ID
    assert payload["o"] == "newest"


def test_same_search_written_differently_shares_cursors() -> None:
    cursor = encode_cursor(PIN_ID, parse_query("TAG:Animals  sleepy"), None)
    assert decode_cursor(cursor, parse_query("tag:animals sleepy"), None) == PIN_ID


def test_resolved_owner_ids_do_not_change_the_search() -> None:
    # The facade fills in user ids; a cursor must not care whether that happened yet.
    written = Query(terms=(OwnerTerm(username="alice"),))
    resolved = Query(terms=(OwnerTerm(username="alice", user_id="u-1"),))
    assert decode_cursor(encode_cursor(PIN_ID, written, None), resolved, None) == PIN_ID


@pytest.mark.parametrize(
    ("query", "viewer"),
    [
        (parse_query("tag:animals sleepy"), "user-1"),
        (parse_query("tag:animals -tag:animals/dogs sleepy order:oldest"), "user-1"),
        (QUERY, "user-2"),
        (QUERY, None),
    ],
)
def test_cursor_from_another_search_or_viewer_is_rejected(query: Query, viewer: str | None) -> None:
    cursor = encode_cursor(PIN_ID, QUERY, "user-1")
    with pytest.raises(InvalidQuery, match="belongs to another search") as info:
        decode_cursor(cursor, query, viewer)
    assert info.value.position is None


def test_anonymous_cursor_is_not_valid_for_a_user_with_an_empty_id() -> None:
    cursor = encode_cursor(PIN_ID, QUERY, None)
    with pytest.raises(InvalidQuery, match="another search"):
        decode_cursor(cursor, QUERY, "")


def test_edited_id_is_rejected() -> None:
    payload = fields(encode_cursor(PIN_ID, QUERY, None))
    payload["id"] = encode_id(MAX_ID)
    with pytest.raises(InvalidQuery, match="another search"):
        decode_cursor(b64(payload), QUERY, None)


def _valid_payload() -> dict[str, object]:
    return fields(encode_cursor(PIN_ID, QUERY, None))


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("", id="empty"),
        pytest.param("not base64!", id="bad-characters"),
        pytest.param("abc=", id="padding"),
        pytest.param("a", id="impossible-length"),
        pytest.param("A" * (MAX_CURSOR_LENGTH + 1), id="too-long"),
        pytest.param(base64.urlsafe_b64encode(b"\xff\xfe\x00").decode(), id="not-utf8"),
        pytest.param(base64.urlsafe_b64encode(b"{not json").decode(), id="not-json"),
        pytest.param(b64([1, 2]), id="not-an-object"),
        pytest.param(b64({**_valid_payload(), "v": 2}), id="wrong-version"),
        pytest.param(b64({**_valid_payload(), "v": True}), id="boolean-version"),
        pytest.param(b64({**_valid_payload(), "id": "not-an-id"}), id="bad-id"),
        pytest.param(b64({**_valid_payload(), "id": 12}), id="numeric-id"),
        pytest.param(b64({**_valid_payload(), "o": 1}), id="numeric-order"),
        pytest.param(b64({**_valid_payload(), "c": None}), id="missing-check"),
        pytest.param(b64({**_valid_payload(), "extra": 1}), id="extra-field"),
        pytest.param(b64({"v": 1, "id": PIN_ID, "o": "newest"}), id="missing-field"),
        pytest.param(b64("[" * 300), id="deep-nesting"),
    ],
)
def test_malformed_cursor_is_invalid_query_without_position(cursor: str) -> None:
    with pytest.raises(InvalidQuery) as info:
        decode_cursor(cursor, QUERY, None)
    assert info.value.position is None


def test_non_string_cursor_is_invalid_query() -> None:
    with pytest.raises(InvalidQuery):
        decode_cursor(None, QUERY, None)  # type: ignore[arg-type]


def test_encoding_a_non_id_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="not a pin id"):
        encode_cursor("nope", QUERY, None)


_ids = st.integers(min_value=0, max_value=MAX_ID).map(encode_id)
_viewers = st.none() | st.text(max_size=20)
_queries = st.sampled_from(
    [
        Query(),
        QUERY,
        Query(terms=(TagTerm(tag="x"),), order="oldest"),
        parse_query('board:"My Board" by:"a\\"b" width>=10 "sleepy cat"'),
    ]
)


@given(_ids, _queries, _viewers)
def test_property_round_trip(last_id: str, query: Query, viewer: str | None) -> None:
    cursor = encode_cursor(last_id, query, viewer)
    assert len(cursor) <= MAX_CURSOR_LENGTH
    assert decode_cursor(cursor, query, viewer) == last_id


@settings(max_examples=300)
@given(_ids, _queries, _viewers, st.data())
def test_property_single_character_mutation_never_escapes(
    last_id: str, query: Query, viewer: str | None, data: st.DataObject
) -> None:
    cursor = encode_cursor(last_id, query, viewer)
    index = data.draw(st.integers(min_value=0, max_value=len(cursor) - 1), label="index")
    replacement = data.draw(
        st.sampled_from(_CURSOR_ALPHABET) | st.characters(), label="replacement"
    )
    mutated = cursor[:index] + replacement + cursor[index + 1 :]
    try:
        decoded: str | InvalidQuery = decode_cursor(mutated, query, viewer)
    except InvalidQuery as error:
        decoded = error
    if isinstance(decoded, InvalidQuery):
        assert decoded.position is None
    else:
        # Only a change the decoder cannot see (the unused low bits of the last character)
        # may get through, and then it must mean the same position.
        assert decoded == last_id


@given(st.text(max_size=600))
def test_property_arbitrary_text_is_rejected_cleanly(text: str) -> None:
    with pytest.raises(InvalidQuery):
        decode_cursor(text, QUERY, None)
