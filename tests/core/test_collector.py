"""handlers/core/collector.py: the garbage collector paused around reports, however they overlap."""

import asyncio
import gc

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
