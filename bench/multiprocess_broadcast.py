"""A notice to a whole college from three `branchbot run` processes on one PostgreSQL database,
against a fake Bot API that refuses more than `--rate` messages in any second, while the
processes fail: the outbox sender's leader is killed (SIGKILL), later the new leader is frozen
(SIGSTOP) for longer than its lease and woken (SIGCONT), and later the scheduler's leader is
killed; a killed process is started again, as systemd would. Against one process alone, on
the same database server, in the same run.

    python bench/multiprocess_broadcast.py --database-url postgresql://…/branchbot_bench
        [--recipients 10000] [--rate 30] [--asking 200]

The processes take webhook posts behind a round-robin balancer; `--asking` people write /help
while the notice goes out, so direct answers from every process share the budget with the
queue. Each run prints the notices lost (goal: none), duplicated and to which failure each
duplicate belongs (goal: at most one per kill or freeze: the message in flight), the 429s
(goal: none), the busiest second of all sends (goal: at most the limit), the total time and
the notices' send rate, also leaving out the seconds no process was sending (the failovers),
and the rate of all messages sent meanwhile (the answers too); then the ratio of the notices'
rates (three processes with failures against one alone).
"""

import argparse
import asyncio
import itertools
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from bench.broadcast import MARK, TOKEN, prepare, start_service  # noqa: E402
from bench.rig import database_url, free_port  # noqa: E402
from storage.crypto import SecretBox  # noqa: E402
from storage.db import create_engine  # noqa: E402
from storage.leader import LEASE_SECONDS  # noqa: E402
from tests.support.balancer import round_robin  # noqa: E402
from tests.support.fake_telegram import FakeTelegram  # noqa: E402
from tests.support.sends import Tally, busiest  # noqa: E402

FIRST_ASKING = 90_000_000
FREEZE = LEASE_SECONDS + 5.0  # longer than the lease: another process takes over meanwhile


@dataclass
class Outcome:
    processes: int
    recipients: int
    limit: float
    seconds: float
    rate: float
    sending_rate: float  # leaving out gaps of more than a second (failovers)
    all_rate: float  # every message sent meanwhile: notices, answers, the rest
    busiest: int
    rejected_429: int
    lost: int
    duplicated: int
    answered: int
    asked: int
    after: dict[str, str] = field(default_factory=dict)  # duplicates and 429s, by failure


@dataclass
class Cluster:
    """The service processes, one a port behind the balancer; a killed one is started again."""

    env: dict[str, str]
    url: str
    log: IO[bytes]
    ports: list[int]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self) -> None:
        self.processes = [self._run(port) for port in self.ports]

    def _run(self, port: int) -> subprocess.Popen[bytes]:
        return start_service({**self.env, "BRANCHBOT_LISTEN_PORT": str(port)}, self.log)

    async def leader(self, role: str) -> int:
        """The index of the process leading `role` (waiting for a takeover if need be)."""
        engine = create_engine(self.url)
        try:
            for _ in range(300):
                async with engine.connect() as conn:
                    query = text("SELECT holder FROM leases WHERE role = :role")
                    holder = await conn.scalar(query, {"role": role})
                pid = int(str(holder).split(":")[1]) if holder else None
                alive = [i for i, p in enumerate(self.processes) if p.pid == pid]
                if alive and self.processes[alive[0]].poll() is None:
                    return alive[0]
                await asyncio.sleep(0.2)
        finally:
            await engine.dispose()
        raise TimeoutError(f"no live process leads {role}")

    async def kill(self, index: int) -> None:
        process = self.processes[index]
        process.kill()
        await asyncio.to_thread(process.wait, 30)
        self.processes[index] = self._run(self.ports[index])

    async def freeze(self, index: int, seconds: float) -> None:
        pid = self.processes[index].pid
        os.kill(pid, signal.SIGSTOP)
        await asyncio.sleep(seconds)
        os.kill(pid, signal.SIGCONT)

    async def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            await asyncio.to_thread(process.wait, 30)


async def fail(cluster: Cluster, delivered: Tally, recipients: int) -> dict[float, str]:
    """The three failures at a quarter, a half and three quarters of the notice; when each
    happened (the fake's clock) and what it was."""
    events: dict[float, str] = {}
    steps = ("kill outbox leader", "freeze outbox leader", "kill scheduler leader")
    for step, name in enumerate(steps, 1):
        await until(delivered, recipients * step // 4)
        role = "scheduler" if "scheduler" in name else "outbox"
        index = await cluster.leader(role)
        holds = [r for r in ("outbox", "scheduler") if await cluster.leader(r) == index]
        events[time.monotonic()] = f"{name} (it led: {', '.join(holds)})"
        if name.startswith("freeze"):
            await cluster.freeze(index, FREEZE)
            events[time.monotonic()] = "woken (the frozen one)"
        else:
            await cluster.kill(index)
    return events


async def until(delivered: Tally, count: int, patience: float = 3600.0) -> None:
    deadline = time.monotonic() + patience
    while len(delivered()) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(delivered())} of {count} notices arrived")
        await asyncio.sleep(0.25)


async def ask(fake: FakeTelegram, asking: int) -> None:
    """People writing /help, four a second."""
    for user in range(FIRST_ASKING, FIRST_ASKING + asking):
        fake.push_message(user, "/help")
        await asyncio.sleep(0.25)


