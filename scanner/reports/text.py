"""Human output: findings grouped by file, most severe first, and a one-line summary."""

from __future__ import annotations

from collections import Counter
from itertools import groupby

import click

from scanner.model import Finding, ScanResult, Severity, Status
from scanner.reports import ReportOptions

_COLORS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.NOTE: "blue"}


def _paint(text: str, options: ReportOptions, **style: object) -> str:
    return click.style(text, **style) if options.color else text  # type: ignore[arg-type]


def _finding_lines(finding: Finding, result: ScanResult, options: ReportOptions) -> list[str]:
    level = _paint(f"{finding.severity.value:<7}", options, fg=_COLORS[finding.severity], bold=True)
    rule = _paint(finding.rule_id, options, bold=True)
    status = "" if finding.status is Status.OPEN else f" [{finding.status.value}: {finding.status_reason}]"
    lines = [f"  {finding.location.start_line:>5}  {level} {rule}  {finding.message}{status}"]
    if finding.resource is not None:
        lines.append(f"{'':16}resource: {finding.resource.display}")
    for related in finding.related:
        label = "template:" if related.uri.endswith(".template.json") else "source:  "  # CDK: the finding is on the source line
        lines.append(f"{'':16}{label} {related.uri}:{related.start_line}")
    meta = result.rules.get(finding.rule_id)
    if not options.quiet and meta is not None and meta.title:
        lines.append(f"{'':16}why:      {meta.title}")
    if finding.also_reported_as:
        lines.append(f"{'':16}also:     {', '.join(finding.also_reported_as)}")
    return lines


def render(result: ScanResult, options: ReportOptions) -> str:
    shown = [f for f in result.findings if options.include_suppressed or f.status is Status.OPEN]
    if options.quiet:
        blocking = set(result.blocking)
        shown = [f for f in shown if f in blocking]
    out: list[str] = []
    for uri, group in groupby(shown, key=lambda f: f.location.uri):
        out.append(_paint(uri, options, underline=True))
        for finding in group:
            out.extend(_finding_lines(finding, result, options))
        out.append("")
    out.append(summary(result, options))
    return "\n".join(out) + "\n"


def summary(result: ScanResult, options: ReportOptions) -> str:
    counts = Counter(f.severity for f in result.open_findings)
    hidden = len(result.findings) - len(result.open_findings)
    parts = [f"{counts[s]} {s.value}{'s' if counts[s] != 1 else ''}" for s in Severity]
    verdict = "BLOCKED" if result.blocking else "passed"
    if not result.complete:
        verdict = "INCOMPLETE (budget exhausted)"
    colour = "red" if result.blocking or not result.complete else "green"
    extra = f", {hidden} suppressed or baselined" if hidden else ""
    files = f"{len(result.scanned)} file{'s' if len(result.scanned) != 1 else ''} scanned"
    return f"{_paint(verdict, options, fg=colour, bold=True)}: {', '.join(parts)}{extra} ({files})"
