"""CloudFormation templates: recognised by content, decoded by cfn-lint's line-aware decoder.

cfn-lint's decoder understands the short-form tags (`!Ref`, `!Sub`, `!GetAtt a.b`) and keeps
the position of every node; we keep its answer as plain data plus a path -> lines map, so
artifacts stay picklable and rules never see decoder types.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator, Mapping

from scanner.failures import failure
from scanner.inputs import cfn_fast, duplicate_keys, guard, transforms
from scanner.inputs.guard import Limits
from scanner.model import Artifact, Finding, Location, PropertyPath, Resource, ResourceId

KIND = "cloudformation"
# The first values of duplicated keys, checked by the native rules only (other engines read
# the file themselves and would report everything twice).
SHADOW_KIND = "cloudformation-first-duplicates"
SUFFIXES = (".yaml", ".yml", ".json", ".template", ".cfn")

_VERSION = re.compile(r"""^\s*["']?AWSTemplateFormatVersion["']?\s*:""", re.MULTILINE)
_RESOURCES = re.compile(r"""(^|[{,])\s*["']?Resources["']?\s*:""", re.MULTILINE)
_AWS_TYPE = re.compile(r"""["']?Type["']?\s*:\s*["']?AWS::""")


def looks_like_template(text: str) -> bool:
    """Cheap content test, used before parsing and to decide whether a parse failure matters."""
    if _VERSION.search(text):
        return True
    return bool(_RESOURCES.search(text) and _AWS_TYPE.search(text))


def is_template(data: object) -> bool:
    """After parsing: a mapping with a template version, or resources typed `AWS::`."""
    if not isinstance(data, Mapping):
        return False
    if "AWSTemplateFormatVersion" in data:
        return True
    resources = data.get("Resources")
    if not isinstance(resources, Mapping):
        return False
    return any(
        isinstance(r, Mapping) and str(r.get("Type", "")).startswith("AWS::")
        for r in resources.values()
    )


def prepare() -> None:
    """Nothing heavy to warm: cfn-lint's decoder is imported only for templates the fast path leaves."""


def load_text(
    text: str, path: Path, uri: str, context: Mapping[str, Any] | None = None, limits: Limits | None = None
) -> tuple[Artifact | None, list[Finding]]:
    """Decode a template; every reason it cannot be checked becomes a finding at its line."""
    artifacts, findings = load_variants(text, path, uri, context, limits)
    return (artifacts[0] if artifacts else None), findings


def load_variants(
    text: str, path: Path, uri: str, context: Mapping[str, Any] | None = None, limits: Limits | None = None
) -> tuple[list[Artifact], list[Finding]]:
    """The template as an artifact, plus a SHADOW_KIND artifact when duplicate keys hide values.

    With duplicate keys the main artifact keeps the last value (as cfn-lint and checkov read
    the file) and the shadow keeps the first, so a violation in either value is reported.
    """
    over_limit = guard.yaml_shape(text, uri, limits or Limits())  # before any decoder builds a tree
    if over_limit is not None:
        return [], [over_limit]
    fast = cfn_fast.decode(text)
    if fast is not None and not _has_transform(fast[0]):
        data, lines = fast
        plain = Artifact(kind=KIND, path=str(path), uri=uri, data=data, lines=lines, context=dict(context or {}))
        return [plain], structure_findings(plain)
    from cfnlint.decode import decode_str  # lazy: cfn-lint costs ~1 s to import

    try:
        decoded, matches = decode_str(text)
    except Exception as exc:  # the decoder's own failure must not sink the run
        return [], [failure("IDP001", f"Template could not be decoded: {type(exc).__name__}: {exc}", Location(uri))]
    if matches and all(_is_duplicate(m) for m in matches):
        return _load_duplicates(text, path, uri, context)
    if decoded is None or matches:
        return [], [_parse_failure(uri, matches)]
    artifact, findings = _artifact(decoded, path, uri, context, KIND)
    return ([artifact] if artifact else []), findings


def _artifact(
    decoded: Any, path: Path, uri: str, context: Mapping[str, Any] | None, kind: str
) -> tuple[Artifact | None, list[Finding]]:
    data, lines = plain_with_lines(decoded)  # before expansion: the translator edits in place
    expanded, findings = transforms.expand(decoded, path, uri)
    facts = dict(context or {})
    if expanded is not decoded:
        data, expanded_lines = plain_with_lines(expanded)
        sources = transforms.generated_sources(lines, data)
        lines = transforms.relocate_generated(expanded_lines, lines, data, sources)
        facts[transforms.GENERATED_FROM] = sources
    artifact = Artifact(kind=kind, path=str(path), uri=uri, data=data, lines=lines, context=facts)
    return artifact, findings + structure_findings(artifact)


def _has_transform(data: Any) -> bool:
    """Transforms are expanded with cfn-lint's own transform, which works on its decoder's tree."""
    return isinstance(data, Mapping) and "Transform" in data


def _is_duplicate(match: Any) -> bool:
    return str(getattr(match, "message", "")).startswith("Duplicate found")


def _load_duplicates(text: str, path: Path, uri: str, context: Mapping[str, Any] | None) -> tuple[list[Artifact], list[Finding]]:
    try:
        variants, duplicates = duplicate_keys.decode_variants(text)
    except Exception as exc:
        return [], [failure("IDP001", f"Template could not be decoded: {type(exc).__name__}: {exc}", Location(uri))]
    findings = [
        failure(
            "IDP010",
            f"Duplicate key `{d.key}` (first at line {d.first_line}): CloudFormation rejects the template, and a "
            "parser that keeps the last value hides the first. Both values were checked.",
            Location(uri, d.line, d.line),
        )
        for d in duplicates
    ]
    artifacts = []
    for kind, decoded in ((KIND, variants.last), (SHADOW_KIND, variants.first)):
        artifact, more = _artifact(decoded, path, uri, context, kind)
        if artifact is not None:
            artifacts.append(artifact)
        findings.extend(more)
    return artifacts, findings


def _parse_failure(uri: str, matches: list[Any]) -> Finding:
    if not matches:
        return failure("IDP001", "Template could not be parsed.", Location(uri))
    first = matches[0]
    line = int(getattr(first, "linenumber", 1) or 1)
    message = " ".join(str(getattr(first, "message", first)).split())  # one line, for every report
    message = message.removeprefix("Template could not be parsed: ")
    return failure("IDP001", f"Template could not be parsed: {message}", Location(uri, line, line))


def plain_with_lines(node: Any) -> tuple[Any, dict[PropertyPath, tuple[int, int]]]:
    """Convert cfn-lint nodes to plain data and record each path's (first, last) line."""
    lines: dict[PropertyPath, tuple[int, int]] = {}

    def span(n: Any) -> tuple[int, int] | None:
        start, end = getattr(n, "start_mark", None), getattr(n, "end_mark", None)
        if start is None or end is None:
            return None
        last = end.line if end.column == 0 and end.line > start.line else end.line + 1
        return start.line + 1, max(last, start.line + 1)

    def walk(n: Any, path: PropertyPath) -> Any:
        here = span(n)
        if here is not None:
            lines[path] = here
        if isinstance(n, dict):
            out: dict[str, Any] = {}
            for key, value in n.items():
                child = walk(value, (*path, str(key)))
                key_span, value_span = span(key), lines.get((*path, str(key)))
                if key_span is not None:
                    lines[(*path, str(key))] = (key_span[0], max(key_span[1], value_span[1] if value_span else 0))
                out[str(key)] = child
            return out
        if isinstance(n, list):
            return [walk(item, (*path, index)) for index, item in enumerate(n)]
        if isinstance(n, str):
            return str(n)
        if isinstance(n, bool) or n is None:
            return n
        if isinstance(n, int):
            return int(n)
        if isinstance(n, float):
            return float(n)
        return n

    return walk(node, ()), lines


def structure_findings(artifact: Artifact) -> list[Finding]:
    """Structural problems that keep resources from being checked at all (IDP004)."""
    resources = artifact.data.get("Resources") if isinstance(artifact.data, Mapping) else None
    if resources is None:
        return []
    if not isinstance(resources, Mapping):
        return [failure("IDP004", "`Resources` must be a mapping of logical ids to resources.", artifact.locate(("Resources",)))]
    problems = []
    for logical_id, body in resources.items():
        if not isinstance(body, Mapping) or not isinstance(body.get("Type"), str):
            problems.append(
                failure(
                    "IDP004",
                    f"Resource `{logical_id}` has no `Type` string, so it could not be checked.",
                    artifact.locate(("Resources", logical_id)),
                    ResourceId(KIND, logical_id, logical_id=logical_id),
                )
            )
        elif not isinstance(body.get("Properties", {}), Mapping):
            problems.append(
                failure(
                    "IDP004",
                    f"`Properties` of `{logical_id}` must be a mapping.",
                    artifact.locate(("Resources", logical_id, "Properties")),
                    ResourceId(KIND, logical_id, logical_id=logical_id),
                )
            )
    return problems


def resource_identity(artifact: Artifact, logical_id: str, type_: str) -> ResourceId:
    """The logical id, or the construct path when the input knows one (cdk.out)."""
    construct_paths: Mapping[str, str] = artifact.context.get("construct_paths", {})
    stack = str(artifact.context.get("stack", ""))
    if logical_id in construct_paths:
        return ResourceId("cdk", construct_paths[logical_id], type_, logical_id, stack)
    return ResourceId(KIND, logical_id, type_, logical_id, stack)


def resources(artifact: Artifact) -> Iterator[Resource]:
    """The well-formed resources of a template (malformed ones are IDP004 findings)."""
    body = artifact.data.get("Resources") if isinstance(artifact.data, Mapping) else None
    if not isinstance(body, Mapping):
        return
    for logical_id, resource in body.items():
        if not isinstance(resource, Mapping) or not isinstance(resource.get("Type"), str):
            continue
        properties = resource.get("Properties", {})
        if not isinstance(properties, Mapping):
            continue
        metadata = resource.get("Metadata", {})
        yield Resource(
            id=resource_identity(artifact, logical_id, resource["Type"]),
            type=resource["Type"],
            properties=properties,
            path=("Resources", logical_id, "Properties"),
            metadata=metadata if isinstance(metadata, Mapping) else {},
        )


_TEMPLATE_NAME = re.compile(r"(^|[._-])(template|cfn|cloudformation|sam)([._-]|$)", re.IGNORECASE)


def named_like_template(path: Path) -> bool:
    """`template.yaml`, `network.cfn.json`, `x.template`: fail closed on these even if the content is odd."""
    return path.suffix.lower() in (".template", ".cfn") or bool(_TEMPLATE_NAME.search(path.stem))
