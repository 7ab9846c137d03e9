"""The Terraform functions the static evaluator models; any other function's value is `UNKNOWN`.
A function is called only with known arguments, except those in `PARTIAL_FUNCTIONS`, which
keep the known parts of partly unknown ones."""

from __future__ import annotations

import json
import re
from typing import Any, Callable, Mapping

from scanner.inputs.terraform.values import as_text, is_known, to_number
from scanner.rule import UNKNOWN


def jsonencode(value: Any) -> Any:
    """JSON text of a known value; a value with unknown parts stays a structure with UNKNOWN
    leaves (a string cannot hold an unknown, and policy rules read the structure)."""
    if is_known(value):
        return json.dumps(value, separators=(",", ":"))
    return value


def _jsondecode(text: Any) -> Any:
    return json.loads(text) if isinstance(text, str) else text


def _format(spec: str, *values: Any) -> str:
    iterator = iter(values)

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "%%":
            return "%"
        value = next(iterator)
        return str(int(value)) if match.group(1) == "d" else as_text(value) if match.group(1) in "sv" else str(value)

    return re.sub(r"%%|%[-+# 0-9.]*([a-zA-Z])", one, spec)


def _merge(*maps: Any) -> Any:
    result: dict[str, Any] = {}
    for item in maps:
        if item is UNKNOWN or not isinstance(item, Mapping):
            return UNKNOWN
        result.update(item)
    return result


def _concat(*lists: Any) -> Any:
    if not all(isinstance(item, list) for item in lists):
        return UNKNOWN
    return [x for item in lists for x in item]


def _lookup(mapping: Any, key: Any, *default: Any) -> Any:
    if not isinstance(mapping, Mapping) or key is UNKNOWN:
        return UNKNOWN
    if key in mapping:
        return mapping[key]
    return default[0] if default else UNKNOWN


MAX_RANGE = 10_000


def _range(*bounds: Any) -> list[int]:
    values = range(*map(int, bounds))
    if len(values) > MAX_RANGE:
        raise ValueError("range too large to evaluate")
    return list(values)


def _flatten(value: list[Any]) -> list[Any]:
    return [y for x in value for y in (_flatten(x) if isinstance(x, list) else [x])]


def _coalesce(*values: Any) -> Any:
    for value in values:
        if value not in (None, ""):
            return value
    return None


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "jsonencode": jsonencode,
    "jsondecode": _jsondecode,
    "tostring": lambda v: as_text(v),
    "tonumber": to_number,
    "tobool": lambda v: v if isinstance(v, bool) else str(v) == "true",
    "tolist": list,
    "toset": lambda v: list(dict.fromkeys(v)),
    "tomap": dict,
    "merge": _merge,
    "concat": _concat,
    "lookup": _lookup,
    "format": _format,
    "lower": str.lower,
    "upper": str.upper,
    "trimspace": str.strip,
    "join": lambda sep, items: sep.join(as_text(i) for i in items),
    "split": lambda sep, text: text.split(sep),
    "replace": lambda text, old, new: text.replace(old, new),
    "length": len,
    "keys": lambda m: sorted(m),
    "values": lambda m: [m[k] for k in sorted(m)],
    "flatten": _flatten,
    "distinct": lambda items: [json.loads(i) for i in dict.fromkeys(json.dumps(i, sort_keys=True) for i in items)],
    "contains": lambda items, item: item in items,
    "coalesce": _coalesce,
    "compact": lambda items: [i for i in items if i not in (None, "")],
    "element": lambda items, index: items[int(index) % len(items)],
    "range": _range,
    "zipmap": lambda ks, vs: dict(zip(map(str, ks), vs)),
    "min": min,
    "max": max,
    "abs": abs,
}


# These keep known parts of partly unknown arguments.
PARTIAL_FUNCTIONS = frozenset({"jsonencode", "merge", "concat", "lookup", "tolist", "toset", "tomap"})
