"""Per-meeting jobs (reminders, opening check-in, finalising attendance), the sync job that
keeps them in step with the meetings table, and the sweep that runs what a crash lost.

Handlers never touch the scheduler: a change to a meeting clears its `jobs_synced` flag in
the same transaction, and `sync` (every few seconds, and at once when this process made the
change) replaces the meeting's jobs. So a change is never lost, even when another process,
or none, was running the scheduler at the time.

APScheduler 3 removes a one-off job from its store as it hands it to the executor, before the
work commits: a process that dies in between would lose it for good. So the store is only the
alarm clock. Each job is also recorded in `job_runs` when it is planned and marked done in
the very transaction of its work; `sweep` (in every sync, and at once when a process takes
the scheduler over) runs each recorded job that is due, not done and no longer in the store.
A job that comes round twice finds its run done and does nothing, so it happens once.
"""

import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import Engine, text
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.context import Options
from handlers.meetings.domain import auto_open, finalize, planned_for, remind
from handlers.meetings.group_checkin import rotate_codes as redraw_group_codes
from handlers.meetings.settings import MeetingSettings
from scheduler.context import current, current_scheduler
from storage import job_runs, meetings
from storage.crashpoints import crash_point
from storage.enums import MeetingStatus
from storage.job_runs import Run
from storage.leader import LeaseLost
from storage.meetings import ends_at
from storage.models import Meeting

log = logging.getLogger(__name__)
T = TypeVar("T")
SYNC = "meetings.sync"
CODES = "meetings.codes"
PREFIX = "meeting:"  # of every per-meeting job's id
REMIND, OPEN, FINISH = "remind", "open", "finish"  # what a run does (job_runs.kind)
# Crash points (storage/crashpoints.py): a job's work done but not committed; committed.
WORK_DONE, COMMITTED = "meeting_job.work_done", "meeting_job.committed"
# The runs this process is doing now, which the sweep must not start a second time.
_running: set[tuple[str, int]] = set()


def reminder_id(meeting_id: int, minutes: float) -> str:
    return f"{PREFIX}{meeting_id}:remind:{round(minutes * 60)}s"


def job_ids(meeting_id: int, options: Options) -> list[str]:
    return [
        *(reminder_id(meeting_id, m) for m in options.of(MeetingSettings).reminders),
        f"{PREFIX}{meeting_id}:open",
        f"{PREFIX}{meeting_id}:finish",
    ]


def runs_of(meeting: Meeting, options: Options, now: datetime) -> list[Run]:
    """The jobs the meeting's current state needs from `now` on.

    A reminder whose time had passed when the meeting was made or moved is left out: the
    announcement or the move notice, queued with the change, told everyone."""
    if meeting.status != MeetingStatus.SCHEDULED:
        return []
    start, end, planned = meeting.starts_at, ends_at(meeting), planned_for(meeting)
    runs = [
        Run(reminder_id(meeting.id, m), planned, meeting.id, REMIND, at, m)
        for m in options.of(MeetingSettings).reminders
        if (at := start - timedelta(minutes=m)) > now
    ]
    if end > now:
        opens = max(start - options.of(MeetingSettings).checkin_opens_before, now)
        runs.append(Run(f"{PREFIX}{meeting.id}:open", planned, meeting.id, OPEN, opens))
    runs.append(Run(f"{PREFIX}{meeting.id}:finish", planned, meeting.id, FINISH, max(end, now)))
    return runs


def plan(scheduler: BaseScheduler, meeting: Meeting, options: Options, now: datetime) -> list[Run]:
    """Replace the meeting's jobs in the store with those its current state needs; returns
    them. Each job carries the start it was planned for, so a job left over from before a
    move does nothing."""
    for job_id in job_ids(meeting.id, options):
        with contextlib.suppress(JobLookupError):
            scheduler.remove_job(job_id)
    runs = runs_of(meeting, options, now)
    end = ends_at(meeting)
    for run in runs:
        # Missed while the service was down: still run while it can matter; finalising
        # always (None: no limit), or the meeting would never be counted.
        grace = None if run.kind == FINISH else max(int((end - run.due_at).total_seconds()), 3600)
        scheduler.add_job(
            JOBS[run.kind],
            DateTrigger(run.due_at),
            args=_args(run),
            id=run.job_id,
            misfire_grace_time=grace,
            replace_existing=True,
        )
    return runs


def _args(run: Run) -> list[object]:
    if run.kind == REMIND:
        return [run.meeting_id, run.minutes, run.planned]
    return [run.meeting_id, run.planned]


