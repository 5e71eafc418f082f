"""Trusted instances: what model_construct would make, for frozen models only."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict

from pinsphere.models import Page, TagCount
from pinsphere.trusted import TrustedMaker


def test_a_trusted_instance_equals_a_validated_one() -> None:
    made = TrustedMaker(TagCount)({"tag": "cats", "count": 3})
    assert made == TagCount(tag="cats", count=3)
    assert made.model_fields_set == {"tag", "count"}
    assert made.model_dump() == {"tag": "cats", "count": 3}


def test_a_generic_page() -> None:
    made = TrustedMaker(Page[TagCount])({"items": (), "next_cursor": None})
    assert made == Page[TagCount](items=())


class _Mutable(BaseModel):
    value: int


class _Private(BaseModel):
    model_config = ConfigDict(frozen=True)
    value: int
    _cache: int = 0


@pytest.mark.parametrize("model", [_Mutable, _Private])
def test_models_that_need_more_are_refused(model: type[BaseModel]) -> None:
    with pytest.raises(TypeError, match="cannot be built"):
        TrustedMaker(model)
