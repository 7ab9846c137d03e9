"""A Markdown summary for `$GITHUB_STEP_SUMMARY`: the verdict, counts by severity and status,
and a table of blocking findings with file:line links (to the commit, when GitHub's
environment names it; `ReportOptions.link_base`)."""

from __future__ import annotations

from collections import Counter

from scanner.model import Finding, ScanResult, Severity, Status
from scanner.reports import ReportOptions

MAX_ROWS = 50


def cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _link(finding: Finding, options: ReportOptions) -> str:
    where = f"{finding.location.uri}:{finding.location.start_line}"
    if not options.link_base:
        return f"`{cell(where)}`"
    return f"[{cell(where)}]({options.link_base}{finding.location.uri}#L{finding.location.start_line})"


def _counts(result: ScanResult) -> list[str]:
    counts = Counter((f.severity, f.status) for f in result.findings)
    shown = [s for s in Status if s is not Status.PASSED]  # PASSED verdicts never reach a report
    rows = ["| severity | " + " | ".join(s.value for s in shown) + " |", "| --- |" + " ---: |" * len(shown)]
    for severity in Severity:
        rows.append(f"| {severity.value} | " + " | ".join(str(counts[(severity, status)]) for status in shown) + " |")
    return rows


def render(result: ScanResult, options: ReportOptions) -> str:
    blocking = list(result.blocking)
    verdict = "blocked" if blocking else "passed"
    if not result.complete:
        verdict = "incomplete (budget exhausted)"
    icon = ":x:" if blocking or not result.complete else ":white_check_mark:"
    files = len(result.scanned)
    out = [f"## {icon} idp-scan: {verdict}", "",
           f"{len(blocking)} blocking finding{'s' if len(blocking) != 1 else ''} in {files} scanned file{'s' if files != 1 else ''}.", ""]
    out += [*_counts(result), ""]
    if blocking:
        out += ["### Blocking findings", "", "| file | rule | resource | message |", "| --- | --- | --- | --- |"]
        for finding in blocking[:MAX_ROWS]:
            resource = cell(finding.resource.display) if finding.resource else ""
            out.append(f"| {_link(finding, options)} | {finding.rule_id} | {resource} | {cell(finding.message)} |")
        if len(blocking) > MAX_ROWS:
            out.append(f"\n… and {len(blocking) - MAX_ROWS} more: see the SARIF or JSON report.")
        out.append("")
    return "\n".join(out) + "\n"
