"""The base of every part of a scenario file: unknown keys are errors, values are frozen after
loading, and a yes/no never stands in for a number.

YAML reads `yes`, `no`, `on`, `off`, `true` and `false` as booleans, and pydantic's lax mode
would then take `headcount: yes` as 1 agent. A planner who wrote that meant something else, so
a boolean is accepted only where the field is a yes/no field.
"""
from __future__ import annotations

from typing import get_args, get_origin

from pydantic import BaseModel, ConfigDict, model_validator

from .errors import at


def _accepts_bool(annotation) -> bool:
    if annotation is bool:
        return True
    return any(_accepts_bool(arg) for arg in get_args(annotation) if isinstance(arg, type) or get_args(arg))


def _is_mapping(annotation) -> bool:
    if get_origin(annotation) is dict:
        return True
    return any(_is_mapping(arg) for arg in get_args(annotation) if isinstance(arg, type) or get_args(arg))


def _has_bool(value, annotation) -> bool:
    """A yes/no in the field's own value: itself, inside its list, or among a plain mapping's values
    (a nested part of the scenario checks its own fields, so its error names the right key)."""
    if isinstance(value, bool):
        return True
    if isinstance(value, list):
        return any(isinstance(v, bool) or (isinstance(v, list) and any(isinstance(x, bool) for x in v))
                   for v in value)
    if isinstance(value, dict) and _is_mapping(annotation):
        return any(isinstance(v, bool) for v in value.values())
    return False


class ScenarioModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _no_yes_no_for_numbers(cls, data):
        if not isinstance(data, dict):
            return data
        for key, value in data.items():
            field = cls.model_fields.get(key) if isinstance(key, str) else None
            if field is not None and _has_bool(value, field.annotation) and not _accepts_bool(field.annotation):
                raise at(f".{key}", f"a yes/no value is not allowed here (got {value!r}); write the number or "
                                    "name it stands for (YAML reads yes/no/on/off/true/false as yes/no)")
        return data
