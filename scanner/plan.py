"""What a run does, in order: take what the cache holds, load the rest, queue engine work.

The plan hands units to the executor and takes their results back: loads first (account files
first, Terraform directories last), each loaded artifact then to every engine that accepts it
(cached results taken as they are), cross-file engines once every load is over.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from functools import partial
from typing import Callable, Iterator, Mapping, Sequence

from scanner.cache import ResultCache
from scanner.engines import Engine
from scanner.executor import LOAD, Executor, Unfinished, UnitResult, WorkUnit
from scanner.failures import failure
from scanner.findings.stamping import stamp_artifacts
from scanner.inputs import Loaded, Unit, input_kinds
from scanner.inputs.loading import Digests, checked_load, load_units
from scanner.model import Artifact, FileComments, Finding, Location, RuleMeta
from scanner.settings import Settings
from scanner.unfinished import unit_error

log = logging.getLogger(__name__)

LOAD_ORDER = {"accounts": 0, "terraform": 2}  # input kind -> load order; others 1


def _own_rules(engine: Engine) -> Sequence[RuleMeta]:
    return engine.rules()


def rules_of(listed: Mapping[str, Sequence[RuleMeta]], learned: Mapping[str, Mapping[str, RuleMeta]],
             engine: Engine) -> Sequence[RuleMeta]:
    """The rules an engine listed (as the cache keyed them), with those it learnt in a scan."""
    its_listed = listed.get(engine.name, ())
    its_learned = learned.get(engine.name)
    if not its_learned:
        return its_listed or engine.rules()
    known = {meta.id: meta for meta in its_listed}
    known.update(its_learned)
    return list(known.values())


@dataclass
class Execution:
    artifacts: list[Artifact] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    comments: dict[str, FileComments] = field(default_factory=dict)  # by file: two units may read one
    # Those of files loaded only for reference (unchanged account files with --changed-since).
    reference_comments: dict[str, FileComments] = field(default_factory=dict)
    unfinished: list[Unfinished] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    rules_of: Callable[[Engine], Sequence[RuleMeta]] = _own_rules
    engaged: set[str] = field(default_factory=set)  # engines that met at least one artifact

    def add_comments(self, comments: Sequence[FileComments], reference: bool = False) -> None:
        for file in comments:
            (self.reference_comments if reference else self.comments).setdefault(file.uri, file)

    def comments_for(self, findings: Sequence[Finding]) -> list[FileComments]:
        """The comments of the files this run scanned, and of a reference file only where a
        finding of this run stands in it: the run did not judge the rest of that file, so its
        comments there are neither used nor unused."""
        standing = {f.location.uri for f in findings}
        reference = [c for uri, c in self.reference_comments.items() if uri in standing and uri not in self.comments]
        return [*self.comments.values(), *reference]

    def add_time(self, result: UnitResult) -> None:
        stage = result.unit.engine if result.unit.engine == LOAD else f"engine.{result.unit.engine}"
        self.timings[stage] = self.timings.get(stage, 0.0) + result.seconds
        self.timings[f"{stage}.cpu"] = self.timings.get(f"{stage}.cpu", 0.0) + result.cpu_seconds


def unit_timeout(settings: Settings) -> float:
    """A chunk may take half the budget (at least 30 s) unless configured otherwise."""
    return settings.unit_timeout if settings.unit_timeout is not None else max(30.0, settings.budget / 2)


def chunk_size(count: int, jobs: int, max_size: int = 16) -> int:
    """About four chunks per worker, so that work balances, and small ones, so that a
    deadline or a timeout loses little finished work."""
    return max(1, min(max_size, -(-count // (jobs * 4))))


class Plan:
    """What to run: cached results are taken as they are, the rest becomes units of work."""

    def __init__(self, settings: Settings, engines: Sequence[Engine], cache: ResultCache, jobs: int) -> None:
        self.engines = list(engines)
        self.cache = cache
        self.jobs = jobs
        self.timeout = unit_timeout(settings)
        self.execution = Execution()
        self.pending: dict[str, list[Artifact]] = {engine.name: [] for engine in engines}
        # Engines that check across files (account uniqueness) get every artifact in one unit,
        # once every load is done, and are never cached per file.
        self.whole_run = {engine.name for engine in engines if engine.cross_file}
        # With --changed-since they run even on no changed file: a deleted account file is a
        # change they judge against the base.
        self.unjudged = set(self.whole_run) if settings.changed_since else set()
        self.artifact_key: dict[tuple[str, str], str | None] = {}  # (engine, uri) -> cache key; None: ambiguous
        self.learned: dict[str, dict[str, RuleMeta]] = {}  # rules engines reported with their results
        self.planned = 0  # files (input units) in the run: what engine chunks are sized by
        # Not a method of the plan: the execution outlives it, and a cycle through the plan would
        # keep every loaded artifact until the next full collection.
        self.execution.rules_of = partial(rules_of, self.cache.listed, self.learned)

    # -- planning ----------------------------------------------------------------------
    def from_cache(self, units: Sequence[Unit]) -> list[Unit]:
        """Take every cached load; return the units that still need loading."""
        self.planned = len(units)
        to_load: list[Unit] = []
        for unit in units:
            cached = self.cache.cached_load(unit)
            if cached is None:
                to_load.append(unit)
            else:
                self._loaded(*cached)
        return to_load

    def _loaded(self, loaded: Loaded, digests: Digests) -> None:
        """A unit's artifacts are known: take cached engine results, queue the rest."""
        self.execution.artifacts.extend(loaded.artifacts)
        self.execution.findings.extend(loaded.findings)
        self.execution.add_comments(loaded.comments)
        for artifact, content in zip(loaded.artifacts, digests):
            for engine in self.engines:
                if not engine.accepts(artifact):
                    continue
                self.execution.engaged.add(engine.name)
                key = self.cache.engine_key(engine, content) if engine.name not in self.whole_run else None
                cached = self.cache.cached_findings(engine, key) if key else None
                if cached is not None:
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
        # Sized by the whole run, not by the load that brought these files (16 at a time on a
        # big run, which made units of 2 files: a worker then waited for its next unit more
        # often, a second of each worker's time on 846 templates).
        size = chunk_size(max(len(files), self.planned), self.jobs)
        for start in range(0, len(files), size):
            yield files[start:start + size]
        yield from ([d] for d in directories)

    # -- results -----------------------------------------------------------------------
    def take(self, result: UnitResult, executor: Executor) -> None:
        self.execution.add_time(result)
        if result.error:
            self.execution.findings.extend(unit_error(result))
            if result.unit.engine == LOAD:
                self.submit_pending(executor)
            return
        if result.unit.engine == LOAD:
            for unit, (loaded, finished) in zip(result.unit.items, result.parts):
                self._loaded(loaded, self.cache.store_load(unit, loaded, finished))
            self.submit_pending(executor)
            return
        self.execution.findings.extend(result.findings)
        self._learn_rules(result)
        if result.unit.engine not in self.whole_run:  # cross-file results are not per file
            keys = [self.artifact_key.get((result.unit.engine, a.uri)) for a in result.unit.items]
            self.cache.store_findings(result.unit.items, result.findings, keys)

    def _learn_rules(self, result: UnitResult) -> None:
        """Rules an engine only knows after reading its input (cdk-validation) come back from
        the worker with its results."""
        learned = [meta for meta in result.parts if isinstance(meta, RuleMeta)]
        if learned:
            self.learned.setdefault(result.unit.engine, {}).update((meta.id, meta) for meta in learned)



