"""run(settings) -> ScanResult: discover, load, run engines, merge, gate. One direction."""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from scanner.discovery import discover, is_within, repo_relative
from scanner.cache import (Cache, Unencodable, artifact_digest, artifact_json, cache_directory, catalogue_digest,
                           code_digest, config_digest, dependencies, dependencies_hold, digest, encode, engine_version,
                           file_digest, files_digest, sources_digest, split_by_artifact)
from scanner.engines import Engine, create_engines
from scanner.executor import LOAD, Executor, Unfinished, UnitResult, WorkUnit, default_jobs
from scanner.failures import failure, failure_rules, is_blocking_failure, is_failure, recurs
from scanner.findings import dedupe
from scanner.gate import is_selected, judged_paths, mark
from scanner.inputs import InputKind, Loaded, Unit, cdk_sources, input_kinds, unit_reads, unit_sources
from scanner.inputs.guard import Limits
from scanner.model import Artifact, Finding, Location, Notification, RuleMeta, ScanResult, Severity
from scanner.scope import deleted_files, narrow
from scanner.settings import Settings

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
LOAD_ORDER = {"accounts": 0, "terraform": 2}  # input kind -> load order; others 1
DEADLINE_MARGIN = 0.5  # seconds kept after the deadline for merging and writing the reports


def _quiet(_: str) -> None:
    return None


def load_unit(unit: Unit) -> Loaded:
    """Load one unit; a loader bug must not sink the run or pass silently."""
    return _checked_load(unit)[0]


def _checked_load(unit: Unit) -> tuple[Loaded, bool]:
    """(what the loader gave, whether it finished without raising: only then may it be cached)."""
    try:
        return _kinds_by_name()[unit.kind].load(unit), True
    except Exception as exc:
        log.debug("loader %s failed on %s", unit.kind, unit.uri, exc_info=True)
        return Loaded(findings=(failure("IDP001", f"{unit.uri} could not be loaded: {type(exc).__name__}: {exc}", Location(unit.uri)),)), False


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
        return with_artifacts(engine.scan(accepted), accepted)
    except Exception as exc:
        log.debug("engine %s crashed", engine.name, exc_info=True)
        return [
            failure("IDP002", f"Engine {engine.name} failed: {type(exc).__name__}: {exc}", Location(a.uri))
            for a in accepted
        ]


def with_artifacts(findings: Iterable[Finding], artifacts: Sequence[Artifact]) -> list[Finding]:
    """Each finding names the artifact it judged, which its fingerprint uses: the template of a
    stack (kept when CDK findings later move to source code), the root module of Terraform
    findings that point into module files."""
    by_uri = {a.uri: a for a in artifacts}
    only = artifacts[0] if len(artifacts) == 1 else None
    stamped = []
    for finding in findings:
        judged = by_uri.get(finding.location.uri) or (only if only and _holds(only, finding.location.uri) else None)
        artifact = finding.artifact or (artifact_identity(judged, finding) if judged else "")
        stamped.append(replace(finding, artifact=artifact) if artifact and not finding.artifact else finding)
    return stamped


def judging(unit: Unit, findings: Sequence[Finding]) -> list[Finding]:
    """What loading a Terraform root found (a missing module, a variable without value) is
    about that root, wherever in its files the block stands: moving the block to another file
    of the root keeps the finding's identity."""
    if unit.kind != "terraform":
        return list(findings)
    return [f if f.artifact else replace(f, artifact=unit.uri) for f in findings]


def _holds(artifact: Artifact, uri: str) -> bool:
    """A Terraform unit judges its module files wherever they are (`../modules/x`); another
    artifact only itself. (The CDK validation report speaks of templates it is not.)"""
    return artifact.kind in ("terraform", "terraform-plan") or is_within(uri, artifact.uri)


def artifact_identity(artifact: Artifact, finding: Finding) -> str:
    """A plan's finding that points at the `.tf` file beside it judges that root module (the
    directory), as the module's own scan does, so that the two are one finding."""
    if artifact.kind == "terraform-plan" and finding.location.uri != artifact.uri:
        return artifact.uri.rsplit("/", 1)[0] if "/" in artifact.uri else "."
    return artifact.uri


def rule_metas(engines: Iterable[Engine], rules_of: Callable[[Engine], Sequence[RuleMeta]] | None = None) -> dict[str, RuleMeta]:
    rules: dict[str, RuleMeta] = dict(failure_rules())
    for engine in engines:
        for meta in (rules_of or _own_rules)(engine):
            rules.setdefault(meta.id, meta)
    return rules


def _own_rules(engine: Engine) -> Sequence[RuleMeta]:
    return engine.rules()


def notifications_for(findings: Iterable[Finding]) -> tuple[Notification, ...]:
    return tuple(
        Notification(level=Severity.ERROR, message=f"{f.location.uri}:{f.location.start_line}: {f.message}", rule_id=f.rule_id)
        for f in findings
        if is_blocking_failure(f)
    )


