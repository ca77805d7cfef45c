"""Check-ins per second with 1, 2 and 4 `branchbot run` processes on one PostgreSQL database,
against as many bare echo bots behind the same round-robin balancer; memory per process.

    python bench/processes.py --database-url postgresql://postgres@127.0.0.1/branchbot_bench
        [--processes 1,2,4] [--members 300] [--rounds 3] [--connections 40]

For each number of processes N the database is emptied and migrated and M members of 40
branches are bound on Telegram; N `branchbot run` processes start in webhook mode behind a
round-robin balancer (tests/support/balancer.py), and N bare echo bots (bench/echo_webhook.py:
aiohttp, no PTB, no database, one sendMessage an update) behind another. The fake Bot API, in
its own process, posts to the webhook on `--connections` connections at once (Telegram's
max_connections, 40 there by default), as fast as the processes answer. Each round (a
warm-up round of a quarter size first, not counted):
- the webhook points at the echo bots and every member's `签到 CODE` is pushed at once, timed
  until the fake has every echo;
- a new school-wide meeting opens for check-in, the webhook points at the service and every
  member's `签到` with the meeting's current code is pushed at once, timed until the database
  holds every check-in and the fake has every answer.
Prints per N the median rates, their ratio (taken within each round), the CPU the processes
spent per update and how busy the machine was meanwhile (/proc/stat), and the median memory of
one process after the rounds (VmRSS, and its own part RssAnon, from /proc).
"""

import argparse
import asyncio
import contextlib
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from sqlalchemy import func, select, text

from bench.checkin import enrol, open_meeting
from bench.memory import Memory, memory_of
from bench.rig import (
    ROOT,
    TOKEN,
    FakeApi,
    database_url,
    fake_api,
    free_port,
    fresh_services,
    rate_line,
    ratio_line,
    text_update,
)
from bot.app.services import Services
from storage.enums import MeetingStatus
from storage.models import Attendance, Meeting
from tests.support.balancer import round_robin
from tests.support.processes import start_service, stop_service, webhook_env
from tests.support.telegram_rig import WEBHOOK_SECRET

SETTLE = 2.0  # seconds after the last process serves: its start's background work ends
PATIENCE = 300.0  # seconds a round may take before the benchmark gives up


@dataclass
class Fleet:
    """Processes of one kind, and the webhook URL of the balancer in front of them."""

    processes: list[subprocess.Popen[bytes]]
    url: str

    def cpu(self) -> float:
        return sum(cpu_seconds(p.pid) for p in self.processes)

    def memory(self) -> list[Memory]:
        return [memory_of(p.pid) for p in self.processes]


@dataclass
class Phase:
    rate: float  # updates a second
    cpu_ms: float  # the fleet's CPU per update
    database_ms: float  # the CPU per update of the PostgreSQL backends serving the database
    busy: float  # share of the machine's cores busy meanwhile
    sessions: float  # database sessions in a transaction, on average
    head_waits: float  # of which waiting for the trace chain's head (locked by every append)


@dataclass
class Result:
    """One N's rounds and its processes' memory."""

    processes: int
    bots: list[Phase] = field(default_factory=list)
    echoes: list[Phase] = field(default_factory=list)
    bot_memory: list[Memory] = field(default_factory=list)
    echo_memory: list[Memory] = field(default_factory=list)


def cpu_seconds(pid: int) -> float:
    """User and system time of a process so far (stat(5) fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def database_cpu(services: Services) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving the database (on this machine)."""
    query = text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
    async with services.readers() as session:
        pids = (await session.scalars(query)).all()
    found = {}
    for pid in pids:
        with contextlib.suppress(FileNotFoundError):  # a connection closed meanwhile
            found[pid] = cpu_seconds(pid)
    return found


