"""Queries over people's development files: their steps, dated events and contact persons."""

from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import EventKind, Stage, StepKind
from storage.models import Meeting, Member
from storage.pipeline_models import Contact, DevelopmentEvent, StageChange


async def steps(session: AsyncSession, member_ids: Sequence[int]) -> dict[int, list[StageChange]]:
    """Each person's recorded steps, oldest first (by date, then as recorded)."""
    if not member_ids:
        return {}
    query = (
        select(StageChange)
        .where(StageChange.member_id.in_(member_ids))
        .order_by(StageChange.on, StageChange.id)
    )
    found: dict[int, list[StageChange]] = {m: [] for m in member_ids}
    for step in (await session.scalars(query)).all():
        found[step.member_id].append(step)
    return found


async def entered_on(session: AsyncSession, member_id: int, stage: str) -> date | None:
    """When the person entered `stage`, as recorded (a move or a back-filled date)."""
    query = select(StageChange.on).where(
        StageChange.member_id == member_id,
        StageChange.stage == stage,
        StageChange.kind.in_([StepKind.ADVANCE, StepKind.DATED]),
    )
    return await session.scalar(query.order_by(StageChange.on.desc()).limit(1))


async def events(
    session: AsyncSession, member_ids: Sequence[int]
) -> dict[int, list[DevelopmentEvent]]:
    """Each person's talks, political review and training, oldest first."""
    if not member_ids:
        return {}
    query = (
        select(DevelopmentEvent)
        .where(DevelopmentEvent.member_id.in_(member_ids))
        .order_by(DevelopmentEvent.on, DevelopmentEvent.id)
    )
    found: dict[int, list[DevelopmentEvent]] = {m: [] for m in member_ids}
    for event in (await session.scalars(query)).all():
        found[event.member_id].append(event)
    return found


async def contacts(
    session: AsyncSession, member_ids: Sequence[int], *, ended: bool = False
) -> dict[int, list[Contact]]:
    """Each person's current contact persons (培养联系人), with the contact loaded; with
    `ended`, also those replaced since, oldest first."""
    if not member_ids:
        return {}
    query = select(Contact).where(Contact.member_id.in_(member_ids)).order_by(Contact.id)
    if not ended:
        query = query.where(Contact.ended_on.is_(None))
    found: dict[int, list[Contact]] = {m: [] for m in member_ids}
    for contact in (await session.scalars(query)).unique().all():
        found[contact.member_id].append(contact)
    return found


async def contact_ids(session: AsyncSession, member_id: int) -> list[int]:
    """The current contact persons of one person."""
    return [c.contact_id for c in (await contacts(session, [member_id]))[member_id]]


async def cultivated_by(session: AsyncSession, contact_id: int) -> list[int]:
    """The people this member is currently a contact person for."""
    query = select(Contact.member_id).where(
        Contact.contact_id == contact_id, Contact.ended_on.is_(None)
    )
    return list((await session.scalars(query.order_by(Contact.member_id))).all())


async def meeting_kinds(session: AsyncSession, meeting_ids: Sequence[int]) -> dict[int, str]:
    if not meeting_ids:
        return {}
    query = select(Meeting.id, Meeting.kind).where(Meeting.id.in_(meeting_ids))
    return {id_: kind for id_, kind in (await session.execute(query)).all()}


async def stages_of(session: AsyncSession, member_ids: Sequence[int]) -> dict[int, str]:
    if not member_ids:
        return {}
    query = select(Member.id, Member.stage).where(Member.id.in_(member_ids))
    return {id_: stage for id_, stage in (await session.execute(query)).all()}


async def last_talks(session: AsyncSession, member_ids: Sequence[int]) -> dict[int, date]:
    """The date of each person's latest recorded talk (people with none are missing)."""
    if not member_ids:
        return {}
    query = (
        select(DevelopmentEvent.member_id, func.max(DevelopmentEvent.on))
        .where(
            DevelopmentEvent.member_id.in_(member_ids),
            DevelopmentEvent.kind == EventKind.TALK,
        )
        .group_by(DevelopmentEvent.member_id)
    )
    return {id_: on for id_, on in (await session.execute(query)).all()}


async def in_pipeline(session: AsyncSession, branch_id: int | None) -> Sequence[Member]:
    """Active people of a branch (all branches: None) not yet full members."""
    query = select(Member).where(Member.active.is_(True), Member.stage != Stage.FULL)
    if branch_id is not None:
        query = query.where(Member.branch_id == branch_id)
    return (await session.scalars(query.order_by(Member.branch_id, Member.id))).unique().all()
