"""A school-wide notice to 50 branch groups at once, against a fake API that enforces
Telegram's limits: 30 messages a second overall and 20 a minute in any one group.

    python bench/groups.py [--branches 50] [--members 30] [--database-url URL]

An admin's guided /broadcast to every branch (私聊和群) queues a private copy to each member
and one live post to each branch's bound group; `branchbot run` (a real process) sends them
through the outbox to the fake Bot API in this process, which answers 429 to anything over
either limit. The baseline is the same notice sent to the members only (仅私聊) in the same
run. Each prints: messages and seconds, the achieved rate as a fraction of the limit, the most
messages in any one second overall and in any sixty seconds to one group (from the fake's
own timestamps), 429s provoked, and lost and duplicated copies (goal: zero and zero).
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
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.rig import fresh_services  # noqa: E402
from handlers.account.members import add_branch  # noqa: E402
from storage.enums import Role  # noqa: E402
from storage.group_models import BranchGroup  # noqa: E402
from tests.support.chat import Chat, Clock  # noqa: E402
from tests.support.fake_telegram import FakeTelegram  # noqa: E402
from tests.support.people import bind_members  # noqa: E402
from tests.support.sends import busiest  # noqa: E402

TOKEN = "123456:TEST"
FIRST_CHAT = 60_000_000
FIRST_GROUP = -1_003_000_000_000
MARK = "全校通知"
RATE, GROUP_RATE = 30.0, 20


@dataclass
class Outcome:
    messages: int
    seconds: float
    rate: float
    busiest_second: int
    busiest_group_minute: int
    rejected_429: int
    lost: int
    duplicated: int


async def prepare(url: str, branches: int, members: int, where: str) -> str:
    """A migrated database: `branches` branches of `members` bound members, each branch with a
    bound group; an admin's notice to every branch queued (not yet sent: no sender runs).
    Returns the service key the sending process needs."""
    services, _ = await fresh_services(url, "groups.sqlite3", datetime.now(UTC))
    try:
        now = datetime.now(UTC)
        chat = Chat(services, Clock(now))
        admin = await chat.bound("组织员", role=Role.ADMIN)
        async with services.sessions.begin() as session:
            ids = [
                (await add_branch(session, services.box, f"第{i:02d}党支部", now)).id
                for i in range(branches)
            ]
            await bind_members(session, ids, branches * members, FIRST_CHAT)
            session.add_all(
                BranchGroup(
                    platform="telegram",
                    chat_id=str(FIRST_GROUP - i),
                    kind="chat",
                    branch_id=branch_id,
                    title=f"第{i:02d}支部群",
                    bound_at=now,
                )
                for i, branch_id in enumerate(ids)
            )
        await admin.say("/broadcast")
        await admin.say(f"{MARK}：请各支部于本周五前完成年度学习总结。")
        for press in ("scope:all", "aud:all", "ack:yes", f"where:{where}", "confirm:send"):
            await admin.say(callback=press)
    finally:
        await services.close()
    return services.settings.require_secret_key()


def start_service(env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "run"], env=env, cwd=ROOT, stderr=log
    )


def notice_calls(fake: FakeTelegram) -> list[tuple[int, float]]:
    return [
        (int(c.params["chat_id"]), c.at)
        for c in fake.sent
        if c.method == "sendMessage" and MARK in str(c.params.get("text", ""))
    ]


async def run(url: str, branches: int, members: int, where: str, log: IO[bytes]) -> Outcome:
    secret = await prepare(url, branches, members, where)
    expected = branches * members + (branches if where == "both" else 0)
    async with FakeTelegram(global_rate=RATE, group_rate=GROUP_RATE) as fake:
        env = {
            **os.environ,
            "BRANCHBOT_DATABASE_URL": url,
            "BRANCHBOT_SECRET_KEY": secret,
            "BRANCHBOT_TELEGRAM_TOKEN": TOKEN,
            "BRANCHBOT_TELEGRAM_BASE_URL": fake.base_url,
            "BRANCHBOT_LISTEN_PORT": "0",
        }
        process = start_service(env, log)
        deadline = time.monotonic() + expected / RATE * 3 + 90
        while len({chat for chat, _ in notice_calls(fake)}) < expected:
            if time.monotonic() > deadline or process.poll() is not None:
                break
            await asyncio.sleep(0.25)
        await asyncio.sleep(1.0)  # a late duplicate would arrive by now
        process.terminate()
        await asyncio.to_thread(process.wait, 30)
        calls = notice_calls(fake)
        copies = Counter(chat for chat, _ in calls)
        times = [at for _, at in calls]
        everything = [c.at for c in fake.sent if c.method.startswith(("send", "edit"))]
        groups: dict[int, list[float]] = {}
        for c in fake.sent:
            chat_id = int(c.params.get("chat_id", 0) or 0)
            if chat_id < 0 and c.method.startswith(("send", "edit")):
                groups.setdefault(chat_id, []).append(c.at)
        seconds = max(times) - min(times) if times else 0.0
        return Outcome(
            messages=len(calls),
            seconds=seconds,
            rate=(len(times) - 1) / seconds if seconds > 0 else 0.0,
            busiest_second=busiest(everything, 1.0),
            busiest_group_minute=max((busiest(t, 60.0) for t in groups.values()), default=0),
            rejected_429=fake.rejected_429,
            lost=expected - len(copies),
            duplicated=sum(copies.values()) - len(copies),
        )


def report(name: str, outcome: Outcome) -> None:
    print(
        f"{name:<26} {outcome.messages:5d} messages in {outcome.seconds:6.1f} s = "
        f"{outcome.rate:5.2f}/s ({outcome.rate / RATE:.3f} of {RATE:g}/s); busiest second "
        f"{outcome.busiest_second}, busiest group minute {outcome.busiest_group_minute}; "
        f"429s {outcome.rejected_429}, lost {outcome.lost}, duplicated {outcome.duplicated}"
    )


async def main(branches: int, members: int, database_url: str | None) -> None:
    folder = Path(tempfile.mkdtemp(prefix="branchbot-groups-"))
    print(
        f"{branches} branches × {members} members, limits {RATE:g}/s and {GROUP_RATE}/min a "
        f"group; service logs in {folder}"
    )
    results = {}
    with (folder / "service.log").open("wb") as log:
        for name, where in (("baseline: members only", "private"), ("members and groups", "both")):
            url = database_url or f"sqlite+aiosqlite:///{folder / f'{where}.sqlite3'}"
            results[where] = await run(url, branches, members, where, log)
            report(name, results[where])
    base, both = results["private"], results["both"]
    if base.rate and both.rate:
        print(f"rate with groups / rate without: {both.rate / base.rate:.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--branches", type=int, default=50)
    parser.add_argument("--members", type=int, default=30)
    parser.add_argument("--database-url", help="default: a fresh SQLite file per run")
    args = parser.parse_args()
    asyncio.run(main(args.branches, args.members, args.database_url))
