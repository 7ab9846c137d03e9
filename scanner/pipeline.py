"""run(settings) -> ScanResult: discover, load, run engines, merge, gate. One direction."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, Sequence

from scanner.discovery import discover
from scanner.engines import Engine, create_engines
from scanner.executor import LOAD, Executor, Unfinished, UnitResult, WorkUnit, default_jobs
from scanner.failures import failure, failure_rules
from scanner.findings import merge
from scanner.gate import is_selected, mark
from scanner.inputs import Loaded, Unit, input_kinds
from scanner.model import Artifact, Finding, Location, Notification, RuleMeta, ScanResult, Severity
from scanner.settings import Settings

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
DEADLINE_MARGIN = 0.5  # seconds kept after the deadline for merging and writing the reports


def _quiet(_: str) -> None:
    return None


def load_units(units: Sequence[Unit], progress: Progress = _quiet) -> tuple[list[Artifact], list[Finding]]:
    kinds = {kind.name: kind for kind in input_kinds()}
    artifacts: list[Artifact] = []
    findings: list[Finding] = []
    for number, unit in enumerate(units, start=1):
        progress(f"loading {number}/{len(units)} {unit.uri}")
        try:
            loaded = kinds[unit.kind].load(unit)
        except Exception as exc:  # a loader bug must not sink the run or pass silently
            log.debug("loader %s failed on %s", unit.kind, unit.uri, exc_info=True)
            loaded = Loaded(findings=(failure("IDP001", f"{unit.uri} could not be loaded: {type(exc).__name__}: {exc}", Location(unit.uri)),))
        artifacts.extend(loaded.artifacts)
        findings.extend(loaded.findings)
    return artifacts, findings


def run_engine(engine: Engine, artifacts: Sequence[Artifact]) -> list[Finding]:
    """An engine's findings; a crash becomes one IDP002 finding per file it did not finish."""
    accepted = [a for a in artifacts if engine.accepts(a)]
    try:
        return list(engine.scan(accepted))
    except Exception as exc:
        log.debug("engine %s crashed", engine.name, exc_info=True)
        return [
            failure("IDP002", f"Engine {engine.name} failed: {type(exc).__name__}: {exc}", Location(a.uri))
            for a in accepted
        ]


def catalogue(engines: Iterable[Engine]) -> dict[str, RuleMeta]:
    rules: dict[str, RuleMeta] = dict(failure_rules())
    for engine in engines:
        for meta in engine.rules():
            rules.setdefault(meta.id, meta)
    return rules


def notifications_for(findings: Iterable[Finding]) -> tuple[Notification, ...]:
    return tuple(
        Notification(level=Severity.ERROR, message=f"{f.location.uri}:{f.location.start_line}: {f.message}", rule_id=f.rule_id)
        for f in findings
        if f.engine == "idp-scan" and f.severity is Severity.ERROR
    )


def run(settings: Settings, progress: Progress = _quiet, in_process: bool = False) -> ScanResult:
    """Discover, then load and run engines in worker processes until done or the deadline."""
    started = time.monotonic()
    deadline = started + settings.budget - min(DEADLINE_MARGIN, settings.budget / 10)
    timings: dict[str, float] = {}
    units, findings = discover(list(settings.paths), settings.root, input_kinds())
    timings["discover"] = time.monotonic() - started

    engines = create_engines(settings)
    stage_start = time.monotonic()
    execution = _execute(settings, units, engines, deadline, progress, in_process)
    findings.extend(execution.findings)
    timings["execute"] = time.monotonic() - stage_start
    timings.update(execution.timings)

    overrides: dict[str, str] = settings.options.get("severity", {})
    rules = _with_severity_overrides(catalogue(engines), overrides)
    selected = [
        _override_severity(f, overrides)
        for f in findings
        if is_selected(f.rule_id, settings.select, settings.ignore)
    ]
    merged = sorted(mark(merge(selected, rules), execution.artifacts, settings), key=lambda f: f.sort_key)
    timings["total"] = time.monotonic() - started
    return ScanResult(
        findings=tuple(merged),
        rules=rules,
        scanned=tuple(sorted({a.uri for a in execution.artifacts})),
        notifications=notifications_for(merged) + budget_notifications(execution.unfinished, settings.budget),
        timings=timings,
        complete=not any(u.reason == "budget" for u in execution.unfinished),
        fail_on=settings.fail_on,
    )


@dataclass
class Execution:
    artifacts: list[Artifact] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    unfinished: list[Unfinished] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def add_time(self, result: UnitResult) -> None:
        stage = result.unit.engine if result.unit.engine == LOAD else f"engine.{result.unit.engine}"
        self.timings[stage] = self.timings.get(stage, 0.0) + result.seconds
        self.timings[f"{stage}.cpu"] = self.timings.get(f"{stage}.cpu", 0.0) + result.cpu_seconds


def unit_timeout(settings: Settings) -> float:
    """A chunk may take half the budget (at least 30 s) unless configured otherwise."""
    return settings.unit_timeout if settings.unit_timeout is not None else max(30.0, settings.budget / 2)


