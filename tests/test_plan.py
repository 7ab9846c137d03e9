"""The plan: what becomes units of work, and what it leaves behind."""

from __future__ import annotations

import weakref
from pathlib import Path

from scanner import collector
from scanner.cache import ResultCache
from scanner.inputs import Unit
from scanner.model import Artifact
from scanner.plan import Plan
from scanner.settings import Settings


def test_what_a_plan_loaded_is_freed_with_it_not_by_a_later_collection(tmp_path: Path) -> None:
    """The execution outlives the plan; it must not keep the plan (and every artifact) alive
    through a reference cycle that only a full collection would find."""
    settings = Settings(paths=(tmp_path,), root=tmp_path)
    plan = Plan(settings, [], ResultCache(None, tmp_path), jobs=1)
    execution, gone = plan.execution, weakref.ref(plan)
    with collector.paused():
        del plan
        assert gone() is None
    assert execution.rules_of is not None


def test_engine_units_are_sized_by_the_whole_run_not_by_the_load_that_brought_them(tmp_path: Path) -> None:
    settings = Settings(paths=(tmp_path,), root=tmp_path)
    files = [Artifact(kind="cloudformation", path=str(tmp_path / f"t{i}.yaml"), uri=f"t{i}.yaml", data={})
             for i in range(16)]
    big = Plan(settings, [], ResultCache(None, tmp_path), jobs=2)
    big.from_cache([Unit("cloudformation", tmp_path / f"t{i}.yaml", f"t{i}.yaml") for i in range(846)])
    assert [len(chunk) for chunk in big._chunks("cfn-lint", files)] == [16]  # a load's 16 files: one unit
    small = Plan(settings, [], ResultCache(None, tmp_path), jobs=2)
    small.from_cache([Unit("cloudformation", tmp_path / f"t{i}.yaml", f"t{i}.yaml") for i in range(16)])
    assert [len(chunk) for chunk in small._chunks("cfn-lint", files)] == [2] * 8  # four per worker
