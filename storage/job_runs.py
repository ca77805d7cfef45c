"""The record of meetings' jobs (storage/ops_models.py JobRun): written when a job is planned,
marked done in the transaction of its work, read back by the sweep for work due and not done."""

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import Table, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import insert_ignoring_conflicts, upsert_for
from storage.ops_models import JobRun

JOB_RUNS: Table = JobRun.__table__  # type: ignore[assignment]
_INSERT = insert_ignoring_conflicts(
    JOB_RUNS, ("job_id", "planned", "meeting_id", "kind", "minutes", "due_at")
)


@dataclass(frozen=True)
class Run:
    """One run of a meeting's job: its APScheduler id, the start it was planned for, what it
    does (`kind`, a reminder's lead in `minutes`) and when."""

    job_id: str
    planned: int
    meeting_id: int
    kind: str
    due_at: datetime
    minutes: float | None = None

    @classmethod
    def of(cls, row: JobRun) -> "Run":
        return cls(row.job_id, row.planned, row.meeting_id, row.kind, row.due_at, row.minutes)

    def values(self) -> dict[str, object]:
        return asdict(self)


async def forget_stale(
    session: AsyncSession, meeting_id: int, planned: int | None, keep: Collection[str]
) -> None:
    """The meeting's jobs were just planned for its start `planned` (None: it needs none now):
    forget its runs not yet done that no longer apply, those for another start or under ids
    not in `keep` (the meeting's job ids now, planned or not: a reminder no longer configured
    is not)."""
    stale = JobRun.done_at.is_(None) & (JobRun.meeting_id == meeting_id)
    if planned is not None:
        stale &= or_(JobRun.planned != planned, JobRun.job_id.not_in(keep))
    await session.execute(delete(JobRun).where(stale))


async def record(session: AsyncSession, runs: Sequence[Run]) -> None:
    """Record runs just planned; a run recorded already keeps its state."""
    if runs:
        await session.execute(_INSERT, [run.values() for run in runs])


async def claim(session: AsyncSession, run: Run, now: datetime) -> bool:
    """Mark the run done in the caller's transaction, which does its work; False if it was
    done already. A run never recorded (its job planned by an older version, or its record
    not yet committed) is recorded done here. Two claims of one run wait for each other on
    its row, and the second finds it done."""
    mark = (
        update(JobRun)
        .where(JobRun.job_id == run.job_id, JobRun.planned == run.planned)
        .where(JobRun.done_at.is_(None))
        .values(done_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(await session.execute(mark), "rowcount", 0):
        return True
    insert = upsert_for(session)(JobRun).values(**run.values(), done_at=now)
    result = await session.execute(insert.on_conflict_do_nothing())
    return bool(getattr(result, "rowcount", 0))


async def due_undone(session: AsyncSession, now: datetime, limit: int = 100) -> list[Run]:
    """Runs whose time has come and that have not run, oldest first."""
    query = (
        select(JobRun)
        .where(JobRun.done_at.is_(None), JobRun.due_at <= now)
        .order_by(JobRun.due_at)
        .limit(limit)
    )
    return [Run.of(row) for row in (await session.scalars(query)).all()]
