"""Model instances made from values that are already valid, at the cost of a few assignments.

Results read back from a store were validated on their way in, and a search page builds one
:class:`~pinsphere.models.Pin` (with its :class:`~pinsphere.models.Media`) per row: validating
again, or even ``model_construct`` with its per-call bookkeeping, was the largest cost of a
search above the query itself. :class:`TrustedMaker` does what ``model_construct`` does for
a frozen model whose every field is given: it fills the four slots every pydantic model has.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel

__all__ = ["TrustedMaker"]

ModelT = TypeVar("ModelT", bound=BaseModel)

# The setters of those slots, from their descriptors: calling them directly skips
# object.__setattr__'s lookup by name.
_slots = vars(BaseModel)
_set_dict = _slots["__dict__"].__set__
_set_fields_set = _slots["__pydantic_fields_set__"].__set__
_set_extra = _slots["__pydantic_extra__"].__set__
_set_private = _slots["__pydantic_private__"].__set__
del _slots
_new = object.__new__


class TrustedMaker(Generic[ModelT]):
    """Makes instances of one frozen model from complete, already valid field values.

    Every instance has every field set, and a frozen instance never changes its set (pydantic
    copies the set when it copies a model), so one set serves them all.

    Raises:
        TypeError: The model is not frozen, or has private attributes or a post-init hook
            (``model_construct`` does more for those).
    """

    __slots__ = ("_fields_set", "_model")

    def __init__(self, model: type[ModelT]) -> None:
        if (
            model.__private_attributes__
            or model.__pydantic_post_init__ is not None
            or not model.model_config.get("frozen")
        ):
            raise TypeError(f"{model.__name__} cannot be built as a trusted instance")
        self._model = model
        self._fields_set = set(model.model_fields)

    def __call__(self, values: dict[str, Any]) -> ModelT:
        """An instance holding ``values``: every field, in field order, valid already."""
        made: ModelT = _new(self._model)
        _set_dict(made, values)
        _set_fields_set(made, self._fields_set)
        _set_extra(made, None)
        _set_private(made, None)
        return made
