"""Values of HCL expressions: what is known, stepping into a value, numbers and text as
Terraform converts them."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from scanner.rule import UNKNOWN


def is_known(value: Any) -> bool:
    """Fully known: no UNKNOWN anywhere inside."""
    if value is UNKNOWN:
        return False
    if isinstance(value, Mapping):
        return all(is_known(v) for v in value.values())
    if isinstance(value, list):
        return all(is_known(v) for v in value)
    return True


def step_into(value: Any, steps: Sequence[Any]) -> Any:
    for step in steps:
        if value is UNKNOWN or step is UNKNOWN:
            return UNKNOWN
        if isinstance(value, Mapping):
            if str(step) not in value:
                return UNKNOWN
            value = value[str(step)]
        elif isinstance(value, list) and isinstance(step, int) and not isinstance(step, bool):
            value = value[step]
        else:
            return UNKNOWN
    return value


def to_number(value: Any) -> Any:
    if isinstance(value, bool):
        raise TypeError("not a number")
    number = float(value)
    return int(number) if number.is_integer() else number


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        raise TypeError("cannot interpolate a collection")
    return "" if value is None else str(value)
