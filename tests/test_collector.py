"""The scan's garbage collector: paused for the engines' imports, kept off what the run holds."""

from __future__ import annotations

import gc

from scanner import collector


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
