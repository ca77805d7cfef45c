"""handlers/core/collector.py: the garbage collector paused around reports, however they overlap."""

import asyncio
import gc
import sys
import threading

import pytest

from handlers.core.collector import collector_paused, without_collector


def test_pauses_nest_and_the_collector_resumes_after_the_last() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_an_error_still_resumes_it() -> None:
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("report failed")
    assert gc.isenabled()


def test_a_collector_switched_off_before_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


async def test_overlapping_reports_resume_it_when_the_last_ends() -> None:
    first_done = asyncio.Event()
    seen: list[bool] = []

    @without_collector
    async def first() -> str:
        await asyncio.sleep(0.01)
        return "first"

    @without_collector
    async def second() -> str:
        await first_done.wait()  # outlives the first report
        seen.append(gc.isenabled())
        return "second"

    later = asyncio.create_task(second())
    await asyncio.sleep(0)
    assert await first() == "first"
    first_done.set()
    assert await later == "second"
    assert seen == [False]
    assert gc.isenabled()


# What the pause relies on in CPython's collector: if a release changes it (a collector run
# from a thread of its own, or not switched off by gc.disable), these fail naming it.


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def _collections_during(allocations: int) -> int:
    runs: list[str] = []

    def seen(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            runs.append(phase)

    gc.callbacks.append(seen)
    try:
        for _ in range(allocations):
            _Cycle()
    finally:
        gc.callbacks.remove(seen)
    return len(runs)


def test_cpython_collects_on_allocations_and_gc_disable_stops_it() -> None:
    threshold = gc.get_threshold()[0]
    assert threshold > 0, "CPython's gc no longer starts on allocations (threshold 0)"
    allocations = threshold * 20
    assert _collections_during(allocations) > 0, (
        f"CPython {sys.version.split()[0]}: no collection while allocating; "
        "handlers/core/collector.py assumes allocations start the collector"
    )
    with collector_paused():
        assert _collections_during(allocations) == 0, (
            f"CPython {sys.version.split()[0]}: gc.disable() no longer stops collections; "
            "handlers/core/collector.py relies on it"
        )


def test_the_pause_is_process_wide() -> None:
    seen: list[bool] = []
    with collector_paused():
        thread = threading.Thread(target=lambda: seen.append(gc.isenabled()))
        thread.start()
        thread.join()
    assert seen == [False], (
        f"CPython {sys.version.split()[0]}: gc.disable() no longer holds for other threads; "
        "handlers/core/collector.py pauses the whole process"
    )
