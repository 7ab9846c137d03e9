"""run(settings) -> ScanResult: discover, load, run engines, merge, gate. One direction."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Sequence

from scanner.discovery import discover
from scanner.cache import (Cache, artifact_digest, cache_directory, catalogue_digest, code_digest, config_digest,
                           digest, engine_version, file_digest, split_by_file)
from scanner.engines import Engine, create_engines
from scanner.executor import LOAD, Executor, Unfinished, UnitResult, WorkUnit, default_jobs
from scanner.failures import failure, failure_rules
from scanner.findings import merge
from scanner.gate import is_selected, mark
from scanner.inputs import InputKind, Loaded, Unit, cdk, input_kinds, unit_reads
from scanner.inputs.guard import Limits
from scanner.model import Artifact, Finding, Location, Notification, RuleMeta, ScanResult, Severity
from scanner.scope import narrow
from scanner.settings import Settings

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
DEADLINE_MARGIN = 0.5  # seconds kept after the deadline for merging and writing the reports


def _quiet(_: str) -> None:
    return None


def load_unit(unit: Unit) -> Loaded:
    """Load one unit; a loader bug must not sink the run or pass silently."""
    try:
        return _kinds_by_name()[unit.kind].load(unit)
    except Exception as exc:
        log.debug("loader %s failed on %s", unit.kind, unit.uri, exc_info=True)
        return Loaded(findings=(failure("IDP001", f"{unit.uri} could not be loaded: {type(exc).__name__}: {exc}", Location(unit.uri)),))


def _kinds_by_name() -> dict[str, InputKind]:
    return {kind.name: kind for kind in input_kinds()}


def load_units(units: Sequence[Unit], progress: Progress = _quiet) -> tuple[list[Artifact], list[Finding]]:
    artifacts: list[Artifact] = []
    findings: list[Finding] = []
    for number, unit in enumerate(units, start=1):
        progress(f"loading {number}/{len(units)} {unit.uri}")
        loaded = load_unit(unit)
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
    units = [replace(unit, options=settings.options) for unit in units]  # loaders read their own settings
    if settings.changed_since or settings.shard:
        units, findings = narrow(units, findings, settings.root, settings.changed_since, settings.shard)
    limits = Limits.from_options(settings.options)
    units = [replace(unit, limits=limits) for unit in units]
    timings["discover"] = time.monotonic() - started

    engines = create_engines(settings)
    stage_start = time.monotonic()
    execution = _execute(settings, units, engines, deadline, progress, in_process)
    findings.extend(execution.findings)
    findings = cdk.attach_sources(findings, execution.artifacts)
    timings["execute"] = time.monotonic() - stage_start
    timings.update(execution.timings)
    timings["budget"] = settings.budget
    timings["jobs"] = float(settings.jobs or default_jobs())

    overrides: dict[str, str] = settings.options.get("severity", {})
    rules = _with_severity_overrides(catalogue(engines), overrides)
    selected = [
        _override_severity(f, overrides)
        for f in findings
        if is_selected(f.rule_id, settings.select, settings.ignore)
    ]
    merged = sorted(mark(merge(selected, rules), execution.artifacts, settings, rules), key=lambda f: f.sort_key)
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


def _digest_or_mark(path: Path) -> str:
    try:
        return file_digest(path)
    except OSError:
        return "unreadable"


def _execute(settings: Settings, units: Sequence[Unit], engines: Sequence[Engine], deadline: float,
             progress: Progress, in_process: bool) -> Execution:
    jobs = settings.jobs or default_jobs()
    cache = Cache(cache_directory(settings.root, settings.options, settings.config_file))
    stage_start = time.monotonic()
    plan = _Plan(settings, engines, cache, jobs)
    to_load = plan.from_cache(units)
    plan.execution.timings["cache.lookup"] = time.monotonic() - stage_start
    _prepare(to_load, engines if plan.pending_engine_work() or to_load else [])
    executor = Executor(perform=_performer(engines), jobs=jobs, deadline=deadline, in_process=in_process)
    plan.submit_loads(executor, to_load)
    plan.submit_pending(executor)
    done = 0
    for result in executor.results():
        done += len(result.unit.uris)
        progress(f"{_doing(result.unit.engine)}: {done} file(s) done")
        plan.take(result, executor)
    execution = plan.execution
    for engine in engines:
        if is_cross_file(engine):
            _run_cross_file(engine, execution, deadline)
    execution.unfinished.extend(executor.unfinished)
    execution.findings.extend(unfinished_findings(execution.unfinished, settings.budget))
    for kind, count in cache.hits.items():
        execution.timings[f"cache.{kind}.hits"] = float(count)
    for kind, count in cache.misses.items():
        execution.timings[f"cache.{kind}.misses"] = float(count)
    return execution


class _Plan:
    """What to run: cached results are taken as they are, the rest becomes units of work."""

    def __init__(self, settings: Settings, engines: Sequence[Engine], cache: Cache, jobs: int) -> None:
        self.engines = list(engines)
        self.cache = cache
        self.jobs = jobs
        self.timeout = unit_timeout(settings)
        self.execution = Execution()
        self.pending: dict[str, list[Artifact]] = {engine.name: [] for engine in engines}
        self.file_hash: dict[str, str] = {}  # unit uri -> content digest
        self.digests: dict[int, str | None] = {}  # id(artifact) -> content digest, while it is planned
        self.artifact_key: dict[tuple[str, str], str | None] = {}  # (engine, uri) -> cache key; None: ambiguous
        self.engine_prefix = {}
        if cache.directory is not None:
            config = config_digest(settings.options)
            self.engine_prefix = {
                e.name: digest("engine", e.name, engine_version(e), catalogue_digest(e, settings.rule_dirs), config, code_digest())
                for e in engines
            }

    # -- planning ----------------------------------------------------------------------
    def from_cache(self, units: Sequence[Unit]) -> list[Unit]:
        """Take every cached load; return the units that still need loading."""
        to_load: list[Unit] = []
        for unit in units:
            loaded = self._cached_load(unit)
            if loaded is None:
                to_load.append(unit)
            else:
                self._loaded(unit, loaded)
        return to_load

    def _cached_load(self, unit: Unit) -> Loaded | None:
        if self.cache.directory is None:
            return None
        try:
            self.file_hash[unit.uri] = file_digest(unit.path)
        except OSError:
            return None
        payload = self.cache.get("load", self._load_key(unit))
        if not isinstance(payload, dict):
            return None
        loaded, digests = payload.get("loaded"), payload.get("digests")
        if not isinstance(loaded, Loaded) or not all(isinstance(a, Artifact) for a in loaded.artifacts):
            return None
        if not isinstance(digests, list) or len(digests) != len(loaded.artifacts):
            return None
        self.digests.update(zip(map(id, loaded.artifacts), digests))
        return loaded

    def _load_key(self, unit: Unit) -> str:
        # What the loader reads outside the unit's path (Terraform's ../modules, var files) too,
        # and the limits, which decide whether a file is parsed at all (IDP011, IDP012).
        reads = [_digest_or_mark(path) for path in unit_reads(unit)]
        return digest("load", unit.kind, unit.uri, self.file_hash[unit.uri], *reads, repr(unit.limits), code_digest())

    def _loaded(self, unit: Unit, loaded: Loaded) -> None:
        """A unit's artifacts are known: take cached engine results, queue the rest."""
        self.execution.artifacts.extend(loaded.artifacts)
        self.execution.findings.extend(loaded.findings)
        for artifact in loaded.artifacts:
            content = self.digests.pop(id(artifact), None)
            for engine in self.engines:
                if is_cross_file(engine) or not engine.accepts(artifact):
                    continue
                key = digest(self.engine_prefix[engine.name], content) if content and engine.name in self.engine_prefix else None
                cached = self.cache.get(f"engine.{engine.name}", key) if key else None
                if isinstance(cached, list) and all(isinstance(f, Finding) for f in cached):
                    self.execution.findings.extend(cached)
                    continue
                if key:
                    slot = (engine.name, artifact.uri)
                    self.artifact_key[slot] = None if slot in self.artifact_key else key
                self.pending[engine.name].append(artifact)

    def pending_engine_work(self) -> bool:
        return any(self.pending.values())

    # -- submitting --------------------------------------------------------------------
    def submit_loads(self, executor: Executor, units: Sequence[Unit]) -> None:
        size = chunk_size(len(units), self.jobs)
        for start in range(0, len(units), size):
            chunk = units[start:start + size]
            executor.submit(WorkUnit(LOAD, tuple(chunk), tuple(u.uri for u in chunk), self.timeout))

    def submit_pending(self, executor: Executor) -> None:
        for name, artifacts in self.pending.items():
            size = chunk_size(len(artifacts), self.jobs)
            for start in range(0, len(artifacts), size):
                chunk = artifacts[start:start + size]
                executor.submit(WorkUnit(name, tuple(chunk), tuple(a.uri for a in chunk), self.timeout))
            artifacts.clear()

    # -- results -----------------------------------------------------------------------
    def take(self, result: UnitResult, executor: Executor) -> None:
        self.execution.add_time(result)
        if result.error:
            self.execution.findings.extend(_unit_error(result))
            return
        if result.unit.engine == LOAD:
            for unit, loaded in zip(result.unit.items, result.parts):
                self._store_load(unit, loaded)
                self._loaded(unit, loaded)
            self.submit_pending(executor)
            return
        self.execution.findings.extend(result.findings)
        self._store_engine(result)

    def _store_load(self, unit: Unit, loaded: Loaded) -> None:
        """Cache a fresh load, and note its artifacts' digests for the engine cache keys."""
        if self.cache.directory is None:
            return
        if unit.uri not in self.file_hash:
            try:
                self.file_hash[unit.uri] = file_digest(unit.path)
            except OSError:
                return
        digests = [artifact_digest(a, self.file_hash[unit.uri]) for a in loaded.artifacts]
        self.digests.update(zip(map(id, loaded.artifacts), digests))
        if None in digests or any(f.engine == "idp-scan" and f.rule_id != "IDP001" for f in loaded.findings):
            return  # not encodable, or a failure other than a parse error (which may be transient)
        self.cache.put(self._load_key(unit), {"loaded": loaded, "digests": digests})

    def _store_engine(self, result: UnitResult) -> None:
        if any(f.engine == "idp-scan" for f in result.findings):
            return  # a failure may be transient: never cached
        uris = [a.uri for a in result.unit.items]
        if len(set(uris)) != len(uris):
            return
        per_file = split_by_file(result.findings, uris)
        if per_file is None:
            return
        for uri in uris:
            key = self.artifact_key.get((result.unit.engine, uri))
            if key:
                self.cache.put(key, per_file[uri])


