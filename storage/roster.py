"""Queries for changing the roster: memberships with dates, a member's change history, the
checks a change needs (the branch's secretaries, a staff number in use)."""

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import core_rows
from storage.enums import Role
from storage.models import Branch, Member, Trace
from storage.roster_models import Membership
from storage.signals import AfterCommit

# The trace kinds that make up a member's record history (/member NAME shows them); the
# later roster slices (transfers, leaving) add theirs here.
HISTORY_KINDS = (
    "member.created",
    "member.changed",
    "member.transfer_requested",
    "member.transferred",
    "member.transfer_refused",
    "member.left",
    "member.transferred_in",
    "archive.added",
    "archive.file_added",
    "archive.withdrawn",
)


# The kinds of those that record a move made (a transfer, a leaving), for the annual record.
MOVE_KINDS = ("member.transferred", "member.left", "member.transferred_in")


async def open_membership(
    session: AsyncSession, member_id: int, branch_id: int, since: datetime, reason: str
) -> None:
    session.add(Membership(member_id=member_id, branch_id=branch_id, since=since, reason=reason))
    await session.flush()
    AfterCommit.ROSTER_CHANGED.raise_on(session)


async def memberships_of(session: AsyncSession, member_id: int) -> Sequence[Membership]:
    """The member's stretches in branches, oldest first."""
    query = select(Membership).where(Membership.member_id == member_id)
    return (await session.scalars(query.order_by(Membership.since, Membership.id))).all()


class Stretch(NamedTuple):
    """A membership as plain values (a school's report reads 30,000 of them)."""

    member_id: int
    branch_id: int
    since: datetime
    until: datetime | None  # None: still a member there


def overlapping(since: datetime, until: datetime) -> ColumnElement[bool]:
    """Memberships that cover some instant of [since, until)."""
    return and_(Membership.since < until, or_(Membership.until.is_(None), Membership.until > since))


def covering(at: datetime) -> ColumnElement[bool]:
    """Memberships that hold at the instant `at`."""
    return and_(Membership.since <= at, or_(Membership.until.is_(None), Membership.until > at))


def counted() -> ColumnElement[bool]:
    """Memberships that count (joined with their member): closed ones, and open ones of
    active members (a member made inactive without a leaving, e.g. a cancelled probation,
    has no end date to count to)."""
    return or_(Membership.until.is_not(None), Member.active.is_(True))


async def branch_at(session: AsyncSession, member_id: int, at: datetime) -> int | None:
    """The branch the member belonged to at the instant `at` (None: none then)."""
    query = select(Membership.branch_id).where(Membership.member_id == member_id, covering(at))
    return await session.scalar(query.order_by(Membership.since.desc()).limit(1))


async def stretches_between(
    session: AsyncSession, branch_id: int | None, since: datetime, until: datetime
) -> list[Stretch]:
    """The memberships of a branch (every branch: None) overlapping [since, until), in one
    query, by member then start."""
    query = select(
        Membership.member_id, Membership.branch_id, Membership.since, Membership.until
    ).where(overlapping(since, until))
    if branch_id is not None:
        query = query.where(Membership.branch_id == branch_id)
    query = query.order_by(Membership.member_id, Membership.since, Membership.id)
    return [Stretch(*row) for row in await core_rows(session, query)]


async def lock_branch(session: AsyncSession, branch_id: int) -> None:
    """Hold the branch's row until commit (PostgreSQL), so two new secretaries named at once
    for one branch line up and the second sees (and demotes) the first."""
    await session.execute(select(Branch.id).where(Branch.id == branch_id).with_for_update())


async def secretaries_of(session: AsyncSession, branch_id: int) -> Sequence[Member]:
    query = select(Member).where(
        Member.branch_id == branch_id, Member.role == Role.SECRETARY, Member.active.is_(True)
    )
    return (await session.scalars(query.order_by(Member.id))).unique().all()


async def staff_no_holder(session: AsyncSession, staff_no: str) -> Member | None:
    """Whoever has this staff number (active or not: a number is never given twice)."""
    query = select(Member).where(Member.staff_no == staff_no).order_by(Member.id).limit(1)
    return (await session.scalars(query)).unique().first()


async def history(session: AsyncSession, member_id: int, limit: int) -> Sequence[Trace]:
    """The latest `limit` changes to the member's record, oldest first."""
    query = (
        select(Trace)
        .where(Trace.member_id == member_id, Trace.kind.in_(HISTORY_KINDS))
        .order_by(Trace.id.desc())
        .limit(limit)
    )
    return list(reversed((await session.scalars(query)).all()))


async def moves_traced(session: AsyncSession, member_id: int) -> Sequence[Trace]:
    """The member's transfers and leavings as traced, oldest first."""
    query = select(Trace).where(Trace.member_id == member_id, Trace.kind.in_(MOVE_KINDS))
    return (await session.scalars(query.order_by(Trace.id))).all()


async def move_membership(
    session: AsyncSession,
    member: Member,
    to_branch: Branch | None,
    at: datetime,
    reason: str,
    end_reason: str,
) -> None:
    """Close the member's open membership at `at` (for `end_reason`) and, with `to_branch`,
    open one there from `at` (for `reason`); `members.branch_id` follows. The stretches
    before `at` stay as they were: records up to then count in the old branch."""
    query = select(Membership).where(Membership.member_id == member.id, Membership.until.is_(None))
    for stretch in (await session.scalars(query)).all():
        stretch.until = at
        stretch.end_reason = end_reason
    if to_branch is not None:
        session.add(
            Membership(member_id=member.id, branch_id=to_branch.id, since=at, reason=reason)
        )
    member.branch = to_branch
    await session.flush()
    AfterCommit.ROSTER_CHANGED.raise_on(session)
