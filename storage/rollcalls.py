"""Queries over roll-calls (接龙) and the members on them (storage/group_models.py)."""

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.group_models import RollCall, RollCallEntry
from storage.models import Member


def rollcall_ref(rollcall_id: int) -> str:
    return f"rollcall:{rollcall_id}"


class Line(NamedTuple):
    """One member on a roll-call's list, as the list and its export show them."""

    member_id: int
    name: str
    position: int
    joined_at: datetime
    withdrawn_at: datetime | None


async def get(session: AsyncSession, rollcall_id: int) -> RollCall | None:
    return await session.get(RollCall, rollcall_id)


async def locked(session: AsyncSession, rollcall_id: int) -> RollCall | None:
    """The roll-call, row-locked on PostgreSQL (SQLite's writers are serial already): joins
    line up on it, so each sees the one before and takes the next position, and the limit
    holds when forty tap at once."""
    return await session.get(RollCall, rollcall_id, with_for_update=True, populate_existing=True)


async def entry(session: AsyncSession, rollcall_id: int, member_id: int) -> RollCallEntry | None:
    return await session.get(RollCallEntry, (rollcall_id, member_id), populate_existing=True)


async def on_list(session: AsyncSession, rollcall_id: int) -> int:
    """How many are on the list now (those who left not counted)."""
    query = select(func.count()).where(
        RollCallEntry.roll_call_id == rollcall_id, RollCallEntry.withdrawn_at.is_(None)
    )
    return int(await session.scalar(query) or 0)


async def next_position(session: AsyncSession, rollcall_id: int) -> int:
    """The position after every one given so far (including those who left: a position
    is never given twice)."""
    query = select(func.max(RollCallEntry.position)).where(
        RollCallEntry.roll_call_id == rollcall_id
    )
    return int(await session.scalar(query) or 0) + 1


async def lines(session: AsyncSession, rollcall_id: int, *, with_left: bool = False) -> list[Line]:
    """The list in the order people joined; with `with_left`, those who left too."""
    query = (
        select(
            RollCallEntry.member_id,
            Member.name,
            RollCallEntry.position,
            RollCallEntry.joined_at,
            RollCallEntry.withdrawn_at,
        )
        .join(Member, Member.id == RollCallEntry.member_id)
        .where(RollCallEntry.roll_call_id == rollcall_id)
        .order_by(RollCallEntry.position)
    )
    if not with_left:
        query = query.where(RollCallEntry.withdrawn_at.is_(None))
    return [Line(*row) for row in await session.execute(query)]


async def past_deadline(session: AsyncSession, now: datetime) -> Sequence[int]:
    """Roll-calls still open whose deadline has passed (to close them)."""
    query = (
        select(RollCall.id)
        .where(RollCall.closed_at.is_(None), RollCall.deadline <= now)
        .order_by(RollCall.id)
    )
    return (await session.scalars(query)).all()


async def registered_for(session: AsyncSession, attached_to: str) -> list[int]:
    """The members on a roll-call attached to this (e.g. "meeting:12"), in joining order."""
    query = (
        select(RollCallEntry.member_id)
        .join(RollCall, RollCall.id == RollCallEntry.roll_call_id)
        .where(RollCall.attached_to == attached_to, RollCallEntry.withdrawn_at.is_(None))
        .order_by(RollCall.id, RollCallEntry.position)
    )
    return list(dict.fromkeys((await session.scalars(query)).all()))
