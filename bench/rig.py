"""Benchmark plumbing shared by bench/ scripts: the fake Bot API in its own process, update
batches, waiting for replies, the bare PTB echo bot that every benchmark compares against, the
service wired to the fake API, and the guard that keeps benchmarks off the test databases.
"""

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import make_url
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.app.services import Services, build_services
from bot.app.settings import load_settings
from bot.channels.telegram.transport import AiohttpRequest
from storage import schema
from storage.crypto import SecretBox

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:TEST"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeApi:
    """A fake Bot API server in a child process, so it does not share the bot's event loop."""

    def __init__(self, port: int, process: subprocess.Popen[str]) -> None:
        self.base_url = f"http://127.0.0.1:{port}"
        self.process = process
        self.http = aiohttp.ClientSession()

    async def push(self, updates: list[dict[str, Any]]) -> None:
        async with self.http.post(f"{self.base_url}/_control/updates", json=updates) as resp:
            resp.raise_for_status()

    async def sent(self, method: str = "sendMessage") -> int:
        async with self.http.get(f"{self.base_url}/_control/stats") as resp:
            return int((await resp.json())["sent"].get(method, 0))

    async def sent_times(self, method: str = "sendMessage") -> list[tuple[int, float]]:
        """(chat id, monotonic time) of every sent call of a method, in order."""
        async with self.http.get(f"{self.base_url}/_control/sent?method={method}") as resp:
            return [(int(c["chat_id"]), float(c["at"])) for c in (await resp.json())["sent"]]

    async def wait_sent(self, target: int, patience: float = 300.0) -> None:
        deadline = time.monotonic() + patience
        while await self.sent() < target:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {await self.sent()} of {target} replies arrived")
            await asyncio.sleep(0.02)

    async def set_webhook(self, url: str, secret: str) -> None:
        """Point the fake's webhook deliveries at `url`, as a bot's setWebhook does."""
        body = {"url": url, "secret_token": secret}
        async with self.http.post(f"{self.base_url}/bot{TOKEN}/setWebhook", json=body) as resp:
            resp.raise_for_status()

    async def close(self) -> None:
        await self.http.close()
        self.process.terminate()
        self.process.wait(timeout=10)


@asynccontextmanager
async def fake_api(*options: str) -> AsyncIterator[FakeApi]:
    """The fake in a child process, started with the command-line `options` of
    tests/support/fake_telegram/__main__.py."""
    port = free_port()
    # Started once, before anything is measured, so blocking here costs nothing.
    process = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, "-m", "tests.support.fake_telegram", "--port", str(port), *options],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None
    process.stdout.readline()  # "fake Telegram Bot API on ..." once it listens
    api = FakeApi(port, process)
    try:
        yield api
    finally:
        await api.close()


def text_update(update_id: int, user_id: int, text: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": f"U{user_id}"},
            "text": text,
        },
    }


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message and update.effective_message.text:
        await update.effective_message.reply_text(update.effective_message.text)


@asynccontextmanager
async def echo_bot(base_url: str, concurrency: int, aiohttp: bool = False) -> AsyncIterator[None]:
    """The baseline: a bare PTB bot that echoes every text, polling the same fake API; on
    PTB's default HTTP backend (httpx), or with `aiohttp` on the service's
    (bot/channels/telegram/transport.py), which shows what the service's own code costs
    apart from HTTP."""
    builder = (
        Application.builder()
        .token(TOKEN)
        .base_url(f"{base_url}/bot")
        .concurrent_updates(concurrency)
    )
    if aiohttp:
        builder = builder.request(AiohttpRequest(concurrency + 4)).get_updates_request(
            AiohttpRequest()
        )
    else:
        builder = builder.connection_pool_size(concurrency + 4)
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, _echo))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(timeout=10)
    try:
        yield
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


async def timed_batch(api: FakeApi, updates: list[dict[str, Any]]) -> float:
    """Push a batch and wait until each update got its reply; returns the seconds taken."""
    target = await api.sent() + len(updates)
    start = time.perf_counter()
    await api.push(updates)
    await api.wait_sent(target)
    return time.perf_counter() - start


async def bench_echo(
    api: FakeApi, concurrency: int, bare: list[dict[str, Any]], same: list[dict[str, Any]]
) -> tuple[float, float]:
    """One round of both baselines: the rate of the echo bot on PTB's default HTTP backend over
    `bare`, then on the service's (aiohttp) over `same`."""
    async with echo_bot(api.base_url, concurrency):
        bare_rate = len(bare) / await timed_batch(api, bare)
    async with echo_bot(api.base_url, concurrency, aiohttp=True):
        same_rate = len(same) / await timed_batch(api, same)
    return bare_rate, same_rate


async def telegram_services(url: str, api: FakeApi, concurrency: int) -> Services:
    """The service's parts on a fresh schema, talking to the fake API without the Bot API's
    rate limit, with `concurrency` updates in flight."""
    settings = load_settings(
        database_url=url,
        secret_key=SecretBox.generate_key(),
        telegram_token=TOKEN,
        telegram_base_url=api.base_url,
        telegram_rate_limit=False,
        telegram_concurrency=concurrency,
    )
    services = build_services(settings)
    await schema.upgrade(services.engine)
    return services


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MB."""
    import resource

    import psutil

    current = psutil.Process().memory_info().rss / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return current, peak


def rate_line(label: str, rates: list[float], unit: str = "updates/s") -> str:
    """A median rate with every round's."""
    rounds = ", ".join(f"{r:.1f}" for r in rates)
    return f"{label + ':':27s}{statistics.median(rates):8.1f} {unit}  (rounds: {rounds})"


def ratio_line(label: str, tops: list[float], bottoms: list[float], note: str) -> str:
    """The median of the rounds' ratios: each round's two runs were back to back, so the
    ratio within a round is steadier than one of two medians taken across rounds."""
    ratios = [top / bottom for top, bottom in zip(tops, bottoms, strict=True)]
    rounds = ", ".join(f"{r:.2f}" for r in ratios)
    return f"{label + ':':27s}{statistics.median(ratios):8.2f}   ({note}; rounds: {rounds})"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def database_url(value: str) -> str:
    """Refuse the shared test databases: the benchmark drops everything in the one it uses."""
    name = make_url(value).database or ""
    if name == "test" or name.startswith("test_"):
        raise argparse.ArgumentTypeError(f"{name} is a test database; use branchbot_bench")
    return value


async def fresh_services(url: str | None, name: str, now: datetime) -> tuple[Services, str]:
    """The service on an emptied, migrated database (`url`, else a new SQLite file `name` in a
    temporary folder) with a fresh key and its clock fixed at `now`; (services, url)."""
    from tests.conftest import reset_postgres  # the benchmarks that need no test rig skip it

    url = url or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='branchbot-')) / name}"
    if url.startswith("postgresql"):
        await reset_postgres(url)
    settings = load_settings(database_url=url, secret_key=SecretBox.generate_key())
    services = build_services(settings, clock=lambda: now)
    await schema.upgrade(services.engine)
    return services, url