def is_cross_file(engine: Engine) -> bool:
    """An engine whose checks span files (unique account names across every account file)
    sees all its artifacts in one call, after loading, and is never cached per file."""
    return bool(getattr(engine, "cross_file", False))


def _run_cross_file(engine: Engine, execution: Execution, deadline: float) -> None:
    accepted = [a for a in execution.artifacts if engine.accepts(a)]
    if not accepted:
        return
    if time.monotonic() >= deadline:
        execution.unfinished.extend(Unfinished(WorkUnit(engine.name, (), (a.uri,)), "budget") for a in accepted)
        return
    stage_start = time.monotonic()
    execution.findings.extend(run_engine(engine, accepted))
    execution.timings[f"engine.{engine.name}"] = time.monotonic() - stage_start


def chunk_size(count: int, jobs: int, max_size: int = 64) -> int:
    """About four chunks per worker, so that work balances, and never huge ones."""
    return max(1, min(max_size, -(-count // (jobs * 4))))


def _prepare(units: Sequence[Unit], engines: Sequence[Engine]) -> None:
    """Heavy imports once, here, before workers fork: each worker then starts warm.

    Engines may offer `prepare()` for the same purpose (import checkov, build its registry).
    """
    present = {unit.kind for unit in units}
    for kind in input_kinds():
        if kind.name in present and kind.prepare is not None:
            kind.prepare()
    for engine in engines:
        prepare = getattr(engine, "prepare", None)
        if callable(prepare):
            prepare()


def _performer(engines: Sequence[Engine]) -> Callable[[WorkUnit], UnitResult]:
    by_name = {engine.name: engine for engine in engines}

    def perform(unit: WorkUnit) -> UnitResult:
        if unit.engine == LOAD:
            return UnitResult(unit=unit, parts=tuple(load_unit(item) for item in unit.items))
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
