"""Merge findings across engines: one per (concern, resource), in a stable order.

An engine that meets the same resource twice (a Terraform resource read from its `.tf` file
and from a plan beside it; a module file called by two examples) reports it once: at the most
precise location, with every distinct message. Two results with one fingerprint would collide
in code scanning.

A native rule names the ids of other engines' checks for the same concern (`aliases`); when
both report the same resource in the same file, the native finding stays and records the
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

    candidates = _one_per_resource(findings)

    owners = {
        (f.rule_id, f.location.uri, f.resource.name)
        for f in candidates
        if f.resource is not None
    }
    absorbed: dict[tuple[str, str, str], set[str]] = {}
    kept: list[Finding] = []
    for finding in candidates:
        owner = alias_owner.get(finding.rule_id)
        if owner and finding.resource is not None and (owner, finding.location.uri, finding.resource.name) in owners:
            absorbed.setdefault((owner, finding.location.uri, finding.resource.name), set()).add(finding.rule_id)
            continue
        kept.append(finding)
    merged = [
        replace(f, also_reported_as=tuple(sorted(set(f.also_reported_as) | absorbed.get((f.rule_id, f.location.uri, f.resource.name), set()))))
        if f.resource is not None
        else f
        for f in kept
    ]
    return sorted(merged, key=lambda f: f.sort_key)


def _one_per_resource(findings: Iterable[Finding]) -> list[Finding]:
    """Exact repeats dropped; findings of one engine and rule on one resource in one file made
    one. Findings without a resource (a parse error) stay apart by line and message."""
    groups: dict[tuple[str, ...], list[Finding]] = {}
    for finding in findings:
        if finding.resource is None:
            key: tuple[str, ...] = (finding.rule_id, finding.location.uri, "", finding.engine,
                                    str(finding.location.start_line), finding.message)
        else:
            key = (finding.rule_id, finding.location.uri, finding.resource.name, finding.engine)
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
