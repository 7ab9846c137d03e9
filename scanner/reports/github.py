"""GitHub workflow-command annotations (`::error file=...,line=...::message`).

GitHub shows at most 10 annotations per level per step; the rest are dropped silently, so we
print 10 per level and then one plain line saying how many more there are. Only open findings
are annotated; the last line is the text summary.
"""

from __future__ import annotations

from scanner.model import Finding, ScanResult, Severity
from scanner.reports import ReportOptions
from scanner.reports.text import summary

MAX_PER_LEVEL = 10
COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(finding: Finding) -> str:
    where = finding.location
    properties = {
        "file": where.uri,
        "line": str(where.start_line),
        "endLine": str(where.end_line),
        "title": f"{finding.rule_id}" + (f" {finding.resource.display}" if finding.resource else ""),
    }
    rendered = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{COMMAND[finding.severity]} {rendered}::{escape_data(finding.message)}"


def render(result: ScanResult, options: ReportOptions) -> str:
    lines: list[str] = []
    for severity in Severity:
        findings = [f for f in result.open_findings if f.severity is severity]
        lines.extend(annotation(f) for f in findings[:MAX_PER_LEVEL])
        hidden = len(findings) - MAX_PER_LEVEL
        if hidden > 0:
            noun = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}[severity]
            lines.append(f"idp-scan: {hidden} more {noun}{'s' if hidden != 1 else ''} not annotated "
                         f"(GitHub shows at most {MAX_PER_LEVEL} per level per step); see the job summary or the SARIF report.")
    lines.append(summary(result, ReportOptions()))
    return "\n".join(lines) + "\n"