def blame(fake: FakeTelegram, events: dict[float, str]) -> dict[str, str]:
    """Each duplicate notice (by its second copy) and each 429, by the failure that came last
    before it."""
    seen: set[int] = set()
    counts = {name: Counter[str]() for name in ["before any failure", *events.values()]}

    def after(at: float) -> Counter[str]:
        before = [when for when in events if when <= at]
        return counts[events[max(before)] if before else "before any failure"]

    for call in fake.calls:
        if call.status == 429:
            after(call.at)["429s"] += 1
        if call.status == 200 and MARK in str(call.params.get("text", "")):
            chat = int(call.params["chat_id"])
            if chat in seen:
                after(call.at)["duplicated"] += 1
            seen.add(chat)
    return {name: ", ".join(f"{k} {v}" for k, v in c.items()) or "-" for name, c in counts.items()}


def measure(fake: FakeTelegram, recipients: int, asking: int, limit: float) -> Outcome:
    times = sorted(c.at for c in fake.sent if MARK in str(c.params.get("text", "")))
    seconds = times[-1] - times[0]
    stalls = sum(b - a for a, b in itertools.pairwise(times) if b - a > 1.0)
    asked = range(FIRST_ASKING, FIRST_ASKING + asking)
    sends = [c.at for c in fake.sent if c.method.startswith("send")]
    copies = Tally(fake, MARK)()
    return Outcome(
        processes=0,
        recipients=recipients,
        limit=limit,
        seconds=seconds,
        rate=(len(times) - 1) / seconds,
        sending_rate=(len(times) - 1) / (seconds - stalls),
        all_rate=sum(1 for at in sends if times[0] <= at <= times[-1]) / seconds,
        busiest=busiest(sends),
        rejected_429=fake.rejected_429,
        lost=recipients - len(copies),
        duplicated=sum(copies.values()) - len(copies),
        answered=sum(1 for user in asked if fake.texts_to(user)),
        asked=asking,
    )


async def run(url: str, processes: int, args: argparse.Namespace, log: IO[bytes]) -> Outcome:
    secret = SecretBox.generate_key()
    secretary = await prepare(url, secret, args.recipients)
    ports = [free_port() for _ in range(processes)]
    async with (
        FakeTelegram(global_rate=args.rate) as fake,
        round_robin([f"http://127.0.0.1:{port}" for port in ports]) as balancer,
    ):
        env = {
            **os.environ,
            "BRANCHBOT_DATABASE_URL": url,
            "BRANCHBOT_SECRET_KEY": secret,
            "BRANCHBOT_TELEGRAM_TOKEN": TOKEN,
            "BRANCHBOT_TELEGRAM_BASE_URL": fake.base_url,
            "BRANCHBOT_WEBHOOK_URL": f"{balancer}/telegram",
            "BRANCHBOT_WEBHOOK_SECRET": "multiprocess-broadcast-secret",
            "BRANCHBOT_OUTBOX_PER_SECOND": str(args.rate),
        }
        cluster = Cluster(env, url, log, ports)
        cluster.start()
        try:
            ready = lambda: fake.count("getWebhookInfo") >= processes  # noqa: E731
            await fake.wait_until(ready, timeout=120)
            fake.push_message(int(secretary), f"/broadcast {MARK}：请于本周五前完成年度学习总结。")
            asking = asyncio.create_task(ask(fake, args.asking))
            delivered = Tally(fake, MARK)
            events = await fail(cluster, delivered, args.recipients) if processes > 1 else {}
            await until(delivered, args.recipients)
            await asking
            await asyncio.sleep(5.0)  # late duplicates and answers arrive by now
        finally:
            await cluster.stop()
        outcome = measure(fake, args.recipients, args.asking, args.rate)
        outcome.processes, outcome.after = processes, blame(fake, events)
        return outcome


def report(name: str, outcome: Outcome) -> None:
    each = "; ".join(f"{k}: {v}" for k, v in outcome.after.items())
    print(
        f"{name}: {outcome.recipients} notices in {outcome.seconds:.1f} s = {outcome.rate:.2f}/s "
        f"({outcome.rate / outcome.limit:.3f} of {outcome.limit:g}/s; "
        f"{outcome.sending_rate:.2f}/s while sending; all messages {outcome.all_rate:.2f}/s); "
        f"busiest second {outcome.busiest}; "
        f"429s {outcome.rejected_429}; lost {outcome.lost}; duplicated {outcome.duplicated}; "
        f"direct answers {outcome.answered} of {outcome.asked}\n  after each failure: {each}"
    )


async def main(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="branchbot-multiprocess-"))
    print(
        f"{args.recipients} recipients, limit {args.rate:g}/s, {args.asking} people asking; "
        f"service logs in {folder}"
    )
    with (folder / "service.log").open("wb") as log:
        alone = await run(args.database_url, 1, args, log)
        report("1 process (baseline)", alone)
        three = await run(args.database_url, 3, args, log)
        report("3 processes, failing", three)
    print(f"ratio of send rates, 3 processes failing / 1 alone: {three.rate / alone.rate:.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", type=database_url, required=True, help="PostgreSQL")
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=30.0)
    parser.add_argument("--asking", type=int, default=200)
    asyncio.run(main(parser.parse_args()))
