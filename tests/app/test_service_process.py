"""`branchbot run` as a real process: serves the fake Bot API, restarts, stops on SIGTERM,
and loses nothing when killed mid-broadcast."""

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text

from bot.app.services import build_services
from bot.app.settings import load_settings
from bot.channels.faults import FREEZE_AT
from storage.db import create_engine
from storage.enums import Role
from tests.conftest import SECRET
from tests.support.chat import Chat, Clock
from tests.support.fake_telegram import FakeTelegram
from tests.support.processes import fake_api_env, is_frozen, run_cli, start_service, stop_service

USER = 9001


async def test_run_serves_restarts_and_stops_cleanly(fake: FakeTelegram, database_url: str) -> None:
    env = fake_api_env(fake, database_url)
    await run_cli(env, "branch", "add", "测试支部")
    added = await run_cli(
        env, "member", "add", "--branch", "测试支部", "--name", "进程测试", "--json"
    )
    code = json.loads(added)["invite_code"]
    process = start_service(env)
    try:
        await fake.wait_until(lambda: fake.count("setMyCommands") >= 1, timeout=30)
        fake.push_message(USER, f"/start {code}")
        await fake.wait_until(lambda: len(fake.texts_to(USER)) == 1, timeout=20)
        assert "绑定成功" in fake.texts_to(USER)[0]
    finally:
        assert await stop_service(process) == 0
    # Queued while the service is down; answered after it starts again on the same database.
    fake.push_message(USER, "/me")
    process = start_service(env)
    try:
        await fake.wait_until(lambda: len(fake.texts_to(USER)) == 2, timeout=30)
        assert "进程测试" in fake.texts_to(USER)[1]
    finally:
        assert await stop_service(process) == 0


async def _bind_many(database_url: str, count: int) -> tuple[str, list[str]]:
    """A secretary and `count` members bound to Telegram accounts, made through the router;
    returns their chat ids."""
    clock = Clock(datetime.now(UTC))
    services = build_services(load_settings(database_url=database_url, secret_key=SECRET))
    try:
        chat = Chat(services, clock)
        secretary = await chat.bound("书记", role=Role.SECRETARY)
        members = [await chat.bound(f"党员{i:03d}") for i in range(count)]
    finally:
        await services.close()
    return secretary.account_id, [m.account_id for m in members]


def _copies(fake: FakeTelegram, chats: list[str]) -> list[int]:
    return [sum("📢 通知" in t for t in fake.texts_to(int(c))) for c in chats]


async def test_killed_mid_broadcast_resumes_without_loss(
    fake: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    secretary, members = await _bind_many(database_url, 60)
    env = {**fake_api_env(fake, database_url), "BRANCHBOT_OUTBOX_PER_SECOND": "20"}
    with (tmp_path / "run.log").open("wb") as log:
        process = start_service(env, log)
        await fake.wait_until(lambda: fake.count("setMyCommands") >= 1, timeout=30)
        fake.push_message(int(secretary), "/broadcast 今晚8点线上党课，请准时参加")
        await fake.wait_until(lambda: sum(_copies(fake, members)) >= 15, timeout=30)
        process.kill()  # SIGKILL: no clean-up, mid-broadcast
        await asyncio.to_thread(process.wait, 10)
        before = sum(_copies(fake, members))
        assert before < len(members), "the broadcast finished before the kill; slow it down"
        process = start_service(env, log)
        try:
            await fake.wait_until(lambda: all(_copies(fake, members)), timeout=60)
            await asyncio.sleep(0.5)  # anything sent twice would arrive by now
        finally:
            assert await stop_service(process) == 0
    copies = _copies(fake, members)
    duplicated = sum(copies) - len(members)
    assert min(copies) == 1 and 0 <= duplicated <= 1, (copies, duplicated)
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            statuses = dict((await conn.execute(text(_STATUS_COUNTS))).all())
            resent = await conn.scalar(text("SELECT SUM(resent) FROM outbox"))
    finally:
        await engine.dispose()
    assert statuses == {"sent": len(members)}
    assert duplicated <= (resent or 0) <= 1  # only the message in flight went out again


_STATUS_COUNTS = "SELECT status, COUNT(*) FROM outbox GROUP BY status"


async def test_meeting_reminder_fires_as_planned_after_a_restart(
    fake: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    secretary, members = await _bind_many(database_url, 2)
    zone = ZoneInfo("Asia/Shanghai")
    now = datetime.now(zone)
    start = (now + timedelta(minutes=3)).replace(second=0, microsecond=0)
    # One reminder, due about 20 seconds from now: after the restart below.
    lead_minutes = ((start - now).total_seconds() - 20) / 60
    env = {
        **fake_api_env(fake, database_url),
        "BRANCHBOT_MEETING_REMINDER_MINUTES": f"[{lead_minutes}]",
    }
    with (tmp_path / "run.log").open("wb") as log:
        process = start_service(env, log)
        try:
            await fake.wait_until(lambda: fake.count("setMyCommands") >= 1, timeout=30)
            line = f"/meeting_new {start:%Y-%m-%d %H:%M} | 党课 | 重启之后也要提醒"
            fake.push_message(int(secretary), line)
            await fake.wait_until(
                lambda: any("已创建会议" in t for t in fake.texts_to(int(secretary))), timeout=20
            )
            await asyncio.sleep(2)  # the jobs are planned right after the commit
        finally:
            assert await stop_service(process) == 0
        assert not any("会议提醒" in t for m in members for t in fake.texts_to(int(m)))
        process = start_service(env, log)
        try:
            await fake.wait_until(
                lambda: all(any("会议提醒" in t for t in fake.texts_to(int(m))) for m in members),
                timeout=90,
            )
        finally:
            assert await stop_service(process) == 0
    for member in members:
        assert sum("会议提醒" in t for t in fake.texts_to(int(member))) == 1


async def test_sigterm_mid_update_finishes_it_before_exiting(
    fake: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    """Frozen just as it starts handling an update, then woken with SIGTERM waiting: the
    process answers that update, forgets it from the inbox and exits in order."""
    env = {**fake_api_env(fake, database_url), FREEZE_AT: "inbox.handling"}
    await run_cli(env, "branch", "add", "测试支部")
    added = await run_cli(
        env, "member", "add", "--branch", "测试支部", "--name", "停止测试", "--json"
    )
    with (tmp_path / "run.log").open("wb") as log:
        process = start_service(env, log)
        try:
            await fake.wait_until(lambda: fake.count("setMyCommands") >= 1, timeout=30)
            fake.push_message(USER, f"/start {json.loads(added)['invite_code']}")
            await fake.wait_until(lambda: is_frozen(process.pid), timeout=20)
            assert fake.texts_to(USER) == []
        finally:
            assert await stop_service(process) == 0  # SIGCONT, then SIGTERM
    assert len(fake.texts_to(USER)) == 1 and "绑定成功" in fake.texts_to(USER)[0]
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT COUNT(*) FROM inbox")) == 0
    finally:
        await engine.dispose()
