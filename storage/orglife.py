"""The meetings (and appraisals) organisational life is measured by."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import MeetingStatus
from storage.models import Meeting
from storage.vote_models import Vote


async def meetings_between(
    session: AsyncSession, since: datetime, until: datetime
) -> Sequence[tuple[int | None, str, datetime]]:
    """(branch id, kind, start) of every meeting not cancelled that starts in [since, until),
    held or still to come (a school-wide meeting has branch id None), and of every 民主评议
    opened then (kind "appraisal", at its opening)."""
    query = select(Meeting.branch_id, Meeting.kind, Meeting.starts_at).where(
        Meeting.starts_at >= since,
        Meeting.starts_at < until,
        Meeting.status != MeetingStatus.CANCELLED,
    )
    found = [(b, k, s) for b, k, s in (await session.execute(query)).all()]
    appraisals = select(Vote.branch_id, Vote.opened_at).where(
        Vote.kind == "appraisal", Vote.opened_at >= since, Vote.opened_at < until
    )
    found += [(b, "appraisal", at) for b, at in (await session.execute(appraisals)).all()]
    return found


async def meetings_of_branch(
    session: AsyncSession, branch_id: int, since: datetime, until: datetime
) -> Sequence[Meeting]:
    """The branch's meetings and the school-wide ones, not cancelled, starting in
    [since, until), in order of their start."""
    query = select(Meeting).where(
        (Meeting.branch_id == branch_id) | Meeting.branch_id.is_(None),
        Meeting.starts_at >= since,
        Meeting.starts_at < until,
        Meeting.status != MeetingStatus.CANCELLED,
    )
    return (await session.scalars(query.order_by(Meeting.starts_at, Meeting.id))).all()
