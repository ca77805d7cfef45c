"""A notice to a whole college through the outbox, against a fake API that enforces the limit.

    python bench/broadcast.py [--recipients 10000] [--rate 30] [--database-url URL]

`branchbot run` serves as a real process; the fake Bot API (in this process) answers 429 to any
send beyond `--rate` per rolling second, as Telegram does. A secretary's `/broadcast` queues
the notice to every recipient. Two runs on fresh databases: a clean one, and one where the
service is killed (SIGKILL) twice mid-way and started again. Each prints the achieved send
rate as a fraction of the limit (goal ≥ 0.95), the 429s provoked, and lost and duplicated
notices (goal: zero and zero; after a kill, one duplicate per kill is possible: the message in
flight).
"""

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from storage import schema  # noqa: E402
from storage.crypto import SecretBox  # noqa: E402
from storage.db import create_engine  # noqa: E402
from tests.conftest import reset_postgres  # noqa: E402
from tests.support.fake_telegram import FakeTelegram  # noqa: E402
from tests.support.people import secretary_and_members  # noqa: E402

TOKEN = "123456:TEST"
FIRST_CHAT = 50_000_000
MARK = "📢 通知"


@dataclass
class Outcome:
    rate: float
    limit: float
    rejected_429: int
    lost: int
    duplicated: int
    seconds: float


async def prepare(url: str, secret: str, recipients: int) -> str:
    """A migrated database with one branch: a bound secretary and `recipients` bound members."""
    if url.startswith("postgresql"):
        await reset_postgres(url)
    engine = create_engine(url)
    await schema.upgrade(engine)
    await engine.dispose()
    return await secretary_and_members(url, secret, recipients, FIRST_CHAT)


def start_service(env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "run"], env=env, cwd=ROOT, stderr=log
    )


def delivered(fake: FakeTelegram) -> Counter[int]:
    """Notice copies per recipient chat, from what the fake accepted."""
    return Counter(
        int(c.params["chat_id"])
        for c in fake.sent
        if c.method == "sendMessage" and MARK in str(c.params.get("text", ""))
    )


async def wait_for(fake: FakeTelegram, count: int, patience: float) -> None:
    deadline = time.monotonic() + patience
    while len(delivered(fake)) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(delivered(fake))} of {count} notices arrived")
        await asyncio.sleep(0.25)


async def run(url: str, recipients: int, rate: float, kills: int, log: IO[bytes]) -> Outcome:
    secret = SecretBox.generate_key()
    secretary = await prepare(url, secret, recipients)
    async with FakeTelegram(global_rate=rate) as fake:
        env = {
            **os.environ,
            "BRANCHBOT_DATABASE_URL": url,
            "BRANCHBOT_SECRET_KEY": secret,
            "BRANCHBOT_TELEGRAM_TOKEN": TOKEN,
            "BRANCHBOT_TELEGRAM_BASE_URL": fake.base_url,
            "BRANCHBOT_LISTEN_PORT": "0",
            "BRANCHBOT_OUTBOX_PER_SECOND": str(rate),
        }
        process = start_service(env, log)
        await fake.wait_until(lambda: fake.count("setMyCommands") >= 1, timeout=60)
        fake.push_message(int(secretary), "/broadcast 请全体党员于本周五前完成年度学习总结。")
        patience = recipients / rate * 3 + 60
        for kill in range(1, kills + 1):
            await wait_for(fake, recipients * kill // (kills + 1), patience)
            process.kill()
            await asyncio.to_thread(process.wait, 30)
            process = start_service(env, log)
        await wait_for(fake, recipients, patience)
        await asyncio.sleep(1.0)  # a late duplicate would arrive by now
        process.terminate()
        await asyncio.to_thread(process.wait, 30)
        copies = delivered(fake)
        times = sorted(c.at for c in fake.sent if MARK in str(c.params.get("text", "")))
        seconds = times[-1] - times[0]
        return Outcome(
            rate=(len(times) - 1) / seconds if seconds > 0 else 0.0,
            limit=rate,
            rejected_429=fake.rejected_429,
            lost=recipients - len(copies),
            duplicated=sum(copies.values()) - len(copies),
            seconds=seconds,
        )


def report(name: str, outcome: Outcome) -> None:
    print(
        f"{name:<22} {outcome.rate:6.2f}/s of {outcome.limit:g}/s = "
        f"{outcome.rate / outcome.limit:.3f} of the limit over {outcome.seconds:6.1f} s; "
        f"429s {outcome.rejected_429}, lost {outcome.lost}, duplicated {outcome.duplicated}"
    )


async def main(recipients: int, rate: float, database_url: str | None) -> None:
    folder = Path(tempfile.mkdtemp(prefix="branchbot-broadcast-"))
    print(f"{recipients} recipients, limit {rate:g}/s; service logs in {folder}")
    with (folder / "service.log").open("wb") as log:
        for name, kills in (("clean run", 0), ("killed twice (-9)", 2)):
            url = database_url or f"sqlite+aiosqlite:///{folder / f'{kills}.sqlite3'}"
            report(name, await run(url, recipients, rate, kills, log))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=30.0)
    parser.add_argument("--database-url", help="default: a fresh SQLite file per run")
    args = parser.parse_args()
    asyncio.run(main(args.recipients, args.rate, args.database_url))
