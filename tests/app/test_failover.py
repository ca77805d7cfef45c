"""Two `branchbot run` processes on one PostgreSQL database; the leader is frozen (SIGSTOP), not
killed: its connections stay open (its kernel answers keepalives), so only its lease running
out lets the other take over. The other sends the queue and runs the scheduler; woken
(SIGCONT), the former leader finds its leases gone and does not act as leader again."""

import asyncio
import os
import signal
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot.app.services import Services, build_services
from bot.app.settings import load_settings
from handlers.core.messages import Msg, Reply
from handlers.core.payload import reply_out
from storage import outbox
from storage.enums import Role
from storage.leader import LEASE_SECONDS
from storage.ops_models import Lease
from storage.outbox import Envelope
from tests.conftest import SECRET
from tests.support.chat import Chat, Clock
from tests.support.fake_telegram import FakeTelegram
from tests.support.processes import fake_api_env, start_service, stop_service

ROLES = ("outbox", "scheduler")
BOUND = 30.0  # seconds: the takeover bound docs/operations.md states, with room to spare
# A meeting made during the freeze starts at the first whole minute 30 minutes on: its
# reminder falls due 30 to 90 seconds after it was made, after the takeover.
LEAD = 29.5


async def _holders(services: Services) -> dict[str, str]:
    async with services.sessions() as session:
        return {r.role: r.holder for r in (await session.scalars(select(Lease))).all()}


async def _until(check: Callable[[], Awaitable[bool]], seconds: float) -> None:
    """Wait until `check()` is true, or fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.2)


def _leads(holders: dict[str, str], pid: int) -> bool:
    return all(holders.get(role, "").split(":")[1:2] == [str(pid)] for role in ROLES)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_frozen_leader_is_taken_over_and_stays_out_when_it_wakes(
    fake: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    settings = load_settings(
        database_url=database_url, secret_key=SECRET, meeting_reminder_minutes=[LEAD]
    )
    clock = Clock(datetime.now(UTC))
    services = build_services(settings, clock=clock)
    chat = Chat(services, clock)
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    members = [await chat.bound(f"党员{i}") for i in range(3)]
    reminded = [int(m.account_id) for m in [secretary, *members]]
    env = {
        **fake_api_env(fake, database_url),
        "BRANCHBOT_MEETING_REMINDER_MINUTES": f"[{LEAD}]",
        "BRANCHBOT_WEBHOOK_URL": "https://bot.example.edu/telegram",  # no poller conflict
        "BRANCHBOT_WEBHOOK_SECRET": "failover-test-secret",
    }
    logs = {name: (tmp_path / f"{name}.log").open("wb") for name in ("first", "second")}
    first = start_service(env, logs["first"])
    second = None
    try:
        await _until(lambda: _leads_now(services, first.pid), 30)
        second = start_service(env, logs["second"])
        # Each process asks getWebhookInfo as the last step of its start (the first sets the
        # webhook, the second finds it set).
        await fake.wait_until(lambda: fake.count("getWebhookInfo") >= 2, timeout=30)
        sessions = await _lease_sessions(services)
        os.kill(first.pid, signal.SIGSTOP)
        frozen_at = time.monotonic()
        # Work for a leader, queued while the leader is frozen.
        chat_id = int(members[0].account_id)
        await _queue(services, clock, str(chat_id), "冻结期间的消息")
        start = datetime.now(UTC) + timedelta(minutes=31)
        at = start.astimezone(settings.zone).replace(second=0, microsecond=0)
        await secretary.say(f"/meeting_new {at:%Y-%m-%d %H:%M} | 党课 | 领导进程冻结")
        await _until(lambda: _leads_now(services, second.pid), BOUND)  # type: ignore[union-attr]
        took = time.monotonic() - frozen_at
        # Its database sessions outlived the freeze (its kernel answered the keepalives):
        # the lease's expiry, not a closed connection, handed the roles over.
        assert await _alive(services, sessions) == len(ROLES)
        print(f"taken over {took:.1f} s after the freeze (lease {LEASE_SECONDS:g} s)")
        await fake.wait_until(lambda: "冻结期间的消息" in fake.texts_to(chat_id), timeout=10)
        woken_from = logs["first"].tell()
        os.kill(first.pid, signal.SIGCONT)
        await fake.wait_until(
            lambda: all(any("会议提醒" in t for t in fake.texts_to(c)) for c in reminded),
            timeout=120,
        )
        await _queue(services, clock, str(chat_id), "唤醒之后的消息")
        await fake.wait_until(lambda: "唤醒之后的消息" in fake.texts_to(chat_id), timeout=10)
        await asyncio.sleep(2)  # anything sent twice would arrive by now
        assert _leads(await _holders(services), second.pid)
    finally:
        for process in (first, second):
            if process is not None:
                assert await stop_service(process) == 0
        for log in logs.values():
            log.close()
        await services.close()
    for chat_id in reminded:
        assert sum("会议提醒" in t for t in fake.texts_to(chat_id)) == 1
    for words in ("冻结期间的消息", "唤醒之后的消息"):
        assert fake.texts_to(int(members[0].account_id)).count(words) == 1
    woken = (tmp_path / "first.log").read_bytes()[woken_from:].decode()
    assert "stopping the scheduler here" in woken
    assert "Running job" not in woken.split("stopping the scheduler here")[1]


async def _leads_now(services: Services, pid: int) -> bool:
    return _leads(await _holders(services), pid)


async def _lease_sessions(services: Services) -> list[int]:
    async with services.sessions() as session:
        return list((await session.scalars(select(Lease.backend_pid))).all())


async def _alive(services: Services, pids: list[int]) -> int:
    """How many of these database sessions the server still has."""
    async with services.sessions() as session:
        query = text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)")
        return int(await session.scalar(query, {"pids": pids}) or 0)


async def _queue(services: Services, clock: Clock, chat_id: str, text: str) -> None:
    """A message to one member through the outbox, as any process might queue one."""
    reply = Reply(Msg("notice.status", lines=text))
    envelope = Envelope(text, "telegram", chat_id, reply_out(reply), "test")
    async with services.sessions.begin() as session:
        await outbox.enqueue(session, [envelope], clock())
