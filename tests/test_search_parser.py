"""The search language: every construct, every error with its position, and properties."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from pinsphere.errors import InvalidInput, InvalidQuery
from pinsphere.query import (
    BoardTerm,
    DateTerm,
    DimensionTerm,
    OwnerTerm,
    Query,
    TagTerm,
    Term,
    TextTerm,
    TypeTerm,
    VisibilityTerm,
)
from pinsphere.search import (
    MAX_DIMENSION,
    MAX_QUERY_LENGTH,
    MAX_QUERY_TERMS,
    format_query,
    parse_query,
)
from pinsphere.tags import normalize_board_name, normalize_tag
from pinsphere.text import words


def terms(text: str) -> tuple[Term, ...]:
    return parse_query(text).terms


def error_at(text: str) -> InvalidQuery:
    with pytest.raises(InvalidQuery) as info:
        parse_query(text)
    return info.value


# --- constructs ---------------------------------------------------------------------------


def test_empty_and_blank_searches_have_no_terms() -> None:
    assert parse_query("") == Query()
    assert parse_query("  \t\n ") == Query()


def test_tag_is_normalised() -> None:
    assert terms("tag:Animals/Cats") == (TagTerm(tag="animals/cats"),)


def test_negated_tag() -> None:
    assert terms("tag:animals -tag:animals/dogs") == (
        TagTerm(tag="animals"),
        TagTerm(tag="animals/dogs", negated=True),
    )


def test_quoted_tag_keeps_its_space() -> None:
    assert terms('tag:"Big   Cats"') == (TagTerm(tag="big cats"),)


def test_board_keeps_case_and_collapses_space() -> None:
    assert terms('board:"My   Board"') == (BoardTerm(name="My Board"),)
    assert terms("board:Animals") == (BoardTerm(name="Animals"),)


def test_unquoted_board_name_ends_at_whitespace() -> None:
    assert terms("board:My Board") == (BoardTerm(name="My"), TextTerm(words=("board",)))


@pytest.mark.parametrize("kind", ["image", "gif", "video"])
def test_type_kind(kind: str) -> None:
    assert terms(f"type:{kind}") == (TypeTerm(media_kind=kind),)


def test_type_kind_is_case_insensitive() -> None:
    assert terms("type:GIF") == (TypeTerm(media_kind="gif"),)


def test_type_mime_is_lowercased() -> None:
    assert terms("type:Image/PNG") == (TypeTerm(mime_type="image/png"),)
    assert terms("type:image/svg+xml") == (TypeTerm(mime_type="image/svg+xml"),)


def test_owner_keeps_the_username_as_written() -> None:
    assert terms("by:Alice") == (OwnerTerm(username="Alice"),)
    assert terms('-by:"odd name"') == (OwnerTerm(username="odd name", negated=True),)


@pytest.mark.parametrize("visibility", ["private", "internal", "public"])
def test_visibility(visibility: str) -> None:
    assert terms(f"visibility:{visibility.upper()}") == (VisibilityTerm(visibility=visibility),)


def test_dates() -> None:
    assert terms("before:2026-01-31 after:2025-12-01") == (
        DateTerm(op="before", day=date(2026, 1, 31)),
        DateTerm(op="after", day=date(2025, 12, 1)),
    )


@pytest.mark.parametrize("op", ["<", "<=", "=", ">=", ">"])
def test_dimension_operators(op: str) -> None:
    assert terms(f"width{op}1000 height{op}5") == (
        DimensionTerm(field="width", op=op, value=1000),
        DimensionTerm(field="height", op=op, value=5),
    )


def test_dimension_colon_means_equal() -> None:
    assert terms("width:1000") == (DimensionTerm(field="width", op="=", value=1000),)


def test_dimension_limits() -> None:
    assert terms(f"width<={MAX_DIMENSION} height>=0") == (
        DimensionTerm(field="width", op="<=", value=MAX_DIMENSION),
        DimensionTerm(field="height", op=">=", value=0),
    )


def test_keys_are_case_insensitive() -> None:
    assert terms("TAG:x Width>3") == (
        TagTerm(tag="x"),
        DimensionTerm(field="width", op=">", value=3),
    )


def test_free_words_give_one_term_each() -> None:
    assert terms("Sleepy  CAT") == (TextTerm(words=("sleepy",)), TextTerm(words=("cat",)))


def test_free_word_with_punctuation_gives_one_term_with_several_words() -> None:
    assert terms("cat's") == (TextTerm(words=("cat", "s")),)


def test_phrase() -> None:
    assert terms('"Sleepy cat"') == (TextTerm(words=("sleepy", "cat"), phrase=True),)


def test_negated_phrase_and_word() -> None:
    assert terms('-"hot dog" -cat') == (
        TextTerm(words=("hot", "dog"), phrase=True, negated=True),
        TextTerm(words=("cat",), negated=True),
    )


def test_tokens_without_words_are_ignored() -> None:
    assert terms('!!! "" "?!" -... cat') == (TextTerm(words=("cat",)),)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://example.com", ("http", "example", "com")),
        ("10:30", ("10", "30")),
        ("color:red", ("color", "red")),
        ("widths:3", ("widths", "3")),
    ],
)
def test_unknown_keys_are_free_text(text: str, expected: tuple[str, ...]) -> None:
    assert terms(text) == (TextTerm(words=expected),)


def test_quote_inside_a_word_is_an_ordinary_character() -> None:
    assert terms('5" screen') == (TextTerm(words=("5",)), TextTerm(words=("screen",)))


def test_escapes_inside_quotes() -> None:
    assert terms(r'by:"a\"b\\c\d"') == (OwnerTerm(username='a"b\\c\\d'),)


def test_double_minus_negates_once_and_searches_the_rest() -> None:
    assert terms("--cat") == (TextTerm(words=("cat",), negated=True),)


def test_order_from_text_and_keyword() -> None:
    assert parse_query("cat order:oldest").order == "oldest"
    assert parse_query("cat order:OLDEST").order == "oldest"
    assert parse_query("cat").order == "newest"
    assert parse_query("order:oldest order:newest").order == "newest"
    assert parse_query("cat order:newest", order="oldest").order == "oldest"
    assert parse_query("cat order:oldest", order="newest").order == "newest"


def test_order_is_not_a_term() -> None:
    assert parse_query("order:oldest") == Query(order="oldest")


def test_design_example() -> None:
    query = parse_query("tag:animals -tag:animals/dogs type:gif board:Animals sleepy")
    assert query == Query(
        terms=(
            TagTerm(tag="animals"),
            TagTerm(tag="animals/dogs", negated=True),
            TypeTerm(media_kind="gif"),
            BoardTerm(name="Animals"),
            TextTerm(words=("sleepy",)),
        )
    )


def test_query_parse_classmethod_uses_this_parser() -> None:
    assert Query.parse("tag:x") == Query(terms=(TagTerm(tag="x"),))


def test_exactly_the_limits_are_accepted() -> None:
    assert len(terms(" ".join(["cat"] * MAX_QUERY_TERMS))) == MAX_QUERY_TERMS
    assert len(terms("a" * MAX_QUERY_LENGTH)) == 1


def test_order_and_ignored_tokens_do_not_count_as_terms() -> None:
    text = " ".join(["cat"] * MAX_QUERY_TERMS) + " !!! order:oldest"
    assert len(terms(text)) == MAX_QUERY_TERMS


# --- errors and their positions -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ('"sleepy cat', 0, "unterminated quote"),
        ('cat tag:"big cats', 8, "unterminated quote"),
        ('"ends in backslash\\', 0, "unterminated quote"),
        ('"escaped quote\\"', 0, "unterminated quote"),
        ('"cat"s', 5, "closing quote"),
        ('tag:"a"b', 7, "closing quote"),
        ("tag:", 4, "needs a value"),
        ("cat tag: dog", 8, "needs a value"),
        ('board:""', 6, "needs a value"),
        ("width>=", 7, "needs a value"),
        ("order:", 6, "needs a value"),
        ("-", 0, "'-' must be followed"),
        ("cat - dog", 4, "'-' must be followed"),
        ("cat -", 4, "'-' must be followed"),
        ("tag:a:b", 4, "invalid tag"),
        ("tag:-x", 4, "invalid tag"),
        ("tag:a//b", 4, "invalid tag"),
        ('tag:"a\\"b"', 4, "invalid tag"),
        ("board:a\x00b", 6, "invalid board name"),
        ("before:2026-02-30", 7, "YYYY-MM-DD"),
        ("after:20260131", 6, "YYYY-MM-DD"),
        ("after:yesterday", 6, "YYYY-MM-DD"),
        ("x before:2026-1-31", 9, "YYYY-MM-DD"),
        ("width>=big", 7, "whole number"),
        ("height:-5", 7, "whole number"),
        ("width:1.5", 6, "whole number"),
        (f"width<{MAX_DIMENSION + 1}", 6, "whole number"),
        ("width:" + "9" * 40, 6, "whole number"),
        ("visibility:secret", 11, "visibility"),
        ("type:photo", 5, "type"),
        ("type:image/", 5, "type"),
        ("type:image/*", 5, "type"),
        ("order:random", 6, "order"),
        ("cat -order:oldest", 4, "cannot be negated"),
        ("tag>=x", 3, "tag:value"),
        ("before<2026-01-01", 6, "before:value"),
        ("type=gif", 4, "type:value"),
        # The first problem in the text is the one reported.
        ('tag: "abc', 4, "needs a value"),
    ],
)
def test_error_positions(text: str, position: int, message: str) -> None:
    error = error_at(text)
    assert error.position == position
    assert message in str(error)
    assert f"at position {position}" in str(error)


def test_error_position_counts_characters_not_bytes() -> None:
    assert error_at("héllo wörld tag:").position == 16


def test_too_long() -> None:
    error = error_at("a" * (MAX_QUERY_LENGTH + 1))
    assert error.position == MAX_QUERY_LENGTH
    assert "at most" in str(error)


def test_too_many_terms_points_at_the_first_term_too_many() -> None:
    text = " ".join(["cat"] * MAX_QUERY_TERMS) + " -dog"
    error = error_at(text)
    assert error.position == 4 * MAX_QUERY_TERMS
    assert "terms" in str(error)


def test_bad_order_keyword() -> None:
    with pytest.raises(InvalidQuery) as info:
        parse_query("cat", order="random")
    assert info.value.position is None


def test_not_a_string() -> None:
    with pytest.raises(InvalidQuery):
        parse_query(b"tag:x")  # type: ignore[arg-type]


def test_invalid_query_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        parse_query("tag:")


# --- formatting -----------------------------------------------------------------------------


def test_format_is_canonical() -> None:
    query = parse_query(
        'TAG:"Big  Cats" -board:"My Board" type:GIF by:"a\\"b" width:5 cat\'s '
        '"sleepy cat" visibility:Public before:2026-01-31 order:oldest'
    )
    assert format_query(query) == (
        'tag:"big cats" -board:"My Board" type:gif by:"a\\"b" width=5 cat-s '
        '"sleepy cat" visibility:public before:2026-01-31 order:oldest'
    )


def test_format_of_empty_query() -> None:
    assert format_query(Query()) == ""


def test_format_drops_the_resolved_user_id() -> None:
    resolved = Query(terms=(OwnerTerm(username="alice", user_id="u1"),))
    assert format_query(resolved) == "by:alice"


def test_format_quotes_backslashes() -> None:
    query = Query(terms=(BoardTerm(name="a\\b"),))
    assert format_query(query) == 'board:"a\\\\b"'
    assert parse_query(format_query(query)) == query


def test_format_rejects_a_type_term_without_a_type() -> None:
    with pytest.raises(ValueError, match="either a media kind or a MIME type"):
        Query(terms=(TypeTerm(),))


# --- properties -----------------------------------------------------------------------------

# Characters that survive NFKC/NFC and case-folding unchanged, so that generated words and
# tags are already in normal form.
_WORD_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789éøñçüжяλ中文"


def _normal_or_none(normalize: Callable[[str], str], raw: str) -> str | None:
    try:
        return normalize(raw)
    except InvalidInput:
        return None


_words = (
    st.text(alphabet=_WORD_ALPHABET, min_size=1, max_size=8)
    .map(words)
    .filter(lambda found: len(found) == 1)
    .map(lambda found: found[0])
)

_tags = (
    st.text(alphabet=_WORD_ALPHABET + "ABCZ -_.'&()/ ", min_size=1, max_size=30)
    .map(lambda raw: _normal_or_none(normalize_tag, raw))
    .filter(lambda tag: tag is not None)
)

# Board names and usernames may hold almost anything, which exercises quoting and escaping.
_board_names = (
    st.text(
        st.characters(codec="utf-8", exclude_categories=["C"]) | st.sampled_from('"\\ \t'),
        min_size=1,
        max_size=30,
    )
    .map(lambda raw: _normal_or_none(normalize_board_name, raw))
    .filter(lambda name: name is not None)
)

_mime_types = st.from_regex(
    r"[a-z0-9][a-z0-9!#$&^_.+-]{0,10}/[a-z0-9][a-z0-9!#$&^_.+-]{0,10}", fullmatch=True
)

_negated = st.booleans()

_terms: st.SearchStrategy[Term] = st.one_of(
    st.builds(TagTerm, tag=_tags, negated=_negated),
    st.builds(
        TextTerm,
        words=st.lists(_words, min_size=1, max_size=4).map(tuple),
        phrase=st.booleans(),
        negated=_negated,
    ),
    st.builds(BoardTerm, name=_board_names, negated=_negated),
    st.builds(TypeTerm, media_kind=st.sampled_from(["image", "gif", "video"]), negated=_negated),
    st.builds(TypeTerm, mime_type=_mime_types, negated=_negated),
    st.builds(OwnerTerm, username=st.text(min_size=1, max_size=20), negated=_negated),
    st.builds(
        VisibilityTerm,
        visibility=st.sampled_from(["private", "internal", "public"]),
        negated=_negated,
    ),
    st.builds(DateTerm, op=st.sampled_from(["before", "after"]), day=st.dates(), negated=_negated),
    st.builds(
        DimensionTerm,
        field=st.sampled_from(["width", "height"]),
        op=st.sampled_from(["<", "<=", "=", ">=", ">"]),
        value=st.integers(min_value=0, max_value=MAX_DIMENSION),
        negated=_negated,
    ),
)

queries = st.builds(
    Query,
    terms=st.lists(_terms, max_size=12).map(tuple),
    order=st.sampled_from(["newest", "oldest"]),
)

# Text made mostly of the language's own pieces finds more interesting paths than random text.
# fmt: off
_PIECES = (
    "tag:", "-", '"', "\\", " ", "board:", "type:", "by:", "visibility:", "before:", "after:",
    "width", "height", "<", "<=", ">=", ">", "=", ":", "order:", "newest", "public", "gif",
    "image/png", "2026-01-31", "1000", "cat", "é", "/", "\x00", "\t", "ﷺ",
)
# fmt: on
_query_pieces = st.lists(st.sampled_from(_PIECES) | st.text(max_size=3), max_size=30).map("".join)

_search_text = st.text() | _query_pieces


@settings(max_examples=400, suppress_health_check=[HealthCheck.filter_too_much])
@given(queries)
# Backslashes only matter next to a quote or another backslash, which random text seldom hits.
@example(Query(terms=(BoardTerm(name="ends in \\"),)))
@example(Query(terms=(OwnerTerm(username='\\" x\\\\'),)))
@example(Query(terms=(OwnerTerm(username='"'),)))
def test_format_then_parse_gives_the_same_query(query: Query) -> None:
    text = format_query(query)
    assume(len(text) <= MAX_QUERY_LENGTH)
    assert parse_query(text) == query


@settings(max_examples=400)
@given(_search_text)
def test_parser_raises_only_invalid_query_with_a_position_inside_the_text(text: str) -> None:
    outcome = _parse_or_error(text)
    if isinstance(outcome, InvalidQuery):
        assert outcome.position is not None
        assert 0 <= outcome.position <= len(text)
    else:
        # Whatever parses has a canonical form that parses to the same query (unless that
        # form grew past the limit: NFKC can expand a character, quoting adds backslashes).
        canonical = format_query(outcome)
        if len(canonical) <= MAX_QUERY_LENGTH:
            assert parse_query(canonical) == outcome


def _parse_or_error(text: str) -> Query | InvalidQuery:
    # Any other exception propagates and fails the test, which is the point.
    try:
        return parse_query(text)
    except InvalidQuery as error:
        return error
