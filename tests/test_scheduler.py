"""The scheduler: jobs persist in the application's database and housekeeping prunes old ids."""

from datetime import timedelta

from sqlalchemy import func, select, text

from bot.app import Services
from scheduler import jobs
from scheduler.context import JobContext
from scheduler.meeting_jobs import SYNC
from scheduler.setup import HOUSEKEEPING, JOB_TABLE, NOTICE_SUMMARIES, NUDGE, start_scheduler
from storage import updates
from storage.models import ProcessedUpdate
from tests.chat import Clock


def _context(services: Services, clock: Clock) -> JobContext:
    router = services.router
    return JobContext(services.sessions, services.box, router.options, clock)


async def _job_ids(services: Services) -> list[str]:
    async with services.sessions() as session:
        rows = await session.execute(text(f"SELECT id FROM {JOB_TABLE} ORDER BY id"))
        return [row[0] for row in rows]


async def test_standing_jobs_are_stored_once_across_restarts(
    services: Services, clock: Clock
) -> None:
    settings = services.settings
    for _ in range(2):
        scheduler = start_scheduler(_context(services, clock), settings.database_url, settings.zone)
        job = scheduler.get_job(HOUSEKEEPING)
        assert job is not None and job.next_run_time is not None
        scheduler.shutdown(wait=False)
    assert await _job_ids(services) == sorted([HOUSEKEEPING, SYNC, NUDGE, NOTICE_SUMMARIES])


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
