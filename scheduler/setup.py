"""Build the AsyncIOScheduler on the SQLAlchemy job store and register the standing jobs.

Jobs live in the same database as everything else (table apscheduler_jobs), so they survive
restarts; a job missed while the service was down runs once on start (coalesce + grace time).
"""

from zoneinfo import ZoneInfo

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from scheduler import jobs
from scheduler.context import JobContext, use
from storage.db import sync_url

JOB_TABLE = "apscheduler_jobs"
MISFIRE_GRACE_SECONDS = 3600
HOUSEKEEPING = "housekeeping.daily"
NOTICE_SUMMARIES = "notices.summaries"


def build_scheduler(database_url: str, timezone: ZoneInfo) -> AsyncIOScheduler:
    store = SQLAlchemyJobStore(url=sync_url(database_url), tablename=JOB_TABLE)
    return AsyncIOScheduler(
        jobstores={"default": store},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": MISFIRE_GRACE_SECONDS,
        },
        timezone=timezone,
    )


def add_standing_jobs(scheduler: AsyncIOScheduler) -> None:
    """Jobs every installation runs; replace_existing keeps one copy of each."""
    scheduler.add_job(
        jobs.housekeeping, CronTrigger(hour=4, minute=0), id=HOUSEKEEPING, replace_existing=True
    )
    scheduler.add_job(
        jobs.notice_summaries,
        CronTrigger(minute="*/5"),
        id=NOTICE_SUMMARIES,
        replace_existing=True,
    )


def start_scheduler(context: JobContext, database_url: str, timezone: ZoneInfo) -> AsyncIOScheduler:
    use(context)
    scheduler = build_scheduler(database_url, timezone)
    add_standing_jobs(scheduler)
    scheduler.start()
    return scheduler
