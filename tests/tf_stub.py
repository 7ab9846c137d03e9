"""A stand-in Terraform reader for rule tests until the Terraform input is installed.

It follows the `Resource` convention (type `aws_...`, evaluated arguments, nested blocks as
lists of mappings, `UNKNOWN` for interpolations) closely enough to exercise the rules'
Terraform readers on the `.tf` fixtures; it evaluates only `jsonencode` of literals.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

from scanner.model import Artifact, Resource, ResourceId
from scanner.rule import UNKNOWN, RuleContext

BLOCKS = {"ingress", "egress", "health_check", "environment", "tracing_config", "replica", "default_tags", "required_providers"}


def _value(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("${jsonencode(") and value.endswith(")}"):
        return json.dumps(ast.literal_eval(value[len("${jsonencode("):-2]))
    if isinstance(value, str) and "${" in value:
        return UNKNOWN
    if isinstance(value, dict):
        return _body(value)
    if isinstance(value, list):
        return [_value(item) for item in value]
    return value


def _body(body: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key.startswith("__"):
            continue
        if key in BLOCKS and isinstance(value, list):
            out[key] = [_body(item) if isinstance(item, dict) else _value(item) for item in value]
        elif isinstance(value, list) and len(value) == 1:
            out[key] = _value(value[0])
        else:
            out[key] = _value(value)
    return out


def load(path: Path) -> tuple[Artifact, list[Resource]]:
    import hcl2

    document = hcl2.loads(path.read_text(encoding="utf-8"))
    resources: list[Resource] = []
    context: dict[str, Any] = {}
    for item in document.get("resource", []):
        for type_, named in item.items():
            for name, body in named.items():
                address = f"{type_}.{name}"
                resources.append(Resource(ResourceId("terraform", address, type_), type_, _body(body), ("resource", address)))
    for item in document.get("module", []):
        for name, body in item.items():
            resources.append(Resource(ResourceId("terraform", f"module.{name}", "module"), "module", _body(body), ("module", name)))
    for body in document.get("terraform", []):
        resources.append(Resource(ResourceId("terraform", "terraform", "terraform"), "terraform", _body(body), ("terraform",)))
    for item in document.get("provider", []):
        for name, body in item.items():
            provider = _body(body)
            if name == "aws":
                context["region"] = provider.get("region")
                default_tags = provider.get("default_tags") or [{}]
                context["default_tags"] = default_tags[0].get("tags", {})
    artifact = Artifact(kind="terraform", path=str(path), uri=path.name, data=document, context=context)
    return artifact, resources


def failing_resources(rule: Any, path: Path, options: dict[str, Any]) -> dict[str, list[str]]:
    """Address -> violation messages of one rule over a `.tf` fixture."""
    artifact, resources = load(path)
    ctx = RuleContext(artifact=artifact, resources=resources, options=options)
    found: dict[str, list[str]] = {}
    for resource in resources:
        if rule.applies_to(resource):
            messages = [v.message for v in rule.check(resource, ctx)]
            if messages:
                found[resource.id.name] = messages
    return found
