"""The tag index rows of a pin: every tag and ancestor, each marked direct or not."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pinsphere.backends.sql.writes import expand_tags

_SEGMENTS = st.sampled_from(["a", "b", "cats", "x"])
_TAGS = st.lists(st.lists(_SEGMENTS, min_size=1, max_size=3).map("/".join), max_size=6)


@given(_TAGS)
def test_every_ancestor_is_indexed_and_only_given_tags_are_direct(tags: list[str]) -> None:
    expected: dict[str, bool] = {}
    for tag in tags:
        parts = tag.split("/")
        for depth in range(1, len(parts) + 1):
            ancestor = "/".join(parts[:depth])
            expected[ancestor] = expected.get(ancestor, False) or ancestor in tags
    assert expand_tags(tags) == expected
