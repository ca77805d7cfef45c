"""`branchbot run` as a real child process, for the tests that restart, kill or freeze it."""

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO

from tests.conftest import SECRET
from tests.support.fake_telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]


def service_env(fake: FakeTelegram, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a service process on `database_url` talking to the fake Bot API."""
    return {
        **os.environ,
        "BRANCHBOT_DATABASE_URL": database_url,
        "BRANCHBOT_SECRET_KEY": SECRET,
        "BRANCHBOT_TELEGRAM_TOKEN": "123456:TEST",
        "BRANCHBOT_TELEGRAM_BASE_URL": fake.base_url,
        "BRANCHBOT_LISTEN_PORT": "0",
        **extra,
    }


async def run_cli(env: dict[str, str], *args: str) -> str:
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "bot", *args], env=env, capture_output=True
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


def start_service(env: dict[str, str], log: IO[bytes] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=ROOT,
        stderr=log or subprocess.DEVNULL,
    )


async def stop_service(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM, as an operator stops it; its exit status (0: stopped in order)."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGCONT)  # a frozen one must wake to stop
        process.send_signal(signal.SIGTERM)
    return await asyncio.to_thread(process.wait, 20)
