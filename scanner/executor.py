"""Run units of work in worker processes, against one deadline for the whole run.

A unit is one engine (or the loader) on a chunk of items (artifacts, or input units to load).
Units and their results are plain picklable values; workers keep their engines warm between
units (forked workers inherit the parent's engines; spawned ones build their own). The parent
hands out one unit at a time per worker, cheapest first, and decides everything else:

- a unit that runs past its own timeout, or whose worker dies (a crash, the OOM killer), is
  split in two and retried while time remains, so that only the culprit file is lost: a
  single item that still times out gets IDP041, one that still kills its worker IDP042;
- at the deadline every worker is stopped, and every unit not finished is reported back as
  unfinished (the pipeline turns them into IDP040 and an incomplete result, exit 3).

The engines' own preparation (importing checkov, loading cfn-lint's rules: seconds) happens in
this process, so that forked workers start warm. With more than one job it need not hold up the
loads: `warm_up` runs in a thread of this process while `jobs - 1` workers forked before it
(cold: they only take the units `cold` names, loads) parse the files; their results are held
back until the thread is over, so that nothing here touches an engine while it is being
imported, and no worker is forked while the thread is alive. Then cold workers retire as they
fall idle, and warm ones take their place.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import multiprocessing
import os
import threading
import time
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection, wait
from typing import Any, Callable, Iterator, Mapping, Sequence

from scanner import collector
from scanner.model import Finding

log = logging.getLogger(__name__)

LOAD = "load"  # the pseudo-engine of loading units: parse once, share the artifacts
# Cheap, high-value work first, so that a budget overrun leaves the slow engines unfinished:
# the native rules on what is loaded come before loading more, so files finish one by one.
ENGINE_ORDER: Mapping[str, int] = {"native": 0, "schema": 0, LOAD: 1, "cfn-lint": 2, "checkov": 3}
DEFAULT_ORDER = 2
STOP_GRACE = 0.3  # seconds a stopped worker gets before it is killed
WARM_POLL = 0.02  # seconds between looks at the warm-up thread while it runs


@dataclass(frozen=True)
class WorkUnit:
    """`engine` on `items`; `uris` says which files the items stand for, in reports."""

    engine: str
    items: tuple[Any, ...]
    uris: tuple[str, ...]
    timeout: float | None = None
    splittable: bool = True  # False: the items only make sense together (cross-file checks)

    @property
    def order(self) -> int:
        return ENGINE_ORDER.get(self.engine, DEFAULT_ORDER)

    @property
    def label(self) -> str:
        first = self.uris[0] if self.uris else "-"
        more = f" and {len(self.uris) - 1} more" if len(self.uris) > 1 else ""
        return f"{self.engine} on {first}{more}"

    def halves(self) -> tuple[WorkUnit, WorkUnit]:
        middle = len(self.items) // 2
        return (
            replace(self, items=self.items[:middle], uris=self.uris[:middle]),
            replace(self, items=self.items[middle:], uris=self.uris[middle:]),
        )


@dataclass(frozen=True)
class UnitResult:
    """What a unit produced; `parts` holds one result per item where the caller needs them
    apart (load units: one `Loaded` per input unit); `error` when the unit failed."""

    unit: WorkUnit
    findings: tuple[Finding, ...] = ()
    parts: tuple[Any, ...] = ()
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    error: str = ""


@dataclass(frozen=True)
class Unfinished:
    """A unit that did not finish; `reason` is "budget", "timeout" or "crash"."""

    unit: WorkUnit
    reason: str
    detail: str = ""


Perform = Callable[[WorkUnit], UnitResult]


def chunks(engine: str, items: Sequence[Any], uris: Sequence[str], jobs: int, timeout: float | None = None,
           max_size: int = 64) -> list[WorkUnit]:
    """About four units per worker (so that work balances), each at most `max_size` items."""
    if not items:
        return []
    size = max(1, min(max_size, -(-len(items) // (jobs * 4))))
    return [
        WorkUnit(engine, tuple(items[i:i + size]), tuple(uris[i:i + size]), timeout)
        for i in range(0, len(items), size)
    ]


@dataclass
class _Worker:
    process: Any  # multiprocessing.Process (BaseProcess of the chosen context)
    conn: Connection
    unit: WorkUnit | None = None
    started: float = 0.0
    cold: bool = False  # forked before the warm-up: takes only the executor's `cold` units


def _worker_main(conn: Connection, perform: Perform) -> None:
    """Serve units until the parent closes the pipe."""
    while True:
        try:
            unit = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        try:
            result = perform(unit)
        except BaseException as exc:  # noqa: BLE001 - the parent decides what a failure means
            result = UnitResult(unit=unit, error=f"{type(exc).__name__}: {exc}")
        try:
            conn.send(replace(result, unit=replace(unit, items=())))  # the parent has the items
        except Exception as exc:  # an unpicklable result is the unit's failure, not the worker's
            conn.send(UnitResult(unit=unit, error=f"result could not be sent: {type(exc).__name__}: {exc}"))


def timed(perform: Perform) -> Perform:
    """Wrap `perform` to record wall and CPU time of each unit."""

    def run(unit: WorkUnit) -> UnitResult:
        wall, cpu = time.perf_counter(), time.process_time()
        result = perform(unit)
        return replace(result, seconds=time.perf_counter() - wall, cpu_seconds=time.process_time() - cpu)

    return run


@dataclass
class Executor:
    """Hands units to `jobs` worker processes; `results()` yields as they finish.

    `jobs == 1` still uses one worker process, so that the deadline can stop a unit mid-way;
    `in_process=True` (and platforms without fork) run units in this process, checking the
    deadline between units only. `warm_up` runs once, before any result is yielded: alongside
    cold workers when there are several jobs, else first.
    """

    perform: Perform
    jobs: int
    deadline: float  # time.monotonic() value
    in_process: bool = False
    warm_up: Callable[[], None] | None = None
    cold: frozenset[str] = frozenset({LOAD})  # what a worker forked before the warm-up may run
    unfinished: list[Unfinished] = field(default_factory=list)
    _queue: list[tuple[int, int, WorkUnit]] = field(default_factory=list)
    _counter: Iterator[int] = field(default_factory=itertools.count)
    _workers: list[_Worker] = field(default_factory=list)
    _warming: threading.Thread | None = None
    _warm_error: BaseException | None = None
    _held: list[UnitResult] = field(default_factory=list)  # results received while warming

    def submit(self, unit: WorkUnit) -> None:
        # A cross-file unit may have no items: it still judges what was deleted since a ref.
        if unit.items or not unit.splittable:
            heapq.heappush(self._queue, (unit.order, next(self._counter), unit))

    def outstanding(self, engine: str) -> int:
        """Units of `engine` queued or running."""
        queued = sum(1 for _, _, unit in self._queue if unit.engine == engine)
        return queued + sum(1 for w in self._workers if w.unit is not None and w.unit.engine == engine)

    def results(self) -> Iterator[UnitResult]:
        if self.in_process or not can_fork():
            yield from self._serial()
            return
        try:
            yield from self._parallel()
        finally:
            self._stop_all()
            self._end_warm_up()

    # -- in this process ---------------------------------------------------------------
    def _serial(self) -> Iterator[UnitResult]:
        self._warm_up_now()
        perform = timed(self.perform)
        while self._queue:
            _, _, unit = heapq.heappop(self._queue)
            if time.monotonic() >= self.deadline:
                self.unfinished.append(Unfinished(unit, "budget"))
                continue
            try:
                yield perform(unit)
            except Exception as exc:
                yield UnitResult(unit=unit, error=f"{type(exc).__name__}: {exc}")

    # -- in worker processes -----------------------------------------------------------
    def _parallel(self) -> Iterator[UnitResult]:
        self._begin_warm_up()
        while self._queue or any(w.unit for w in self._workers) or self._warming or self._held:
            now = time.monotonic()
            if now >= self.deadline:
                self._end_warm_up()
                yield from self._held
                self._held.clear()
                self._give_up_at_deadline()
                return
            if self._warming is not None and not self._warming.is_alive():
                self._end_warm_up()
            if self._warming is None and self._held:
                yield self._held.pop(0)
                continue  # the result may have queued more work, or been the last
            self._dispatch()
            busy = [w for w in self._workers if w.unit is not None]
            ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout=self._next_wake(busy))
            for worker in busy:
                if worker.conn in ready:
                    result = self._receive(worker)
                    if result is not None:
                        self._held.append(result)
                elif worker.process.sentinel in ready:
                    self._lost(worker, "crash", f"the worker process exited with code {worker.process.exitcode}")
            self._enforce_timeouts()

    # -- the warm-up -------------------------------------------------------------------
    def _warm_up_now(self) -> None:
        warm_up, self.warm_up = self.warm_up, None
        if warm_up is not None:
            with collector.paused():
                warm_up()

    def _begin_warm_up(self) -> None:
        """Fork the cold workers, then start the warm-up thread (no thread alive at a fork)."""
        if self.warm_up is None:
            return
        if self.jobs < 2 or not any(unit.engine in self.cold for _, _, unit in self._queue):
            self._warm_up_now()  # one core, or nothing to do meanwhile
            return
        for _ in range(self.jobs - 1):
            self._start_worker().cold = True
        self._warming = threading.Thread(target=self._warm_up_thread, name="idp-scan warm-up", daemon=True)
        self._warming.start()

    def _warm_up_thread(self) -> None:
        try:
            self._warm_up_now()
        except BaseException as exc:  # noqa: BLE001 - raised again in the main thread
            self._warm_error = exc

    def _end_warm_up(self) -> None:
        """Wait for the warm-up thread; its failure is the run's, as if it had run first."""
        thread, self._warming = self._warming, None
        if thread is None:
            return
        thread.join()
        if (error := self._warm_error) is not None:
            self._warm_error = None
            raise error

    def _next_wake(self, busy: Sequence[_Worker]) -> float:
        now = time.monotonic()
        wakes = [self.deadline]
        wakes += [w.started + w.unit.timeout for w in busy if w.unit is not None and w.unit.timeout is not None]
        if self._warming is not None:
            wakes.append(now + WARM_POLL)
        return max(0.0, min(wakes) - now)

    def _dispatch(self) -> None:
        if self._warming is None:
            self._retire_cold()
        while self._queue:
            index = self._next_index()
            if index is None:
                return
            unit = self._queue[index][2]
            idle = next((w for w in self._workers if w.unit is None and (not w.cold or unit.engine in self.cold)), None)
            if idle is None and self._warming is None and len(self._workers) < max(1, self.jobs):
                idle = self._start_worker()
            if idle is None:
                return
            if index == 0:
                heapq.heappop(self._queue)
            else:  # a cold unit while warming, from inside the heap
                del self._queue[index]
                heapq.heapify(self._queue)
            idle.unit, idle.started = unit, time.monotonic()
            try:
                idle.conn.send(unit)
            except Exception as exc:  # the unit cannot be pickled, or the worker is gone
                self._lost(idle, "crash", f"the unit could not be handed to a worker: {type(exc).__name__}: {exc}")

    def _next_index(self) -> int | None:
        """Where the next unit to hand out is: the head, or while warming the first cold unit."""
        if self._warming is None:
            return 0
        eligible = [(entry, i) for i, entry in enumerate(self._queue) if entry[2].engine in self.cold]
        return min(eligible, key=lambda pair: pair[0][:2])[1] if eligible else None

    def _retire_cold(self) -> None:
        """Cold workers stop as they fall idle once the warm-up is over: warm ones replace them."""
        for worker in [w for w in self._workers if w.cold and w.unit is None]:
            self._stop(worker)
            self._workers.remove(worker)

    def _start_worker(self) -> _Worker:
        # Fork: workers start in milliseconds with the parent's engines already warm.
        context = multiprocessing.get_context("fork")
        parent, child = context.Pipe()
        process = context.Process(target=_worker_main, args=(child, timed(self.perform)), daemon=True)
        # The worker's collector leaves alone what exists at the fork (the engines' modules, rules,
        # checks: half a million objects, walked in every full collection: 6% of the engines' time),
        # and so does this process's, for the rest of an enclosing `collector.settled()` block.
        with collector.settled():
            process.start()
        child.close()
        worker = _Worker(process=process, conn=parent)
        self._workers.append(worker)
        return worker

    def _receive(self, worker: _Worker) -> UnitResult | None:
        try:
            result: UnitResult = worker.conn.recv()
        except (EOFError, OSError) as exc:
            self._lost(worker, "crash", f"the worker process stopped answering: {exc}")
            return None
        unit, worker.unit = worker.unit, None
        return replace(result, unit=unit) if unit is not None else result

    def _lost(self, worker: _Worker, reason: str, detail: str) -> None:
        """The worker's unit did not finish; the worker is replaced on the next dispatch."""
        unit = worker.unit
        self._stop(worker)
        self._workers.remove(worker)
        if unit is None:
            return
        if unit.splittable and len(unit.items) > 1 and time.monotonic() < self.deadline:
            for half in unit.halves():  # one slow or fatal file must not cost its neighbours
                self.submit(half)
            return
        self.unfinished.append(Unfinished(unit, reason, detail))

    def _enforce_timeouts(self) -> None:
        now = time.monotonic()
        for worker in list(self._workers):
            unit = worker.unit
            if unit is not None and unit.timeout is not None and now - worker.started >= unit.timeout:
                self._lost(worker, "timeout", f"it ran longer than its {unit.timeout:g} s limit")

    def _give_up_at_deadline(self) -> None:
        for worker in list(self._workers):
            if worker.unit is not None:
                self.unfinished.append(Unfinished(worker.unit, "budget"))
                worker.unit = None
        while self._queue:
            self.unfinished.append(Unfinished(heapq.heappop(self._queue)[2], "budget"))

    def _stop(self, worker: _Worker) -> None:
        try:
            worker.conn.close()
        except OSError:
            pass
        if worker.process.is_alive():
            worker.process.terminate()

    def _stop_all(self) -> None:
        for worker in self._workers:
            self._stop(worker)
        limit = time.monotonic() + STOP_GRACE
        for worker in self._workers:
            worker.process.join(max(0.0, limit - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(1.0)
        self._workers.clear()


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)

