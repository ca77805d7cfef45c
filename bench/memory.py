"""Memory of a service process: `branchbot run` idle, and after its first /search, against
an interpreter holding only the libraries any such service loads, in the same run.

    python bench/memory.py [--runs 5] [--idle 5] [--database-url URL]

Each run starts the processes afresh against the fake Bot API and reads their resident memory
(VmRSS, and the part of it that is the process's own, RssAnon: the rest is files mapped from
disk, which processes share) from /proc after `--idle` seconds:
- a bare interpreter;
- the baseline: an interpreter that imported SQLAlchemy (asyncio) with the database's drivers
  (aiosqlite; asyncpg and psycopg), aiohttp, PTB, pydantic-settings, APScheduler, Alembic,
  cryptography, Jinja2 and prometheus_client, as `branchbot run` does (the collector off
  meanwhile, as bot/cli/entry.py);
- `branchbot run`, idle once /healthz answers (nothing asked of it yet);
- the same process after a member's `/search` (jieba's dictionary loaded).
Medians of the runs are printed, with the service's memory as a ratio of the baseline's.
"""

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.rig import ROOT, TOKEN, FakeApi, database_url, fake_api, free_port, text_update
from storage.crypto import SecretBox

BASE_LIBRARIES = (
    "sqlalchemy.ext.asyncio, aiohttp, telegram.ext, pydantic_settings, "
    "apscheduler.schedulers.asyncio, apscheduler.jobstores.sqlalchemy, alembic.runtime.migration, "
    "cryptography.fernet, jinja2, prometheus_client"
)
DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg, psycopg"}
BARE = "pass"
USER = 424242


@dataclass(frozen=True)
class Memory:
    rss: float  # MB
    anon: float  # MB, the process's own pages


def memory_of(pid: int) -> Memory:
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return Memory(_mb(fields["VmRSS"]), _mb(fields["RssAnon"]))


def _mb(field: str) -> float:
    return int(field.split()[0]) / 1024  # kB


async def idle_interpreter(code: str, idle: float) -> Memory:
    """An interpreter that ran `code` and then sleeps: its memory after `idle` seconds."""
    script = f"{code}\nprint('ready', flush=True)\nimport time\ntime.sleep(3600)"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, env=_env({}), stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    await process.stdout.readline()
    await asyncio.sleep(idle)
    found = memory_of(process.pid)
    process.terminate()
    await process.wait()
    return found


def _env(extra: dict[str, str]) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


class Service:
    """`branchbot run` as a process on a free port, against the fake API."""

    def __init__(self, api: FakeApi, url: str, key: str) -> None:
        self.api = api
        self.port = free_port()
        self.env = _env(
            {
                "BRANCHBOT_DATABASE_URL": url,
                "BRANCHBOT_SECRET_KEY": key,
                "BRANCHBOT_TELEGRAM_TOKEN": TOKEN,
                "BRANCHBOT_TELEGRAM_BASE_URL": api.base_url,
                "BRANCHBOT_LISTEN_PORT": str(self.port),
            }
        )
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> "Service":
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=self.env, stderr=asyncio.subprocess.DEVNULL
        )
        await self._healthy()
        return self

    async def _healthy(self, patience: float = 60.0) -> None:
        deadline = time.monotonic() + patience
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                try:
                    async with http.get(f"http://127.0.0.1:{self.port}/healthz") as answer:
                        if answer.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise TimeoutError("branchbot run did not answer /healthz")

    async def say(self, text: str) -> None:
        """A message from the bound member; returns once the service has answered it."""
        answered = await self.api.sent() + 1
        await self.api.push([text_update(time.time_ns() % 2**31, USER, text)])
        await self.api.wait_sent(answered, patience=60)

    def memory(self) -> Memory:
        assert self.process is not None
        return memory_of(self.process.pid)

    async def __aexit__(self, *_: object) -> None:
        assert self.process is not None
        self.process.terminate()
        await self.process.wait()


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


async def prepared(api: FakeApi, url: str, key: str) -> None:
    """A database with a branch and one member, bound on Telegram (setting up is not measured)."""
    env = Service(api, url, key).env
    cli(env, "init")
    cli(env, "branch", "add", "测试支部")
    added = cli(env, "member", "add", "--branch", "测试支部", "--name", "张红", "--json")
    async with Service(api, url, key) as service:
        await service.say(f"/start {json.loads(added)['invite_code']}")


def baseline(url: str) -> str:
    libraries = f"{BASE_LIBRARIES}, {DRIVERS[url.split(':')[0].split('+')[0]]}"
    return f"import gc; gc.disable(); import {libraries}; gc.freeze(); gc.enable()"


async def one_run(api: FakeApi, url: str, key: str, idle: float) -> dict[str, Memory]:
    found = {
        "bare interpreter": await idle_interpreter(BARE, idle),
        "baseline (base libraries)": await idle_interpreter(baseline(url), idle),
    }
    async with Service(api, url, key) as service:
        await asyncio.sleep(idle)
        found["branchbot run, idle"] = service.memory()
        await service.say("/search 三会一课")
        await asyncio.sleep(idle)
        found["branchbot run, after /search"] = service.memory()
    return found


def report(runs: list[dict[str, Memory]]) -> None:
    baseline = [run["baseline (base libraries)"].rss for run in runs]
    for label in runs[0]:
        rss = [run[label].rss for run in runs]
        anon = statistics.median(run[label].anon for run in runs)
        rounds = ", ".join(f"{r:.1f}" for r in rss)
        line = f"{label + ':':32s}{statistics.median(rss):7.1f} MB  (own {anon:5.1f} MB)"
        if label.startswith("branchbot"):
            ratios = [r / b for r, b in zip(rss, baseline, strict=True)]
            line += f"  {statistics.median(ratios):4.2f}x the baseline"
        print(f"{line}  (runs: {rounds})")


async def main(runs: int, idle: float, url: str | None) -> None:
    key = SecretBox.generate_key()
    with tempfile.TemporaryDirectory() as folder:
        url = url or f"sqlite:///{folder}/memory.sqlite3"
        async with fake_api() as api:
            await prepared(api, url, key)
            measured = [await one_run(api, url, key, idle) for _ in range(runs)]
    print(f"{re.sub(r'//.*@', '//', url).split('?')[0]}, {runs} runs, {idle:g} s idle:")
    report(measured)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--idle", type=float, default=5.0)
    parser.add_argument("--database-url", type=database_url)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.idle, args.database_url))
