"""Queries over surveys, and the ballot box that keeps anonymous answers unlinkable.

A finished set of answers (a ballot) never gets a row of its own: it goes into the survey's
one ballot box, an encrypted list kept in random order. Nothing stored with a ballot (no id,
no time, no position) follows the order in which people answered, so the participants table
and the traces (which do say who took part, and when) cannot be matched to the answers.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import ballot_box
from storage.crypto import SecretBox
from storage.db import chunks, present
from storage.enums import Role
from storage.models import Member
from storage.survey_models import Survey, SurveyBallotBox, SurveyParticipant, SurveyProgress

# One answer per question: an option index (single, scale as 1-5), a list of option indexes
# (multi), a text (text), or None (skipped).
Answer = int | list[int] | str | None


@dataclass(frozen=True)
class Ballot:
    answers: list[Answer]
    member_id: int | None = None  # named surveys only


def survey_ref(survey_id: int) -> str:
    return f"survey:{survey_id}"


async def get(session: AsyncSession, survey_id: int) -> Survey | None:
    return await session.get(Survey, survey_id)


async def cast(session: AsyncSession, box: SecretBox, survey: Survey, ballot: Ballot) -> int:
    """Put a ballot into the survey's box at a random place; returns how many it holds.

    The box row is locked (PostgreSQL) so two ballots cast at once both go in."""
    row = await session.get(SurveyBallotBox, survey.id, with_for_update=True)
    if row is None:
        row = SurveyBallotBox(survey_id=survey.id, ballots_enc=None, count=0)
        session.add(row)
    entry: dict[str, Any] = {"answers": ballot.answers}
    if not survey.anonymous and ballot.member_id is not None:
        entry["member"] = ballot.member_id
    row.ballots_enc, row.count = ballot_box.put_in(box, row.ballots_enc, entry)
    await session.flush()
    return row.count


async def ballots(session: AsyncSession, box: SecretBox, survey_id: int) -> list[Ballot]:
    """Every ballot of the survey, in the box's (random) order."""
    row = await session.get(SurveyBallotBox, survey_id)
    if row is None:
        return []
    found = ballot_box.opened(box, row.ballots_enc)
    return [Ballot(list(b["answers"]), b.get("member")) for b in found]


async def answer_count(session: AsyncSession, survey_id: int) -> int:
    row = await session.get(SurveyBallotBox, survey_id)
    return row.count if row is not None else 0


async def took_part(session: AsyncSession, survey_id: int) -> set[int]:
    query = select(SurveyParticipant.member_id).where(SurveyParticipant.survey_id == survey_id)
    return set((await session.scalars(query)).all())


async def has_taken_part(session: AsyncSession, survey_id: int, member_id: int) -> bool:
    query = select(func.count()).where(
        SurveyParticipant.survey_id == survey_id, SurveyParticipant.member_id == member_id
    )
    return bool(await session.scalar(query))


async def progress(session: AsyncSession, survey_id: int, member_id: int) -> SurveyProgress | None:
    return await session.get(SurveyProgress, (survey_id, member_id))


async def open_surveys(session: AsyncSession, branch_ids: Sequence[int | None]) -> Sequence[Survey]:
    """Surveys not closed, of these branches (None: the school-wide ones), newest first."""
    wanted = [b for b in branch_ids if b is not None]
    query = select(Survey).where(Survey.closed_at.is_(None))
    conditions = [Survey.branch_id.in_(wanted)] if wanted else []
    if None in branch_ids:
        conditions.append(Survey.branch_id.is_(None))
    if conditions:
        query = query.where(or_(*conditions))
    return (await session.scalars(query.order_by(Survey.id.desc()))).all()


# Who a survey is for, and who has taken part.


async def members_for(
    session: AsyncSession, branch_id: int | None, audience: dict[str, Any], today: date
) -> list[int]:
    """The active members an audience ({"kind": "branch" | "stage" | "interns"}) of a branch
    (None: every branch) holds today, in id order; interns are those on placement today."""
    query = select(Member.id).where(Member.active.is_(True))
    if branch_id is not None:
        query = query.where(Member.branch_id == branch_id)
    kind = audience.get("kind")
    if kind == "stage":
        query = query.where(Member.stage == audience.get("stage"))
    elif kind == "interns":
        query = query.where(Member.remote_until >= today)
    return list((await session.scalars(query.order_by(Member.id))).all())


async def audience_ids(session: AsyncSession, survey: Survey, today: date) -> list[int]:
    """The members the survey is for today."""
    return await members_for(session, survey.branch_id, survey.audience, today)


async def audience_size(session: AsyncSession, survey: Survey, today: date) -> int:
    """Everyone the survey is for today and everyone who took part (some may have left)."""
    return len(
        set(await audience_ids(session, survey, today)) | await took_part(session, survey.id)
    )


def reaches(survey: Survey, member: Member, today: date) -> bool:
    """Whether the survey is for this member today (the same rule as audience_ids)."""
    if not member.active:
        return False
    if survey.branch_id is not None and member.branch_id != survey.branch_id:
        return False
    kind = survey.audience.get("kind")
    if kind == "stage":
        return member.stage == survey.audience.get("stage")
    if kind == "interns":
        return member.is_remote_on(today)
    return True


async def add_participant(session: AsyncSession, survey_id: int, member_id: int) -> None:
    """Record that the member took part: no time, no answers (see SurveyParticipant)."""
    session.add(SurveyParticipant(survey_id=survey_id, member_id=member_id))
    await session.flush()


