"""JSON Schema validation of account files, with messages that name the field and what is expected.

The schemas avoid `anyOf`/`oneOf`, so every error is about one keyword at one place; each is
rewritten into a sentence and routed to a rule id (missing field, unknown field, wrong shape).
"""

from __future__ import annotations

import difflib
import re
import json
from functools import lru_cache
from importlib import resources as package_files
from typing import Any, Iterator, Mapping

from scanner.engines.account_violation import AccountViolation
from scanner.inputs.accounts import ADF, LZA, V1, entries
from scanner.model import Artifact, PropertyPath

SCHEMA_FILES = {V1: "accounts-v1.schema.json", LZA: "accounts-lza.schema.json", ADF: "accounts-adf.schema.json"}
_TYPE_NAMES = {"string": "text", "number": "a number", "integer": "a whole number", "boolean": "true or false",
               "array": "a list", "object": "a mapping", "null": "empty"}


@lru_cache(maxsize=None)
def schema_for(kind: str) -> dict[str, Any]:
    text = package_files.files("scanner").joinpath(f"schemas/{SCHEMA_FILES[kind]}").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@lru_cache(maxsize=None)
def validator_for(kind: str) -> Any:
    import jsonschema  # lazy: only account scans pay for it

    return jsonschema.Draft202012Validator(schema_for(kind))


def schema_violations(artifact: Artifact) -> Iterator[AccountViolation]:
    validator = validator_for(artifact.kind)
    owners = {entry.path: entry.name for entry in entries(artifact)}
    errors = sorted(validator.iter_errors(artifact.data), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    for error in errors:
        path: PropertyPath = tuple(error.absolute_path)
        owner = owners.get(path[:2]) if len(path) >= 2 else None
        yield from _explain(artifact, error, path, owner)


def _field(path: PropertyPath) -> str:
    """`accounts[2].regions[0]` -> the part inside the entry, for messages: `regions[0]`."""
    inner = path[2:] if len(path) > 2 and isinstance(path[1], int) else path
    text = ""
    for part in inner:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "the document"


def _shown(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _explain(artifact: Artifact, error: Any, path: PropertyPath, owner: str | None) -> Iterator[AccountViolation]:
    keyword, schema, instance = error.validator, error.schema, error.instance
    where = artifact.locate(path)
    if keyword == "required":
        missing = [name for name in error.validator_value if not (isinstance(instance, Mapping) and name in instance)]
        for name in missing:
            yield AccountViolation("IDP-ACCT-001", where, owner, f"Required field `{name}` is missing" + (f" in account `{owner}`." if owner else "."), key=_field((*path, name)))
        return
    if keyword == "additionalProperties" and isinstance(instance, Mapping):
        known = list(schema.get("properties", {}))
        patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
        for name in instance:
            if name in known or any(p.search(str(name)) for p in patterns):
                continue
            guess = difflib.get_close_matches(str(name), known, n=1)
            hint = f"did you mean `{guess[0]}`?" if guess else f"known fields: {', '.join(known)}."
            yield AccountViolation("IDP-ACCT-002", artifact.locate((*path, name)), owner, f"Unknown field `{_field((*path, name))}`: {hint}", key=_field((*path, name)))
        return
    yield AccountViolation("IDP-ACCT-003", where, owner, _shape_message(keyword, schema, instance, error.validator_value, _field(path)), key=_field(path))


def _shape_message(keyword: str, schema: Mapping[str, Any], instance: Any, expected: Any, field: str) -> str:
    got = _shown(instance)
    if keyword == "type":
        wanted = " or ".join(_TYPE_NAMES.get(t, t) for t in ([expected] if isinstance(expected, str) else expected))
        return f"`{field}` must be {wanted}, not {got}."
    if keyword == "pattern":
        return f"`{field}` is {got}; expected {schema.get('x-expected', f'text matching {expected}')}."
    if keyword == "enum":
        return f"`{field}` is {got}; expected one of {', '.join(map(str, expected))}."
    if keyword == "minLength":
        return f"`{field}` must not be empty."
    if keyword == "minItems":
        return f"`{field}` must list at least {expected} item{'s' if expected != 1 else ''}."
    if keyword == "uniqueItems":
        return f"`{field}` lists the same value more than once: {got}."
    if keyword in ("minProperties", "maxProperties"):
        return f"`{field}` is {got}; expected {schema.get('x-expected', f'{keyword} {expected}')}."
    return f"`{field}` is {got}; it fails the schema keyword `{keyword}` ({_shown(expected)})."
