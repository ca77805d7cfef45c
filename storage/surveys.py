"""Queries over surveys, and the ballot box that keeps anonymous answers unlinkable.

A finished set of answers (a ballot) never gets a row of its own: it goes into the survey's
one ballot box, an encrypted list kept in random order. Nothing stored with a ballot (no id,
no time, no position) follows the order in which people answered, so the participants table
and the traces (which do say who took part, and when) cannot be matched to the answers.
"""

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.crypto import SecretBox
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
    ballots = _open(box, row.ballots_enc)
    entry: dict[str, Any] = {"answers": ballot.answers}
    if not survey.anonymous and ballot.member_id is not None:
        entry["member"] = ballot.member_id
    ballots.insert(secrets.randbelow(len(ballots) + 1), entry)
    row.ballots_enc = box.encrypt(json.dumps(ballots, ensure_ascii=False))
    row.count = len(ballots)
    await session.flush()
    return row.count


def _open(box: SecretBox, sealed: bytes | None) -> list[dict[str, Any]]:
    text = box.decrypt(sealed)
    return list(json.loads(text)) if text else []


async def ballots(session: AsyncSession, box: SecretBox, survey_id: int) -> list[Ballot]:
    """Every ballot of the survey, in the box's (random) order."""
    row = await session.get(SurveyBallotBox, survey_id)
    if row is None:
        return []
    return [Ballot(list(b["answers"]), b.get("member")) for b in _open(box, row.ballots_enc)]


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


async def progress(
    session: AsyncSession, survey_id: int, member_id: int
) -> SurveyProgress | None:
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
