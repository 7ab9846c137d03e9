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


def _words(text: str) -> str:
    return " ".join(text.lower().replace(".", " ").split())


def _adds_to(message: str, title: str) -> bool:
    """The rule's title says something the message does not (checkov's message is its title)."""
    return bool(title.strip()) and _words(title) not in _words(message)


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
    if not options.quiet and meta is not None and _adds_to(finding.message, meta.title):
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


def render_stats(result: ScanResult) -> str:
    """`--stats` in text mode (on stderr): where the time went, per stage and engine, and cache use.

    Worker seconds add up the time of every unit, so with several workers they exceed the wall time.
    """
    timings = result.timings
    stages = sorted({key.split(".cpu")[0] for key in timings if key == "load" or key.startswith("engine.")})
    out = [f"stats: {timings.get('total', 0.0):.2f} s total, budget {timings.get('budget', 0.0):g} s, "
           f"{int(timings.get('jobs', 0))} worker process(es)"]
    out.append(f"  {'stage':<22}{'wall s':>9}{'cpu s':>9}{'cache hits':>12}{'misses':>8}")
    for name, label in (("discover", "discover"), ("cache.lookup", "cache lookup"), ("execute", "load + engines (wall)")):
        if name in timings:
            out.append(f"  {label:<22}{timings[name]:>9.2f}")
    for stage in stages:
        cache_kind = stage  # "load" or "engine.NAME", as the cache counts them
        hits = int(timings.get(f"cache.{cache_kind}.hits", 0))
        misses = int(timings.get(f"cache.{cache_kind}.misses", 0))
        label = stage.replace("engine.", "engine ") + " (workers)"
        cpu = timings.get(f"{stage}.cpu")
        cpu_text = f"{cpu:>9.2f}" if cpu is not None else f"{'':>9}"
        out.append(f"  {label:<22}{timings.get(stage, 0.0):>9.2f}{cpu_text}{hits:>12}{misses:>8}")
    cached_only = sorted({k[len("cache."):-len(".hits")] for k in timings if k.endswith(".hits")} - set(stages))
    for stage in cached_only:
        label = stage.replace("engine.", "engine ") + " (cached)"
        out.append(f"  {label:<22}{0.0:>9.2f}{'':>9}{int(timings[f'cache.{stage}.hits']):>12}"
                   f"{int(timings.get(f'cache.{stage}.misses', 0)):>8}")
    return "\n".join(out) + "\n"