def run(settings: Settings, progress: Progress = _quiet, in_process: bool = False,
        started: float | None = None) -> ScanResult:
    """Discover, then load and run engines in worker processes until done or the deadline
    (`settings.budget` seconds after `started`, a time.monotonic() value: default now)."""
    started = time.monotonic() if started is None else started
    deadline = started + settings.budget - min(DEADLINE_MARGIN, settings.budget / 10)
    timings: dict[str, float] = {}
    units, findings = discover(list(settings.paths), settings.root, input_kinds())
    if settings.config_file is not None:  # the file --config names is applied, wherever it is
        applied = repo_relative(settings.config_file, settings.root)
        findings = [f for f in findings if not (f.rule_id == "IDP039" and f.location.uri == applied)]
    units = [replace(unit, options=settings.options) for unit in units]  # loaders read their own settings
    deleted = deleted_files(settings.root, settings.changed_since) if settings.changed_since else set()
    if settings.changed_since or settings.shard:
        units, findings = narrow(units, findings, settings.root, settings.changed_since, settings.shard, deleted)
    limits = Limits.from_options(settings.options)
    units = [replace(unit, limits=limits) for unit in units]
    timings["discover"] = time.monotonic() - started

    engines = create_engines(settings)
    stage_start = time.monotonic()
    execution = _execute(settings, units, engines, deadline, progress, in_process)
    findings.extend(execution.findings)
    findings = cdk_sources.attach_sources(findings, execution.artifacts)
    timings["execute"] = time.monotonic() - stage_start
    timings.update(execution.timings)
    timings["budget"] = settings.budget
    timings["jobs"] = float(settings.jobs or default_jobs())

    overrides: dict[str, str] = settings.options.get("severity", {})
    # Only engines that met an artifact describe their rules: a run on no template never imports checkov.
    described = [e for e in engines if e.name in execution.engaged or e.name == "native"]
    rules = _with_severity_overrides(rule_metas(described, execution.rules_of), overrides)
    selected = [
        _override_severity(f, overrides)
        for f in findings
        if is_selected(f.rule_id, settings.select, settings.ignore)
    ]
    if not settings.no_suppressions:  # an audit reopens what the notes would explain
        selected += cdk_sources.framework_notes(selected, execution.artifacts)
    covered = deletion_scope(settings, deleted)
    merged = sorted(mark(dedupe(selected, rules), execution.artifacts, settings, rules, covered=covered), key=lambda f: f.sort_key)
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


@dataclass
class Execution:
    artifacts: list[Artifact] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    unfinished: list[Unfinished] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    rules_of: Callable[[Engine], Sequence[RuleMeta]] = _own_rules
    engaged: set[str] = field(default_factory=set)  # engines that met at least one artifact

    def add_time(self, result: UnitResult) -> None:
        stage = result.unit.engine if result.unit.engine == LOAD else f"engine.{result.unit.engine}"
        self.timings[stage] = self.timings.get(stage, 0.0) + result.seconds
        self.timings[f"{stage}.cpu"] = self.timings.get(f"{stage}.cpu", 0.0) + result.cpu_seconds


def unit_timeout(settings: Settings) -> float:
    """A chunk may take half the budget (at least 30 s) unless configured otherwise."""
    return settings.unit_timeout if settings.unit_timeout is not None else max(30.0, settings.budget / 2)


