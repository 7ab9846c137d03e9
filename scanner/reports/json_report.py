"""Machine output: every finding with its status and reason, in a stable order."""

from __future__ import annotations

import json
from typing import Any

from scanner import __version__
from scanner.model import Finding, Location, ScanResult
from scanner.reports import ReportOptions


def _location(location: Location) -> dict[str, Any]:
    return {"uri": location.uri, "start_line": location.start_line, "end_line": location.end_line}


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    resource = finding.resource
    return {
        "rule_id": finding.rule_id,
        "engine": finding.engine,
        "severity": finding.severity.value,
        "message": finding.message,
        "location": _location(finding.location),
        "resource": None
        if resource is None
        else {"kind": resource.kind, "name": resource.name, "type": resource.type, "logical_id": resource.logical_id, "stack": resource.stack},
        "related": [_location(r) for r in finding.related],
        "also_reported_as": list(finding.also_reported_as),
        "status": finding.status.value,
        "status_reason": finding.status_reason,
        "fingerprint": finding.fingerprint,
        "instance": finding.key,
        "artifact": finding.artifact_uri,
    }


def render(result: ScanResult, options: ReportOptions) -> str:
    document: dict[str, Any] = {
        "tool": {"name": "idp-scan", "version": __version__},
        "complete": result.complete,
        "blocking": len(result.blocking),
        "scanned": list(result.scanned),
        "findings": [finding_to_dict(f) for f in result.findings],
        "notifications": [{"level": n.level.value, "message": n.message, "rule_id": n.rule_id} for n in result.notifications],
    }
    if options.stats:  # timings differ between runs: only on request
        document["timings"] = dict(result.timings)
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