def run_engine(engine: Engine, artifacts: Sequence[Artifact], reference: Sequence[Artifact] = ()) -> list[Finding]:
    """An engine's findings; a crash becomes one IDP002 finding per file it did not finish."""
    accepted = [a for a in artifacts if engine.accepts(a)]
    try:
        return stamp_artifacts(engine.scan_against(accepted, reference), accepted)
    except Exception as exc:
        log.debug("engine %s crashed", engine.name, exc_info=True)
        return [
            failure("IDP002", f"Engine {engine.name} failed: {type(exc).__name__}: {exc}", Location(a.uri))
            for a in accepted
        ]


def performer(engines: Sequence[Engine], reference: Mapping[str, Sequence[Artifact]]) -> Callable[[WorkUnit], UnitResult]:
    """What a worker does with a unit: load its input units, or run its engine on its artifacts
    (a cross-file engine with its reference artifacts, known before the workers fork)."""
    by_name = {engine.name: engine for engine in engines}

    def perform(unit: WorkUnit) -> UnitResult:
        if unit.engine == LOAD:
            return UnitResult(unit=unit, parts=tuple(checked_load(item) for item in unit.items))
        engine = by_name[unit.engine]
        findings = tuple(run_engine(engine, unit.items, reference.get(engine.name, ())))
        learned = tuple(engine.rules()) if engine.rules_from_scan else ()
        return UnitResult(unit=unit, findings=findings, parts=learned)

    return perform


def unscanned_units(discovered: Sequence[Unit], scanned: Sequence[Unit]) -> list[Unit]:
    """The units under the scanned paths that this run does not scan (--changed-since, --shard)."""
    uris = {unit.uri for unit in scanned}
    return [unit for unit in discovered if unit.uri not in uris]


def load_reference(engines: Sequence[Engine], unscanned: Sequence[Unit],
                   cache: ResultCache) -> tuple[dict[str, tuple[Artifact, ...]], Loaded]:
    """What cross-file engines judge against besides what the run scans (every account file,
    with --changed-since), by engine: loaded in the parent before the workers fork, through the
    cache and with the run's limits; their load findings and comments are the run's (a finding
    a cross-file engine places in such a file may be waived there)."""
    wanted = {kind for engine in engines for kind in engine.reference_kinds()}
    loaded = {kind: load_units([u for u in unscanned if u.kind == kind], cache=cache) for kind in sorted(wanted)}
    reference = {e.name: tuple(a for kind in e.reference_kinds() for a in loaded[kind].artifacts) for e in engines}
    findings = tuple(f for part in loaded.values() for f in part.findings)
    comments = tuple(c for part in loaded.values() for c in part.comments)
    return reference, Loaded(findings=findings, comments=comments)


def prepare(units: Sequence[Unit], engines: Sequence[Engine]) -> Callable[[], None]:
    """Heavy imports once, in this process, so that each worker forked after them starts warm:
    the input kinds' parsers now (the first workers load files); returned, the engines' own
    `prepare()` (import checkov, build its registry; load cfn-lint's rules), which the executor
    runs while those first loads go on."""
    present = {unit.kind for unit in units}
    for kind in input_kinds():
        if kind.name in present and kind.prepare is not None:
            kind.prepare()

    def warm_up() -> None:
        for engine in engines:
            engine.prepare()

    return warm_up
