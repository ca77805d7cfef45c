"""Per-meeting jobs (reminders, opening check-in, finalising attendance) and the sync job that
keeps them in step with the meetings table.

Handlers never touch the scheduler: a change to a meeting clears its `jobs_synced` flag in
the same transaction, and `sync` (every few seconds, and at once when this process made the
change) replaces the meeting's jobs. So a change is never lost, even when another process,
or none, was running the scheduler at the time.
"""

import contextlib
import logging
from datetime import datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import Engine, text

from handlers.core.context import Options
from handlers.meetings.domain import auto_open, finalize, nudge_inactive, planned_for, remind
from handlers.meetings.group_checkin import rotate_codes as redraw_group_codes
from handlers.meetings.settings import MeetingSettings
from scheduler.context import current, current_scheduler
from storage import meetings
from storage.enums import MeetingStatus
from storage.meetings import ends_at
from storage.models import Meeting

log = logging.getLogger(__name__)
SYNC = "meetings.sync"
CODES = "meetings.codes"
PREFIX = "meeting:"  # of every per-meeting job's id


def reminder_id(meeting_id: int, minutes: float) -> str:
    return f"{PREFIX}{meeting_id}:remind:{round(minutes * 60)}s"


def job_ids(meeting_id: int, options: Options) -> list[str]:
    return [
        *(reminder_id(meeting_id, m) for m in options.of(MeetingSettings).reminders),
        f"{PREFIX}{meeting_id}:open",
        f"{PREFIX}{meeting_id}:finish",
    ]


def plan(scheduler: BaseScheduler, meeting: Meeting, options: Options, now: datetime) -> int:
    """Replace the meeting's jobs with those its current state needs; returns how many.

    Each job carries the start it was planned for, so a job left over from before a move
    does nothing. A reminder whose time had passed when the meeting was made or moved is
    skipped: the announcement or the move notice, queued with the change, told everyone."""
    for job_id in job_ids(meeting.id, options):
        with contextlib.suppress(JobLookupError):
            scheduler.remove_job(job_id)
    if meeting.status != MeetingStatus.SCHEDULED:
        return 0
    start, end, planned = meeting.starts_at, ends_at(meeting), planned_for(meeting)
    jobs: list[tuple[str, object, datetime, list[object]]] = [
        (reminder_id(meeting.id, m), meeting_reminder, at, [meeting.id, m, planned])
        for m in options.of(MeetingSettings).reminders
        if (at := start - timedelta(minutes=m)) > now
    ]
    if end > now:
        opens = max(start - options.of(MeetingSettings).checkin_opens_before, now)
        jobs.append((f"{PREFIX}{meeting.id}:open", meeting_open, opens, [meeting.id, planned]))
    jobs.append(
        (f"{PREFIX}{meeting.id}:finish", meeting_finish, max(end, now), [meeting.id, planned])
    )
    for job_id, func, at, args in jobs:
        # Missed while the service was down: still run while it can matter; finalising
        # always (None: no limit), or the meeting would never be counted.
        grace = None if func is meeting_finish else max(int((end - at).total_seconds()), 3600)
        scheduler.add_job(
            func,
            DateTrigger(at),
            args=args,
            id=job_id,
            misfire_grace_time=grace,
            replace_existing=True,
        )
    return len(jobs)


async def sync() -> int:
    """Make the jobs of every meeting changed since the last run.

    No transaction of ours is open while the job store (its own connection) is written: on
    SQLite that would wait on our own write lock."""
    ctx = current()
    scheduler = current_scheduler()
    now = ctx.clock()
    async with ctx.sessions() as session:
        changed = list(await meetings.unsynced(session))
    for meeting in changed:
        plan(scheduler, meeting, ctx.options, now)
    async with ctx.sessions.begin() as session:
        for meeting in changed:  # unless it changed again meanwhile: then the next run
            await meetings.mark_synced(session, meeting)
    if changed:
        log.info("planned the jobs of %d changed meeting(s)", len(changed))
    return len(changed)


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
    async with ctx.sessions.begin() as session:
        count = await meetings.mark_all_unsynced(session, ctx.clock())
    if count:
        log.warning("meeting jobs were missing: planning %d meeting(s) again", count)
    return count


async def meeting_reminder(meeting_id: int, minutes: float, planned: int | None = None) -> int:
    ctx = current()
    async with ctx.sessions.begin() as session:
        options = ctx.options
        sent = await remind(
            session,
            ctx.box,
            meeting_id,
            minutes,
            ctx.clock(),
            options.timezone,
            planned,
            closer=options.of(MeetingSettings).reminders,
        )
    ctx.wake_sender()
    return sent


async def meeting_open(meeting_id: int, planned: int | None = None) -> bool:
    ctx = current()
    async with ctx.sessions.begin() as session:
        opened = await auto_open(session, ctx.box, meeting_id, ctx.clock(), planned)
    ctx.wake_sender()
    return opened


async def meeting_finish(meeting_id: int, planned: int | None = None) -> bool:
    ctx = current()
    async with ctx.sessions.begin() as session:
        done = await finalize(session, ctx.box, meeting_id, ctx.clock(), planned)
    ctx.wake_sender()
    return done


async def rotate_codes() -> int:
    """The check-in codes turned (on the minute): the branch groups' code posts of every
    meeting whose check-in is open show the new one."""
    ctx = current()
    async with ctx.sessions.begin() as session:
        count = await redraw_group_codes(session, ctx.clock())
    if count:
        ctx.wake_sender()
    return count


async def monthly_nudge() -> int:
    """长期不参加组织生活的党员: remind them kindly and tell their secretaries."""
    ctx = current()
    async with ctx.sessions.begin() as session:
        options = ctx.options
        nudged = await nudge_inactive(
            session,
            ctx.box,
            ctx.clock(),
            options.of(MeetingSettings).inactive_months,
            options.timezone,
        )
    ctx.wake_sender()
    return nudged
