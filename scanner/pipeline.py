"""run(settings) -> ScanResult: discover, load, run engines, merge, gate. One direction."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Callable, Iterable, Sequence

from scanner.discovery import discover
from scanner.engines import Engine, create_engines
from scanner.failures import failure, failure_rules
from scanner.findings import merge
from scanner.gate import is_selected, mark
from scanner.inputs import Loaded, Unit, input_kinds
from scanner.inputs.guard import Limits
from scanner.model import Artifact, Finding, Location, Notification, RuleMeta, ScanResult, Severity
from scanner.scope import narrow
from scanner.settings import Settings

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


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


def run(settings: Settings, progress: Progress = _quiet) -> ScanResult:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    units, findings = discover(list(settings.paths), settings.root, input_kinds())
    if settings.changed_since or settings.shard:
        units, findings = narrow(units, findings, settings.root, settings.changed_since, settings.shard)
    limits = Limits.from_options(settings.options)
    units = [replace(unit, limits=limits) for unit in units]
    timings["discover"] = time.perf_counter() - started

    stage_start = time.perf_counter()
    artifacts, load_findings = load_units(units, progress)
    findings.extend(load_findings)
    timings["load"] = time.perf_counter() - stage_start

    engines = create_engines(settings)
    for engine in engines:
        progress(f"engine {engine.name} on {len(artifacts)} artifact(s)")
        stage_start = time.perf_counter()
        findings.extend(run_engine(engine, artifacts))
        timings[f"engine.{engine.name}"] = time.perf_counter() - stage_start

    overrides: dict[str, str] = settings.options.get("severity", {})
    rules = _with_severity_overrides(catalogue(engines), overrides)
    selected = [
        _override_severity(f, overrides)
        for f in findings
        if is_selected(f.rule_id, settings.select, settings.ignore)
    ]
    merged = sorted(mark(merge(selected, rules), artifacts, settings, rules), key=lambda f: f.sort_key)
    timings["total"] = time.perf_counter() - started
    return ScanResult(
        findings=tuple(merged),
        rules=rules,
        scanned=tuple(sorted({a.uri for a in artifacts})),
        notifications=notifications_for(merged),
        timings=timings,
        complete=True,
        fail_on=settings.fail_on,
    )


def _with_severity_overrides(rules: dict[str, RuleMeta], overrides: dict[str, str]) -> dict[str, RuleMeta]:
    return {
        rule_id: replace(meta, severity=Severity.parse(overrides[rule_id])) if rule_id in overrides else meta
        for rule_id, meta in rules.items()
    }


def _override_severity(finding: Finding, overrides: dict[str, str]) -> Finding:
    if finding.rule_id not in overrides or finding.engine == "idp-scan":
        return finding
    return replace(finding, severity=Severity.parse(overrides[finding.rule_id]))
