"""Merge findings across engines: one per (concern, resource), in a stable order.

A native rule names the ids of other engines' checks for the same concern (`aliases`); when
both report the same resource in the same file, the native finding stays and records the
other ids in `also_reported_as`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Mapping

from scanner.model import Finding, RuleMeta


def merge(findings: Iterable[Finding], rules: Mapping[str, RuleMeta]) -> list[Finding]:
    alias_owner: dict[str, str] = {}
    for meta in rules.values():
        for alias in meta.aliases:
            alias_owner.setdefault(alias, meta.id)

    unique: dict[tuple[str, str, str, str, int, str], Finding] = {}
    for finding in findings:
        name = finding.resource.name if finding.resource else ""
        key = (finding.rule_id, finding.location.uri, name, finding.message, finding.location.start_line, finding.engine)
        unique.setdefault(key, finding)
    candidates = list(unique.values())

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
