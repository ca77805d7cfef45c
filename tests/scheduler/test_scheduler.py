"""The scheduler: jobs persist in the application's database and housekeeping prunes old ids."""

import asyncio
import pickle
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import create_engine as sync_engine
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app.services import Services
from scheduler import branch_group_jobs, jobs, meeting_jobs, pipeline_jobs, study_jobs, watch_jobs
from scheduler.context import JobContext
from scheduler.meeting_jobs import SYNC, plan
from scheduler.setup import (
    HOUSEKEEPING,
    JOB_TABLE,
    NOTICE_SUMMARIES,
    SchedulerService,
    start_scheduler,
)
from storage import updates
from storage.db import create_engine, job_store_url
from storage.enums import Role
from storage.leader import Leadership
from storage.models import Meeting, OutboxMessage, ProcessedUpdate
from tests.support.chat import Chat, Clock


def _context(services: Services, clock: Clock) -> JobContext:
    router = services.router
    return JobContext(services.sessions, services.box, router.options, clock)


async def _job_ids(services: Services) -> list[str]:
    """The ids in the job store itself (read as APScheduler reads it)."""
    engine = sync_engine(job_store_url(services.settings.database_url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(f"SELECT id FROM {JOB_TABLE} ORDER BY id"))
            return [row[0] for row in rows]
    finally:
        engine.dispose()


async def test_standing_jobs_are_stored_once_across_restarts(
    services: Services, clock: Clock
) -> None:
    settings = services.settings
    for _ in range(2):
        scheduler = start_scheduler(_context(services, clock), settings.database_url, settings.zone)
        job = scheduler.get_job(HOUSEKEEPING)
        assert job is not None and job.next_run_time is not None
        push = scheduler.get_job(study_jobs.PUSH)
        reminder = scheduler.get_job(study_jobs.QUIZ_REMINDER)
        assert push is not None and reminder is not None
        assert push.next_run_time.astimezone(settings.zone).strftime("%H:%M") == "08:00"
        assert reminder.next_run_time.astimezone(settings.zone).strftime("%H:%M") == "20:00"
        pipeline = scheduler.get_job(pipeline_jobs.DAILY)
        assert pipeline.next_run_time.astimezone(settings.zone).strftime("%H:%M") == "09:00"
        walk = scheduler.get_job(watch_jobs.CHAIN)
        assert walk.next_run_time.astimezone(settings.zone).strftime("%H:%M") == "03:30"
        scheduler.shutdown(wait=False)
    assert await _job_ids(services) == sorted(
        [
            HOUSEKEEPING,
            SYNC,
            meeting_jobs.CODES,
            NOTICE_SUMMARIES,
            study_jobs.PUSH,
            study_jobs.QUIZ_REMINDER,
            pipeline_jobs.DAILY,
            watch_jobs.SURVEYS,
            watch_jobs.CHAIN,
            watch_jobs.CHAIN_AT_START,
            watch_jobs.ACCESS,
            branch_group_jobs.ROLLCALL_DEADLINES,
            branch_group_jobs.HIGHLIGHTS,
        ]
    )


async def test_housekeeping_forgets_only_old_update_ids(services: Services, clock: Clock) -> None:
    async with services.sessions.begin() as session:
        await updates.claim(session, "telegram", "old", clock() - timedelta(days=8))
        await updates.claim(session, "telegram", "new", clock() - timedelta(hours=1))
    settings = services.settings
    scheduler = start_scheduler(_context(services, clock), settings.database_url, settings.zone)
    try:
        assert await jobs.housekeeping() == (1, 0)
    finally:
        scheduler.shutdown(wait=False)
    async with services.sessions() as session:
        keys = (await session.scalars(select(ProcessedUpdate.update_key))).all()
        assert keys == ["new"]
        assert await session.scalar(select(func.count()).select_from(ProcessedUpdate)) == 1


async def test_meeting_jobs_follow_the_meeting(services: Services, clock: Clock) -> None:
    chat = Chat(services, clock)
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    # Months ahead by both clocks: APScheduler runs on the real one.
    zone = services.settings.zone
    day = (datetime.now(zone) + timedelta(days=200)).date()
    await secretary.say(f"/meeting_new {day} 14:30 | 党课 | 专题党课")
    settings = services.settings
    scheduler = start_scheduler(_context(services, clock), settings.database_url, settings.zone)
    try:
        assert await meeting_jobs.sync() == 1
        assert await meeting_jobs.sync() == 0  # nothing changed since
        start = datetime.combine(day, time(14, 30), zone)
        runs = {j.id: j.next_run_time for j in scheduler.get_jobs() if j.id.startswith("meeting:")}
        assert runs == {
            "meeting:1:remind:86400s": start - timedelta(days=1),
            "meeting:1:remind:3600s": start - timedelta(hours=1),
            "meeting:1:open": start - timedelta(minutes=15),
            "meeting:1:finish": start + timedelta(minutes=90),
        }
        job = scheduler.get_job("meeting:1:remind:3600s")
        assert job is not None and job.args == (1, 60.0, int(start.timestamp()))
        later = day + timedelta(days=1)
        await secretary.say(f"/meeting_move 1 {later} 09:00")
        assert await meeting_jobs.sync() == 1
        job = scheduler.get_job("meeting:1:remind:3600s")
        moved = datetime.combine(later, time(8, 0), zone)
        assert job is not None and job.next_run_time == moved
        await secretary.say("/meeting_cancel 1")
        await meeting_jobs.sync()
        assert [j.id for j in scheduler.get_jobs() if j.id.startswith("meeting:")] == []
    finally:
        scheduler.shutdown(wait=False)


async def test_a_meeting_made_late_skips_the_reminders_already_due(
    services: Services, clock: Clock
) -> None:
    chat = Chat(services, clock)
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await chat.bound("党员甲")
    soon = datetime.now(services.settings.zone) + timedelta(hours=3)
    await secretary.say(f"/meeting_new {soon:%Y-%m-%d %H:%M} | 党课 | 临时党课")
    settings = services.settings
    scheduler = start_scheduler(_context(services, clock), settings.database_url, settings.zone)
    scheduler.pause()
    try:
        async with services.sessions() as session:
            record = await session.get(Meeting, 1)
            outbox_kinds = (await session.scalars(select(OutboxMessage.kind))).all()
        assert record is not None
        plan(scheduler, record, services.router.options, datetime.now(UTC))
        ids = sorted(j.id for j in scheduler.get_jobs() if j.id.startswith("meeting:1:remind"))
        # The 24-hour reminder's time had passed: the announcement told everyone instead.
        assert ids == ["meeting:1:remind:3600s"]
        assert list(outbox_kinds) == ["meeting.created"]
    finally:
        scheduler.shutdown(wait=False)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_one_scheduler_on_a_shared_postgresql_database(
    services: Services, clock: Clock
) -> None:
    other = create_engine(services.settings.database_url)
    first, second = (_service(services, clock, engine) for engine in (services.engine, other))
    try:
        await first.start()
        await second.start()
        assert first.scheduler is not None and second.scheduler is None
        await first.stop()  # the leader goes away; the other takes over at its next check
        await second._follow_leadership()
        assert second.scheduler is not None
    finally:
        await first.stop()
        await second.stop()
        await other.dispose()


class _FrozenOnce(Leadership):
    """The first try ends as a process frozen mid-query wakes: its timeout already passed."""

    tried = False

    async def try_acquire(self) -> bool:
        if not self.tried:
            self.tried = True
            raise TimeoutError
        return await super().try_acquire()


async def test_a_failed_first_try_for_the_lease_does_not_stop_the_start(
    services: Services, clock: Clock
) -> None:
    settings = services.settings
    leadership = _FrozenOnce(services.engine, "scheduler")
    service = SchedulerService(
        _context(services, clock), settings.database_url, settings.zone, leadership
    )
    try:
        await service.start()  # logged, not raised
        assert service.scheduler is None and leadership.tried
        await service._follow_leadership()  # what the watch does next
        assert service.scheduler is not None
    finally:
        await service.stop()


def _service(
    services: Services, clock: Clock, engine: AsyncEngine | None = None
) -> SchedulerService:
    settings = services.settings
    leadership = Leadership(engine or services.engine, "scheduler")
    return SchedulerService(
        _context(services, clock), settings.database_url, settings.zone, leadership
    )


async def _meeting_planned(services: Services, clock: Clock) -> SchedulerService:
    """A meeting months ahead with its jobs in the store, the service stopped again."""
    chat = Chat(services, clock)
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    day = (datetime.now(services.settings.zone) + timedelta(days=200)).date()
    await secretary.say(f"/meeting_new {day} 14:30 | 党课 | 专题党课")
    service = _service(services, clock)
    await service.start()  # plans it
    await service.stop()
    return service


async def test_a_lost_job_store_is_planned_again(services: Services, clock: Clock) -> None:
    service = await _meeting_planned(services, clock)
    store = sync_engine(job_store_url(services.settings.database_url))
    with store.begin() as conn:  # the jobs file lost, or restored from an older backup
        conn.execute(text(f"DELETE FROM {JOB_TABLE} WHERE id LIKE 'meeting:%'"))
    store.dispose()
    await service.start()  # which plans the changed meetings at once
    try:
        assert "meeting:1:finish" in await _job_ids(services)
    finally:
        await service.stop()


def _store_with_old_paths(database_url: str) -> dict[str, str]:
    """Rewrite every stored job as an earlier version would have stored it: the same job
    under a module path that no longer exists. Returns the old function refs by job id."""
    store = sync_engine(job_store_url(database_url))
    old = {}
    try:
        with store.begin() as conn:
            for job_id, state in conn.execute(text(f"SELECT id, job_state FROM {JOB_TABLE}")):
                job = pickle.loads(state)
                module, name = job["func"].split(":")
                job["func"] = (
                    f"bot.runner:{name}" if "meeting" in module else f"scheduler.old_jobs:{name}"
                )
                old[job_id] = job["func"]
                conn.execute(
                    text(f"UPDATE {JOB_TABLE} SET job_state = :state WHERE id = :id"),
                    {"state": pickle.dumps(job, pickle.HIGHEST_PROTOCOL), "id": job_id},
                )
    finally:
        store.dispose()
    return old


async def test_jobs_stored_by_an_older_version_are_planned_again(
    services: Services, clock: Clock
) -> None:
    service = await _meeting_planned(services, clock)  # as the current version leaves it
    old = _store_with_old_paths(services.settings.database_url)
    assert old["meeting:1:remind:3600s"] == "bot.runner:meeting_reminder"
    assert old[HOUSEKEEPING] == "scheduler.old_jobs:housekeeping"
    await service.start()  # the upgraded service on that database, which plans at once
    try:
        scheduler = service.scheduler
        assert scheduler is not None
        loaded = {job.id: job.func for job in scheduler.get_jobs()}
        assert sorted(loaded) == sorted(old)  # every job back, none dropped
        assert loaded[HOUSEKEEPING] is jobs.housekeeping
        assert loaded["meeting:1:remind:3600s"] is meeting_jobs.meeting_reminder
        assert loaded["meeting:1:finish"] is meeting_jobs.meeting_finish
        # and it fires, run by the scheduler itself
        scheduler.modify_job("meeting:1:remind:3600s", next_run_time=datetime.now(UTC))
        for _ in range(100):
            async with services.sessions() as session:
                kinds = (await session.scalars(select(OutboxMessage.kind))).all()
            if "meeting.reminder" in kinds:
                break
            await asyncio.sleep(0.05)
        assert "meeting.reminder" in kinds
    finally:
        await service.stop()