def unit_digest(unit: Unit) -> str:
    """What a unit's load depends on: the files its kind says it reads, else all under its path."""
    sources = unit_sources(unit)
    return file_digest(unit.path) if sources is None else files_digest(sources, unit.path)


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
    # With every file loaded from the cache, only the engines left with work pay their imports.
    _prepare(to_load, engines if to_load else [e for e in engines if plan.pending.get(e.name)])
    executor = Executor(perform=_performer(engines), jobs=jobs, deadline=deadline, in_process=in_process)
    plan.submit_loads(executor, to_load)
    plan.submit_pending(executor)
    done = 0
    while True:
        for result in executor.results():
            done += len(result.unit.uris)
            progress(f"{_doing(result.unit.engine)}: {done} file(s) done")
            plan.take(result, executor)
        if not plan.submit_pending(executor, loads_done=True):
            break  # nothing left; or a load was lost and the cross-file engines still had to run
    execution = plan.execution
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
        self.root = settings.root
        self.execution = Execution()
        self.pending: dict[str, list[Artifact]] = {engine.name: [] for engine in engines}
        # Engines that check across files (account uniqueness) get every artifact in one unit,
        # once every load is done, and are never cached per file.
        self.whole_run = {engine.name for engine in engines if is_cross_file(engine)}
        # With --changed-since they run even on no changed file: a deleted account file is a
        # change they judge against the base.
        self.unjudged = set(self.whole_run) if settings.changed_since else set()
        self.file_hash: dict[str, str] = {}  # unit uri -> content digest
        self.digests: dict[int, str | None] = {}  # id(artifact) -> content digest, while it is planned
        self.artifact_key: dict[tuple[str, str], str | None] = {}  # (engine, uri) -> cache key; None: ambiguous
        self.engine_prefix: dict[str, str] = {}
        self.rules: dict[str, Sequence[RuleMeta]] = {}
        self.digests_of_settings = (
            (config_digest(settings.options), sources_digest(settings.rule_dirs)) if cache.directory is not None else None
        )
        self.execution.rules_of = lambda engine: self.rules.get(engine.name) or engine.rules()

    def prefix(self, engine: Engine) -> str | None:
        """The engine's part of its cache keys, computed when it first meets an artifact:
        it needs the engine's rule list, and listing checkov's checks means importing checkov."""
        if self.digests_of_settings is None:
            return None
        if engine.name not in self.engine_prefix:
            config, sources = self.digests_of_settings
            self.rules[engine.name] = self._rules(engine, config, sources)
            rules_digest = catalogue_digest(self.rules[engine.name], engine, sources)
            self.engine_prefix[engine.name] = digest("engine", engine.name, engine_version(engine), rules_digest, config, code_digest())
        return self.engine_prefix[engine.name]

    def _rules(self, engine: Engine, config: str, sources: str) -> Sequence[RuleMeta]:
        """An engine's rule list, cached: listing checkov's checks means importing checkov."""
        key = digest("rules", engine.name, engine_version(engine), config, code_digest(), sources)
        cached = self.cache.get("rules", key)
        if isinstance(cached, list) and cached and all(isinstance(meta, RuleMeta) for meta in cached):
            return cached
        rules = list(engine.rules())
        self.cache.put(key, rules)
        return rules

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
            self.file_hash[unit.uri] = unit_digest(unit)
        except OSError:
            return None
        payload = self.cache.get("load", self._load_key(unit))
        if not isinstance(payload, dict):
            return None
        loaded, digests, deps = payload.get("loaded"), payload.get("digests"), payload.get("dependencies")
        if not isinstance(loaded, Loaded) or not all(isinstance(a, Artifact) for a in loaded.artifacts):
            return None
        if not isinstance(digests, list) or len(digests) != len(loaded.artifacts):
            return None
        if not isinstance(deps, dict) or not dependencies_hold(deps):
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
        self.execution.findings.extend(judging(unit, loaded.findings))
        for artifact in loaded.artifacts:
            content = self.digests.pop(id(artifact), None)
            for engine in self.engines:
                if not engine.accepts(artifact):
                    continue
                self.execution.engaged.add(engine.name)
                prefix = self.prefix(engine) if engine.name not in self.whole_run else None
                key = digest(prefix, content) if content and prefix else None
                cached = self.cache.get(f"engine.{engine.name}", key) if key else None
                if isinstance(cached, list) and all(isinstance(f, Finding) for f in cached):
                    self.execution.findings.extend(cached)
                    continue
                if key:
                    slot = (engine.name, artifact.uri)
                    self.artifact_key[slot] = None if slot in self.artifact_key else key
                self.pending[engine.name].append(artifact)

    # -- submitting --------------------------------------------------------------------
    def submit_loads(self, executor: Executor, units: Sequence[Unit]) -> None:
        """Account files first (cheap, and they gate whole accounts), Terraform directories last."""
        ordered = sorted(units, key=lambda u: (LOAD_ORDER.get(u.kind, 1), u.uri))
        size = chunk_size(len(ordered), self.jobs)
        for start in range(0, len(ordered), size):
            chunk = ordered[start:start + size]
            executor.submit(WorkUnit(LOAD, tuple(chunk), tuple(u.uri for u in chunk), self.timeout))

    def submit_pending(self, executor: Executor, loads_done: bool = False) -> bool:
        """Queue pending engine work (whole-run engines once every load is over); True if any."""
        loads_done = loads_done or executor.outstanding(LOAD) == 0
        queued = False
        for name, artifacts in self.pending.items():
            if not (artifacts or name in self.unjudged) or name in self.whole_run and not loads_done:
                continue
            self.unjudged.discard(name)
            self.execution.engaged.add(name)
            for chunk in self._chunks(name, artifacts):
                executor.submit(WorkUnit(name, tuple(chunk), tuple(a.uri for a in chunk), self.timeout,
                                         splittable=name not in self.whole_run))
            artifacts.clear()
            queued = True
        return queued

    def _chunks(self, engine: str, artifacts: list[Artifact]) -> Iterator[list[Artifact]]:
        """Files in small chunks; a whole directory (a Terraform module, which an engine reads
        on its own and which may share files with its callers) as a unit of its own: its time
        limit, its deadline and its cache entry are per module."""
        if engine in self.whole_run:
            yield artifacts
            return
        files: list[Artifact] = []
        directories: list[Artifact] = []
        for artifact in artifacts:
            (directories if os.path.isdir(artifact.path) else files).append(artifact)
        size = chunk_size(len(files), self.jobs)
        for start in range(0, len(files), size):
            yield files[start:start + size]
        yield from ([d] for d in directories)

    # -- results -----------------------------------------------------------------------
    def take(self, result: UnitResult, executor: Executor) -> None:
        self.execution.add_time(result)
        if result.error:
            self.execution.findings.extend(_unit_error(result))
            if result.unit.engine == LOAD:
                self.submit_pending(executor)
            return
        if result.unit.engine == LOAD:
            for unit, (loaded, finished) in zip(result.unit.items, result.parts):
                self._store_load(unit, loaded, finished)
                self._loaded(unit, loaded)
            self.submit_pending(executor)
            return
        self.execution.findings.extend(result.findings)
        self._learn_rules(result)
        self._store_engine(result)

    def _learn_rules(self, result: UnitResult) -> None:
        """Rules an engine only knows after reading its input (cdk-validation) come back from
        the worker with its results."""
        learned = [meta for meta in result.parts if isinstance(meta, RuleMeta)]
        if learned:
            known = {meta.id: meta for meta in self.rules.get(result.unit.engine, ())}
            known.update((meta.id, meta) for meta in learned)
            self.rules[result.unit.engine] = list(known.values())

    def _store_load(self, unit: Unit, loaded: Loaded, finished: bool) -> None:
        """Cache a fresh load, and note its artifacts' digests for the engine cache keys."""
        if self.cache.directory is None:
            return
        if unit.uri not in self.file_hash:
            try:
                self.file_hash[unit.uri] = unit_digest(unit)
            except OSError:
                return
        try:
            deps = dependencies(self.root, unit.path, loaded.artifacts)
        except OSError:
            return
        content = digest(self.file_hash[unit.uri], *sorted(deps.values()))
        try:
            texts = [artifact_json(a) for a in loaded.artifacts]
            findings_text = json.dumps(encode(list(loaded.findings)))
        except (Unencodable, TypeError, ValueError, RecursionError):
            return  # not encodable: neither cached nor its engine results
        digests = [artifact_digest(text, content) for text in texts]
        self.digests.update(zip(map(id, loaded.artifacts), digests))
        if not finished:
            return  # the loader crashed (perhaps for a passing reason)
        loaded_text = ('{"__dc__": "Loaded", "fields": {"artifacts": {"__tuple__": [' + ", ".join(texts) +
                       ']}, "findings": {"__tuple__": ' + findings_text + "}}}")
        payload = f'{{"loaded": {loaded_text}, "digests": {json.dumps(digests)}, "dependencies": {json.dumps(deps)}}}'
        self.cache.put_text(self._load_key(unit), payload)

    def _store_engine(self, result: UnitResult) -> None:
        if result.unit.engine in self.whole_run:
            return  # cross-file results are not per file
        items = result.unit.items
        per_artifact = [list(result.findings)] if len(items) == 1 else split_by_artifact(result.findings, items)
        if per_artifact is None:
            return
        for artifact, findings in zip(result.unit.items, per_artifact):
            key = self.artifact_key.get((result.unit.engine, artifact.uri))
            if key and not any(_is_transient_failure(f) for f in findings):
                self.cache.put(key, findings)


def is_cross_file(engine: Engine) -> bool:
    """An engine whose checks span files (unique account names across every account file)
    sees all its artifacts in one unit once every load is over (never split), and is never
    cached per file."""
    return bool(getattr(engine, "cross_file", False))


def _is_transient_failure(finding: Finding) -> bool:
    """A failure that may not recur (a timeout, a dead worker, the budget): never cached. One
    that recurs on the same bytes is cached, so a warm run need not start the engine again
    only to fail the same way."""
    return is_blocking_failure(finding) and not recurs(finding.rule_id)


def chunk_size(count: int, jobs: int, max_size: int = 16) -> int:
    """About four chunks per worker, so that work balances, and small ones, so that a
    deadline or a timeout loses little finished work."""
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
            return UnitResult(unit=unit, parts=tuple(_checked_load(item) for item in unit.items))
        engine = by_name[unit.engine]
        findings = tuple(run_engine(engine, unit.items))
        learned = tuple(engine.rules()) if getattr(engine, "rules_from_scan", False) else ()
        return UnitResult(unit=unit, findings=findings, parts=learned)

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
    if finding.rule_id not in overrides or is_failure(finding):
        return finding
    return replace(finding, severity=Severity.parse(overrides[finding.rule_id]))
