"""`rltr-mktg run` freezes its start-up heap out of the cyclic collector."""

from __future__ import annotations

import gc

from rltr_mktg.process import freeze_startup_heap


def test_freezing_moves_what_exists_out_of_the_collector_and_new_objects_stay_in() -> None:
    gc.unfreeze()
    try:
        freeze_startup_heap()
        frozen = gc.get_freeze_count()
        assert frozen > 1000  # every module, class and function loaded so far
        before = {id(o) for o in gc.get_objects()}
        made_after = [[] for _ in range(10)]
        tracked = {id(o) for o in gc.get_objects()} - before
        # The collector no longer walks the frozen ones, but still sees what came later.
        assert all(id(o) in tracked for o in made_after)
        assert len(before) < frozen
    finally:
        gc.unfreeze()
