"""Build the AsyncIOScheduler on the SQLAlchemy job store and register the standing jobs.

Jobs live in the database (table apscheduler_jobs; on SQLite in a sibling file, see
storage.db.job_store_url), so they survive restarts; a job missed while the service was down
runs once on start (coalesce + grace time).
APScheduler 3 must never run twice on one job store: on PostgreSQL, where several service
processes may share the database, `SchedulerService` runs it only in the process holding the
scheduler's lease (storage/leader.py), and the store itself refuses a process whose lease has
run out (`LeadersJobStore`); another process takes over within seconds when the leader dies,
and within LEASE_SECONDS + LEADER_CHECK_SECONDS when it is frozen or cut off.
"""

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from handlers.core.context import Options
from handlers.evaluation.settings import EvaluationSettings
from handlers.pipeline.settings import PipelineSettings
from handlers.study.settings import StudySettings
from scheduler import (
    branch_group_jobs,
    events,
    jobs,
    meeting_jobs,
    pipeline_jobs,
    stored,
    study_jobs,
    watch_jobs,
)
from scheduler.context import JobContext, use, use_scheduler
from storage import keepalive
from storage.crashpoints import crash_point
from storage.db import ensure_sqlite_dir, job_store_url
from storage.leader import Leadership, LeaseLost

log = logging.getLogger(__name__)

JOB_TABLE = "apscheduler_jobs"
MISFIRE_GRACE_SECONDS = 3600
HOUSEKEEPING = "housekeeping.daily"
NOTICE_SUMMARIES = "notices.summaries"
SYNC_EVERY_SECONDS = 10
LEADER_CHECK_SECONDS = 5.0
CHAIN_WALK_AFTER_START = timedelta(minutes=1)  # after the start-up work has settled
# Crash points (storage/crashpoints.py): the scheduler started, no due job taken yet; a due
# job taken from the store (a one-off one removed) and handed to the executor.
STARTED, TAKEN = "scheduler.started", "scheduler.job_taken"


def job_store_engine(database_url: str) -> Engine:
    """The job store's synchronous engine; a SQLite file in WAL mode with NORMAL syncing,
    like the main database, so planning thousands of jobs is not an fsync each."""
    url = job_store_url(database_url)
    ensure_sqlite_dir(url)  # owner-only, like the main database
    if make_url(url).get_backend_name() == "postgresql":
        return create_engine(url, connect_args=keepalive.libpq_args())
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    return engine


class LeadersJobStore(SQLAlchemyJobStore):
    """The job store, read for due jobs and changed only while this process leads.

    APScheduler changes the store as it takes due jobs (a one-off job removed, a repeating one
    moved to its next run). A process frozen past its lease must not do that when it wakes,
    or the process now leading would find them gone: so due jobs are taken only while the
    lease is valid by this process's clock and still this process's in the database."""

    def __init__(self, leadership: Leadership | None, **options: Any) -> None:
        super().__init__(**options)
        self.leadership = leadership

    def get_due_jobs(self, now: datetime) -> list[Job]:
        if self.leadership is not None and not self._lease_held():
            return []
        return super().get_due_jobs(now)

    def add_job(self, job: Job) -> None:
        self._must_lead()
        super().add_job(job)

    def update_job(self, job: Job) -> None:
        self._must_lead()
        super().update_job(job)

    def remove_job(self, job_id: str) -> None:
        self._must_lead()
        super().remove_job(job_id)

    def _must_lead(self) -> None:
        if self.leadership is not None and not self.leadership.valid():
            raise LeaseLost(self.leadership.name)

    def _lease_held(self) -> bool:
        leadership = self.leadership
        if leadership is None or not leadership.valid():
            return False
        query = leadership.lease_query()
        if query is None:  # one process (SQLite): nothing to ask
            return True
        with self.engine.connect() as conn:
            return conn.execute(query).first() is not None


