"""Queries for what a branch makes public (党务公开, handlers/disclosure): the decisions its
secretary published, its people by stage, and the dues paid in a span of days."""

from collections.abc import Sequence
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import chunks, core_rows
from storage.feedback_models import PublicDecision
from storage.models import Meeting, Member
from storage.pipeline_models import DuesPayment


def decision_ref(decision_id: int) -> str:
    return f"decision:{decision_id}"


async def add_decision(
    session: AsyncSession, branch_id: int, meeting_id: int, text: str, by: int, now: datetime
) -> PublicDecision:
    decision = PublicDecision(
        branch_id=branch_id, meeting_id=meeting_id, text=text, published_by=by, published_at=now
    )
    session.add(decision)
    await session.flush()
    return decision


async def decision(session: AsyncSession, decision_id: int) -> PublicDecision | None:
    return await session.get(PublicDecision, decision_id)


async def decisions_of(
    session: AsyncSession, branch_id: int, since: datetime, until: datetime
) -> Sequence[tuple[PublicDecision, Meeting]]:
    """The branch's published decisions (not withdrawn) of meetings that began in
    [since, until), in the order of the meetings."""
    query = (
        select(PublicDecision, Meeting)
        .join(Meeting, Meeting.id == PublicDecision.meeting_id)
        .where(
            PublicDecision.branch_id == branch_id,
            PublicDecision.withdrawn_at.is_(None),
            Meeting.starts_at >= since,
            Meeting.starts_at < until,
        )
        .order_by(Meeting.starts_at, PublicDecision.id)
    )
    return [(d, m) for d, m in (await session.execute(query)).all()]


async def stage_counts(session: AsyncSession, branch_id: int) -> dict[str, int]:
    """How many of the branch's active people are at each stage now."""
    query = (
        select(Member.stage, func.count())
        .where(Member.branch_id == branch_id, Member.active.is_(True))
        .group_by(Member.stage)
    )
    return {stage: int(n) for stage, n in (await session.execute(query)).all()}


class Paid(NamedTuple):
    member_id: int
    paid_on: date
    amount_fen: int


async def paid_between(
    session: AsyncSession, member_ids: Sequence[int], since: date, until: date
) -> list[Paid]:
    """The payments of these members made on a day in [since, until)."""
    found: list[Paid] = []
    for chunk in chunks(member_ids):
        query = select(DuesPayment.member_id, DuesPayment.paid_on, DuesPayment.amount_fen).where(
            DuesPayment.member_id.in_(chunk),
            DuesPayment.paid_on >= since,
            DuesPayment.paid_on < until,
        )
        found += [Paid(m, on, int(fen)) for m, on, fen in await core_rows(session, query)]
    return found
