"""Meeting jobs recorded in job_runs: a job APScheduler took from its store and never ran is run
from its record by the sweep, once; a job that comes round twice acts once; a move or a
cancellation forgets the runs not done; the store refuses a process whose lease is gone."""

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app.services import Services
from handlers.meetings.domain import planned_for
from scheduler import meeting_jobs
from scheduler.context import JobContext
from scheduler.setup import LeadersJobStore, start_scheduler
from storage import schema
from storage.db import create_engine
from storage.enums import MeetingStatus, Role
from storage.leader import Leadership, LeaseLost
from storage.models import Meeting, OutboxMessage
from storage.ops_models import JobRun
from tests.conftest import empty_database
from tests.support.chat import Chat, Clock, User
from tests.support.traces import traces_of

MEMBERS = 3


@pytest.fixture
async def paused(services: Services, clock: Clock) -> AsyncIterator[AsyncIOScheduler]:
    """The scheduler on the test database, paused: jobs fire only when a test runs them."""
    router = services.router
    context = JobContext(services.sessions, services.box, router.options, clock)
    settings = services.settings
    scheduler = start_scheduler(context, settings.database_url, settings.zone)
    scheduler.pause()
    yield scheduler
    scheduler.shutdown(wait=False)


async def _meeting(services: Services, clock: Clock) -> tuple[Meeting, User]:
    """A meeting two days ahead, with a secretary and members to remind; its jobs planned.
    Returns it and its secretary."""
    chat = Chat(services, clock)
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    for i in range(MEMBERS):
        await chat.bound(f"党员{i}")
    day = (clock() + timedelta(days=2)).astimezone(services.settings.zone).date()
    await secretary.say(f"/meeting_new {day} 14:30 | 党课 | 专题党课")
    assert await meeting_jobs.sync() == 1
    async with services.sessions() as session:
        meeting = await session.get(Meeting, 1)
    assert meeting is not None
    return meeting, secretary


async def _count(services: Services, kind: str) -> int:
    async with services.sessions() as session:
        query = select(func.count()).where(OutboxMessage.kind == kind)
        return int(await session.scalar(query) or 0)


async def _runs(services: Services) -> dict[tuple[str, int], bool]:
    """Each recorded run, and whether it is done."""
    async with services.sessions() as session:
        rows = (await session.scalars(select(JobRun))).all()
    return {(r.job_id, r.planned): r.done_at is not None for r in rows}


async def test_jobs_taken_from_the_store_and_lost_run_once_from_their_records(
    services: Services, clock: Clock, paused: AsyncIOScheduler
) -> None:
    meeting, _ = await _meeting(services, clock)
    planned = planned_for(meeting)
    assert await _runs(services) == {
        ("meeting:1:remind:86400s", planned): False,
        ("meeting:1:remind:3600s", planned): False,
        ("meeting:1:open", planned): False,
        ("meeting:1:finish", planned): False,
    }
    # APScheduler removes a one-off job from its store as it takes it; the process dies.
    paused.remove_job("meeting:1:remind:86400s")
    clock.now = meeting.starts_at - timedelta(hours=23)
    assert await meeting_jobs.sweep() == 1
    assert await _count(services, "meeting.reminder") == MEMBERS + 1  # the secretary too
    assert await meeting_jobs.sweep() == 0
    # The alarm comes round as well (a second process, a late executor): nothing more.
    assert await meeting_jobs.meeting_reminder(1, 1440, planned) == 0
    assert await _count(services, "meeting.reminder") == MEMBERS + 1
    assert len(await traces_of(services, "reminder.sent")) == 1
    # Finalising, taken and lost after the meeting: it still runs, once.
    paused.remove_job("meeting:1:finish")
    clock.now = meeting.starts_at + timedelta(hours=2)
    assert await meeting_jobs.sweep() == 1  # the jobs still in the store are left to it
    assert await meeting_jobs.sweep() == 0
    assert not await meeting_jobs.meeting_finish(1, planned)
    async with services.sessions() as session:
        finished = await session.get(Meeting, 1)
    assert finished is not None and finished.status == MeetingStatus.FINISHED
    assert len(await traces_of(services, "attendance.finalized")) == 1
    assert await _count(services, "attendance.absent") == MEMBERS + 1


