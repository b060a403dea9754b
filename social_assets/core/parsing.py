"""An API item read into its pydantic model where a walk needs only what it can read."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

ModelT = TypeVar("ModelT", bound=BaseModel)


def parsed(model: type[ModelT], item: Any) -> ModelT | None:
    """`item` as `model`, or None: a walk passes over what normalization will reject and explain."""
    try:
        return model.model_validate(item)
    except ValidationError:
        return None