def machine_ticks() -> tuple[int, int]:
    """(busy, all) clock ticks of every core since boot (idle and iowait are not busy)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return sum(values) - values[3] - values[4], sum(values)


async def serving(port: int) -> None:
    """Until the service on `port` takes webhook posts: a body it cannot read gets 400 once
    it runs (503 while it starts), and nothing is stored."""
    deadline = time.monotonic() + 60
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            try:
                url = f"http://127.0.0.1:{port}/telegram"
                async with http.post(url, json=[], headers=headers) as answer:
                    if answer.status == 400:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(f"branchbot run on port {port} did not start")


@asynccontextmanager
async def bots(url: str, key: str, api: FakeApi, n: int, log: IO[bytes]) -> AsyncIterator[Fleet]:
    """N `branchbot run` processes on one database, behind a round-robin balancer."""
    ports = [free_port() for _ in range(n)]
    async with round_robin([f"http://127.0.0.1:{port}" for port in ports]) as balancer:
        webhook = f"{balancer}/telegram"
        env = webhook_env(url, api.base_url, webhook, secret_key=key, telegram_rate_limit="false")
        processes = [
            start_service({**env, "BRANCHBOT_LISTEN_PORT": str(port)}, log) for port in ports
        ]
        try:
            for port in ports:
                await serving(port)
            yield Fleet(processes, webhook)
        finally:
            for process in processes:
                await stop_service(process)


def start_echo(api: FakeApi, port: int) -> subprocess.Popen[bytes]:
    command = ["--port", str(port), "--api", api.base_url, "--token", TOKEN]
    return subprocess.Popen(
        [sys.executable, "-m", "bench.echo_webhook", *command, "--secret", WEBHOOK_SECRET],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
    )


@asynccontextmanager
async def echo_bots(api: FakeApi, n: int) -> AsyncIterator[Fleet]:
    """N bare echo bots behind a round-robin balancer."""
    ports = [free_port() for _ in range(n)]
    processes = [start_echo(api, port) for port in ports]
    try:
        for process in processes:
            assert process.stdout is not None
            await asyncio.to_thread(process.stdout.readline)  # "ready"
        async with round_robin([f"http://127.0.0.1:{port}" for port in ports]) as balancer:
            yield Fleet(processes, f"{balancer}/telegram")
    finally:
        for process in processes:
            process.terminate()
            await asyncio.to_thread(process.wait, 10)


async def timed_phase(
    api: FakeApi,
    services: Services,
    fleet: Fleet,
    updates: list[dict[str, Any]],
    done: Callable[[], Awaitable[bool]],
) -> Phase:
    """Point the webhook at `fleet`, push `updates` at once and time them until `done`."""
    await api.set_webhook(fleet.url, WEBHOOK_SECRET)
    database = await database_cpu(services)
    cpu, (busy, ticks) = fleet.cpu(), machine_ticks()
    start = time.perf_counter()
    await api.push(updates)
    samples = []
    while not await done():
        if time.perf_counter() - start > PATIENCE:
            raise TimeoutError(f"{len(updates)} updates were not all handled")
        samples.append(await sessions(services))
        await asyncio.sleep(0.02)
    elapsed = time.perf_counter() - start
    busy_after, ticks_after = machine_ticks()
    cpu = fleet.cpu() - cpu
    database_after = await database_cpu(services)
    used = sum(seconds - database.get(pid, 0.0) for pid, seconds in database_after.items())
    return Phase(
        rate=len(updates) / elapsed,
        cpu_ms=cpu / len(updates) * 1000,
        database_ms=used / len(updates) * 1000,
        busy=(busy_after - busy) / max(ticks_after - ticks, 1),
        sessions=statistics.fmean(n for n, _ in samples) if samples else 0.0,
        head_waits=statistics.fmean(w for _, w in samples) if samples else 0.0,
    )


async def sessions(services: Services) -> tuple[int, int]:
    """(sessions in a transaction, those of them waiting for the trace chain's head's lock)
    on the database now, apart from this one."""
    query = text(
        "SELECT count(*), count(*) FILTER (WHERE wait_event_type = 'Lock'"
        " AND query LIKE '%trace_head%') FROM pg_stat_activity"
        " WHERE datname = current_database() AND state <> 'idle' AND pid <> pg_backend_pid()"
    )
    async with services.readers() as session:
        busy, waiting = (await session.execute(query)).one()
    return int(busy), int(waiting)


async def checked_in(services: Services) -> int:
    """Check-ins recorded at the meeting open now."""
    query = (
        select(func.count())
        .select_from(Attendance)
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .where(Meeting.status == MeetingStatus.SCHEDULED)
    )
    async with services.readers() as session:
        return int(await session.scalar(query) or 0)


async def one_round(
    api: FakeApi,
    services: Services,
    fleets: tuple[Fleet, Fleet],
    group: list[int],
    ids: Iterator[int],
) -> tuple[Phase, Phase]:
    """The echo bots, then the service, each with every member of `group` typing once."""
    service, echo = fleets
    replies = await api.sent() + len(group)
    typed = [text_update(next(ids), user, "签到 123456") for user in group]
    echoed = await timed_phase(api, services, echo, typed, lambda: _sent(api, replies))
    code = await open_meeting(services)
    replies = await api.sent() + len(group)
    typed = [text_update(next(ids), user, f"签到 {code}") for user in group]

    async def done() -> bool:
        return await _sent(api, replies) and await checked_in(services) >= len(group)

    return await timed_phase(api, services, service, typed, done), echoed


async def _sent(api: FakeApi, target: int) -> bool:
    return await api.sent() >= target


async def measure(
    api: FakeApi, url: str, n: int, members: int, rounds: int, log: IO[bytes], ids: Iterator[int]
) -> Result:
    """N processes of each kind on a fresh database: the rounds, then their memory."""
    services, _ = await fresh_services(url, "", datetime.now(UTC))
    assert services.settings.secret_key is not None
    key = services.settings.secret_key.get_secret_value()
    users = await enrol(services, members)
    result = Result(n)
    async with bots(url, key, api, n, log) as service, echo_bots(api, n) as echo:
        await asyncio.sleep(SETTLE)
        for size in [members // 4] + [members] * rounds:
            bot, echoed = await one_round(api, services, (service, echo), users[:size], ids)
            result.bots.append(bot)
            result.echoes.append(echoed)
        result.bot_memory, result.echo_memory = service.memory(), echo.memory()
    await services.close()
    del result.bots[0], result.echoes[0]  # the warm-up
    return result


def report(result: Result) -> None:
    n = result.processes
    rates = [p.rate for p in result.bots]
    echo_rates = [p.rate for p in result.echoes]
    print(f"{n} process{'es' if n > 1 else ''}:")
    print("  " + rate_line("check-ins", rates, "per second"))
    print("  " + rate_line("echo bots", echo_rates, "updates/s"))
    print("  " + ratio_line("ratio check-in/echo", rates, echo_rates, "within each round"))
    cpu = statistics.median(p.cpu_ms for p in result.bots)
    echo_cpu = statistics.median(p.cpu_ms for p in result.echoes)
    database = statistics.median(p.database_ms for p in result.bots)
    busy = statistics.median(p.busy for p in result.bots)
    echo_busy = statistics.median(p.busy for p in result.echoes)
    print(
        f"  CPU per update:            {cpu:.2f} ms in branchbot's processes, "
        f"{echo_cpu:.2f} ms in the echo bots'; {database:.2f} ms in PostgreSQL's"
    )
    print(f"  machine busy:              {busy:.0%} of the cores during check-ins, "
          f"{echo_busy:.0%} during echoes")  # fmt: skip
    in_transaction = statistics.median(p.sessions for p in result.bots)
    waiting = statistics.median(p.head_waits for p in result.bots)
    print(f"  database sessions:         {in_transaction:.1f} in a transaction on average, "
          f"{waiting:.1f} of them waiting for the trace chain's head")  # fmt: skip
    print(f"  memory of a process:       {_memory(result.bot_memory)} branchbot run, "
          f"{_memory(result.echo_memory)} echo bot")  # fmt: skip


def _memory(found: list[Memory]) -> str:
    rss = statistics.median(m.rss for m in found)
    anon = statistics.median(m.anon for m in found)
    return f"{rss:.1f} MB (own {anon:.1f} MB)"


def scaling(results: list[Result]) -> None:
    """Each N's median rate as a multiple of one process's."""
    first = results[0]
    for label, of in (("check-ins", "bots"), ("echo bots", "echoes")):
        base = statistics.median(p.rate for p in getattr(first, of))
        steps = ", ".join(
            f"{r.processes}: ×{statistics.median(p.rate for p in getattr(r, of)) / base:.2f}"
            for r in results
        )
        print(f"scaling of {label} against {first.processes}: {steps}")


async def main(url: str, counts: list[int], members: int, rounds: int, connections: int) -> None:
    load = os.getloadavg()[0]
    ids = itertools.count(1)
    results = []
    logged = Path(tempfile.mkdtemp(prefix="branchbot-processes-")) / "run.log"
    print(f"the processes' logs: {logged}", flush=True)
    with logged.open("wb") as log:
        async with fake_api("--webhook-connections", str(connections)) as api:
            for n in counts:
                results.append(await measure(api, url, n, members, rounds, log, ids))
    print(
        f"PostgreSQL; {members} members checking in a round, {rounds} rounds after a warm-up; "
        f"webhook posts {connections} at once; {os.cpu_count()} cores (load {load:.1f} before)"
    )
    for result in results:
        report(result)
    scaling(results)


def postgres_url(value: str) -> str:
    if not value.startswith("postgresql"):
        raise argparse.ArgumentTypeError("several processes share a PostgreSQL database only")
    return database_url(value)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", type=postgres_url, required=True)
    parser.add_argument("--processes", default="1,2,4", help="numbers of processes, e.g. 1,2,4")
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=40)
    args = parser.parse_args()
    counts = [int(n) for n in args.processes.split(",")]
    asyncio.run(main(args.database_url, counts, args.members, args.rounds, args.connections))
