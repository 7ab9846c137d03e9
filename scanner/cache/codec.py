"""The cache's codec: model values as plain JSON (never pickle), losslessly, and back."""

from __future__ import annotations

import datetime
import enum
import json
from dataclasses import fields, is_dataclass
from typing import Any, Mapping, Sequence

from scanner.inputs import Loaded
from scanner.rule import UNKNOWN
from scanner.model import (Artifact, CommentSuppression, FileComments, Finding, Location, Notification, ResourceId,
                           ResourceSuppression, RuleMeta, Severity, Status, Suppression)

_TYPES: Mapping[str, type] = {
    cls.__name__: cls for cls in (Artifact, CommentSuppression, FileComments, Finding, Loaded, Location, Notification, ResourceId,
                                  ResourceSuppression, RuleMeta, Suppression)
}
_ENUMS: Mapping[str, type[enum.Enum]] = {cls.__name__: cls for cls in (Severity, Status)}


class Unencodable(Exception):
    """A value the cache codec does not know: the result is simply not cached."""


def encode(value: Any) -> Any:
    """Plain JSON data for model values, tuples, dates and non-string keys, losslessly."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if value is UNKNOWN:
        return {"__unknown__": 1}
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, tuple):
        return {"__tuple__": [encode(item) for item in value]}
    if isinstance(value, Mapping):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: encode(v) for k, v in value.items()}
        return {"__dict__": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, enum.Enum) and type(value).__name__ in _ENUMS:
        return {"__enum__": type(value).__name__, "value": value.value}
    if isinstance(value, datetime.datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"__date__": value.isoformat()}
    if isinstance(value, Artifact):
        return encode_artifact(value)
    if is_dataclass(value) and _TYPES.get(type(value).__name__) is type(value):
        return {"__dc__": type(value).__name__, "fields": {f.name: encode(getattr(value, f.name)) for f in fields(value)}}
    raise Unencodable(type(value).__name__)


def encode_artifact(artifact: Artifact) -> dict[str, Any]:
    """Artifacts are most of the cache: their data goes as it is when JSON keeps it exactly."""
    raw = _is_plain_json(artifact.data)
    encoded: dict[str, Any] = {"__artifact__": 1, "raw": raw}
    for item in fields(artifact):
        value = getattr(artifact, item.name)
        if item.name == "data":
            encoded["data"] = value if raw else encode(value)
        elif item.name == "lines":
            encoded["lines"] = [[list(path), first, last] for path, (first, last) in value.items()]
        else:
            encoded[item.name] = encode(dict(value) if isinstance(value, Mapping) else value)
    return encoded


def _is_plain_json(data: Any) -> bool:
    """True when JSON gives back exactly `data` (no tuples, no non-string keys, no other types)."""
    return _plain_json_text(data) is not None


def _plain_json_text(data: Any) -> str | None:
    try:
        text = json.dumps(data)
        return text if json.loads(text) == data else None
    except (TypeError, ValueError, RecursionError):
        return None


def artifact_json(artifact: Artifact) -> str:
    """The JSON text of `encode_artifact(artifact)`, serialising the (large) data only once."""
    data_text = _plain_json_text(artifact.data)
    if data_text is None:
        return json.dumps(encode_artifact(artifact))
    rest = {item.name: getattr(artifact, item.name) for item in fields(artifact) if item.name not in ("data", "lines")}
    head = {"__artifact__": 1, "raw": True,
            "lines": [[list(path), first, last] for path, (first, last) in artifact.lines.items()],
            **{name: encode(dict(value) if isinstance(value, Mapping) else value) for name, value in rest.items()}}
    return json.dumps(head)[:-1] + ', "data": ' + data_text + "}"


def _decode_artifact(data: dict[str, Any]) -> Artifact:
    values: dict[str, Any] = {}
    for item in fields(Artifact):
        if item.name == "data":
            values["data"] = data["data"] if data["raw"] is True else decode(data["data"])
        elif item.name == "lines":
            values["lines"] = {tuple(path): (int(first), int(last)) for path, first, last in data["lines"]}
        elif item.name in data:
            values[item.name] = decode(data[item.name])
    return Artifact(**values)


def decode(data: Any) -> Any:
    """The inverse of `encode`; raises (KeyError, TypeError, ValueError) on anything foreign."""
    if isinstance(data, list):
        return [decode(item) for item in data]
    if not isinstance(data, dict):
        return data
    if "__artifact__" in data:
        return _decode_artifact(data)
    if "__unknown__" in data:
        return UNKNOWN
    if "__tuple__" in data:
        return tuple(decode(item) for item in data["__tuple__"])
    if "__dict__" in data:
        return {_hashable(decode(k)): decode(v) for k, v in data["__dict__"]}
    if "__enum__" in data:
        return _ENUMS[data["__enum__"]](data["value"])
    if "__datetime__" in data:
        return datetime.datetime.fromisoformat(data["__datetime__"])
    if "__date__" in data:
        return datetime.date.fromisoformat(data["__date__"])
    if "__dc__" in data:
        return _TYPES[data["__dc__"]](**{k: decode(v) for k, v in data["fields"].items()})
    return {k: decode(v) for k, v in data.items()}


def _hashable(key: Any) -> Any:
    if isinstance(key, (list, dict)):
        raise TypeError("unhashable mapping key in cache entry")
    return key


def loaded_json(loaded: Loaded) -> tuple[list[str], str]:
    """(each artifact's `artifact_json`, the JSON text of `encode(loaded)`), serialising every
    artifact's data once. Raises Unencodable, TypeError, ValueError or RecursionError."""
    texts = [artifact_json(a) for a in loaded.artifacts]
    rest = {item.name: encode(getattr(loaded, item.name)) for item in fields(loaded) if item.name != "artifacts"}
    return texts, loaded_text(texts, rest)


def loaded_text(artifact_texts: Sequence[str], rest: Mapping[str, Any]) -> str:
    """`encode(Loaded(...))` as JSON text, from its artifacts already encoded and its other fields."""
    others = "".join(f", {json.dumps(name)}: {json.dumps(value)}" for name, value in rest.items())
    return '{"__dc__": "Loaded", "fields": {"artifacts": {"__tuple__": [' + ", ".join(artifact_texts) + "]}" + others + "}}"
