"""Suppressions written in the code they judge: resource Metadata, comments, and those inputs pass on.

- CloudFormation and CDK: `Metadata: {idp-scan: {suppress: [{id, reason, expires}]}}` on a resource,
  read when the artifact was loaded (`artifact.metadata_suppressions`, `inputs.metadata_suppressions`).
- Comments: `# idp-scan:ignore RULE reason="..."` (`inputs.comments`), read when each file was loaded.
- `artifact.context["suppressions"]`: `Suppression`s an input found (cdk-nag's, for example).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Iterator, Mapping, Sequence

from scanner.discovery import is_within
from scanner.failures import is_gate_rule
from scanner.gate.waiver import Scope, Waiver
from scanner.inputs import resources_of
from scanner.model import Artifact, FileComments, Finding, Suppression


def _uris_of(finding: Finding) -> set[str]:
    return {finding.location.uri, *(r.uri for r in finding.related)}


def _resource_scope(names: frozenset[str], uri: str, by_name_anywhere: bool) -> Scope:
    """The named resources in this file (or in any file: CDK findings may point at source code)."""
    def covers(finding: Finding) -> bool:
        if finding.resource is None or finding.resource.name not in names:
            return False
        return by_name_anywhere or uri in _uris_of(finding) or uri == finding.artifact_uri
    return covers


def _construct_scope(suppression: Suppression) -> Scope:
    """A suppression passed on by an input: a construct (and its children), else the whole file."""
    target, uri = suppression.resource, suppression.location.uri
    def covers(finding: Finding) -> bool:
        if target is None:
            return uri in _uris_of(finding)
        if finding.resource is None:
            return False
        return finding.resource.name == target or finding.resource.name.startswith(target + "/")
    return covers


def metadata_waivers(artifact: Artifact) -> tuple[list[Waiver], list[Finding]]:
    """The Metadata suppressions the input recorded on the artifact, and the findings about those it could not read."""
    waivers = [
        Waiver(recorded.suppression, "Metadata suppression", _resource_scope(frozenset(recorded.resources), artifact.uri, recorded.anywhere))
        for recorded in artifact.metadata_suppressions
    ]
    return waivers, list(artifact.metadata_problems)


def context_waivers(artifact: Artifact) -> list[Waiver]:
    given: Iterable[Any] = artifact.context.get("suppressions", ())
    return [
        Waiver(s, f"{s.origin} suppression" if s.origin != "idp-scan" else "suppression", _construct_scope(s))
        for s in given
        if isinstance(s, Suppression)
    ]


Heads = Mapping[str, list[tuple[str, set[int]]]]


def resource_lines(artifacts: Sequence[Artifact]) -> dict[str, list[tuple[str, set[int]]]]:
    """Resource name -> [(artifact URI, first lines of the blocks that belong to it alone)].

    A prefix of the resource's path that another resource shares (`Resources`, or a Terraform
    resource type) is left out, so a comment above one resource never covers its neighbour.
    The artifact may be a file or a directory (a Terraform module), hence its URI.
    """
    heads: dict[str, list[tuple[str, set[int]]]] = {}
    for artifact in artifacts:
        resources = list(resources_of(artifact))
        prefixes = [[r.path[:depth] for depth in range(2, len(r.path) + 1)] for r in resources]
        shared = Counter(p for own in prefixes for p in set(own))
        for resource, own in zip(resources, prefixes):
            lines = {artifact.lines[p][0] for p in own if shared[p] == 1 and p in artifact.lines}
            heads.setdefault(resource.id.name, []).append((artifact.file_of(resource.path), lines))
    return heads


def _head_lines(heads: Heads, uri: str, name: str) -> set[int]:
    return {line for where, lines in heads.get(name, []) if is_within(uri, where) for line in lines}


def _comment_scope(uri: str, target: int | None, heads: Heads) -> Scope:
    def covers(finding: Finding) -> bool:
        if target is None or finding.location.uri != uri:
            return False
        if finding.location.start_line == target:
            return True
        return finding.resource is not None and target in _head_lines(heads, uri, finding.resource.name)
    return covers


def comment_waivers(comments: Sequence[FileComments], heads: Heads) -> tuple[list[Waiver], list[Finding]]:
    """The comments the inputs read, by file; a file two units read (a shared module) counts once."""
    waivers: list[Waiver] = []
    problems: list[Finding] = []
    for file in sorted({c.uri: c for c in reversed(comments)}.values(), key=lambda c: c.uri):
        problems.extend(file.problems)
        waivers.extend(Waiver(c.suppression, "comment", _comment_scope(file.uri, c.target_line, heads)) for c in file.suppressions)
    return waivers, problems


def inline_waivers(artifacts: Sequence[Artifact], comments: Sequence[FileComments]) -> tuple[list[Waiver], list[Finding]]:
    waivers: list[Waiver] = []
    problems: list[Finding] = []
    for artifact in artifacts:
        found, bad = metadata_waivers(artifact)
        waivers.extend(found)
        problems.extend(bad)
        waivers.extend(context_waivers(artifact))
    found, bad = comment_waivers(comments, resource_lines(artifacts))
    return [*waivers, *found], [*problems, *bad]


def iter_unique(items: Iterable[Finding]) -> Iterator[Finding]:
    """The gate's own findings once each (a waiver refused for several findings is reported once)."""
    seen: set[tuple[str, str, int, str]] = set()
    for item in items:
        key = (item.rule_id, item.location.uri, item.location.start_line, item.message)
        if not is_gate_rule(item.rule_id):
            yield item
        elif key not in seen:
            seen.add(key)
            yield item
