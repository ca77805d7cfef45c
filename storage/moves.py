"""Queries for roster moves (storage.roster_models.Move): the pending transfers, and the
members a graduation batch picks."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import MoveStatus
from storage.models import Member
from storage.roster_models import Move


async def pending_of(session: AsyncSession, member_id: int) -> Sequence[Move]:
    query = select(Move).where(Move.member_id == member_id, Move.status == MoveStatus.PENDING)
    return (await session.scalars(query.order_by(Move.id))).all()


async def pending_for(session: AsyncSession, member_id: int) -> Move | None:
    found = await pending_of(session, member_id)
    return found[0] if found else None


async def pending_touching(session: AsyncSession, branch_id: int | None) -> Sequence[Move]:
    """Pending transfers into or out of a branch (every one: None), oldest first."""
    query = select(Move).where(Move.status == MoveStatus.PENDING)
    if branch_id is not None:
        query = query.where((Move.to_branch_id == branch_id) | (Move.from_branch_id == branch_id))
    return (await session.scalars(query.order_by(Move.id))).all()


async def get_move(session: AsyncSession, move_id: int) -> Move | None:
    return await session.get(Move, move_id)


async def of_member(session: AsyncSession, member_id: int) -> Sequence[Move]:
    query = select(Move).where(Move.member_id == member_id)
    return (await session.scalars(query.order_by(Move.on, Move.id))).all()


async def members_in(
    session: AsyncSession,
    branch_id: int | None,
    *,
    grade: str | None = None,
    class_name: str | None = None,
) -> Sequence[Member]:
    """Active members of a branch (every branch: None) of a grade and/or a class, by name."""
    query = select(Member).where(Member.active.is_(True), Member.branch_id.is_not(None))
    if branch_id is not None:
        query = query.where(Member.branch_id == branch_id)
    if grade is not None:
        query = query.where(Member.grade == grade)
    if class_name is not None:
        query = query.where(Member.class_name == class_name)
    return (await session.scalars(query.order_by(Member.name, Member.id))).unique().all()
