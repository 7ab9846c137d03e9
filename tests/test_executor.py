"""The execution layer: worker processes, the run's deadline, per-unit timeouts, dead workers."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from scanner import engines as engine_registry
from scanner.cli import main
from scanner.executor import LOAD, Executor, UnitResult, WorkUnit
from scanner.inputs import cfn
from scanner.gate import ExitCode, exit_code
from scanner.model import ScanResult
from scanner.pipeline import run
from scanner.settings import Settings
from tests.conftest import FIXTURES
from tests.sarif_validation import multitool, multitool_errors, schema_errors

SERVICE = FIXTURES / "examples" / "noncompliant" / "service.yaml"


@pytest.fixture(autouse=True)
def sleepy_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    cfn.prepare()  # the decoder's import takes seconds on a busy machine: not what is timed here
    monkeypatch.setitem(engine_registry.BUILTIN_ENGINES, "sleepy", "tests.fake_engines:create")


def repo_with(tmp_path: Path, *names: str) -> Path:
    (tmp_path / ".git").mkdir()
    for name in names:
        shutil.copy(SERVICE, tmp_path / name)
    return tmp_path


def scan(root: Path, **options: object) -> ScanResult:
    settings = Settings(
        paths=(root,), root=root, engines=("native", "sleepy"),
        budget=float(options.pop("budget", 60)), jobs=int(options.pop("jobs", 2)),  # type: ignore[call-overload]
        unit_timeout=options.pop("unit_timeout", None), options=options,  # type: ignore[arg-type]
    )
    return run(settings)


def by_rule(result: ScanResult) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for f in result.findings:
        found.setdefault(f.rule_id, set()).add(f.location.uri)
    return found


def test_the_deadline_stops_slow_work_and_keeps_what_finished(tmp_path):
    root = repo_with(tmp_path, "a.yaml", "b.yaml", "c.yaml")
    started = time.monotonic()
    result = scan(root, budget=3, sleepy_delay=60)
    elapsed = time.monotonic() - started
    assert elapsed < 4.5
    assert exit_code(result) is ExitCode.BUDGET and not result.complete
    found = by_rule(result)
    assert found["IDP-NET-001"] == {"a.yaml", "b.yaml", "c.yaml"}  # the cheap engine ran first
    assert found["IDP040"] == {"a.yaml", "b.yaml", "c.yaml"} and "T-SLOW-001" not in found
    [note] = [n for n in result.notifications if n.rule_id == "IDP040" and "unit(s) did not finish" in n.message]
    assert "sleepy on a.yaml" in note.message


def test_a_hanging_file_times_out_alone(tmp_path):
    root = repo_with(tmp_path, "a.yaml", "b.yaml", "hang.yaml", "d.yaml")
    result = scan(root, jobs=1, unit_timeout=1.5)
    assert result.complete
    found = by_rule(result)
    assert found["IDP041"] == {"hang.yaml"}
    assert found["T-SLOW-001"] == {"a.yaml", "b.yaml", "d.yaml"}
    assert "IDP040" not in found


def test_a_file_that_kills_its_worker_costs_only_itself(tmp_path):
    root = repo_with(tmp_path, "a.yaml", "die.yaml", "c.yaml")
    result = scan(root, jobs=2)
    assert result.complete and exit_code(result) is ExitCode.BLOCKED
    found = by_rule(result)
    assert found["IDP042"] == {"die.yaml"}
    assert found["T-SLOW-001"] == {"a.yaml", "c.yaml"}


def test_results_do_not_depend_on_the_number_of_workers(tmp_path):
    root = repo_with(tmp_path, *(f"t{i}.yaml" for i in range(7)))
    results = [scan(root, jobs=jobs).findings for jobs in (1, 2, 3)]
    assert results[0] == results[1] == results[2] and len(results[0]) == 7 * 6


def test_budget_overrun_exits_3_with_partial_sarif(tmp_path):
    root = repo_with(tmp_path, "hang.yaml")
    out = tmp_path / "out.sarif"
    started = time.monotonic()
    code = main(["scan", str(root), "--engines", "native,sleepy", "--format", f"sarif={out}", "--jobs", "1", "--budget", "3"])
    assert code == 3 and time.monotonic() - started < 4.5
    log = json.loads(out.read_text())
    assert schema_errors(log) == []
    tool = multitool()
    if tool:
        assert multitool_errors(out, tool) == []
    invocation = log["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False and invocation["properties"]["complete"] is False
    assert any("sleepy on hang.yaml" in n["message"]["text"] for n in invocation["toolExecutionNotifications"])


# -- the warm-up: loads go on while the parent prepares the engines -------------------------
_STATE = {"warm": False}


def _report_warmth(unit: WorkUnit) -> UnitResult:
    return UnitResult(unit=unit, parts=(_STATE["warm"], time.monotonic()))


def _warm_up_slowly() -> None:
    time.sleep(1.0)
    _STATE["warm"] = True


def _run_with_warm_up(jobs: int, warm_up) -> tuple[list[UnitResult], list[float]]:
    """Four loads, then (once the loads are back) four engine units; the time each result was yielded."""
    _STATE["warm"] = False
    executor = Executor(perform=_report_warmth, jobs=jobs, deadline=time.monotonic() + 30, warm_up=warm_up)
    for i in range(4):
        executor.submit(WorkUnit(LOAD, (i,), (f"f{i}.yaml",)))
    results, yielded = [], []
    for result in executor.results():
        results.append(result)
        yielded.append(time.monotonic())
        if result.unit.engine == LOAD:
            executor.submit(WorkUnit("checkov", result.unit.items, result.unit.uris))
    return results, yielded


def test_loads_run_in_a_cold_worker_while_the_engines_warm_up_and_engines_only_in_warm_ones():
    started = time.monotonic()
    results, yielded = _run_with_warm_up(2, _warm_up_slowly)
    loads = [r for r in results if r.unit.engine == LOAD]
    engines = [r for r in results if r.unit.engine == "checkov"]
    assert len(loads) == len(engines) == 4
    assert all(r.parts[0] is False for r in loads)  # forked before the warm-up: cold
    assert all(r.parts[1] - started < 0.9 for r in loads)  # while the warm-up still slept
    assert all(r.parts[0] is True for r in engines)  # forked after it: warm
    assert min(yielded) - started >= 1.0  # nothing handed back while the warm-up ran


def test_with_one_job_the_warm_up_comes_first():
    results, _ = _run_with_warm_up(1, _warm_up_slowly)
    assert len(results) == 8 and all(r.parts[0] is True for r in results)


def test_a_failed_warm_up_fails_the_run_as_before():
    def broken() -> None:
        raise RuntimeError("checkov could not be imported")

    with pytest.raises(RuntimeError, match="could not be imported"):
        _run_with_warm_up(2, broken)


def _freeze_count(unit: WorkUnit) -> UnitResult:
    import gc

    return UnitResult(unit=unit, parts=(gc.get_freeze_count(),))


def test_workers_do_not_collect_what_existed_at_the_fork_and_this_process_still_does():
    import gc

    executor = Executor(perform=_freeze_count, jobs=2, deadline=time.monotonic() + 30)
    executor.submit(WorkUnit("checkov", (1,), ("a.yaml",)))
    [result] = list(executor.results())
    assert result.parts[0] > 10_000  # the modules, classes and functions imported before the fork
    assert gc.get_freeze_count() == 0
