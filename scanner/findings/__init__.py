"""Merge findings across engines: one per violation instance, in a stable order.

An engine that meets the same violation twice (a Terraform resource read from its `.tf` file
and from a plan beside it) reports it once: at the most precise location, with every distinct
message. Two results with one fingerprint would collide in code scanning. Distinct instances
(another port, another output, another statement) never fold: each is its own thing to fix.

A native rule names the ids of other engines' checks for the same concern (`aliases`); when
both report the same resource of the same artifact, the native findings stay and record the
other ids in `also_reported_as`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Mapping, Sequence

from scanner.model import Finding, RuleMeta


def merge(findings: Iterable[Finding], rules: Mapping[str, RuleMeta]) -> list[Finding]:
    alias_owner: dict[str, str] = {}
    for meta in rules.values():
        for alias in meta.aliases:
            alias_owner.setdefault(alias, meta.id)

    candidates = _one_per_instance(findings)

    owners = {
        (f.rule_id, f.artifact_uri, f.resource.name)
        for f in candidates
        if f.resource is not None
    }
    absorbed: dict[tuple[str, str, str], set[str]] = {}
    kept: list[Finding] = []
    for finding in candidates:
        owner = alias_owner.get(finding.rule_id)
        if owner and finding.resource is not None and (owner, finding.artifact_uri, finding.resource.name) in owners:
            absorbed.setdefault((owner, finding.artifact_uri, finding.resource.name), set()).add(finding.rule_id)
            continue
        kept.append(finding)
    merged = [
        replace(f, also_reported_as=tuple(sorted(set(f.also_reported_as) | absorbed.get((f.rule_id, f.artifact_uri, f.resource.name), set()))))
        if f.resource is not None
        else f
        for f in kept
    ]
    return sorted(merged, key=lambda f: f.sort_key)


def _one_per_instance(findings: Iterable[Finding]) -> list[Finding]:
    """Exact repeats dropped; findings of one engine with one fingerprint made one. Findings
    without a resource or key (a parse error) stay apart by line and message."""
    groups: dict[tuple[str, ...], list[Finding]] = {}
    for finding in findings:
        if finding.resource is None and not finding.key:
            key: tuple[str, ...] = (finding.rule_id, finding.location.uri, "", finding.engine,
                                    str(finding.location.start_line), finding.message)
        else:
            key = (finding.fingerprint, finding.engine)
        groups.setdefault(key, []).append(finding)
    return [_combined(group) for group in groups.values()]


def _combined(group: Sequence[Finding]) -> Finding:
    if len(group) == 1:
        return group[0]
    # The most precise location: the narrowest region, and of one line, the later one (within
    # one resource's block, the argument at fault comes after the block's first line).
    best = min(group, key=lambda f: (f.location.end_line - f.location.start_line, -f.location.start_line))
    messages = list(dict.fromkeys([best.message, *(f.message for f in group)]))
    related = tuple(dict.fromkeys(r for f in group for r in f.related if r != best.location))
    also = tuple(sorted({a for f in group for a in f.also_reported_as}))
    return replace(best, message=" ".join(messages), related=related, also_reported_as=also)
