"""The platforms' sending budgets (bot/channels/budget.py, storage/rates.py): slots a gap apart,
direct answers first, each group's limit, pauses, and on PostgreSQL one budget for several
processes (each here with its own engine and connections), against the fake Bot API that
refuses more than 30 messages in any second."""

import asyncio
import itertools
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text
from telegram.ext import ExtBot

from bot.channels.budget import Budget, Budgets, Limits, slot_slack
from bot.channels.telegram.limiter import BudgetLimiter
from storage import rates
from storage.db import create_engine
from tests.support.fake_telegram import FakeTelegram
from tests.support.sends import busiest

TELEGRAM = Limits(per_second=30, group_per_minute=20)
PG = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(sorted(times))]


async def taken(budget: Budget, count: int, **how: object) -> list[float]:
    times = []
    for _ in range(count):
        await budget.take(**how)  # type: ignore[arg-type]
        times.append(time.monotonic())
    return times


@asynccontextmanager
async def process(url: str, block: int = 5) -> AsyncIterator[Budgets]:
    """Another process's budgets: an engine, a pool and a connection of its own."""
    engine = create_engine(url)
    budgets = Budgets.for_engine(engine, margin=0.98, block=block)
    try:
        yield budgets
    finally:
        await budgets.close()
        await engine.dispose()


async def test_slots_in_memory_are_a_gap_apart_and_a_late_send_does_not_bunch_the_next() -> None:
    budget = Budgets.in_memory().of("telegram", Limits(per_second=50))
    times = await taken(budget, 10)
    assert min(gaps(times)) >= budget.gap - budget.slack
    await asyncio.sleep(0.2)  # nothing to send for a while: no burst to catch up after it
    late = await taken(budget, 3)
    assert min(gaps(late)) >= budget.gap - budget.slack


async def test_a_direct_answer_goes_before_the_queue() -> None:
    budget = Budgets.in_memory().of("telegram", Limits(per_second=20))
    order: list[str] = []
    first = asyncio.Event()

    async def queue() -> None:
        for _ in range(4):
            await budget.take(urgent=False)
            order.append("queue")
            first.set()

    async def answer() -> None:
        await budget.take()
        order.append("answer")

    sending = asyncio.create_task(queue())
    await first.wait()
    await asyncio.gather(answer(), answer(), answer(), sending)
    assert order == ["queue", "answer", "answer", "answer", "queue", "queue", "queue"]


async def test_a_group_takes_its_limit_within_its_window_then_waits(database_url: str) -> None:
    async with process(database_url) as budgets:
        enter = budgets.slots.enter_group
        assert [await enter("telegram", "-5", 3, 0.6) for _ in range(3)] == [0.0] * 3
        wait = await enter("telegram", "-5", 3, 0.6)
        assert 0.3 < wait <= 0.6
        assert await enter("telegram", "-6", 3, 0.6) == 0.0  # another group: its own limit
        await asyncio.sleep(wait + 0.05)
        assert await enter("telegram", "-5", 3, 0.6) == 0.0


async def test_slots_in_memory_follow_a_pause() -> None:
    budget = Budgets.in_memory().of("telegram", TELEGRAM)
    await budget.take()
    await budget.pause(0.3)
    started = time.monotonic()
    await budget.take()
    assert time.monotonic() - started >= 0.29


@PG
async def test_a_pause_holds_every_process(database_url: str) -> None:
    async with process(database_url) as one, process(database_url) as other:
        await one.of("telegram", TELEGRAM).pause(0.5)
        started = time.monotonic()
        await other.of("telegram", TELEGRAM).take()
        assert time.monotonic() - started >= 0.45


@PG
async def test_three_processes_take_their_slots_a_gap_apart(database_url: str) -> None:
    async with process(database_url) as a, process(database_url) as b, process(database_url) as c:
        budgets = [p.of("telegram", TELEGRAM) for p in (a, b, c)]
        runs = await asyncio.gather(*(taken(budget, 45) for budget in budgets))
    times = sorted(t for run in runs for t in run)
    gap, slack = budgets[0].gap, budgets[0].slack
    assert min(gaps(times)) >= gap - 2 * slack
    assert busiest(times) <= 30


@PG
async def test_a_budget_whose_database_does_not_answer_waits_and_never_raises(
    database_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(rates, "QUERY_SECONDS", 0.3)
    caplog.set_level(logging.INFO, "bot.channels.budget")
    async with process(database_url, block=1) as budgets:
        budget = budgets.of("telegram", TELEGRAM)
        await budget.take()
        engine = create_engine(database_url)
        async with engine.connect() as blocker:
            await blocker.execute(text("SELECT * FROM rate_slots FOR UPDATE"))  # stuck
            waiting = asyncio.create_task(budget.take())
            await asyncio.sleep(1.2)  # several tries, each given up after 0.3 s
            assert not waiting.done()
            await blocker.rollback()
        await asyncio.wait_for(waiting, 3)
        await engine.dispose()
    said = [r.getMessage() for r in caplog.records]
    assert any("did not answer; waiting" in line for line in said)
    assert any("answers again" in line for line in said)


@PG
async def test_a_process_that_dies_or_freezes_holding_slots_stalls_nobody(
    database_url: str,
) -> None:
    async with process(database_url) as alive:
        steady = alive.of("telegram", TELEGRAM)
        sending = asyncio.create_task(taken(steady, 60))
        await asyncio.sleep(0.5)
        async with process(database_url) as dying:
            doomed = dying.of("telegram", TELEGRAM)
            await doomed.slots.reserve("telegram", 5, doomed.gap)  # and never sends in them
        async with process(database_url) as frozen:
            sleeper = frozen.of("telegram", TELEGRAM)
            await sleeper.slots.reserve("telegram", 5, sleeper.gap)
            await asyncio.sleep(0.6)  # "frozen" past its slots; woken, it takes fresh ones
            woken = await taken(sleeper, 5)
        times = await sending
    everything = sorted(times + woken)
    assert max(gaps(times)) < 1.0
    assert busiest(everything) <= 30
    gap = steady.gap
    assert min(gaps(everything)) >= gap - 2 * slot_slack(0.98)


@PG
async def test_three_processes_answering_directly_stay_within_the_fake_apis_limit(
    database_url: str,
) -> None:
    async with (
        FakeTelegram(global_rate=30) as fake,
        process(database_url) as a,
        process(database_url) as b,
        process(database_url) as c,
    ):
        bots = [
            ExtBot(
                "123456:TEST",
                f"{fake.base_url}/bot",
                rate_limiter=BudgetLimiter(p.of("telegram", TELEGRAM)),
            )
            for p in (a, b, c)
        ]
        for bot in bots:
            await bot.initialize()

        async def answer(bot: ExtBot[int], first: int) -> None:
            for chat in range(first, first + 50):
                await bot.send_message(chat, "答复")
            for _ in range(5):
                await bot.send_message(-1001, "群里")

        await asyncio.gather(*(answer(bot, 1000 * n) for n, bot in enumerate(bots, 1)))
        for bot in bots:
            await bot.shutdown()
    times = [call.at for call in fake.sent if call.method == "sendMessage"]
    assert len(times) == 165 and fake.rejected_429 == 0
    assert busiest(times) <= 30
    assert len(fake.sent_to(-1001)) == 15  # 15 of its 20 a minute
