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

from handlers.context import Options
from handlers.meetings.domain import auto_open, finalize, nudge_inactive, remind
from scheduler.context import current, current_scheduler
from storage import meetings
from storage.enums import MeetingStatus
from storage.meetings import ends_at
from storage.models import Meeting

log = logging.getLogger(__name__)
SYNC = "meetings.sync"


def job_ids(meeting_id: int, options: Options) -> list[str]:
    base = f"meeting:{meeting_id}"
    return [
        *(f"{base}:remind:{m:g}" for m in options.meeting_reminders),
        f"{base}:open",
        f"{base}:finish",
    ]


def plan(scheduler: BaseScheduler, meeting: Meeting, options: Options, now: datetime) -> int:
    """Replace the meeting's jobs with those its current state needs; returns how many."""
    for job_id in job_ids(meeting.id, options):
        with contextlib.suppress(JobLookupError):
            scheduler.remove_job(job_id)
    if meeting.status != MeetingStatus.SCHEDULED:
        return 0
    start, end = meeting.starts_at, ends_at(meeting)
    planned = 0
    for minutes in options.meeting_reminders:
        at = start - timedelta(minutes=minutes)
        if at <= now:
            continue  # its time passed before the meeting was made (or moved)
        # Missed while the service was down: still sent, as long as the meeting has not begun.
        grace = max(int((start - at).total_seconds()), 1)
        scheduler.add_job(
            meeting_reminder,
            DateTrigger(at),
            args=[meeting.id, minutes],
            id=f"meeting:{meeting.id}:remind:{minutes:g}",
            misfire_grace_time=grace,
            replace_existing=True,
        )
        planned += 1
    if end > now:
        opens = max(start - options.checkin_opens_before, now)
        scheduler.add_job(
            meeting_open,
            DateTrigger(opens),
            args=[meeting.id],
            id=f"meeting:{meeting.id}:open",
            misfire_grace_time=max(int((end - opens).total_seconds()), 1),
            replace_existing=True,
        )
        planned += 1
    scheduler.add_job(
        meeting_finish,
        DateTrigger(max(end, now)),
        args=[meeting.id],
        id=f"meeting:{meeting.id}:finish",
        misfire_grace_time=None,
        replace_existing=True,
    )
    return planned + 1


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


async def meeting_reminder(meeting_id: int, minutes: float) -> int:
    ctx = current()
    now = ctx.clock()
    async with ctx.sessions.begin() as session:
        today = now.astimezone(ctx.options.timezone).date()
        sent = await remind(session, ctx.box, meeting_id, minutes, now, today)
    ctx.wake_sender()
    return sent


async def meeting_open(meeting_id: int) -> bool:
    ctx = current()
    async with ctx.sessions.begin() as session:
        opened = await auto_open(session, ctx.box, meeting_id, ctx.clock())
    ctx.wake_sender()
    return opened


async def meeting_finish(meeting_id: int) -> bool:
    ctx = current()
    async with ctx.sessions.begin() as session:
        done = await finalize(session, ctx.box, meeting_id, ctx.clock())
    ctx.wake_sender()
    return done


async def monthly_nudge() -> int:
    """长期不参加组织生活的党员: remind them kindly and tell their secretaries."""
    ctx = current()
    async with ctx.sessions.begin() as session:
        nudged = await nudge_inactive(session, ctx.box, ctx.clock(), ctx.options.inactive_months)
    ctx.wake_sender()
    return nudged
