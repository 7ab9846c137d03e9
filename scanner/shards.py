"""`idp-scan merge`: combine the SARIF of CI shards into one result and re-apply the gate.

A sharded run writes every result, suppressed and baselined ones included (with their status
in `properties`), and leaves the checks that need the whole picture (is a central waiver used
anywhere? is a baseline entry stale?) to this merge. Here the findings are read back,
de-duplicated, the central waivers and the baseline are applied again over all of them, and
the exit code is computed from the union.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping, Sequence

from scanner.discovery import repo_relative
from scanner.failures import failure_rules, is_gate_rule
from scanner.findings.notifications import notifications_for
from scanner.gate import apply_policy
from scanner.gate.waivers_file import FORM as WAIVER_FORM
from scanner.model import Finding, Location, ResourceId, RuleMeta, ScanResult, Severity, Status
from scanner.settings import ConfigError, Settings


def _location(physical: Mapping[str, Any]) -> Location:
    region = physical.get("region", {})
    start = int(region.get("startLine", 1))
    return Location(physical["artifactLocation"]["uri"], start, int(region.get("endLine", start)))


def _finding(result: Mapping[str, Any]) -> Finding:
    first = result["locations"][0]
    logical = (first.get("logicalLocations") or [None])[0]
    properties = result.get("properties", {})
    resource = None
    if logical is not None:
        name = logical["fullyQualifiedName"]
        resource = ResourceId("", name, properties.get("resourceType", ""), logical.get("name", name))
    return Finding(
        rule_id=result["ruleId"],
        engine=properties.get("engine", ""),
        severity=Severity.parse(result.get("level", "warning")),
        message=result["message"]["text"],
        location=_location(first["physicalLocation"]),
        resource=resource,
        related=tuple(_location(r["physicalLocation"]) for r in result.get("relatedLocations", [])),
        also_reported_as=tuple(properties.get("alsoReportedAs", ())),
        status=Status(properties.get("status", "open")),
        status_reason=properties.get("statusReason", ""),
        key=properties.get("instance", ""),
        artifact=properties.get("artifact", ""),
    )


def _rule(descriptor: Mapping[str, Any]) -> RuleMeta:
    properties = descriptor.get("properties", {})
    title = descriptor.get("shortDescription", {}).get("text", descriptor["id"])
    markdown = descriptor.get("help", {}).get("markdown", "")
    prefix = f"**{title}**"
    return RuleMeta(
        id=descriptor["id"],
        engine=properties.get("engine", ""),
        severity=Severity.parse(descriptor.get("defaultConfiguration", {}).get("level", "warning")),
        title=title,
        help_markdown=markdown[len(prefix):].lstrip("\n") if markdown.startswith(prefix) else markdown,
        help_uri=descriptor.get("helpUri", ""),
        tags=tuple(properties.get("tags", ())),
        aliases=tuple(properties.get("aliases", ())),
        security_severity=float(properties["security-severity"]) if "security-severity" in properties else None,
    )


def read_log(path: Path) -> tuple[list[Finding], dict[str, RuleMeta], set[str], bool]:
    try:
        log = json.loads(path.read_text(encoding="utf-8"))
        runs = [r for r in log["runs"] if r["tool"]["driver"]["name"] == "idp-scan"]
        findings = [_finding(result) for run in runs for result in run.get("results", [])]
        rules = {d["id"]: _rule(d) for run in runs for d in run["tool"]["driver"].get("rules", [])}
        invocations = [inv for run in runs for inv in run.get("invocations", [])]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise ConfigError(f"{path}: not an idp-scan SARIF log: {type(exc).__name__}: {exc}") from exc
    scanned = {uri for inv in invocations for uri in inv.get("properties", {}).get("scanned", [])}
    complete = all(inv.get("properties", {}).get("complete", True) for inv in invocations)
    return findings, rules, scanned, complete


def _reopened(finding: Finding, audit: bool) -> Finding:
    """Statuses the merge decides again: the baseline's and the central waivers' (all, in an audit)."""
    central = finding.status is Status.SUPPRESSED and finding.status_reason.startswith(f"{WAIVER_FORM} at ")
    return finding.with_status(Status.OPEN) if audit or finding.status is Status.BASELINED or central else finding


def merge_shards(paths: Sequence[Path], settings: Settings) -> ScanResult:
    findings: dict[tuple[str, str, int, str, str], Finding] = {}
    rules: dict[str, RuleMeta] = {}
    scanned: set[str] = set()
    complete = True
    for path in paths:
        found, described, files, finished = read_log(path)
        for finding in found:
            findings.setdefault((finding.rule_id, finding.location.uri, finding.location.start_line, finding.fingerprint, finding.message), finding)
        for rule_id, meta in described.items():
            rules.setdefault(rule_id, meta)
        scanned |= files
        complete = complete and finished
    rules.update(failure_rules())
    policy = {repo_relative(p, settings.root) for p in (settings.waivers, settings.baseline) if p is not None}
    kept = [_reopened(f, settings.no_suppressions) for f in findings.values() if not (is_gate_rule(f.rule_id) and f.location.uri in policy)]
    whole = replace(settings, shard=None)
    marked = sorted(apply_policy(kept, [], whole, rules, sorted(scanned | {f.location.uri for f in kept})), key=lambda f: f.sort_key)
    return ScanResult(findings=tuple(marked), rules=rules, scanned=tuple(sorted(scanned)),
                      notifications=notifications_for(marked), complete=complete, fail_on=settings.fail_on)
