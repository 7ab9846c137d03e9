"""The gate: which rules are in effect, and what the run's exit code is.

The gate marks findings (OPEN, SUPPRESSED, BASELINED); it never drops them. Selection is a
tiny decision table over id prefixes: the longest matching prefix of `select` and `ignore`
wins; the scanner's own failure findings (IDP0xx) cannot be deselected, because what was not
scanned was not proven compliant.

Marking, in order: inline waivers (template Metadata, `idp-scan:ignore` comments, suppressions
inputs pass on), the central waivers file, then the baseline, each over the findings still
OPEN. Every refusal (no reason, expired, mandatory rule, unreadable) and every unused waiver
or stale baseline entry is itself a finding (IDP030-IDP036), which nothing can suppress.
"""

from __future__ import annotations

import datetime
import enum
from typing import Callable, Mapping, Sequence

from scanner.failures import failure, is_failure_rule, is_gate_rule
from scanner.gate import baseline, waivers_file
from scanner.gate.inline import inline_waivers, iter_unique
from scanner.gate.waiver import Waiver, is_mandatory, mandatory_refusal, refusals, suppresses
from scanner.model import Artifact, FileComments, Finding, RuleMeta, ScanResult, Status
from scanner.settings import Settings


class ExitCode(enum.IntEnum):
    OK = 0
    BLOCKED = 1
    USAGE = 2
    BUDGET = 3


def _longest(rule_id: str, prefixes: Sequence[str]) -> int:
    return max((len(p) for p in prefixes if rule_id.startswith(p)), default=-1)


def is_selected(rule_id: str, select: Sequence[str], ignore: Sequence[str]) -> bool:
    if is_failure_rule(rule_id):
        return True
    selected = _longest(rule_id, select) if select else 0  # no select: every rule, at length 0
    return selected >= 0 and selected >= _longest(rule_id, ignore)


def exit_code(result: ScanResult) -> ExitCode:
    if not result.complete:
        return ExitCode.BUDGET
    return ExitCode.BLOCKED if result.blocking else ExitCode.OK


def judged_paths(artifacts: Sequence[Artifact]) -> tuple[str, ...]:
    """The files and directory units a run judged: each unit, and the files it read outside
    itself (a Terraform root's `../../modules/x/main.tf`)."""
    units = {a.uri for a in artifacts}
    outside = {uri for a in artifacts for uri in a.files.values() if not baseline.in_scope(uri, units)}
    return tuple(sorted(units | outside))


def scanned_scope(artifacts: Sequence[Artifact], findings: Sequence[Finding]) -> tuple[str, ...]:
    """Where this run judged: stale baseline entries are only judged there."""
    return tuple(sorted(set(judged_paths(artifacts)) | {f.location.uri for f in findings}))


def engine_suppressions(findings: Sequence[Finding], settings: Settings) -> list[Finding]:
    """Findings a bundled engine marked SUPPRESSED by its own comments (checkov skips, cfn-lint
    ignore_checks) reopen in an audit (`--no-suppressions`) and for mandatory rules."""
    return [
        f.with_status(Status.OPEN) if f.status is Status.SUPPRESSED and (settings.no_suppressions or is_mandatory(f.rule_id, settings.mandatory)) else f
        for f in findings
    ]


def mark(
    findings: Sequence[Finding],
    artifacts: Sequence[Artifact],
    settings: Settings,
    rules: Mapping[str, RuleMeta],
    today: datetime.date | None = None,
    covered: Sequence[str] = (),
    comments: Sequence[FileComments] = (),
) -> list[Finding]:
    """Mark suppressed and baselined findings, and add findings about the waivers themselves.

    Inputs may leave `Suppression`s in `artifact.context["suppressions"]`; `comments` are the
    `# idp-scan:ignore` comments the inputs read. With `--no-suppressions` (an audit) nothing is
    suppressed or baselined. `covered`: where the run judged deletions (the paths it scanned
    whole, or the files deleted since the ref).
    """
    findings = engine_suppressions(findings, settings)
    if settings.no_suppressions:
        return list(findings)
    inline, problems = inline_waivers(artifacts, comments)
    return apply_policy([*findings, *problems], inline, settings, rules, scanned_scope(artifacts, findings), today, covered)


