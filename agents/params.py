"""Checking a value a person sets for an inferred param: the default's type, within bounds.

Error messages name what is wrong, never the value (errors never echo input).
"""

import math

from pydantic import JsonValue

from contracts.agents import InferredParam
from contracts.profile import short_text

MAX_ITEMS = 100


class InvalidParamValueError(ValueError):
    """A value that does not fit the param."""


def _scalar(value: JsonValue) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        return short_text(value)
    return value is None or isinstance(value, bool | int)


def _number(value: JsonValue, *, integer: bool, param: InferredParam) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if integer and not isinstance(value, int):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    low, high = param.minimum, param.maximum
    return (low is None or value >= low) and (high is None or value <= high)


def _like(value: JsonValue, model: JsonValue, param: InferredParam) -> bool:
    """Whether `value` has the type of `model` (a default or one of its items)."""
    if isinstance(model, bool):
        return isinstance(value, bool)
    if isinstance(model, int | float):
        return _number(value, integer=isinstance(model, int), param=param)
    if isinstance(model, str):
        return isinstance(value, str) and short_text(value)
    if isinstance(model, list):
        item = model[0] if model else ""  # an empty default holds names
        return (
            isinstance(value, list)
            and len(value) <= MAX_ITEMS
            and all(_like(v, item, param) for v in value)
        )
    if isinstance(model, dict):
        return (
            isinstance(value, dict)
            and len(value) <= MAX_ITEMS
            and all(short_text(k) and _scalar(v) for k, v in value.items())
        )
    return _scalar(value)


def check_value(param: InferredParam, value: JsonValue) -> None:
    """Raise InvalidParamValueError unless `value` fits the param."""
    if param.choices is not None and value not in param.choices:
        raise InvalidParamValueError(f"{param.key}: not one of the allowed values")
    if not _like(value, param.cold_start_default, param):
        raise InvalidParamValueError(f"{param.key}: wrong type or out of range")