def _execute(settings: Settings, units: Sequence[Unit], engines: Sequence[Engine], deadline: float,
             progress: Progress, in_process: bool) -> Execution:
    jobs = settings.jobs or default_jobs()
    timeout = unit_timeout(settings)
    size = chunk_size(len(units), jobs)
    _prepare(units, engines)
    executor = Executor(perform=_performer(engines), jobs=jobs, deadline=deadline, in_process=in_process)
    for start in range(0, len(units), size):
        chunk = units[start:start + size]
        executor.submit(WorkUnit(LOAD, tuple(chunk), tuple(u.uri for u in chunk), timeout))
    execution = Execution()
    done = 0
    for result in executor.results():
        done += len(result.unit.uris)
        progress(f"{result.unit.engine}: {done} file(s) done")
        execution.add_time(result)
        execution.findings.extend(result.findings)
        if result.error:
            execution.findings.extend(_unit_error(result))
        if result.unit.engine == LOAD:
            execution.artifacts.extend(result.artifacts)
            for engine in engines:
                accepted = tuple(a for a in result.artifacts if engine.accepts(a))
                executor.submit(WorkUnit(engine.name, accepted, tuple(a.uri for a in accepted), timeout))
    execution.unfinished = list(executor.unfinished)
    execution.findings.extend(unfinished_findings(execution.unfinished, settings.budget))
    return execution


def _prepare(units: Sequence[Unit], engines: Sequence[Engine]) -> None:
    """Heavy imports once, here, before workers fork: each worker then starts warm.

    Engines may offer `prepare()` for the same purpose (import checkov, build its registry).
    """
    if not units:
        return
    present = {unit.kind for unit in units}
    for kind in input_kinds():
        if kind.name in present and kind.prepare is not None:
            kind.prepare()
    for engine in engines:
        prepare = getattr(engine, "prepare", None)
        if callable(prepare):
            prepare()


def chunk_size(count: int, jobs: int, max_size: int = 64) -> int:
    """About four chunks per worker, so that work balances, and never huge ones."""
    return max(1, min(max_size, -(-count // (jobs * 4))))


def _performer(engines: Sequence[Engine]) -> Callable[[WorkUnit], UnitResult]:
    by_name = {engine.name: engine for engine in engines}

    def perform(unit: WorkUnit) -> UnitResult:
        if unit.engine == LOAD:
            artifacts, findings = load_units(unit.items)
            return UnitResult(unit=unit, findings=tuple(findings), artifacts=tuple(artifacts))
        return UnitResult(unit=unit, findings=tuple(run_engine(by_name[unit.engine], unit.items)))

    return perform


def _unit_error(result: UnitResult) -> list[Finding]:
    what = "Loading" if result.unit.engine == LOAD else f"Engine {result.unit.engine}"
    return [failure("IDP002", f"{what} failed: {result.error}", Location(uri)) for uri in result.unit.uris]


def unfinished_findings(unfinished: Sequence[Unfinished], budget: float) -> list[Finding]:
    """One finding per file and reason: budget -> IDP040, timeout -> IDP041, crash -> IDP042."""
    grouped: dict[tuple[str, str], list[Unfinished]] = {}
    for item in unfinished:
        for uri in item.unit.uris:
            grouped.setdefault((uri, item.reason), []).append(item)
    findings = []
    for (uri, reason), items in sorted(grouped.items()):
        what = ", ".join(sorted({_doing(i.unit.engine) for i in items}))
        details = "; ".join(sorted({i.detail for i in items if i.detail}))
        if reason == "budget":
            findings.append(failure("IDP040", f"The {budget:g} s budget ran out before {what} finished on this file.", Location(uri)))
        elif reason == "timeout":
            findings.append(failure("IDP041", f"Stopped {what} on this file: {details}.", Location(uri)))
        else:
            findings.append(failure("IDP042", f"The worker process died during {what} on this file: {details}.", Location(uri)))
    return findings


def _doing(engine: str) -> str:
    return "loading" if engine == LOAD else engine


def budget_notifications(unfinished: Sequence[Unfinished], budget: float) -> tuple[Notification, ...]:
    """One notification that names every unit the deadline stopped."""
    stopped = [u.unit.label.replace(f"{LOAD} on", "loading") for u in unfinished if u.reason == "budget"]
    if not stopped:
        return ()
    message = f"The {budget:g} s budget ran out; {len(stopped)} unit(s) did not finish: {'; '.join(stopped)}"
    return (Notification(level=Severity.ERROR, message=message, rule_id="IDP040"),)


def _with_severity_overrides(rules: dict[str, RuleMeta], overrides: dict[str, str]) -> dict[str, RuleMeta]:
    return {
        rule_id: replace(meta, severity=Severity.parse(overrides[rule_id])) if rule_id in overrides else meta
        for rule_id, meta in rules.items()
    }


def _override_severity(finding: Finding, overrides: dict[str, str]) -> Finding:
    if finding.rule_id not in overrides or finding.engine == "idp-scan":
        return finding
    return replace(finding, severity=Severity.parse(overrides[finding.rule_id]))
