"""Dedupe findings across engines: one per violation instance, in a stable order.

(Combining the SARIF of CI shards is `scanner.shards`.)

An engine that meets the same violation twice (a Terraform resource read from its `.tf` file
and from a plan beside it) reports it once: at the most precise location, with every distinct
message. Two results with one fingerprint would collide in code scanning. Distinct instances
(another port, another output, another statement) never fold: each is its own thing to fix.

A concern is owned by a native rule: its `aliases` and the table in `concerns` name the other
engines' checks of it. Where the owner reports a resource, those checks' findings on it fold
into the owner's (`also_reported_as`, highest severity); where it evaluated the resource and
found it compliant, they are SUPERSEDED (kept with the reason, never blocking); where it could
not decide (a value only known at deploy time), they stand.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Mapping, Sequence

from scanner.findings.concerns import owners
from scanner.model import Finding, RuleMeta, Status


def dedupe(findings: Iterable[Finding], rules: Mapping[str, RuleMeta]) -> list[Finding]:
    """One finding per violation instance; a concern's owner decides it (see `concerns`)."""
    table = owners(rules.values())
    given = list(findings)
    passed = {_where(f.rule_id, f) for f in given if f.status is Status.PASSED and f.resource is not None}
    candidates = _one_per_instance(f for f in given if f.status is not Status.PASSED)
    fired = {_where(f.rule_id, f) for f in candidates if f.resource is not None and f.engine == "native"}
    absorbed: dict[tuple[str, str, str], list[Finding]] = {}
    kept: list[Finding] = []
    for finding in candidates:
        if finding.resource is None:
            kept.append(finding)
            continue
        owner = next((o for o in table.folds.get(finding.rule_id, ()) if _where(o, finding) in fired), None)
        if owner is not None:
            absorbed.setdefault(_where(owner, finding), []).append(finding)
            continue
        settler = next((o for o in table.settles.get(finding.rule_id, ()) if _where(o, finding) in passed), None)
        if settler is not None and finding.status is Status.OPEN:
            kept.append(finding.with_status(Status.SUPERSEDED, f"superseded: {settler}, which owns this concern, evaluated {finding.resource.name} as compliant"))
            continue
        kept.append(finding)
    merged = [_with_others(f, absorbed.get(_where(f.rule_id, f), [])) if f.resource is not None else f for f in kept]
    return sorted(merged, key=lambda f: f.sort_key)


def _where(rule_id: str, finding: Finding) -> tuple[str, str, str]:
    return (rule_id, finding.artifact_uri, finding.resource.name if finding.resource else "")


def _with_others(finding: Finding, others: Sequence[Finding]) -> Finding:
    """The owner's finding lists the other engines' ids and takes the highest severity."""
    if not others:
        return finding
    severity = max([finding, *others], key=lambda f: f.severity.rank).severity
    also = tuple(sorted(set(finding.also_reported_as) | {o.rule_id for o in others}))
    return replace(finding, also_reported_as=also, severity=severity)


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
    # In a fixed order, not the engines' (cfn-lint's E3043 reports condition scenarios in the
    # order of a set, which follows the process's hash seed).
    group = sorted(group, key=lambda f: f.sort_key)
    # The most precise location: the narrowest region, and of one line, the later one (within
    # one resource's block, the argument at fault comes after the block's first line).
    best = min(group, key=lambda f: (f.location.end_line - f.location.start_line, -f.location.start_line))
    messages = list(dict.fromkeys([best.message, *(f.message for f in group)]))
    related = tuple(dict.fromkeys(r for f in group for r in f.related if r != best.location))
    also = tuple(sorted({a for f in group for a in f.also_reported_as}))
    return replace(best, message=" ".join(messages), related=related, also_reported_as=also)