def build_scheduler(
    database_url: str, timezone: ZoneInfo, leadership: Leadership | None = None
) -> AsyncIOScheduler:
    store = LeadersJobStore(leadership, engine=job_store_engine(database_url), tablename=JOB_TABLE)
    return AsyncIOScheduler(
        jobstores={"default": store},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": MISFIRE_GRACE_SECONDS,
        },
        timezone=timezone,
    )


def add_standing_jobs(scheduler: AsyncIOScheduler, options: Options) -> None:
    """Jobs every installation runs; replace_existing keeps one copy of each.

    Cron triggers get the configured zone explicitly: a trigger object does not take the
    scheduler's zone, it would fall back to the machine's (UTC on a server)."""
    zone = options.timezone
    scheduler.add_job(
        jobs.housekeeping,
        CronTrigger(hour=4, minute=0, timezone=zone),
        id=HOUSEKEEPING,
        replace_existing=True,
    )
    scheduler.add_job(
        jobs.notice_summaries,
        CronTrigger(minute="*/5", timezone=zone),
        id=NOTICE_SUMMARIES,
        replace_existing=True,
    )
    scheduler.add_job(
        meeting_jobs.sync,
        IntervalTrigger(seconds=SYNC_EVERY_SECONDS),
        id=meeting_jobs.SYNC,
        replace_existing=True,
    )
    scheduler.add_job(
        meeting_jobs.rotate_codes,
        # Codes turn on the minute (TOTP steps of 60 s from the epoch): just after it.
        CronTrigger(second=1, timezone=zone),
        id=meeting_jobs.CODES,
        replace_existing=True,
        misfire_grace_time=30,  # a turn missed is overtaken by the next one
    )
    scheduler.add_job(
        watch_jobs.survey_deadlines,
        CronTrigger(minute=7, timezone=zone),
        id=watch_jobs.SURVEYS,
        replace_existing=True,
        misfire_grace_time=3600,
    )
    scheduler.add_job(
        watch_jobs.access_watch,
        CronTrigger(minute="*/5", timezone=zone),
        id=watch_jobs.ACCESS,
        replace_existing=True,
    )
    _add_group_jobs(scheduler, zone)
    if options.of(EvaluationSettings).chain_walk_at:
        scheduler.add_job(
            watch_jobs.chain_walk_if_due,
            DateTrigger(datetime.now(zone) + CHAIN_WALK_AFTER_START),
            id=watch_jobs.CHAIN_AT_START,
            replace_existing=True,
        )
    daily = (
        (study_jobs.PUSH, study_jobs.material_push, options.of(StudySettings).material_push_at),
        (
            study_jobs.QUIZ_REMINDER,
            study_jobs.quiz_reminder,
            options.of(StudySettings).quiz_remind_at,
        ),
        (pipeline_jobs.DAILY, pipeline_jobs.daily, options.of(PipelineSettings).pipeline_remind_at),
        (watch_jobs.CHAIN, watch_jobs.chain_walk, options.of(EvaluationSettings).chain_walk_at),
    )
    for job_id, job, at in daily:
        if not at:  # turned off (a job stored earlier finds the setting empty and skips)
            continue
        hour, minute = (int(part) for part in at.split(":"))
        scheduler.add_job(
            job,
            CronTrigger(hour=hour, minute=minute, timezone=zone),
            id=job_id,
            replace_existing=True,
            misfire_grace_time=2 * 3600,  # after a short outage, still the same morning
        )


def _add_group_jobs(scheduler: AsyncIOScheduler, zone: ZoneInfo) -> None:
    """The branch groups' jobs: roll-call deadlines, Monday's highlights."""
    scheduler.add_job(
        branch_group_jobs.rollcall_deadlines,
        CronTrigger(minute="*/5", timezone=zone),
        id=branch_group_jobs.ROLLCALL_DEADLINES,
        replace_existing=True,
    )
    scheduler.add_job(
        branch_group_jobs.weekly_highlights,
        CronTrigger(day_of_week="mon", hour=9, minute=0, timezone=zone),
        id=branch_group_jobs.HIGHLIGHTS,
        replace_existing=True,
        misfire_grace_time=6 * 3600,  # after an outage, still Monday's post
    )


