"""A synthesized template: read fast as JSON with its lines, and the paths CDK adds for itself."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Mapping

from scanner.inputs import cfn
from scanner.model import Artifact, Finding, PropertyPath, ResourceId


PLUMBING_RESOURCE_TYPES = frozenset({"AWS::CDK::Metadata"})
PLUMBING_PARAMETERS = re.compile(r"^(BootstrapVersion|AssetParameters\w*)$")


PLUMBING_RULES = frozenset({"CheckBootstrapVersion"})


PLUMBING_CONDITIONS = frozenset({"CDKMetadataAvailable"})


def paths_in_template(artifact: Artifact) -> dict[str, str]:
    resources = artifact.data.get("Resources") if isinstance(artifact.data, Mapping) else None
    out: dict[str, str] = {}
    for logical_id, body in resources.items() if isinstance(resources, Mapping) else ():
        meta = body.get("Metadata") if isinstance(body, Mapping) else None
        if isinstance(meta, Mapping) and isinstance(meta.get("aws:cdk:path"), str):
            out[str(logical_id)] = meta["aws:cdk:path"]
    return out


def _is_plumbing(section: str, name: str, body: Any) -> bool:
    if section == "Parameters":
        return bool(PLUMBING_PARAMETERS.match(name))
    if section == "Rules":
        return name in PLUMBING_RULES
    if section == "Conditions":
        return name in PLUMBING_CONDITIONS
    return name == "CDKMetadata" or (isinstance(body, Mapping) and body.get("Type") in PLUMBING_RESOURCE_TYPES)


def plumbing_paths(artifact: Artifact) -> list[PropertyPath]:
    """Template paths CDK adds for itself, which get no findings."""
    data = artifact.data if isinstance(artifact.data, Mapping) else {}
    found: list[PropertyPath] = []
    for section in ("Parameters", "Rules", "Conditions", "Resources"):
        body = data.get(section)
        for name, value in body.items() if isinstance(body, Mapping) else ():
            if _is_plumbing(section, str(name), value):
                found.append((section, str(name)))
    return found


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],:]|[^\s{}\[\],:"]+')


def json_with_lines(text: str) -> tuple[Any, dict[PropertyPath, tuple[int, int]]]:
    """Synthesized templates are JSON: decode them with `json` and map each path to its lines
    in one pass over the tokens, ten times faster than the line-aware YAML decoder on the
    megabytes of JSON a large app synthesizes. Raises ValueError on invalid JSON."""
    data = json.loads(text)
    tokens: list[tuple[str, int]] = []
    line, position = 1, 0
    for match in _TOKEN.finditer(text):
        line += text.count("\n", position, match.start())
        position = match.start()
        tokens.append((match.group(), line))
    lines: dict[PropertyPath, tuple[int, int]] = {}

    def value(i: int, path: PropertyPath) -> int:
        token, first = tokens[i]
        if token not in ("{", "["):
            lines[path] = (first, first)
            return i + 1
        closing, i = ("}" if token == "{" else "]"), i + 1
        index = 0
        while tokens[i][0] != closing:
            if token == "{":
                raw, key_line = tokens[i]
                key = raw[1:-1] if "\\" not in raw else str(json.loads(raw))
                i = value(i + 2, (*path, key))  # skip the key and its colon
                lines[(*path, key)] = (key_line, lines[(*path, key)][1])
            else:
                i = value(i, (*path, index))
                index += 1
            if tokens[i][0] == ",":
                i += 1
        lines[path] = (first, tokens[i][1])
        return i + 1

    value(0, ())
    return data, lines


def load_template(text: str, path: Path, uri: str) -> tuple[Artifact | None, list[Finding]]:
    """A synthesized template: the fast JSON path; anything else (or broken) as any template."""
    try:
        data, lines = json_with_lines(text)
    except (ValueError, IndexError, RecursionError):
        return cfn.load_text(text, path, uri)
    artifact = Artifact(kind=cfn.KIND, path=str(path), uri=uri, data=data, lines=lines)
    return artifact, cfn.structure_findings(artifact)


def resource_type(artifact: Artifact, logical_id: str) -> str:
    body = artifact.data.get("Resources", {}).get(logical_id) if isinstance(artifact.data, Mapping) else None
    return str(body.get("Type", "")) if isinstance(body, Mapping) else ""


def stack_resource(artifact: Artifact, logical_id: str) -> ResourceId:
    return cfn.resource_identity(artifact, logical_id, resource_type(artifact, logical_id))
