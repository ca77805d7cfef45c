"""Queries over volunteer service records (志愿服务): a member's own, a branch's pending ones,
and the approved minutes the evaluation counts."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import chunks
from storage.enums import DecisionStatus
from storage.pipeline_models import VolunteerRecord

# Bound parameters per query stay well under SQLite's and asyncpg's limits.


def volunteer_ref(record_id: int) -> str:
    return f"volunteer:{record_id}"


async def get(session: AsyncSession, record_id: int) -> VolunteerRecord | None:
    return await session.get(VolunteerRecord, record_id)


async def locked(session: AsyncSession, record_id: int) -> VolunteerRecord | None:
    """The record locked for a decision, re-read: a decision made meanwhile by someone
    else is seen (only the record's own row is locked, not its joined member)."""
    query = (
        select(VolunteerRecord)
        .where(VolunteerRecord.id == record_id)
        .with_for_update(of=VolunteerRecord)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(query)).unique().one_or_none()


async def same_report(
    session: AsyncSession, member_id: int, day: date, activity: str
) -> VolunteerRecord | None:
    """The member's earlier report of the same activity on the same day, unless rejected."""
    query = (
        select(VolunteerRecord)
        .where(
            VolunteerRecord.member_id == member_id,
            VolunteerRecord.day == day,
            VolunteerRecord.activity == activity,
            VolunteerRecord.status != DecisionStatus.REJECTED,
        )
        .order_by(VolunteerRecord.id)
        .limit(1)
    )
    return (await session.scalars(query)).unique().first()


async def of_member(
    session: AsyncSession, member_id: int, limit: int = 10
) -> Sequence[VolunteerRecord]:
    """A member's latest records, the most recent service first."""
    query = (
        select(VolunteerRecord)
        .where(VolunteerRecord.member_id == member_id)
        .order_by(VolunteerRecord.day.desc(), VolunteerRecord.id.desc())
        .limit(limit)
    )
    return (await session.scalars(query)).unique().all()


@dataclass(frozen=True)
class Pending:
    count: int
    minutes: int


async def pending_of_member(session: AsyncSession, member_id: int) -> Pending:
    query = select(func.count(VolunteerRecord.id), func.sum(VolunteerRecord.minutes)).where(
        VolunteerRecord.member_id == member_id,
        VolunteerRecord.status == DecisionStatus.PENDING,
    )
    count, minutes = (await session.execute(query)).one()
    return Pending(int(count or 0), int(minutes or 0))


async def pending(session: AsyncSession, branch_id: int | None) -> Sequence[VolunteerRecord]:
    """Records waiting for a decision, oldest first; branch None: every branch's."""
    query = select(VolunteerRecord).where(VolunteerRecord.status == DecisionStatus.PENDING)
    if branch_id is not None:
        query = query.where(VolunteerRecord.branch_id == branch_id)
    return (await session.scalars(query.order_by(VolunteerRecord.id))).unique().all()


def _approved_within(since: date | None, until: date | None) -> list[ColumnElement[bool]]:
    conditions = [VolunteerRecord.status == DecisionStatus.APPROVED]
    if since is not None:
        conditions.append(VolunteerRecord.day >= since)
    if until is not None:
        conditions.append(VolunteerRecord.day <= until)
    return conditions


async def approved_minutes(
    session: AsyncSession,
    member_ids: Sequence[int],
    since: date | None = None,
    until: date | None = None,
) -> dict[int, int]:
    """Approved minutes of service per member, the service days within [since, until]
    (either end open when None); members with none map to 0."""
    totals = dict.fromkeys(member_ids, 0)
    for chunk in chunks(member_ids):
        query = (
            select(VolunteerRecord.member_id, func.sum(VolunteerRecord.minutes))
            .where(VolunteerRecord.member_id.in_(chunk), *_approved_within(since, until))
            .group_by(VolunteerRecord.member_id)
        )
        for member_id, minutes in (await session.execute(query)).all():
            totals[int(member_id)] = int(minutes or 0)
    return totals


async def branch_approved_minutes(
    session: AsyncSession, branch_id: int | None, since: date | None = None
) -> int:
    """Approved minutes of service recorded in a branch (None: every branch) since a day."""
    query = select(func.sum(VolunteerRecord.minutes)).where(*_approved_within(since, None))
    if branch_id is not None:
        query = query.where(VolunteerRecord.branch_id == branch_id)
    return int(await session.scalar(query) or 0)
