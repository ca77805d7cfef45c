"""10,000 future meetings in the job store: how fast the scheduler starts, how late reminders fire.

    python bench/reminders.py [--meetings 10000] [--due 200] [--database-url URL]

Makes the meetings (2,000 members in 40 branches) and plans their jobs through the real sync
(reminders 24 h and 1 h before, check-in opening, finalising: four jobs each) without timing
it. Then it times starting the scheduler on that job store, and lets `--due` of the meetings'
1-hour reminders fall due 10 to 40 seconds later: each reminder really runs (it queues one
message per member of its branch in the outbox), and the lateness of each is measured from its
planned time to the moment the job starts and to the moment it has finished. Goals: start-up
under 5 s on SQLite, p99 lateness under 2 s.
"""

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pyotp
from apscheduler.events import (
    EVENT_JOB_EXECUTED,
    EVENT_JOB_SUBMITTED,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from sqlalchemy import func, insert, select

from bench.checkin import enrol
from bench.rig import percentile
from bot.app.services import build_services
from bot.app.settings import load_settings
from scheduler import meeting_jobs
from scheduler.context import JobContext
from scheduler.setup import start_scheduler
from storage import schema
from storage.crypto import SecretBox
from storage.enums import MeetingKind, MeetingStatus
from storage.models import Branch, Meeting
from tests.conftest import reset_postgres

ZONE = ZoneInfo("Asia/Shanghai")


def meeting_rows(
    branches: list[int], count: int, now: datetime, *, due: bool
) -> list[dict[str, object]]:
    """Meetings whose 1-hour reminder falls 10–40 s from now (`due`), or spread over the
    coming months."""
    rows = []
    for i in range(count):
        if due:
            starts = now + timedelta(hours=1, seconds=10 + 30 * i / count)
        else:
            starts = now + timedelta(days=2, minutes=17 * i)
        rows.append(
            {
                "branch_id": branches[i % len(branches)],
                "kind": MeetingKind.GROUP,
                "title": f"党小组会 {i}",
                "starts_at": starts,
                "minutes": 60,
                "status": MeetingStatus.SCHEDULED,
                "checkin_secret": pyotp.random_base32(),
                "created_at": now - timedelta(days=1),
                "jobs_synced": False,
            }
        )
    return rows


async def main(count: int, due: int, database_url: str | None) -> None:
    folder = Path(tempfile.mkdtemp(prefix="branchbot-reminders-"))
    url = database_url or f"sqlite+aiosqlite:///{folder / 'reminders.sqlite3'}"
    if url.startswith("postgresql"):
        await reset_postgres(url)
    settings = load_settings(database_url=url, secret_key=SecretBox.generate_key())
    services = build_services(settings)
    await schema.upgrade(services.engine)
    await enrol(services, 2000)
    now = datetime.now(UTC)
    async with services.sessions.begin() as session:
        branches = list((await session.scalars(select(Branch.id))).all())
        rows = meeting_rows(branches, count - due, now, due=False)
        await session.execute(insert(Meeting), rows)
    context = JobContext(
        services.sessions, services.box, services.router.options, services.router.clock
    )

    # Plan every meeting's jobs with the real sync (not timed), then stop.
    began = time.perf_counter()
    scheduler = start_scheduler(context, url, ZONE)
    scheduler.pause()
    while await meeting_jobs.sync():
        pass
    # The meetings whose reminders will be measured, planned last so their times are fresh.
    async with services.sessions.begin() as session:
        rows = meeting_rows(branches, due, datetime.now(UTC), due=True)
        await session.execute(insert(Meeting), rows)
    while await meeting_jobs.sync():
        pass
    planned = len(scheduler.get_jobs())
    scheduler.shutdown(wait=False)
    print(f"planned {planned} jobs for {count} meetings in {time.perf_counter() - began:.1f} s")

    # What is measured: a fresh start on that job store, then the reminders falling due.
    began = time.perf_counter()
    scheduler = start_scheduler(context, url, ZONE)
    startup = time.perf_counter() - began
    all_done = asyncio.Event()
    fired: list[float] = []
    finished: list[float] = []

    def on_event(event: JobSubmissionEvent | JobExecutionEvent) -> None:
        if not event.job_id.endswith(f":remind:{60 * 60}s"):  # the 1-hour reminders
            return
        if isinstance(event, JobSubmissionEvent):
            planned_at, into = event.scheduled_run_times[0], fired
        else:
            planned_at, into = event.scheduled_run_time, finished
        into.append((datetime.now(UTC) - planned_at).total_seconds())
        if len(finished) >= due:
            all_done.set()

    scheduler.add_listener(on_event, EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_done.wait(), 90)
    scheduler.shutdown(wait=False)
    async with services.sessions() as session:
        queued = await session.scalar(select(func.count()).select_from(Meeting))
    await services.close()
    print(f"meetings: {queued}, jobs in the store: {planned}, database: {url.split(':')[0]}")
    print(f"scheduler start-up on that store: {startup:.2f} s   (goal < 5 s on SQLite)")
    print(f"reminders due: {due}, fired: {len(fired)}, finished: {len(finished)}")
    for name, values in (("start", fired), ("finish", finished)):
        if values:
            print(
                f"lateness to {name:<6} p50 {statistics.median(values):.3f} s, "
                f"p99 {percentile(values, 0.99):.3f} s, "
                f"max {max(values):.3f} s   (goal p99 < 2 s)"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meetings", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=200)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    asyncio.run(main(args.meetings, args.due, args.database_url))
