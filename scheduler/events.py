"""What the scheduler tells those who watch it (the service's metrics): how late each job
starts against its planned time, and how each run ended.

APScheduler's events are turned into plain values here, so watchers need not know it.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.schedulers.base import BaseScheduler

from scheduler.meeting_jobs import PREFIX as MEETING_PREFIX

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobStarted:
    job: str  # the job's kind (job_kind)
    late_seconds: float  # after the time the run was planned for


@dataclass(frozen=True)
class JobEnded:
    job: str
    outcome: str  # done | failed | missed (past its grace time: it does not run)


JobWatcher = Callable[[JobStarted | JobEnded], None]


def job_kind(job_id: str) -> str:
    """A job's kind for watchers: a standing job's id, a meeting's job by what it does
    (meeting:remind), so there are a dozen kinds however many meetings are planned."""
    if job_id.startswith(MEETING_PREFIX):
        parts = job_id.split(":")
        return f"{parts[0]}:{parts[2]}" if len(parts) > 2 else parts[0]
    return job_id


def watch(scheduler: BaseScheduler, watcher: JobWatcher) -> None:
    """Tell `watcher` of every job the scheduler starts and of how each run ends."""

    def on_event(event: JobEvent) -> None:
        try:
            watcher(_plain(event))
        except Exception:  # a watcher's trouble never stops the scheduler
            log.exception("a scheduler watcher failed on job %s", event.job_id)

    mask = EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED
    scheduler.add_listener(on_event, mask)


def _plain(event: JobEvent) -> JobStarted | JobEnded:
    kind = job_kind(event.job_id)
    if isinstance(event, JobSubmissionEvent):
        # Coalesced runs come as one, for the latest planned time (APScheduler 3).
        planned = min(event.scheduled_run_times)
        return JobStarted(kind, max((datetime.now(UTC) - planned).total_seconds(), 0.0))
    assert isinstance(event, JobExecutionEvent)
    if event.code == EVENT_JOB_MISSED:
        return JobEnded(kind, "missed")
    return JobEnded(kind, "failed" if event.code == EVENT_JOB_ERROR else "done")
