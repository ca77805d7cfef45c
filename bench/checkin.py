"""A school-wide meeting: 2,000 members of 40 branches check in within seconds.

    python bench/checkin.py [--n 2000] [--rounds 3] [--database-url URL]

Each round opens a new school-wide meeting and sends every member's `签到 CODE` at once
through fake API → PTB → router → check-in (code check, attendance row, trace) → reply, and
the same number of updates through the bare PTB echo bots of bench/throughput.py (on PTB's
default HTTP backend, the goal's baseline, and on the service's own). Prints the median
check-ins per second, p50 and p99 latency (update pushed → reply accepted by the fake API) and
the ratios against the echo bots (goal ≥ 0.5 against the first).
"""

import argparse
import asyncio
import itertools
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pyotp
from sqlalchemy import update

from bench.rig import (
    FakeApi,
    bench_echo,
    fake_api,
    percentile,
    rate_line,
    ratio_line,
    telegram_services,
    text_update,
    timed_batch,
)
from bot.app.services import Services
from bot.channels.telegram.service import TelegramService
from handlers.account.members import add_branch
from handlers.meetings.domain import CODE_STEP
from storage.enums import MeetingKind, MeetingStatus
from storage.models import Meeting
from tests.conftest import reset_postgres
from tests.support.people import bind_members

CONCURRENCY = 8
FIRST_USER = 20_000_000


async def enrol(services: Services, count: int) -> list[int]:
    """`count` bound members across 40 branches; returns their Telegram ids (not timed)."""
    now = datetime.now(UTC)
    async with services.sessions.begin() as session:
        branches = [
            await add_branch(session, services.box, f"第{i + 1}党支部", now) for i in range(40)
        ]
        return await bind_members(session, [b.id for b in branches], count, FIRST_USER)


async def open_meeting(services: Services) -> str:
    """A school-wide meeting starting now with check-in open (the previous one cancelled);
    returns the current code."""
    now = datetime.now(UTC)
    secret = pyotp.random_base32()
    async with services.sessions.begin() as session:
        await session.execute(update(Meeting).values(status=MeetingStatus.CANCELLED))
        session.add(
            Meeting(
                branch_id=None,
                kind=MeetingKind.ASSEMBLY,
                title="全校党员大会",
                starts_at=now + timedelta(minutes=5),
                minutes=90,
                status=MeetingStatus.SCHEDULED,
                checkin_secret=secret,
                checkin_opened_at=now,
                created_at=now - timedelta(days=1),
                jobs_synced=True,
            )
        )
    return pyotp.TOTP(secret, interval=CODE_STEP).now()


async def latencies(api: FakeApi, pushed_at: float, users: set[int], skip: int) -> list[float]:
    sent = await api.sent_times()
    return [at - pushed_at for chat, at in sent[skip:] if chat in users]


async def main(n: int, rounds: int, database_url: str | None) -> None:
    folder = Path(tempfile.mkdtemp(prefix="branchbot-checkin-"))
    url = database_url or f"sqlite+aiosqlite:///{folder / 'checkin.sqlite3'}"
    if url.startswith("postgresql"):
        await reset_postgres(url)
    ids = itertools.count(1)
    echo_rates, same_rates, rates, p50s, p99s = [], [], [], [], []
    async with fake_api() as api:
        services = await telegram_services(url, api, CONCURRENCY)
        users = await enrol(services, n)
        # A warm-up round with a quarter of the members first, not counted.
        for group in [users[: n // 4]] + [users] * rounds:
            size = len(group)
            bare = [text_update(next(ids), u, "你好") for u in group]
            same = [text_update(next(ids), u, "你好") for u in group]
            echo, same_echo = await bench_echo(api, CONCURRENCY, bare, same)
            echo_rates.append(echo)
            same_rates.append(same_echo)
            code = await open_meeting(services)
            service = TelegramService(services)
            await service.start()
            skip = len(await api.sent_times())
            batch = [text_update(next(ids), u, f"签到 {code}") for u in group]
            pushed_at = time.monotonic()
            rates.append(size / await timed_batch(api, batch))
            waits = await latencies(api, pushed_at, set(group), skip)
            p50s.append(percentile(waits, 0.5))
            p99s.append(percentile(waits, 0.99))
            await service.stop()
            await service.close()
        await services.close()
    for values in (echo_rates, same_rates, rates, p50s, p99s):
        del values[0]  # the warm-up
    backend = url.split(":")[0]
    print(f"members: {n} in 40 branches, rounds: {rounds} after a warm-up, database: {backend}")
    print(rate_line("echo bot (bare PTB)", echo_rates))
    print(rate_line("echo bot (aiohttp)", same_rates))
    print(rate_line("check-ins", rates, "per second"))
    print(
        f"latency:                   p50 {statistics.median(p50s) * 1000:.0f} ms, "
        f"p99 {statistics.median(p99s) * 1000:.0f} ms (all {n} pushed at once)"
    )
    print(ratio_line("ratio check-in/echo", rates, echo_rates, "goal ≥ 0.50"))
    print(ratio_line("ratio vs aiohttp echo", rates, same_rates, "like for like"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    asyncio.run(main(args.n, args.rounds, args.database_url))
