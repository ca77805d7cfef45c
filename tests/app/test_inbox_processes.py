"""Several `branchbot run` processes on one PostgreSQL database: a chat's rapid messages,
posted alternately to two processes behind a round-robin balancer, are handled in order; an
update taken in by a process that then freezes is handled by another once its lease runs out,
and once only when the frozen one wakes; a second process polling Telegram is refused with a
clear message."""

import asyncio
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.channels.faults import FREEZE_AT
from storage import schema
from storage.db import create_engine
from tests.conftest import empty_database
from tests.support.balancer import round_robin
from tests.support.fake_telegram import FakeTelegram
from tests.support.processes import (
    ROOT,
    bound_secretary,
    free_port,
    invite_codes,
    is_frozen,
    scalar,
    service_env,
    start_service,
    stop_service,
    webhook_env,
)

# What the guided /meeting_new asks after each answer, in order, and what it says at the end.
ASKED = [
    "会议类型",
    "会议时间",
    "会议主题",
    "会议地点",
    "线上参会链接",
    "会议大约多长",
    "已创建会议",
]


@pytest.fixture
async def postgres_url(tmp_path: Path) -> AsyncIterator[str]:
    """Several processes share a database only on PostgreSQL (SQLite: one process a file)."""
    url = await empty_database("postgresql", tmp_path)
    engine = create_engine(url)
    await schema.upgrade(engine)
    await engine.dispose()
    yield url


def _guided_meeting(title: str, days: int) -> list[str]:
    when = datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=days)
    return ["/meeting_new", "党课", f"{when:%Y-%m-%d} 19:30", title, "skip", "skip", "90"]


async def test_a_chats_rapid_messages_are_handled_in_order_across_two_processes(
    fake: FakeTelegram, postgres_url: str, tmp_path: Path
) -> None:
    secretary = await bound_secretary(postgres_url)
    ports = [free_port(), free_port()]
    backends = [f"http://127.0.0.1:{port}" for port in ports]
    async with round_robin(backends) as balancer:
        # One public URL for every process: the balancer's.
        env = webhook_env(postgres_url, fake.base_url, f"{balancer}/telegram")
        with (tmp_path / "run.log").open("wb") as log:
            processes = [start_service({**env, "BRANCHBOT_LISTEN_PORT": str(ports[0])}, log)]
            try:
                await fake.wait_until(lambda: fake.webhook_url is not None, timeout=30)
                second = {**env, "BRANCHBOT_LISTEN_PORT": str(ports[1])}
                processes.append(start_service(second, log))
                # Both serve: each asks getWebhookInfo as the last step of its start.
                await fake.wait_until(lambda: fake.count("getWebhookInfo") >= 2, timeout=30)
                # Two guided meetings typed as fast as Telegram delivers: fourteen updates,
                # each accepted by the next process in turn.
                lines = _guided_meeting("跨进程党课甲", 30) + _guided_meeting("跨进程党课乙", 31)
                for line in lines:
                    fake.push_message(secretary, line)
                await fake.wait_until(lambda: len(fake.texts_to(secretary)) >= 14, timeout=60)
            finally:
                codes = [await stop_service(p) for p in processes]
    assert codes == [0, 0]
    answers = fake.texts_to(secretary)
    assert len(answers) == 14
    for answer, asked in zip(answers, ASKED * 2, strict=True):
        assert asked in answer, (asked, answers)
    assert fake.webhook_deliveries.count(200) == 14  # nothing refused, nothing retried
    titles = "SELECT string_agg(title, ',' ORDER BY starts_at) FROM meetings"
    assert await scalar(postgres_url, titles) == "跨进程党课甲,跨进程党课乙"
    # The second found it set already (two starting at the same instant may both set it:
    # the same URL and secret, no harm).
    assert fake.count("setWebhook") == 1


async def test_an_update_held_by_a_frozen_process_is_taken_over_after_the_lease(
    fake: FakeTelegram, postgres_url: str, tmp_path: Path
) -> None:
    [code] = await invite_codes(postgres_url, ["冻结测试"])
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"  # the one to freeze gets the post
    env = webhook_env(postgres_url, fake.base_url, url, inbox_lease_seconds="3")
    user = 9301
    with (tmp_path / "run.log").open("wb") as log:
        frozen = start_service(
            {**env, FREEZE_AT: "webhook.answered", "BRANCHBOT_LISTEN_PORT": str(port)}, log
        )
        other = start_service({**env, "BRANCHBOT_LISTEN_PORT": str(free_port())}, log)
        try:
            # Both serve: each asks getWebhookInfo as the last step of its start.
            await fake.wait_until(lambda: fake.count("getWebhookInfo") >= 2, timeout=40)
            fake.push_message(user, f"/start {code}")  # stored and claimed, then it freezes
            await fake.wait_until(lambda: fake.webhook_deliveries == [200], timeout=20)
            await fake.wait_until(lambda: is_frozen(frozen.pid), timeout=10)
            await fake.wait_until(lambda: len(fake.texts_to(user)) == 1, timeout=30)
            frozen.send_signal(signal.SIGCONT)  # it goes on with the update it held
            await asyncio.sleep(2)
            assert not is_frozen(frozen.pid)
        finally:
            codes = [await stop_service(p) for p in (frozen, other)]
    assert codes == [0, 0]
    assert "绑定成功" in fake.texts_to(user)[0] and len(fake.texts_to(user)) == 1
    assert (
        await scalar(postgres_url, "SELECT COUNT(*) FROM traces WHERE kind = 'member.bound'") == 1
    )
    assert await scalar(postgres_url, "SELECT COUNT(*) FROM inbox") == 0


async def test_a_second_poller_on_the_same_database_is_refused(
    fake: FakeTelegram, postgres_url: str, tmp_path: Path
) -> None:
    env = service_env(
        postgres_url,
        telegram_token="123456:TEST",
        telegram_base_url=fake.base_url,
        listen_port="0",
    )
    with (tmp_path / "run.log").open("wb") as log:
        first = start_service(env, log)
        try:
            await fake.wait_until(lambda: fake.count("getUpdates") >= 1, timeout=30)
            second = await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-m", "bot", "run"],
                env=env,
                cwd=ROOT,
                capture_output=True,
                timeout=60,
            )
            assert second.returncode == 2
            said = second.stderr.decode()
            assert "BRANCHBOT_WEBHOOK_URL" in said
            assert "another branchbot process already polls Telegram" in said
            fake.push_message(4242, "/help")  # the first goes on polling
            await fake.wait_until(lambda: len(fake.texts_to(4242)) == 1, timeout=20)
        finally:
            assert await stop_service(first) == 0
