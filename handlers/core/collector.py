"""Python's cyclic garbage collector, paused while a report builds its figures.

A scorecard builds many small objects (result rows, figures, scores) that hold no reference
cycles and die when the report is sent. The collector, started by allocations, walks them and
everything else alive again and again without freeing anything: in the all-branches report of
a school (bench/evaluation.py) it took 5.7 of 15.6 s. Pauses nest and overlap (two reports at
once): the collector runs again when the last one ends, and any cycles made meanwhile are
collected then.
"""

import functools
import gc
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

_pauses = 0
_resume = False


@contextmanager
def collector_paused() -> Iterator[None]:
    global _pauses, _resume
    if _pauses == 0:
        _resume = gc.isenabled()
        gc.disable()
    _pauses += 1
    try:
        yield
    finally:
        _pauses -= 1
        if _pauses == 0 and _resume:
            gc.enable()


def without_collector(work: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """A coroutine function run with the collector paused (across its awaits)."""

    @functools.wraps(work)
    async def paused(*args: P.args, **kwargs: P.kwargs) -> T:
        with collector_paused():
            return await work(*args, **kwargs)

    return paused
