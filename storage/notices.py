"""Queries over notices, their recipients and acknowledgements."""

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Table, and_, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Member, Notice, NoticeRecipient

RECIPIENTS: Table = NoticeRecipient.__table__  # type: ignore[assignment]


def notice_ref(notice_id: int) -> str:
    """How outbox rows and traces refer to a notice."""
    return f"notice:{notice_id}"


async def audience_ids(
    session: AsyncSession,
    branch_ids: Sequence[int],
    *,
    today: date,
    interns_only: bool = False,
    stage: str | None = None,
    unacked_of: int | None = None,
    among: Sequence[int] | None = None,
    exclude: int | None = None,
) -> list[int]:
    """Active members of the branches matching one filter (`among`: of those listed), in id
    order."""
    query = select(Member.id).where(Member.branch_id.in_(branch_ids), Member.active.is_(True))
    if interns_only:
        query = query.where(Member.remote_until >= today)
    if stage is not None:
        query = query.where(Member.stage == stage)
    if unacked_of is not None:
        waiting = select(NoticeRecipient.member_id).where(
            NoticeRecipient.notice_id == unacked_of, NoticeRecipient.acked_at.is_(None)
        )
        query = query.where(Member.id.in_(waiting))
    if among is not None:
        query = query.where(Member.id.in_(among))
    if exclude is not None:
        query = query.where(Member.id != exclude)
    return list((await session.scalars(query.order_by(Member.id))).all())


async def add_recipients(session: AsyncSession, notice_id: int, member_ids: Sequence[int]) -> None:
    if member_ids:
        rows = [{"notice_id": notice_id, "member_id": m, "acked_at": None} for m in member_ids]
        await session.execute(insert(RECIPIENTS), rows)


async def get(session: AsyncSession, notice_id: int) -> Notice | None:
    return await session.get(Notice, notice_id)


async def recipient(
    session: AsyncSession, notice_id: int, member_id: int
) -> NoticeRecipient | None:
    return await session.get(NoticeRecipient, (notice_id, member_id))


async def acknowledge(
    session: AsyncSession, notice_id: int, member_id: int, at: datetime, via: str = "private"
) -> bool:
    """Record the first acknowledgement and where it was made ("private" or "group"); False
    if it was already recorded (or not addressed)."""
    result = await session.execute(
        update(NoticeRecipient)
        .where(
            NoticeRecipient.notice_id == notice_id,
            NoticeRecipient.member_id == member_id,
            NoticeRecipient.acked_at.is_(None),
        )
        .values(acked_at=at, acked_via=via)
    )
    return bool(getattr(result, "rowcount", 0))


async def recipients_with_names(
    session: AsyncSession, notice_id: int
) -> Sequence[tuple[int, str, datetime | None]]:
    """(member id, name, acknowledged at) of every recipient, in member id order."""
    query = (
        select(NoticeRecipient.member_id, Member.name, NoticeRecipient.acked_at)
        .join(Member, Member.id == NoticeRecipient.member_id)
        .where(NoticeRecipient.notice_id == notice_id)
        .order_by(NoticeRecipient.member_id)
    )
    return [(int(m), str(n), a) for m, n, a in (await session.execute(query)).all()]


async def ack_counts(
    session: AsyncSession, notice_id: int, branch_id: int | None = None
) -> tuple[int, int]:
    """(acknowledged, addressed) of a notice; with `branch_id`, among that branch's members
    only (a branch group's count of a notice to several branches)."""
    query = select(func.count(NoticeRecipient.acked_at), func.count()).where(
        NoticeRecipient.notice_id == notice_id
    )
    if branch_id is not None:
        query = query.join(Member, Member.id == NoticeRecipient.member_id).where(
            Member.branch_id == branch_id
        )
    acked, total = (await session.execute(query)).one()
    return int(acked), int(total)


async def acked_in_group(session: AsyncSession, notice_id: int) -> int:
    """How many acknowledged the notice by its 收到 button in a group."""
    query = select(func.count()).where(
        NoticeRecipient.notice_id == notice_id, NoticeRecipient.acked_via == "group"
    )
    return int(await session.scalar(query) or 0)


async def unacked_ids(session: AsyncSession, notice_id: int) -> list[int]:
    query = select(NoticeRecipient.member_id).where(
        NoticeRecipient.notice_id == notice_id, NoticeRecipient.acked_at.is_(None)
    )
    return list((await session.scalars(query.order_by(NoticeRecipient.member_id))).all())


async def pending_for(session: AsyncSession, member_id: int) -> Sequence[Notice]:
    """Notices awaiting this member's acknowledgement, newest first."""
    query = (
        select(Notice)
        .join(
            NoticeRecipient,
            and_(NoticeRecipient.notice_id == Notice.id, NoticeRecipient.member_id == member_id),
        )
        .where(Notice.require_ack.is_(True), NoticeRecipient.acked_at.is_(None))
        .order_by(Notice.id.desc())
    )
    return (await session.scalars(query)).unique().all()


async def recent(
    session: AsyncSession, branch_id: int | None, limit: int, *, require_ack: bool = False
) -> Sequence[tuple[Notice, int, int]]:
    """The latest notices of a branch (None: of all branches) with (recipients, acked)."""
    counts = (
        select(
            NoticeRecipient.notice_id,
            func.count().label("total"),
            func.count(NoticeRecipient.acked_at).label("acked"),
        )
        .group_by(NoticeRecipient.notice_id)
        .subquery()
    )
    query = select(Notice, counts.c.total, counts.c.acked).outerjoin(
        counts, counts.c.notice_id == Notice.id
    )
    if branch_id is not None:
        query = query.where(Notice.branch_id == branch_id)
    if require_ack:
        query = query.where(Notice.require_ack.is_(True))
    query = query.order_by(Notice.id.desc()).limit(limit)
    rows = (await session.execute(query)).unique().all()
    return [(n, int(total or 0), int(acked or 0)) for n, total, acked in rows]


async def due_summaries(session: AsyncSession, now: datetime) -> Sequence[Notice]:
    query = (
        select(Notice)
        .where(Notice.summary_due_at <= now, Notice.summary_sent_at.is_(None))
        .order_by(Notice.id)
    )
    return (await session.scalars(query)).unique().all()