async def sync() -> int:
    """Make the jobs of every meeting changed since the last run, record them, and run any
    recorded job a crash lost (`sweep`). Returns how many meetings were planned.

    No transaction of ours is open while the job store (its own connection) is written: on
    SQLite that would wait on our own write lock. A crash between the two leaves the
    meetings unsynced, so the next run plans them again."""
    ctx = current()
    scheduler = current_scheduler()
    now = ctx.clock()
    async with ctx.sessions() as session:
        changed = list(await meetings.unsynced(session))
    planned = [(meeting, plan(scheduler, meeting, ctx.options, now)) for meeting in changed]
    async with ctx.transaction() as session:
        for meeting, _ in planned:
            start = planned_for(meeting) if meeting.status == MeetingStatus.SCHEDULED else None
            await job_runs.forget_stale(
                session, meeting.id, start, job_ids(meeting.id, ctx.options)
            )
        await job_runs.record(session, [run for _, runs in planned for run in runs])
        for meeting, _ in planned:  # unless it changed again meanwhile: then the next run
            await meetings.mark_synced(session, meeting)
    if changed:
        log.info("planned the jobs of %d changed meeting(s)", len(changed))
    await sweep()
    return len(changed)


async def sweep() -> int:
    """Run the recorded jobs that are due and not done but no longer in the job store: taken
    from it by a process that died before their work committed, or dropped by APScheduler
    past their grace time (the job itself then decides whether it still matters). Returns
    how many ran."""
    ctx = current()
    scheduler = current_scheduler()
    async with ctx.sessions() as session:
        due = await job_runs.due_undone(session, ctx.clock())
    ran = 0
    for run in due:
        if (run.job_id, run.planned) in _running or scheduler.get_job(run.job_id) is not None:
            continue  # running here now, or its alarm is still set
        log.warning("%s, due at %s, has not run: running it now", run.job_id, run.due_at)
        try:
            await JOBS[run.kind](*_args(run))
        except LeaseLost:
            raise
        except Exception:  # the others still run; this one is tried again at the next sync
            log.exception("running %s failed", run.job_id)
        ran += 1
    return ran


async def replan_if_lost(store: Engine, lost: bool = False) -> int:
    """Plan every meeting not yet over again when its jobs are gone: `lost` (some could no
    longer be loaded after an upgrade) or none in the store (a new or lost SQLite jobs file)."""
    if not lost:
        with store.connect() as conn:
            found = conn.execute(
                text(f"SELECT 1 FROM apscheduler_jobs WHERE id LIKE '{PREFIX}%' LIMIT 1")
            ).first()
        if found is not None:
            return 0
    ctx = current()
    async with ctx.transaction() as session:
        count = await meetings.mark_all_unsynced(session, ctx.clock())
    if count:
        log.warning("meeting jobs were missing: planning %d meeting(s) again", count)
    return count


async def meeting_reminder(meeting_id: int, minutes: float, planned: int | None = None) -> int:
    ctx = current()
    options = ctx.options
    job_id = reminder_id(meeting_id, minutes)

    async def work(session: AsyncSession) -> int:
        return await remind(
            session,
            ctx.box,
            meeting_id,
            minutes,
            ctx.clock(),
            options.timezone,
            planned,
            closer=options.of(MeetingSettings).reminders,
        )

    return await _once(_run(job_id, REMIND, meeting_id, planned, minutes), work, 0)


async def meeting_open(meeting_id: int, planned: int | None = None) -> bool:
    ctx = current()

    async def work(session: AsyncSession) -> bool:
        return await auto_open(session, ctx.box, meeting_id, ctx.clock(), planned)

    job_id = f"{PREFIX}{meeting_id}:open"
    return await _once(_run(job_id, OPEN, meeting_id, planned), work, False)


async def meeting_finish(meeting_id: int, planned: int | None = None) -> bool:
    ctx = current()

    async def work(session: AsyncSession) -> bool:
        return await finalize(session, ctx.box, meeting_id, ctx.clock(), planned)

    job_id = f"{PREFIX}{meeting_id}:finish"
    return await _once(_run(job_id, FINISH, meeting_id, planned), work, False)


def _run(
    job_id: str, kind: str, meeting_id: int, planned: int | None, minutes: float | None = None
) -> Run | None:
    """The run a job does; None when called without the start it was planned for (by hand,
    in tests): then it keeps no record."""
    if planned is None:
        return None
    return Run(job_id, planned, meeting_id, kind, current().clock(), minutes)


async def _once(run: Run | None, work: Callable[[AsyncSession], Awaitable[T]], nothing: T) -> T:
    """Do the job's work in one fenced transaction that also marks its run done, unless a
    run of it did already (then `nothing`)."""
    ctx = current()
    subject = run.job_id if run is not None else ""
    key = (run.job_id, run.planned) if run is not None else ("", 0)
    _running.add(key)
    try:
        async with ctx.transaction() as session:
            if run is not None and not await job_runs.claim(session, run, ctx.clock()):
                return nothing
            result = await work(session)
            crash_point(WORK_DONE, subject)
    finally:
        _running.discard(key)
    crash_point(COMMITTED, subject)
    ctx.wake_sender()
    return result


async def rotate_codes() -> int:
    """The check-in codes turned (on the minute): the branch groups' code posts of every
    meeting whose check-in is open show the new one."""
    ctx = current()
    async with ctx.transaction() as session:
        count = await redraw_group_codes(session, ctx.clock())
    if count:
        ctx.wake_sender()
    return count


JOBS: dict[str, Callable[..., Awaitable[object]]] = {
    REMIND: meeting_reminder,
    OPEN: meeting_open,
    FINISH: meeting_finish,
}
