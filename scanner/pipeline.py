"""run(settings) -> ScanResult: discover, load, run engines, merge, gate. One direction."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

from scanner.cache import ResultCache
from scanner.discovery import discover, repo_relative
from scanner.engines import Engine, create_engines
from scanner.executor import Executor, default_jobs
from scanner.failures import failure_rules, is_failure
from scanner.findings import dedupe
from scanner.findings.notifications import notifications_for
from scanner.gate import is_selected, judged_paths, mark
from scanner.findings.source_lines import attach_sources, framework_notes
from scanner.inputs import Unit, input_kinds
from scanner.model import Finding, RuleMeta, ScanResult, Severity
from scanner.plan import Execution, Plan, load_reference, performer, prepare, unscanned_units
from scanner.scope import deleted_files, narrow
from scanner.settings import Settings
from scanner.unfinished import budget_notifications, doing, unfinished_findings

Progress = Callable[[str], None]
DEADLINE_MARGIN = 0.5  # seconds kept after the deadline for merging and writing the reports


def _quiet(_: str) -> None:
    return None


def rule_metas(engines: Iterable[Engine], rules_of: Callable[[Engine], Sequence[RuleMeta]] | None = None) -> dict[str, RuleMeta]:
    rules: dict[str, RuleMeta] = dict(failure_rules())
    for engine in engines:
        for meta in (rules_of or _own_rules)(engine):
            rules.setdefault(meta.id, meta)
    return rules


def _own_rules(engine: Engine) -> Sequence[RuleMeta]:
    return engine.rules()


def run(settings: Settings, progress: Progress = _quiet, in_process: bool = False,
        started: float | None = None) -> ScanResult:
    """Discover, then load and run engines in worker processes until done or the deadline
    (`settings.budget` seconds after `started`, a time.monotonic() value: default now)."""
    started = time.monotonic() if started is None else started
    deadline = started + settings.budget - min(DEADLINE_MARGIN, settings.budget / 10)
    timings: dict[str, float] = {}
    discovered, findings = discover(list(settings.paths), settings.root, input_kinds())
    if settings.config_file is not None:  # the file --config names is applied, wherever it is
        applied = repo_relative(settings.config_file, settings.root)
        findings = [f for f in findings if not (f.rule_id == "IDP039" and f.location.uri == applied)]
    # Loaders read their own settings; the limits decide whether a file is parsed at all.
    discovered = [replace(unit, terraform=settings.terraform, limits=settings.limits) for unit in discovered]
    units = discovered
    deleted = deleted_files(settings.root, settings.changed_since) if settings.changed_since else set()
    if settings.changed_since or settings.shard:
        units, findings = narrow(units, findings, settings.root, settings.changed_since, settings.shard, deleted)
    timings["discover"] = time.monotonic() - started

    engines = create_engines(settings)
    stage_start = time.monotonic()
    unscanned = unscanned_units(discovered, units)
    execution = _execute(settings, units, unscanned, engines, deadline, progress, in_process)
    findings.extend(execution.findings)
    findings = attach_sources(findings, execution.artifacts)
    timings["execute"] = time.monotonic() - stage_start
    timings.update(execution.timings)
    timings["budget"] = settings.budget
    timings["jobs"] = float(settings.jobs or default_jobs())

    overrides = settings.severity_overrides
    # Only engines that met an artifact describe their rules: a run on no template never imports checkov.
    described = [e for e in engines if e.name in execution.engaged or e.name == "native"]
    rules = _with_severity_overrides(rule_metas(described, execution.rules_of), overrides)
    selected = [
        _override_severity(f, overrides)
        for f in findings
        if is_selected(f.rule_id, settings.select, settings.ignore)
    ]
    if not settings.no_suppressions:  # an audit reopens what the notes would explain
        selected += framework_notes(selected, execution.artifacts)
    covered = deletion_scope(settings, deleted)
    deduped = dedupe(selected, rules)
    marked = mark(deduped, execution.artifacts, settings, rules, covered=covered, comments=execution.comments_for(deduped))
    merged = sorted(marked, key=lambda f: f.sort_key)
    timings["total"] = time.monotonic() - started
    return ScanResult(
        findings=tuple(merged),
        rules=rules,
        scanned=judged_paths(execution.artifacts),
        notifications=notifications_for(merged) + budget_notifications(execution.unfinished, settings.budget),
        timings=timings,
        complete=not any(u.reason == "budget" for u in execution.unfinished),
        fail_on=settings.fail_on,
    )


def deletion_scope(settings: Settings, deleted: set[Path]) -> tuple[str, ...]:
    """Where a run notices files that are gone: the files deleted since the ref, or every path
    of a whole (unsharded) run."""
    if settings.changed_since:
        return tuple(sorted(repo_relative(p, settings.root) for p in deleted))
    if settings.shard:
        return ()
    return tuple(sorted(repo_relative(p, settings.root) for p in settings.paths))


def _execute(settings: Settings, units: Sequence[Unit], unscanned: Sequence[Unit], engines: Sequence[Engine],
             deadline: float, progress: Progress, in_process: bool) -> Execution:
    jobs = settings.jobs or default_jobs()
    cache = ResultCache.for_settings(settings)
    stage_start = time.monotonic()
    plan = Plan(settings, engines, cache, jobs)
    to_load = plan.from_cache(units)
    plan.execution.timings["cache.lookup"] = time.monotonic() - stage_start
    reference, reference_load = load_reference(engines, unscanned, cache)
    plan.execution.findings.extend(reference_load.findings)
    plan.execution.add_comments(reference_load.comments, reference=True)
    # With every file loaded from the cache, only the engines left with work pay their imports.
    warm_up = prepare(to_load, engines if to_load else [e for e in engines if plan.pending.get(e.name)])
    executor = Executor(perform=performer(engines, reference), jobs=jobs, deadline=deadline, in_process=in_process,
                        warm_up=warm_up)
    plan.submit_loads(executor, to_load)
    plan.submit_pending(executor)
    done = 0
    while True:
        for result in executor.results():
            done += len(result.unit.uris)
            progress(f"{doing(result.unit.engine)}: {done} file(s) done")
            plan.take(result, executor)
        if not plan.submit_pending(executor, loads_done=True):
            break  # nothing left; or a load was lost and the cross-file engines still had to run
    execution = plan.execution
    execution.unfinished.extend(executor.unfinished)
    execution.findings.extend(unfinished_findings(execution.unfinished, settings.budget))
    execution.timings.update(cache.counts())
    return execution


def _with_severity_overrides(rules: dict[str, RuleMeta], overrides: Mapping[str, str]) -> dict[str, RuleMeta]:
    return {
        rule_id: replace(meta, severity=Severity.parse(overrides[rule_id])) if rule_id in overrides else meta
        for rule_id, meta in rules.items()
    }


def _override_severity(finding: Finding, overrides: Mapping[str, str]) -> Finding:
    if finding.rule_id not in overrides or is_failure(finding):
        return finding
    return replace(finding, severity=Severity.parse(overrides[finding.rule_id]))
