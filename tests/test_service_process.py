"""`branchbot run` as a real process: serves the fake Bot API, restarts, stops on SIGTERM."""

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import SECRET
from tests.fake_telegram import FakeTelegram

USER = 9001


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


def _env(fake: FakeTelegram, database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "BRANCHBOT_DATABASE_URL": database_url,
        "BRANCHBOT_SECRET_KEY": SECRET,
        "BRANCHBOT_TELEGRAM_TOKEN": "123456:TEST",
        "BRANCHBOT_TELEGRAM_BASE_URL": fake.base_url,
        "BRANCHBOT_LISTEN_PORT": "0",
    }


async def _cli(env: dict[str, str], *args: str) -> str:
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "bot.cli", *args], env=env, capture_output=True
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


def _start(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"],
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
        stderr=subprocess.PIPE,
    )


async def _stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    return await asyncio.to_thread(process.wait, 20)


async def test_run_serves_restarts_and_stops_cleanly(fake: FakeTelegram, database_url: str) -> None:
    env = _env(fake, database_url)
    await _cli(env, "branch", "add", "测试支部")
    added = await _cli(env, "member", "add", "--branch", "测试支部", "--name", "进程测试", "--json")
    code = json.loads(added)["invite_code"]
    process = _start(env)
    try:
        await fake.wait_until(lambda: fake.count("setMyCommands") >= 1, timeout=30)
        fake.push_message(USER, f"/start {code}")
        await fake.wait_until(lambda: len(fake.texts_to(USER)) == 1, timeout=20)
        assert "绑定成功" in fake.texts_to(USER)[0]
    finally:
        assert await _stop(process) == 0
    # Queued while the service is down; answered after it starts again on the same database.
    fake.push_message(USER, "/me")
    process = _start(env)
    try:
        await fake.wait_until(lambda: len(fake.texts_to(USER)) == 2, timeout=30)
        assert "进程测试" in fake.texts_to(USER)[1]
    finally:
        assert await _stop(process) == 0
