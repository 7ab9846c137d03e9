"""The scan's garbage collector: paused for the engines' imports, kept off what the run holds."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

from scanner import collector
from scanner.cache import ResultCache
from scanner.plan import Plan
from scanner.settings import Settings


def test_paused_turns_collection_off_and_back_to_what_it_was() -> None:
    assert gc.isenabled()
    with collector.paused():
        assert not gc.isenabled()
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # an inner block does not turn it on under an outer one
    assert gc.isenabled()


def test_settled_objects_stay_out_of_collections_until_the_outermost_block_ends() -> None:
    assert gc.get_freeze_count() == 0
    with collector.settled():
        held = [object() for _ in range(10)]
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with collector.settled():  # a worker forked inside the run
            assert gc.get_freeze_count() > frozen  # `held` joined them
        assert gc.get_freeze_count() > frozen  # still frozen: the outer block goes on
    assert gc.get_freeze_count() == 0 and held


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
