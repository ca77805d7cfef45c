"""`branchbot run` as real processes sharing one database: started with settings, stopped
with SIGTERM or killed, and the people they serve made beforehand through the router."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from sqlalchemy import text

from bot.app.services import build_services
from bot.app.settings import load_settings
from storage.db import create_engine
from storage.enums import Role
from tests.conftest import SECRET
from tests.support.chat import Chat, Clock
from tests.support.fake_telegram import FakeTelegram
from tests.support.telegram_rig import WEBHOOK_SECRET

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service_env(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a service process: the database, the key, and `settings` by their
    names without the prefix (telegram_token="…" is BRANCHBOT_TELEGRAM_TOKEN)."""
    env = {**os.environ, "BRANCHBOT_DATABASE_URL": database_url, "BRANCHBOT_SECRET_KEY": SECRET}
    env.update({f"BRANCHBOT_{name.upper()}": value for name, value in settings.items()})
    return env


def fake_api_env(fake: FakeTelegram, database_url: str) -> dict[str, str]:
    """A polling Telegram service on the fake Bot API, its web server on any free port."""
    return service_env(
        database_url,
        telegram_token="123456:TEST",
        telegram_base_url=fake.base_url,
        listen_port="0",
    )


async def run_cli(env: dict[str, str], *args: str) -> str:
    """`branchbot ARGS` with `env`; its output (it must succeed)."""
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "bot", *args], env=env, capture_output=True
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


def start_service(env: dict[str, str], log: IO[bytes] | None = None) -> subprocess.Popen[bytes]:
    stderr = log if log is not None else subprocess.DEVNULL
    return subprocess.Popen([sys.executable, "-m", "bot", "run"], env=env, cwd=ROOT, stderr=stderr)


def webhook_env(database_url: str, api: str, webhook_url: str, **settings: str) -> dict[str, str]:
    """A Telegram service on the fake Bot API at `api`, taking updates at the webhook URL
    every process shares (with the tests' secret)."""
    return service_env(
        database_url,
        telegram_token="123456:TEST",
        telegram_base_url=api,
        webhook_url=webhook_url,
        webhook_secret=WEBHOOK_SECRET,
        **settings,
    )


def is_frozen(pid: int) -> bool:
    """The process is stopped (SIGSTOP, or a freeze point reached): state T in /proc."""
    return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("T")


async def stop_service(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM, as an operator stops it; its exit status (0: stopped in order)."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGCONT)  # a frozen one must wake to stop
        process.send_signal(signal.SIGTERM)
    return await asyncio.to_thread(process.wait, 20)


async def ended(process: subprocess.Popen[bytes], seconds: float = 30) -> int:
    """The exit code of a process that is to end by itself (killed at a crash point)."""
    return await asyncio.to_thread(process.wait, seconds)


async def invite_codes(database_url: str, names: list[str]) -> list[str]:
    """Members of one branch, each with an invite code to bind an account with."""
    services = build_services(load_settings(database_url=database_url, secret_key=SECRET))
    try:
        chat = Chat(services, Clock(datetime.now(UTC)))
        return [(await chat.enrol(name))[1] for name in names]
    finally:
        await services.close()


async def bound_secretary(database_url: str) -> int:
    """A secretary bound to a Telegram account; their chat id."""
    services = build_services(load_settings(database_url=database_url, secret_key=SECRET))
    try:
        chat = Chat(services, Clock(datetime.now(UTC)))
        return int((await chat.bound("书记", role=Role.SECRETARY)).account_id)
    finally:
        await services.close()


async def scalar(database_url: str, sql: str) -> object:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return await conn.scalar(text(sql))
    finally:
        await engine.dispose()
