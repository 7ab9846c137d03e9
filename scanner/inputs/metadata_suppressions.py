"""Suppressions written in resource Metadata, read when an artifact is loaded and recorded on it.

    Metadata: {idp-scan: {suppress: [{id: IDP-NET-001, reason: "...", expires: 2027-03-31}]}}

CloudFormation templates and CDK stacks (`addMetadata`) alike. `with_metadata_suppressions`
records each one on the artifact with the resources it covers (`Artifact.metadata_suppressions`),
and each entry that cannot be read as an IDP030 finding (`Artifact.metadata_problems`); the gate
only reads them. Whether a suppression may suppress (its reason, its expiry) is the gate's call.
"""

from __future__ import annotations

import datetime
from dataclasses import replace
from typing import Any, Mapping, Sequence

from scanner.failures import failure
from scanner.inputs import Loaded, resources_of
from scanner.inputs.transforms import GENERATED_FROM
from scanner.model import Artifact, Finding, Location, PropertyPath, Resource, ResourceSuppression, Suppression

METADATA_KEY = "idp-scan"
ENTRY_KEYS = frozenset({"id", "reason", "expires", "owner"})


def with_suppressions(loaded: Loaded) -> Loaded:
    """A unit's load, each artifact with the suppressions written in its resources' Metadata."""
    return replace(loaded, artifacts=tuple(with_metadata_suppressions(a) for a in loaded.artifacts))


def with_metadata_suppressions(artifact: Artifact) -> Artifact:
    suppressions, problems = read_metadata_suppressions(artifact)
    if not suppressions and not problems:
        return artifact
    return replace(artifact, metadata_suppressions=tuple(suppressions), metadata_problems=tuple(problems))


def read_metadata_suppressions(artifact: Artifact) -> tuple[list[ResourceSuppression], list[Finding]]:
    """The suppressions in the Metadata of an artifact's resources, and IDP030 for each that cannot be read."""
    suppressions: list[ResourceSuppression] = []
    problems: list[Finding] = []
    resources = list(resources_of(artifact))
    copies = _copied_from(artifact, resources)
    for resource in resources:
        block = resource.metadata.get(METADATA_KEY)
        if block is None or resource.id.name in copies:
            continue
        base = (*_block_path(resource), "Metadata", METADATA_KEY)
        entries = block.get("suppress") if isinstance(block, Mapping) else None
        if not isinstance(entries, list):
            problems.append(failure("IDP030", f"Metadata `{METADATA_KEY}` of {resource.id.name} must be a mapping with a `suppress` list; it does not suppress.", artifact.locate(base)))
            continue
        names = (resource.id.name, *(copy for copy, source in copies.items() if source == resource.id.name))
        for index, entry in enumerate(entries):
            suppression, problem = _entry(entry, artifact.locate((*base, "suppress", index)), resource.id.name)
            if suppression is not None:
                suppressions.append(ResourceSuppression(suppression, names, anywhere=resource.id.kind == "cdk"))
            problems.extend([problem] if problem else [])
    return suppressions, problems


def _block_path(resource: Resource) -> PropertyPath:
    return resource.path[:-1] if resource.path and resource.path[-1] == "Properties" else resource.path


def _copied_from(artifact: Artifact, resources: Sequence[Resource]) -> dict[str, str]:
    """Generated resource -> the written one whose Metadata a transform copied onto it (SAM
    copies a function's Metadata to the role it generates): one suppression, written once,
    covering both, so it is neither reported unused on the copy nor counted twice."""
    sources: Mapping[str, str] = artifact.context.get(GENERATED_FROM, {})
    by_name = {r.id.name: r for r in resources}
    return {
        name: source
        for name, source in sources.items()
        if name in by_name and source in by_name and METADATA_KEY in by_name[name].metadata
        and by_name[name].metadata.get(METADATA_KEY) == by_name[source].metadata.get(METADATA_KEY)
    }


def _entry(entry: Any, location: Location, resource: str) -> tuple[Suppression | None, Finding | None]:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str) or not entry["id"].strip():
        return None, failure("IDP030", f"A suppression in the Metadata of {resource} must be a mapping with an `id` (the rule) and a `reason`; it does not suppress.", location)
    unknown = sorted(set(map(str, entry)) - ENTRY_KEYS)
    expires = parse_date(entry["expires"]) if "expires" in entry else None
    if unknown or ("expires" in entry and expires is None):
        what = f"unknown key(s) {', '.join(unknown)}" if unknown else f"expires `{entry['expires']}` is not a date (YYYY-MM-DD)"
        return None, failure("IDP030", f"Suppression of {entry['id']} in the Metadata of {resource}: {what}; it does not suppress.", location)
    reason = entry.get("reason")
    return Suppression(rule_id=entry["id"].strip(), reason=reason if isinstance(reason, str) else "", location=location,
                       resource=resource, expires=expires, owner=str(entry.get("owner", ""))), None


def parse_date(value: object) -> datetime.date | None:
    """YAML dates arrive as dates or strings; anything else is not a date (None)."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None
