"""Queries over people's development files: their steps, dated events and contact persons."""

from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import chunks
from storage.enums import EventKind, Stage, StepKind
from storage.models import Meeting, Member
from storage.pipeline_models import Contact, DevelopmentEvent, StageChange


async def steps(session: AsyncSession, member_ids: Sequence[int]) -> dict[int, list[StageChange]]:
    """Each person's recorded steps, oldest first (by date, then as recorded)."""
    if not member_ids:
        return {}
    found: dict[int, list[StageChange]] = {m: [] for m in member_ids}
    for chunk in chunks(member_ids):
        query = (
            select(StageChange)
            .where(StageChange.member_id.in_(chunk))
            .order_by(StageChange.on, StageChange.id)
        )
        for step in (await session.scalars(query)).all():
            found[step.member_id].append(step)
    return found


_ENTRIES = (StepKind.ADVANCE, StepKind.DATED)


async def entered_on(session: AsyncSession, member_id: int, stage: str) -> date | None:
    """When the person entered `stage`, as recorded (a move or a back-filled date)."""
    query = select(StageChange.on).where(
        StageChange.member_id == member_id,
        StageChange.stage == stage,
        StageChange.kind.in_([StepKind.ADVANCE, StepKind.DATED]),
    )
    return await session.scalar(query.order_by(StageChange.on.desc()).limit(1))


async def entered_dates(
    session: AsyncSession, member_ids: Sequence[int], stage: str
) -> dict[int, date]:
    """When each person entered `stage`, where recorded (the latest entry, as entered_on
    reads it; people with none are missing), in one query per thousand people."""
    found: dict[int, date] = {}
    for chunk in chunks(member_ids):
        query = (
            select(StageChange.member_id, func.max(StageChange.on))
            .where(
                StageChange.member_id.in_(chunk),
                StageChange.stage == stage,
                StageChange.kind.in_(_ENTRIES),
            )
            .group_by(StageChange.member_id)
        )
        found.update({m: on for m, on in (await session.execute(query)).all() if on})
    return found


async def entered_current(session: AsyncSession, members: Sequence[Member]) -> dict[int, date]:
    """When each person entered the stage they are at now, where recorded (one query)."""
    stages = {m.id: m.stage for m in members}
    found: dict[int, date] = {}
    for member_id, changes in (await steps(session, list(stages))).items():
        for change in changes:  # oldest first: the latest entry of a stage wins
            if change.stage == stages[member_id] and change.kind in _ENTRIES:
                found[member_id] = change.on
    return found


async def events(
    session: AsyncSession, member_ids: Sequence[int]
) -> dict[int, list[DevelopmentEvent]]:
    """Each person's talks, political review and training, oldest first."""
    if not member_ids:
        return {}
    found: dict[int, list[DevelopmentEvent]] = {m: [] for m in member_ids}
    for chunk in chunks(member_ids):
        query = (
            select(DevelopmentEvent)
            .where(DevelopmentEvent.member_id.in_(chunk))
            .order_by(DevelopmentEvent.on, DevelopmentEvent.id)
        )
        for event in (await session.scalars(query)).all():
            found[event.member_id].append(event)
    return found


async def contacts(
    session: AsyncSession, member_ids: Sequence[int], *, ended: bool = False
) -> dict[int, list[Contact]]:
    """Each person's current contact persons (培养联系人), with the contact loaded; with
    `ended`, also those replaced since, oldest first."""
    found: dict[int, list[Contact]] = {m: [] for m in member_ids}
    for chunk in chunks(member_ids):
        query = select(Contact).where(Contact.member_id.in_(chunk)).order_by(Contact.id)
        if not ended:
            query = query.where(Contact.ended_on.is_(None))
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
    found: dict[int, str] = {}
    for chunk in chunks(meeting_ids):
        query = select(Meeting.id, Meeting.kind).where(Meeting.id.in_(chunk))
        found.update({id_: kind for id_, kind in (await session.execute(query)).all()})
    return found


async def stages_of(session: AsyncSession, member_ids: Sequence[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for chunk in chunks(member_ids):
        query = select(Member.id, Member.stage).where(Member.id.in_(chunk))
        found.update({id_: stage for id_, stage in (await session.execute(query)).all()})
    return found


async def last_talks(session: AsyncSession, member_ids: Sequence[int]) -> dict[int, date]:
    """The date of each person's latest recorded talk (people with none are missing)."""
    found: dict[int, date] = {}
    for chunk in chunks(member_ids):
        query = (
            select(DevelopmentEvent.member_id, func.max(DevelopmentEvent.on))
            .where(
                DevelopmentEvent.member_id.in_(chunk),
                DevelopmentEvent.kind == EventKind.TALK,
            )
            .group_by(DevelopmentEvent.member_id)
        )
        found.update({id_: on for id_, on in (await session.execute(query)).all()})
    return found


async def in_pipeline(
    session: AsyncSession, branch_id: int | None, stage: Stage | None = None
) -> Sequence[Member]:
    """Active people of a branch (all branches: None) not yet full members (or at `stage`)."""
    query = select(Member).where(Member.active.is_(True), Member.stage != Stage.FULL)
    if stage is not None:
        query = query.where(Member.stage == stage)
    if branch_id is not None:
        query = query.where(Member.branch_id == branch_id)
    return (await session.scalars(query.order_by(Member.branch_id, Member.id))).unique().all()
