"""Queries over thought reports (思想汇报) and their reviews.

The text, document handle and comments stay encrypted here; who may read them is decided in
handlers/thoughts/access.py, never by a query alone.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, case, exists, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import chunks
from storage.enums import Stage
from storage.models import Member
from storage.pipeline_models import ThoughtReport, ThoughtReview

# The stages that hand in reports (入党积极分子, 发展对象, 预备党员).
AUTHOR_STAGES = (Stage.ACTIVIST, Stage.CANDIDATE, Stage.PROBATIONARY)


def thought_ref(report_id: int) -> str:
    return f"thought:{report_id}"


@dataclass(frozen=True)
class ReportStats:
    """One person's reports, for the evidence table: how many, the last, how many were read."""

    count: int = 0
    last_at: datetime | None = None
    read: int = 0  # reports with at least one review


async def get(session: AsyncSession, report_id: int, *, lock: bool = False) -> ThoughtReport | None:
    """The report with its author; `lock` row-locks it on PostgreSQL (marking it read)."""
    # OF the report alone: PostgreSQL locks no row of an outer join's nullable side.
    locking = {"of": ThoughtReport} if lock else None
    return await session.get(
        ThoughtReport, report_id, with_for_update=locking, populate_existing=lock
    )


async def reviews(
    session: AsyncSession, report_ids: Sequence[int]
) -> dict[int, list[ThoughtReview]]:
    """Each report's reviews with their readers, oldest first."""
    if not report_ids:
        return {}
    query = (
        select(ThoughtReview)
        .where(ThoughtReview.report_id.in_(report_ids))
        .order_by(ThoughtReview.read_at, ThoughtReview.reader_id)
    )
    found: dict[int, list[ThoughtReview]] = {r: [] for r in report_ids}
    for review in (await session.scalars(query)).unique().all():
        found[review.report_id].append(review)
    return found


async def review_by(session: AsyncSession, report_id: int, reader_id: int) -> ThoughtReview | None:
    return await session.get(ThoughtReview, (report_id, reader_id))


async def by_author(
    session: AsyncSession, member_id: int, limit: int
) -> tuple[list[ThoughtReport], int]:
    """A person's newest reports (at most `limit`) and how many they have in all."""
    query = (
        select(ThoughtReport)
        .where(ThoughtReport.member_id == member_id)
        .order_by(ThoughtReport.submitted_at.desc(), ThoughtReport.id.desc())
        .limit(limit)
    )
    found = list((await session.scalars(query)).unique().all())
    total = await session.scalar(
        select(func.count(ThoughtReport.id)).where(ThoughtReport.member_id == member_id)
    )
    return found, int(total or 0)


def _awaiting(
    reader_id: int, branch_id: int | None, author_ids: Sequence[int]
) -> Select[tuple[ThoughtReport]]:
    """Reports by people in `branch_id` or among `author_ids`, not the reader's own, that the
    reader has not marked read."""
    whose = or_(
        Member.branch_id == branch_id if branch_id is not None else false(),
        ThoughtReport.member_id.in_(author_ids) if author_ids else false(),
    )
    mine = and_(ThoughtReview.report_id == ThoughtReport.id, ThoughtReview.reader_id == reader_id)
    return (
        select(ThoughtReport)
        .join(Member, Member.id == ThoughtReport.member_id)
        .outerjoin(ThoughtReview, mine)
        .where(whose, ThoughtReport.member_id != reader_id, ThoughtReview.report_id.is_(None))
    )


async def awaiting(
    session: AsyncSession,
    reader_id: int,
    *,
    branch_id: int | None,
    author_ids: Sequence[int],
    limit: int,
) -> tuple[list[ThoughtReport], int]:
    """Reports waiting for this reader (the oldest first, at most `limit`) and their number.
    `branch_id`: a secretary's branch (None for a reader who is not a secretary);
    `author_ids`: the people the reader is a contact person for."""
    query = _awaiting(reader_id, branch_id, author_ids)
    ordered = query.order_by(ThoughtReport.submitted_at, ThoughtReport.id).limit(limit)
    found = list((await session.scalars(ordered)).unique().all())
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    return found, int(total or 0)


async def expected_authors(session: AsyncSession) -> Sequence[Member]:
    """Everyone who hands in reports now: active members at the stages that do."""
    query = select(Member).where(Member.active.is_(True), Member.stage.in_(AUTHOR_STAGES))
    return (await session.scalars(query.order_by(Member.id))).unique().all()


async def last_submitted(session: AsyncSession, member_ids: Sequence[int]) -> dict[int, datetime]:
    """When each person (of those with any) last handed in a report."""
    found: dict[int, datetime] = {}
    for chunk in chunks(member_ids):
        query = (
            select(ThoughtReport.member_id, func.max(ThoughtReport.submitted_at))
            .where(ThoughtReport.member_id.in_(chunk))
            .group_by(ThoughtReport.member_id)
        )
        found.update({m: at for m, at in (await session.execute(query)).all()})
    return found


async def report_stats(session: AsyncSession, member_ids: Sequence[int]) -> dict[int, ReportStats]:
    """Each person's report count, last report and reports read (one query per thousand
    people; every id is in the result, with zeros for a person without reports)."""
    found = dict.fromkeys(member_ids, ReportStats())
    read = exists().where(ThoughtReview.report_id == ThoughtReport.id)
    for chunk in chunks(member_ids):
        query = (
            select(
                ThoughtReport.member_id,
                func.count(ThoughtReport.id),
                func.max(ThoughtReport.submitted_at),
                func.sum(case((read, 1), else_=0)),
            )
            .where(ThoughtReport.member_id.in_(chunk))
            .group_by(ThoughtReport.member_id)
        )
        for member_id, count, last_at, n_read in (await session.execute(query)).all():
            found[member_id] = ReportStats(int(count), last_at, int(n_read or 0))
    return found