def apply_policy(
    findings: Sequence[Finding],
    inline: Sequence[Waiver],
    settings: Settings,
    rules: Mapping[str, RuleMeta],
    scanned: Sequence[str],
    today: datetime.date | None = None,
    covered: Sequence[str] = (),
) -> list[Finding]:
    """Inline waivers, the central waivers file, then the baseline, over OPEN findings.

    A sharded run cannot tell whether a central waiver or a baseline entry is used in another
    shard, so it leaves those checks to `idp-scan merge`, which calls this again on the union.
    """
    if settings.no_suppressions:
        return list(findings)
    whole_run = settings.shard is None
    central, problems = waivers_file.load(settings.waivers, settings.root) if settings.waivers else ([], [])
    marked = suppress([*findings, *problems], [*inline, *central], settings.mandatory, rules,
                      today or datetime.date.today(),
                      report_unused=lambda w: (w.inline or whole_run) and judged_rule(w.suppression.rule_id, settings, rules))
    if settings.baseline is not None:
        marked = baseline.apply(marked, settings.baseline, settings.root, scanned, report_stale=whole_run,
                                judged=entry_judged(settings, rules), deleted_scope=covered)
    return list(iter_unique(marked))


def judged_rule(rule_id: str, settings: Settings, rules: Mapping[str, RuleMeta], engine: str = "") -> bool:
    """Whether this run judged a rule: its engine ran and the rule is selected. A run of some
    engines or rules neither calls other rules' baseline entries stale nor drops them, nor
    calls their suppressions unused."""
    meta = rules.get(rule_id)
    engine = engine or (meta.engine if meta else "") or baseline.engine_of(rule_id)
    if settings.engines and engine not in settings.engines:
        return False
    return is_selected(rule_id, settings.select, settings.ignore)


def entry_judged(settings: Settings, rules: Mapping[str, RuleMeta]) -> baseline.Judged:
    def judged(entry: baseline.Entry) -> bool:
        return judged_rule(entry.rule_id, settings, rules, entry.engine)
    return judged


def _by_rule_name(waivers: Sequence[Waiver], rules: Mapping[str, RuleMeta]) -> Callable[[Finding], list[int]]:
    """Waivers that name a finding's rule or one of its aliases, by index; an index, not a scan
    of every waiver, so that thousands of findings and waivers stay cheap."""
    named: dict[str, list[int]] = {}
    for index, waiver in enumerate(waivers):
        named.setdefault(waiver.suppression.rule_id, []).append(index)
    owners: dict[str, set[str]] = {}
    for meta in rules.values():
        for alias in meta.aliases:
            owners.setdefault(alias, set()).add(meta.id)

    def candidates(finding: Finding) -> list[int]:
        meta = rules.get(finding.rule_id)
        names = {finding.rule_id, *finding.also_reported_as, *(meta.aliases if meta else ()), *owners.get(finding.rule_id, ())}
        return sorted({index for name in names for index in named.get(name, ())})
    return candidates


def suppress(
    findings: Sequence[Finding],
    waivers: Sequence[Waiver],
    mandatory: Sequence[str],
    rules: Mapping[str, RuleMeta],
    today: datetime.date,
    report_unused: Callable[[Waiver], bool],
) -> list[Finding]:
    refused = [refusals(w, mandatory, today) for w in waivers]
    usable = [suppresses(r) for r in refused]
    about_waivers = [f for r in refused for f in r]
    candidates = _by_rule_name(waivers, rules)
    used: set[int] = set()
    out: list[Finding] = []
    for finding in findings:
        if finding.status is not Status.OPEN or is_gate_rule(finding.rule_id):
            out.append(finding)
            continue
        chosen = None
        for index in candidates(finding):
            waiver = waivers[index]
            if not waiver.covers(finding):
                continue
            used.add(index)
            if waiver.inline and is_mandatory(finding.rule_id, mandatory):
                about_waivers.append(mandatory_refusal(waiver, finding.rule_id))
            elif usable[index] and chosen is None:
                chosen = waiver
        out.append(finding.with_status(Status.SUPPRESSED, chosen.status_reason) if chosen else finding)
    for index, waiver in enumerate(waivers):
        if index not in used and usable[index] and report_unused(waiver):
            about_waivers.append(_unused(waiver))
    return [*out, *about_waivers]


def _unused(waiver: Waiver) -> Finding:
    return failure("IDP034", f"Suppression of {waiver.suppression.rule_id} ({waiver.form}) matches no finding.", waiver.suppression.location)
