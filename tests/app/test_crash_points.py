"""A SIGKILL at every step of a meeting's jobs, twice in a row, then a clean start: the reminder
is queued once and the meeting finalised once, each member told once (a message in flight at
a kill may go out twice, no more than one per kill, as the outbox promises)."""

import asyncio
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import pytest
from sqlalchemy import func, select

from bot.app.services import build_services
from bot.app.settings import load_settings
from scheduler import meeting_jobs
from scheduler.context import JobContext
from scheduler.setup import start_scheduler
from storage.crashpoints import VARIABLE
from storage.db import create_engine, session_factory
from storage.enums import MeetingStatus, Role
from storage.models import Meeting, OutboxMessage, Trace
from storage.ops_models import JobRun
from storage.outbox import Status
from tests.conftest import SECRET
from tests.support.chat import Chat, Clock
from tests.support.fake_telegram import FakeTelegram
from tests.support.processes import fake_api_env, start_service, stop_service

# Where the process dies: "point@prefix" kills it there for a job id starting with prefix.
POINTS = {
    "started-nothing-taken": "scheduler.started",
    "taken-from-the-store": "scheduler.job_taken@meeting:",
    "work-done-not-committed": "meeting_job.work_done@meeting:",
    "committed": "meeting_job.committed@meeting:",
}
REMINDED, ENDED = 1, 2  # the meetings: one whose reminder is due, one that is over
REMINDER, ABSENT = "会议提醒", "已记为缺席"
LEAD = "31"  # minutes: the reminder of a meeting 30 minutes ahead is due already


async def _two_meetings_planned(database_url: str) -> list[int]:
    """A meeting starting in 30 minutes and one that ended half an hour ago, made and
    planned three hours ago: every job they need is due now. Returns the chats told."""
    now = datetime.now(UTC)
    clock = Clock(now - timedelta(hours=3))
    settings = load_settings(
        database_url=database_url, secret_key=SECRET, meeting_reminder_minutes=[float(LEAD)]
    )
    services = build_services(settings, clock=clock)
    try:
        chat = Chat(services, clock)
        users = [await chat.bound("书记", role=Role.SECRETARY)]
        users += [await chat.bound(f"党员{i}") for i in range(3)]
        for starts in (now + timedelta(minutes=30), now - timedelta(hours=2)):
            at = starts.astimezone(settings.zone)
            await users[0].say(f"/meeting_new {at:%Y-%m-%d %H:%M} | 党课 | 断电也要提醒")
        router = services.router
        context = JobContext(services.sessions, services.box, router.options, clock)
        scheduler = start_scheduler(context, database_url, settings.zone)
        scheduler.pause()
        try:
            assert await meeting_jobs.sync() == 2
        finally:
            scheduler.shutdown(wait=False)
    finally:
        await services.close()
    return [int(user.account_id) for user in users]


def _told(fake: FakeTelegram, chats: list[int], words: str) -> list[int]:
    return [sum(words in text for text in fake.texts_to(chat)) for chat in chats]


class Finished:
    """Every job done and every member told both things (in the database and the fake)."""

    def __init__(self, database_url: str, fake: FakeTelegram, chats: list[int]) -> None:
        self.engine = create_engine(database_url)
        self.sessions = session_factory(self.engine)
        self.fake = fake
        self.chats = chats

    async def __call__(self) -> bool:
        if not all(_told(self.fake, self.chats, REMINDER)):
            return False
        if not all(_told(self.fake, self.chats, ABSENT)):
            return False
        async with self.sessions() as session:
            undone = select(func.count()).where(
                JobRun.done_at.is_(None), JobRun.meeting_id == ENDED
            )
            unsent = select(func.count()).where(
                OutboxMessage.status.in_((Status.PENDING, Status.SENDING))
            )
            return not await session.scalar(undone) and not await session.scalar(unsent)

    async def counts(self) -> dict[str, object]:
        async with self.sessions() as session:
            kinds = select(OutboxMessage.kind, OutboxMessage.ref, func.count()).group_by(
                OutboxMessage.kind, OutboxMessage.ref
            )
            traces = select(Trace.kind, Trace.ref, func.count()).group_by(Trace.kind, Trace.ref)
            ended = await session.get(Meeting, ENDED)
            return {
                "queued": {(k, r): n for k, r, n in (await session.execute(kinds)).all()},
                "traced": {(k, r): n for k, r, n in (await session.execute(traces)).all()},
                "status": ended.status if ended else None,
                "resent": await session.scalar(select(func.sum(OutboxMessage.resent))) or 0,
            }


async def _run(env: dict[str, str], log: IO[bytes], finished: Finished) -> int | None:
    """Run a service process until it dies (its status) or has finished everything (None:
    then it is stopped in order)."""
    process = start_service(env, log)
    try:
        for _ in range(1200):
            if process.poll() is not None:
                return process.returncode
            if await finished():
                await asyncio.sleep(0.5)  # anything sent twice would arrive by now
                return None
            await asyncio.sleep(0.05)
        raise AssertionError("the service neither died nor finished in a minute")
    finally:
        if process.poll() is None:
            assert await stop_service(process) == 0


@pytest.mark.parametrize("crash_at", POINTS.values(), ids=POINTS.keys())
async def test_a_kill_at_any_step_of_a_meeting_job_loses_nothing_and_repeats_nothing(
    fake: FakeTelegram, database_url: str, tmp_path: Path, crash_at: str
) -> None:
    chats = await _two_meetings_planned(database_url)
    env = {**fake_api_env(fake, database_url), "BRANCHBOT_MEETING_REMINDER_MINUTES": f"[{LEAD}]"}
    finished = Finished(database_url, fake, chats)
    kills = 0
    try:
        with (tmp_path / "run.log").open("wb") as log:
            for _ in range(2):  # killed at that step, and again at it after the restart
                status = await _run({**env, VARIABLE: crash_at}, log, finished)
                kills += status == -signal.SIGKILL
                assert status in (None, -signal.SIGKILL), (tmp_path / "run.log").read_text()
            assert kills >= 1, "the crash point was never reached"
            if not await finished():
                assert await _run(env, log, finished) is None  # a clean start ends the work
        counts = await finished.counts()
    finally:
        await finished.engine.dispose()
    members = len(chats)
    assert counts["status"] == MeetingStatus.FINISHED
    queued, traced = counts["queued"], counts["traced"]
    assert isinstance(queued, dict) and isinstance(traced, dict)
    assert queued[("meeting.reminder", f"meeting:{REMINDED}")] == members
    assert queued[("attendance.absent", f"meeting:{ENDED}")] == members
    assert ("meeting.reminder", f"meeting:{ENDED}") not in queued  # it had begun: too late
    assert traced[("reminder.sent", f"meeting:{REMINDED}")] == 1
    assert traced[("attendance.finalized", f"meeting:{ENDED}")] == 1
    told = _told(fake, chats, REMINDER) + _told(fake, chats, ABSENT)
    assert min(told) == 1
    assert sum(told) - len(told) <= min(kills, int(str(counts["resent"]))), told
