"""Declarative rules: resource types plus a condition a compliant resource satisfies.

    id: IDP-DATA-002
    title: RDS storage must be encrypted at rest
    severity: error
    aliases: [CKV_AWS_16]
    help: |
      Why it matters, and how to fix it in CloudFormation, CDK and Terraform.
    checks:
      - resource_types: [AWS::RDS::DBInstance]
        message: Storage of {resource} is not encrypted.
        condition:
          any:
            - {path: DBClusterIdentifier, exists: true}
            - {path: StorageEncrypted, equals: true, default: false}

Conditions: `all`, `any`, `not`, and a `path` (`A/B/*/C` or `A.B[*].C`; `*` means every list
element must comply) with one of `exists`, `equals`, `not_equals`, `in`, `not_in`, `regex`,
`gt`, `gte`, `lt`, `lte`; `default` stands in for a missing value. Logic is three-valued: a
value only known at deploy time is neither compliant nor a violation.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources as package_files
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import yaml

from scanner.model import PropertyPath, Resource, RuleMeta, Severity
from scanner.rule import RULE_ID, UNKNOWN, RuleContext, Violation, split_docstring

Verdict = bool | None  # None: could not be known
_MISSING = object()
_OPERATORS = ("exists", "equals", "not_equals", "in", "not_in", "regex", "gt", "gte", "lt", "lte")


class RuleLoadError(Exception):
    """A rule file that cannot be used; the message names the file."""


@lru_cache(maxsize=1)
def rule_schema() -> dict[str, Any]:
    text = package_files.files("scanner").joinpath("schemas/rule.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def parse_path(text: str) -> tuple[str, ...]:
    normalised = re.sub(r"\[(\*|\d+)\]", r"/\1", text).replace(".", "/")
    return tuple(part for part in normalised.split("/") if part)


def _expand(value: Any, segments: tuple[str, ...], here: PropertyPath) -> Iterator[tuple[PropertyPath, Any]]:
    if not segments:
        yield here, value
        return
    head, rest = segments[0], segments[1:]
    if head == "*":
        if isinstance(value, list):
            for index, item in enumerate(value):
                yield from _expand(item, rest, (*here, index))
        return
    if isinstance(value, list) and head.isdigit():
        index = int(head)
        yield from _expand(value[index] if index < len(value) else _MISSING, rest, (*here, index))
        return
    child = value.get(head, _MISSING) if isinstance(value, Mapping) else _MISSING
    if child is _MISSING:
        yield (*here, head), _MISSING
        return
    yield from _expand(child, rest, (*here, head))


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _same(actual: Any, expected: Any) -> bool:
    # CloudFormation accepts "true" and "22" where it documents a boolean or a number.
    if isinstance(expected, bool) or isinstance(actual, bool):
        return str(actual).lower() == str(expected).lower()
    if isinstance(expected, (int, float)) or isinstance(actual, (int, float)):
        left, right = _as_number(actual), _as_number(expected)
        return left is not None and left == right
    return bool(actual == expected)


def _test(operator: str, operand: Any, value: Any) -> Verdict:
    if operator == "exists":
        return (value is not _MISSING) == bool(operand)
    if value is _MISSING:
        return operator in ("not_equals", "not_in")
    if operator == "equals":
        return _same(value, operand)
    if operator == "not_equals":
        return not _same(value, operand)
    if operator == "in":
        return any(_same(value, option) for option in operand)
    if operator == "not_in":
        return not any(_same(value, option) for option in operand)
    if operator == "regex":
        return isinstance(value, str) and re.search(operand, value) is not None
    number = _as_number(value)
    if number is None:
        return False
    bound = float(operand)
    return {"gt": number > bound, "gte": number >= bound, "lt": number < bound, "lte": number <= bound}[operator]


def evaluate(condition: Mapping[str, Any], properties: Mapping[str, Any], ctx: RuleContext) -> tuple[Verdict, PropertyPath]:
    """Whether the properties satisfy the condition, and where they fail it first."""
    if "all" in condition:
        results = [evaluate(c, properties, ctx) for c in condition["all"]]
        failed = [path for verdict, path in results if verdict is False]
        if failed:
            return False, failed[0]
        return (None, ()) if any(v is None for v, _ in results) else (True, results[0][1])
    if "any" in condition:
        results = [evaluate(c, properties, ctx) for c in condition["any"]]
        if any(v is True for v, _ in results):
            return True, next(path for verdict, path in results if verdict is True)
        if any(v is None for v, _ in results):
            return None, ()
        # Point at the most specific alternative; on a tie the last (exceptions come first).
        return False, max(reversed([path for _, path in results]), key=len, default=())
    if "not" in condition:
        verdict, path = evaluate(condition["not"], properties, ctx)
        return (None if verdict is None else not verdict), path
    return _evaluate_path(condition, properties, ctx)


def _evaluate_path(condition: Mapping[str, Any], properties: Mapping[str, Any], ctx: RuleContext) -> tuple[Verdict, PropertyPath]:
    operator = next(op for op in _OPERATORS if op in condition)
    unknown = False
    first: PropertyPath = ()
    for path, raw in _expand(properties, parse_path(condition["path"]), ()):
        first = first or path
        value = raw if raw is _MISSING else ctx.resolve(raw)
        if value is _MISSING and "default" in condition:
            value = condition["default"]
        if value is UNKNOWN:
            unknown = True
            continue
        if _test(operator, condition[operator], value) is False:
            return False, path
    # On success the path still matters: `not` turns it into the violation's location.
    return (None, ()) if unknown else (True, first)


@dataclass(frozen=True)
class _Check:
    resource_types: tuple[str, ...]
    condition: Mapping[str, Any]
    message: str


@dataclass(frozen=True)
class YamlRule:
    """A rule read from a YAML document; behaves like a Python `Rule`."""

    id: str
    _meta: RuleMeta
    checks: tuple[_Check, ...]
    source: str
    scope_wide: bool = False  # declarative rules judge one resource at a time

    def meta(self) -> RuleMeta:
        return self._meta

    def applies_to(self, resource: Resource) -> bool:
        return any(resource.type in check.resource_types for check in self.checks)

    def check(self, resource: Resource, ctx: RuleContext) -> Iterator[Violation]:
        for check in self.checks:
            if resource.type not in check.resource_types:
                continue
            verdict, path = evaluate(check.condition, resource.properties, ctx)
            if verdict is False:
                yield Violation(path, check.message.format(resource=resource.id.name, path="/".join(map(str, path))))


def load_yaml_rule(path: Path) -> YamlRule:
    import jsonschema

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RuleLoadError(f"{path}: not a readable YAML rule: {exc}") from exc
    errors = sorted(jsonschema.Draft202012Validator(rule_schema()).iter_errors(document), key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(top)"
        raise RuleLoadError(f"{path}: invalid rule at {where}: {errors[0].message}")
    return rule_from_document(document, str(path))


def rule_from_document(document: Mapping[str, Any], source: str) -> YamlRule:
    if not RULE_ID.match(document["id"]):
        raise RuleLoadError(f"{source}: rule id {document['id']!r} must look like ORG-AREA-123")
    title, rest = split_docstring(document.get("title", ""))
    checks: Sequence[Mapping[str, Any]] = document.get("checks") or [
        {key: document[key] for key in ("resource_types", "condition", "message") if key in document}
    ]
    default_message = f"{{resource}} does not comply: {title}"
    meta = RuleMeta(
        id=document["id"],
        engine="native",
        severity=Severity.parse(document.get("severity", "error")),
        title=title,
        help_markdown=(document.get("help") or rest).strip(),
        help_uri=document.get("help_uri", ""),
        tags=tuple(document.get("tags", ())),
        aliases=tuple(document.get("aliases", ())),
        security_severity=document.get("security_severity"),
    )
    return YamlRule(
        id=document["id"],
        _meta=meta,
        checks=tuple(
            _Check(tuple(c["resource_types"]), c["condition"], c.get("message", document.get("message", default_message)))
            for c in checks
        ),
        source=source,
    )