async def taken_of(session: AsyncSession, survey_ids: Sequence[int], member_id: int) -> set[int]:
    """Which of these surveys the member has taken part in."""
    return await present(
        session, SurveyParticipant.survey_id, survey_ids, SurveyParticipant.member_id == member_id
    )


async def answer_counts(session: AsyncSession, survey_ids: Sequence[int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for chunk in chunks(survey_ids):
        query = select(SurveyBallotBox.survey_id, SurveyBallotBox.count).where(
            SurveyBallotBox.survey_id.in_(chunk)
        )
        counts.update({row[0]: row[1] for row in (await session.execute(query)).all()})
    return counts


# A member's unfinished answers, encrypted: the answers so far and the options toggled on
# the current multiple-choice question are one Fernet token, so nothing of them is readable
# without the key.


@dataclass
class Draft:
    """What a member has answered so far, decrypted."""

    answers: list[Answer]
    selection: list[int]


async def locked_progress(
    session: AsyncSession, survey_id: int, member_id: int
) -> SurveyProgress | None:
    return await session.get(SurveyProgress, (survey_id, member_id), with_for_update=True)


def read_draft(box: SecretBox, row: SurveyProgress) -> Draft:
    text = box.decrypt(row.answers_enc)
    data = json.loads(text) if text else {}
    return Draft(list(data.get("answers", [])), [int(i) for i in data.get("selection", [])])


async def save_draft(
    session: AsyncSession,
    box: SecretBox,
    survey_id: int,
    member_id: int,
    draft: Draft,
    now: datetime,
) -> SurveyProgress:
    """Store the member's answers so far (their position is how many there are)."""
    row = await session.get(SurveyProgress, (survey_id, member_id))
    if row is None:
        row = SurveyProgress(survey_id=survey_id, member_id=member_id)
        session.add(row)
    sealed = {"answers": draft.answers, "selection": sorted(draft.selection)}
    row.answers_enc = box.encrypt(json.dumps(sealed, ensure_ascii=False))
    row.position = len(draft.answers)
    row.updated_at = now
    await session.flush()
    return row


async def drop_progress(session: AsyncSession, survey_id: int, member_id: int | None = None) -> int:
    """Delete a member's progress (they finished), or everyone's (the survey closed)."""
    query = delete(SurveyProgress).where(SurveyProgress.survey_id == survey_id)
    if member_id is not None:
        query = query.where(SurveyProgress.member_id == member_id)
    result = await session.execute(query)
    return int(getattr(result, "rowcount", 0) or 0)


async def positions_of(
    session: AsyncSession, survey_ids: Sequence[int], member_id: int
) -> dict[int, int]:
    """How far the member has got in the surveys they are still answering."""
    found: dict[int, int] = {}
    for chunk in chunks(survey_ids):
        query = select(SurveyProgress.survey_id, SurveyProgress.position).where(
            SurveyProgress.member_id == member_id, SurveyProgress.survey_id.in_(chunk)
        )
        found.update({row[0]: row[1] for row in (await session.execute(query)).all()})
    return found


async def started_by(session: AsyncSession, survey_id: int) -> set[int]:
    """The members still answering the survey (they have progress)."""
    query = select(SurveyProgress.member_id).where(SurveyProgress.survey_id == survey_id)
    return set((await session.scalars(query)).all())


async def managers_of(session: AsyncSession, branch_id: int | None) -> list[int]:
    """A branch's active secretaries; for a school-wide survey (None), the admins."""
    query = select(Member.id).where(Member.active.is_(True))
    if branch_id is None:
        query = query.where(Member.role == Role.ADMIN)
    else:
        query = query.where(Member.branch_id == branch_id, Member.role == Role.SECRETARY)
    return list((await session.scalars(query.order_by(Member.id))).all())


# Surveys by branch and by deadline.


async def shared(session: AsyncSession, survey_id: int) -> Survey | None:
    """The survey, share-locked until commit (PostgreSQL): answers go in either before a
    close or not at all, never while it is being closed."""
    return await session.get(Survey, survey_id, with_for_update={"read": True})


async def locked(session: AsyncSession, survey_id: int) -> Survey | None:
    """The survey, its row held until commit (PostgreSQL), so closing and the hourly job
    line up."""
    return await session.get(Survey, survey_id, with_for_update=True)


async def of_branch(session: AsyncSession, branch_id: int | None, limit: int) -> Sequence[Survey]:
    """A branch's surveys (branch_id None: every survey, for admins), newest first."""
    query = select(Survey)
    if branch_id is not None:
        query = query.where(Survey.branch_id == branch_id)
    return (await session.scalars(query.order_by(Survey.id.desc()).limit(limit))).all()


async def to_remind(session: AsyncSession, now: datetime, until: datetime) -> Sequence[Survey]:
    """Open surveys not yet reminded whose deadline falls after now and by `until`."""
    query = select(Survey).where(
        Survey.closed_at.is_(None),
        Survey.reminded_at.is_(None),
        Survey.deadline > now,
        Survey.deadline <= until,
    )
    return (await session.scalars(query.order_by(Survey.id).with_for_update())).all()


async def to_close(session: AsyncSession, now: datetime) -> Sequence[Survey]:
    """Open surveys whose deadline has passed."""
    query = select(Survey).where(Survey.closed_at.is_(None), Survey.deadline <= now)
    return (await session.scalars(query.order_by(Survey.id).with_for_update())).all()
