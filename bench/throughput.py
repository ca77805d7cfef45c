"""Throughput of the full Telegram path against a bare PTB echo bot, in the same run.

    python bench/throughput.py [--n 2000] [--rounds 3] [--database-url URL]

Each round sends N `/start CODE` updates through fake API → PTB → router → handler (database
reads, a trace write, the dedup record, one transaction) → reply, then N `/me` from the same
users (reads only), and N through a bare PTB echo bot twice: on PTB's default HTTP backend
(httpx; the goal's baseline) and on the service's own (aiohttp,
bot/channels/telegram/transport.py: like for like, so what is left is the service's own
code). Prints the median rates, the ratios (goal ≥ 0.6 at N=2000 on SQLite, against the
first) and this process's memory. A ratio is taken within each round, as the bots there ran
back to back, and its median printed: this machine's speed drifts by a tenth or more between
rounds.
"""

import argparse
import asyncio
import itertools
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.rig import (
    bench_echo,
    fake_api,
    rate_line,
    ratio_line,
    rss_mb,
    telegram_services,
    text_update,
    timed_batch,
)
from bot.app.services import Services
from bot.channels.telegram.service import TelegramService
from handlers.account.members import NewMember, add_branch, add_member, issue_invite

CONCURRENCY = 8  # the service's default (BRANCHBOT_TELEGRAM_CONCURRENCY)


async def enrol(services: Services, count: int) -> list[str]:
    """`count` members across 40 branches, each with an invite code (not timed)."""
    now = datetime.now(UTC)
    codes = []
    async with services.sessions.begin() as session:
        branches = [
            await add_branch(session, services.box, f"第{i + 1}党支部", now) for i in range(40)
        ]
        for i in range(count):
            new = NewMember(name=f"成员{i}")
            member = await add_member(session, services.box, branches[i % 40], new, now)
            codes.append(await issue_invite(session, services.box, member, now, timedelta(1)))
    return codes


async def main(n: int, rounds: int, database_url: str | None) -> None:
    folder = Path(tempfile.mkdtemp(prefix="branchbot-bench-"))
    url = database_url or f"sqlite+aiosqlite:///{folder / 'throughput.sqlite3'}"
    ids = itertools.count(1)
    users = itertools.count(10_000_000)
    echo_rates: list[float] = []
    same_rates: list[float] = []
    bot_rates: list[float] = []
    read_rates: list[float] = []
    async with fake_api() as api:
        services = await telegram_services(url, api, CONCURRENCY)
        codes = iter(await enrol(services, n * rounds + n // 4))
        service = TelegramService(services)
        # A warm-up round of a quarter size first, not counted (caches, first connections).
        for size in [n // 4] + [n] * rounds:
            bare = [text_update(next(ids), next(users), "你好") for _ in range(size)]
            same = [text_update(next(ids), next(users), "你好") for _ in range(size)]
            echo, same_echo = await bench_echo(api, CONCURRENCY, bare, same)
            echo_rates.append(echo)
            same_rates.append(same_echo)
            await service.start()
            round_users = [next(users) for _ in range(size)]
            batch = [text_update(next(ids), u, f"/start {next(codes)}") for u in round_users]
            bot_rates.append(size / await timed_batch(api, batch))
            batch = [text_update(next(ids), u, "/me") for u in round_users]
            read_rates.append(size / await timed_batch(api, batch))
            await service.stop()
            await service.close()
            service = TelegramService(services)
        await services.close()
    for rates in (echo_rates, same_rates, bot_rates, read_rates):
        del rates[0]  # the warm-up
    current, peak = rss_mb()
    print(
        f"updates per round: {n}, rounds: {rounds} after a warm-up, database: {url.split(':')[0]}"
    )
    print(rate_line("echo bot (bare PTB)", echo_rates))
    print(rate_line("echo bot (PTB on aiohttp)", same_rates))
    print(rate_line("branchbot (/start CODE)", bot_rates))
    print(rate_line("branchbot (/me, reads)", read_rates))
    print(ratio_line("ratio /start/echo", bot_rates, echo_rates, "goal ≥ 0.60; the write path"))
    print(ratio_line("ratio /me/echo", read_rates, echo_rates, "the read path"))
    print(ratio_line("ratio /start/aiohttp echo", bot_rates, same_rates, "like for like"))
    print(f"process memory: {current:.0f} MB now, {peak:.0f} MB peak (goal < 150 MB)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    asyncio.run(main(args.n, args.rounds, args.database_url))