async def test_a_job_stored_before_its_record_existed_still_runs_once(
    services: Services, clock: Clock, paused: AsyncIOScheduler
) -> None:
    """A job an older version stored, or one that fires before sync commits its record."""
    meeting, _ = await _meeting(services, clock)
    async with services.sessions.begin() as session:
        await session.execute(JobRun.__table__.delete())
    clock.now = meeting.starts_at - timedelta(minutes=30)
    planned = planned_for(meeting)
    assert await meeting_jobs.meeting_reminder(1, 60, planned) == MEMBERS + 1
    assert await meeting_jobs.meeting_reminder(1, 60, planned) == 0
    assert await _runs(services) == {("meeting:1:remind:3600s", planned): True}


async def test_a_move_or_a_cancellation_forgets_the_runs_not_done(
    services: Services, clock: Clock, paused: AsyncIOScheduler
) -> None:
    meeting, secretary = await _meeting(services, clock)
    first = planned_for(meeting)
    clock.now = meeting.starts_at - timedelta(hours=23)
    assert await meeting_jobs.meeting_reminder(1, 1440, first) > 0
    later = (meeting.starts_at + timedelta(days=7)).astimezone(services.settings.zone)
    await secretary.say(f"/meeting_move 1 {later:%Y-%m-%d %H:%M}")
    assert await meeting_jobs.sync() == 1
    runs = await _runs(services)
    moved = {key for key in runs if key[1] != first}
    assert runs[("meeting:1:remind:86400s", first)]  # what was done stays on record
    assert [key for key in runs if key[1] == first] == [("meeting:1:remind:86400s", first)]
    assert {job for job, _ in moved} == {
        "meeting:1:remind:86400s",
        "meeting:1:remind:3600s",
        "meeting:1:open",
        "meeting:1:finish",
    }
    await secretary.say("/meeting_cancel 1")
    assert await meeting_jobs.sync() == 1
    assert list(await _runs(services)) == [("meeting:1:remind:86400s", first)]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_the_store_takes_no_due_job_for_a_process_that_lost_its_lease(
    services: Services, clock: Clock, paused: AsyncIOScheduler
) -> None:
    await _meeting(services, clock)  # its jobs are due by the real clock: days ago
    other = create_engine(services.settings.database_url)
    ours = Leadership(services.engine, "scheduler", lease=3.0, renew=3600)
    theirs = Leadership(other, "scheduler")
    store = paused._lookup_jobstore("default")
    assert isinstance(store, LeadersJobStore)
    try:
        assert await ours.try_acquire()
        store.leadership = ours
        now = clock() + timedelta(days=30)
        assert "meeting:1:finish" in {job.id for job in store.get_due_jobs(now)}
        # Its database session dies: another process takes over while this one's own
        # clock still says it leads. The store asks the database and gives nothing.
        async with other.connect() as conn:
            pid = await conn.scalar(text("SELECT backend_pid FROM leases"))
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        assert await theirs.try_acquire()
        assert ours.held and store.get_due_jobs(now) == []
        for _ in range(100):  # and once its lease is over by its own clock, it changes nothing
            if not ours.held:
                break
            await asyncio.sleep(0.1)
        with pytest.raises(LeaseLost):
            store.remove_job("meeting:1:finish")
    finally:
        store.leadership = None
        await ours.release()
        await theirs.release()
        await other.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_the_leases_and_job_runs_migration_goes_up_and_down(
    backend: str, tmp_path: Path
) -> None:
    url = await empty_database(backend, tmp_path)
    engine = create_engine(url)
    await schema.upgrade(engine, revision="0014")
    rows = [
        "INSERT INTO branches (id, name, created_at) VALUES (1, '第一党支部', :at)",
        "INSERT INTO meetings (id, branch_id, kind, title, starts_at, minutes, status,"
        " checkin_secret, created_at, jobs_synced) VALUES"
        " (1, 1, 'lecture', '党课', :at, 90, 'scheduled', 'S', :at, :yes),"
        " (2, 1, 'lecture', '党课', :at, 90, 'finished', 'S', :at, :yes)",
    ]
    async with engine.begin() as conn:
        for statement in rows:
            await conn.execute(text(statement), {"at": datetime(2026, 12, 1, 8, 0), "yes": True})
    await schema.upgrade(engine, revision="0016")
    async with AsyncSession(engine) as session:
        synced = (await session.execute(text("SELECT id, jobs_synced FROM meetings"))).all()
        assert await session.scalar(select(func.count()).select_from(JobRun)) == 0
    # The scheduled meeting is planned again, so its jobs get their records.
    assert sorted((i, bool(s)) for i, s in synced) == [(1, False), (2, True)]
    await schema.downgrade(engine, "0014")
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(c.dialect.get_table_names(c)))
    await engine.dispose()
    assert "job_runs" not in tables and "leases" not in tables and "meetings" in tables
