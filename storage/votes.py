"""Queries over votes (表决): who may vote and who did, the sealed box, the open votes."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import ballot_box
from storage.crypto import SecretBox
from storage.enums import Presence, Stage
from storage.models import Attendance, Member
from storage.vote_models import AppraisalGrade, SelfEvaluation, Vote, VoteBox, VoteElector


async def present_full_members(
    session: AsyncSession, meeting_id: int, ids: Sequence[int]
) -> list[int]:
    """Of these members, the full members checked in (on site or online) at the meeting."""
    if not ids:
        return []
    query = (
        select(Attendance.member_id)
        .join(Member, Member.id == Attendance.member_id)
        .where(
            Attendance.meeting_id == meeting_id,
            Attendance.member_id.in_(ids),
            Attendance.presence.in_((Presence.PRESENT, Presence.ONLINE)),
            Member.stage == Stage.FULL,
        )
    )
    return sorted((await session.scalars(query)).all())


async def full_members_among(session: AsyncSession, ids: Sequence[int]) -> list[int]:
    if not ids:
        return []
    query = select(Member.id).where(Member.id.in_(ids), Member.stage == Stage.FULL)
    return sorted((await session.scalars(query)).all())


async def open_for(session: AsyncSession, meeting_id: int, subject_id: int) -> Vote | None:
    query = select(Vote).where(
        Vote.meeting_id == meeting_id, Vote.subject_id == subject_id, Vote.closed_at.is_(None)
    )
    return (await session.scalars(query)).first()


async def of_branch(
    session: AsyncSession, branch_id: int | None, limit: int = 20
) -> Sequence[Vote]:
    query = select(Vote)
    if branch_id is not None:
        query = query.where(Vote.branch_id == branch_id)
    return (await session.scalars(query.order_by(Vote.id.desc()).limit(limit))).all()


async def of_meeting(session: AsyncSession, meeting_id: int, branch_id: int) -> Sequence[Vote]:
    """The branch's votes taken at the meeting, in the order they were opened."""
    query = select(Vote).where(Vote.meeting_id == meeting_id, Vote.branch_id == branch_id)
    return (await session.scalars(query.order_by(Vote.id))).all()


async def of_subjects(session: AsyncSession, subject_ids: Sequence[int]) -> Sequence[Vote]:
    """The closed votes on these people, oldest first."""
    if not subject_ids:
        return []
    query = select(Vote).where(Vote.subject_id.in_(subject_ids), Vote.closed_at.is_not(None))
    return (await session.scalars(query.order_by(Vote.id))).all()


async def add_electors(session: AsyncSession, vote_id: int, member_ids: Sequence[int]) -> None:
    """The electors and the (empty) box: it exists before the first ballot, so ballots cast
    at once all wait on its row lock."""
    session.add_all(VoteElector(vote_id=vote_id, member_id=m, voted=False) for m in member_ids)
    session.add(VoteBox(vote_id=vote_id, ballots_enc=None, count=0))
    await session.flush()


async def elector(session: AsyncSession, vote_id: int, member_id: int) -> VoteElector | None:
    return await session.get(VoteElector, (vote_id, member_id), with_for_update=True)


async def electors(session: AsyncSession, vote_id: int) -> Sequence[VoteElector]:
    query = select(VoteElector).where(VoteElector.vote_id == vote_id)
    return (await session.scalars(query.order_by(VoteElector.member_id))).all()


async def mark_voted(session: AsyncSession, vote_id: int, member_id: int) -> bool:
    """Record that the member voted; False if they already had (a second tap, two devices)."""
    result = await session.execute(
        update(VoteElector)
        .where(
            VoteElector.vote_id == vote_id,
            VoteElector.member_id == member_id,
            VoteElector.voted.is_(False),
        )
        .values(voted=True)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def put_ballot(session: AsyncSession, box: SecretBox, vote_id: int, choice: Any) -> int:
    """Put a ballot in the vote's box at a random place (the row locked: two at once both go
    in); returns how many it holds."""
    row = await session.get(VoteBox, vote_id, with_for_update=True)
    assert row is not None  # made with the electors
    row.ballots_enc, row.count = ballot_box.put_in(box, row.ballots_enc, {"choice": choice})
    await session.flush()
    return row.count


async def ballots(session: AsyncSession, box: SecretBox, vote_id: int) -> list[Any]:
    """Each ballot's choice (a person's vote: for, against or abstain; an election's: the
    candidates chosen), in the box's random order."""
    row = await session.get(VoteBox, vote_id)
    if row is None:
        return []
    return [b["choice"] for b in ballot_box.opened(box, row.ballots_enc)]


async def lock(session: AsyncSession, vote_id: int) -> Vote | None:
    return await session.get(Vote, vote_id, with_for_update=True)


async def self_evaluation(
    session: AsyncSession, vote_id: int, member_id: int
) -> SelfEvaluation | None:
    return await session.get(SelfEvaluation, (vote_id, member_id))


async def self_evaluations(session: AsyncSession, vote_id: int) -> dict[int, SelfEvaluation]:
    query = select(SelfEvaluation).where(SelfEvaluation.vote_id == vote_id)
    return {s.member_id: s for s in (await session.scalars(query)).all()}


async def grades(session: AsyncSession, vote_id: int) -> dict[int, AppraisalGrade]:
    query = select(AppraisalGrade).where(AppraisalGrade.vote_id == vote_id)
    return {g.member_id: g for g in (await session.scalars(query)).all()}


async def latest_of_kind(session: AsyncSession, branch_id: int, kind: str) -> Vote | None:
    query = select(Vote).where(Vote.branch_id == branch_id, Vote.kind == kind)
    return (await session.scalars(query.order_by(Vote.id.desc()).limit(1))).first()


async def grades_of_member(
    session: AsyncSession, member_id: int, kind: str, since: datetime, until: datetime
) -> Sequence[AppraisalGrade]:
    """The grades a member was given in the votes of `kind` opened in [since, until)."""
    query = (
        select(AppraisalGrade)
        .join(Vote, Vote.id == AppraisalGrade.vote_id)
        .where(
            AppraisalGrade.member_id == member_id,
            Vote.kind == kind,
            Vote.opened_at >= since,
            Vote.opened_at < until,
        )
        .order_by(Vote.opened_at, Vote.id)
    )
    return (await session.scalars(query)).all()