def start_scheduler(
    context: JobContext,
    database_url: str,
    timezone: ZoneInfo,
    leadership: Leadership | None = None,
    watcher: events.JobWatcher | None = None,
) -> AsyncIOScheduler:
    use(context)
    scheduler = build_scheduler(database_url, timezone, leadership)
    use_scheduler(scheduler)
    add_standing_jobs(scheduler, context.options)
    scheduler.add_listener(_taken, EVENT_JOB_SUBMITTED)
    if watcher is not None:
        events.watch(scheduler, watcher)
    scheduler.start()
    return scheduler


def _taken(event: JobSubmissionEvent) -> None:
    crash_point(TAKEN, event.job_id)


class SchedulerService:
    """The scheduler, run only while this process leads (always, on SQLite)."""

    def __init__(
        self,
        context: JobContext,
        database_url: str,
        timezone: ZoneInfo,
        leadership: Leadership,
        watcher: events.JobWatcher | None = None,
    ) -> None:
        self.context = context
        self.database_url = database_url
        self.timezone = timezone
        self.leadership = leadership
        self.watcher = watcher  # told of every job run (the service's metrics)
        self.scheduler: AsyncIOScheduler | None = None
        self._watch: asyncio.Task[None] | None = None

    @property
    def leading(self) -> bool:
        """This process runs the scheduler now."""
        return self.scheduler is not None

    async def start(self) -> None:
        # A failed first try (the database slow to answer, or this process frozen while it
        # waited) must not stop the service: the watch below tries again.
        try:
            await self._follow_leadership()
        except Exception:
            log.exception("taking the scheduler's lease failed at start; trying again shortly")
        self._watch = asyncio.create_task(self._keep_watching(), name="scheduler-leadership")

    async def _keep_watching(self) -> None:
        while True:
            await asyncio.sleep(LEADER_CHECK_SECONDS)
            try:
                await self._follow_leadership()
            except Exception:
                log.exception("checking the scheduler's leadership failed")

    async def _follow_leadership(self) -> None:
        leading = await self.leadership.try_acquire()
        if leading and self.scheduler is None:
            store = job_store_engine(self.database_url)
            try:
                # Before the scheduler reads the store, which would drop them unannounced.
                dropped = stored.drop_unloadable(store, JOB_TABLE)
                # A fresh scheduler each time: APScheduler 3 does not restart a shut-down one.
                self.scheduler = start_scheduler(
                    self.context, self.database_url, self.timezone, self.leadership, self.watcher
                )
                crash_point(STARTED)
                log.info("this process runs the scheduler")
                lost = any(job_id.startswith(meeting_jobs.PREFIX) for job_id in dropped)
                await meeting_jobs.replan_if_lost(store, lost)
                await self._catch_up()
            finally:
                store.dispose()
        elif not leading and self.scheduler is not None:
            log.warning("lost the scheduler's lease; stopping the scheduler here")
            self.scheduler.shutdown(wait=False)
            self.scheduler = None

    async def _catch_up(self) -> None:
        """Now, not in SYNC_EVERY_SECONDS: plan what changed and run what a dead or frozen
        leader left undone. A failure waits for the next sync rather than stop the start."""
        try:
            await meeting_jobs.sync()
        except Exception:
            log.exception("planning and catching up the meetings' jobs failed; the sync retries")

    def sync_meetings_now(self) -> None:
        """A meeting changed in this process: plan its jobs now rather than at the next sync."""
        if self.scheduler is None:
            return  # the leading process picks the change up within SYNC_EVERY_SECONDS
        with contextlib.suppress(JobLookupError, LeaseLost):  # lost: the new leader syncs
            self.scheduler.modify_job(meeting_jobs.SYNC, next_run_time=datetime.now(self.timezone))

    async def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
        await self.leadership.release()
