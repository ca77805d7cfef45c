"""The question bank, quiz rounds, answers, the 错题本 and the figures built from them."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Member, Mistake, Question, Quiz, QuizAnswer


def quiz_ref(quiz_id: int) -> str:
    return f"quiz:{quiz_id}"


@dataclass(frozen=True)
class BankEntry:
    """What choosing questions needs to know of one question."""

    id: int
    tags: tuple[str, ...]


async def bank(session: AsyncSession) -> list[BankEntry]:
    rows = await session.execute(
        select(Question.id, Question.tags).where(Question.active).order_by(Question.id)
    )
    return [BankEntry(qid, tuple(tags or ())) for qid, tags in rows]


async def questions(session: AsyncSession, ids: Sequence[int]) -> dict[int, Question]:
    rows = await session.scalars(select(Question).where(Question.id.in_(ids)))
    return {q.id: q for q in rows}


async def by_codes(session: AsyncSession, codes: Sequence[str]) -> dict[str, Question]:
    rows = await session.scalars(select(Question).where(Question.code.in_(codes)))
    return {q.code: q for q in rows}


async def all_questions(session: AsyncSession) -> Sequence[Question]:
    return (await session.scalars(select(Question).order_by(Question.code))).all()


async def count_questions(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Question)) or 0)


async def locked(session: AsyncSession, quiz_id: int) -> Quiz | None:
    """The quiz, re-read under a row lock (PostgreSQL; SQLite's writers are serial), so a
    second press of the same button waits and then finds the question answered."""
    query = select(Quiz).where(Quiz.id == quiz_id).with_for_update()
    return await session.scalar(query.execution_options(populate_existing=True))


async def open_quiz(session: AsyncSession, member_id: int, day: date) -> Quiz | None:
    """The member's unfinished round of the day, to pick up where they left off."""
    query = (
        select(Quiz)
        .where(Quiz.member_id == member_id, Quiz.day == day, Quiz.finished_at.is_(None))
        .order_by(Quiz.id.desc())
        .limit(1)
    )
    return await session.scalar(query)


async def rounds_on(session: AsyncSession, member_id: int, day: date) -> Sequence[Quiz]:
    query = select(Quiz).where(Quiz.member_id == member_id, Quiz.day == day).order_by(Quiz.id)
    return (await session.scalars(query)).all()


async def recent_questions(session: AsyncSession, member_id: int, since: datetime) -> set[int]:
    query = select(QuizAnswer.question_id).where(
        QuizAnswer.member_id == member_id, QuizAnswer.at >= since
    )
    return set((await session.scalars(query)).all())


async def tag_record(
    session: AsyncSession, member_id: int, since: datetime
) -> dict[str, tuple[int, int]]:
    """Per tag, (right, answered) over the member's answers since `since`."""
    query = (
        select(Question.tags, QuizAnswer.correct)
        .join(Question, Question.id == QuizAnswer.question_id)
        .where(QuizAnswer.member_id == member_id, QuizAnswer.at >= since)
    )
    record: dict[str, tuple[int, int]] = {}
    for tags, correct in await session.execute(query):
        for tag in tags or ():
            right, total = record.get(tag, (0, 0))
            record[tag] = (right + int(correct), total + 1)
    return record


async def open_mistakes(session: AsyncSession, member_id: int) -> Sequence[Mistake]:
    query = (
        select(Mistake)
        .join(Question, Question.id == Mistake.question_id)
        .where(Mistake.member_id == member_id, Mistake.cleared_at.is_(None), Question.active)
        .order_by(Mistake.missed_at)
    )
    return (await session.scalars(query)).all()


async def note_result(
    session: AsyncSession, member_id: int, question_id: int, correct: bool, now: datetime
) -> None:
    """Put a missed question in the 错题本 (again), or take a right one out of it."""
    mistake = await session.get(Mistake, (member_id, question_id))
    if correct:
        if mistake is not None and mistake.cleared_at is None:
            mistake.cleared_at = now
    elif mistake is None:
        session.add(Mistake(member_id=member_id, question_id=question_id, missed_at=now))
    else:
        mistake.misses += 1
        mistake.missed_at = now
        mistake.cleared_at = None


async def counted_days(session: AsyncSession, member_id: int, since: date) -> set[date]:
    """Days on which the member finished the day's counted quiz."""
    query = select(Quiz.day).where(
        Quiz.member_id == member_id,
        Quiz.counted,
        Quiz.finished_at.is_not(None),
        Quiz.day >= since,
    )
    return set((await session.scalars(query)).all())


async def done_on(session: AsyncSession, day: date) -> set[int]:
    """Members who finished the day's counted quiz on `day`."""
    query = select(Quiz.member_id).where(
        Quiz.day == day, Quiz.counted, Quiz.finished_at.is_not(None)
    )
    return set((await session.scalars(query)).all())


@dataclass(frozen=True)
class Standing:
    member_id: int
    name: str
    points: int  # right answers in counted quizzes
    days: int  # days the daily quiz was done


async def leaderboard(
    session: AsyncSession, branch_id: int, first: date, last: date
) -> list[Standing]:
    """The branch's members by right answers in their daily quizzes between the two days."""
    query = (
        select(Member.id, Member.name, func.sum(Quiz.correct), func.count(Quiz.id))
        .join(Member, Member.id == Quiz.member_id)
        .where(
            Member.active,
            Quiz.branch_id == branch_id,
            Quiz.counted,
            Quiz.finished_at.is_not(None),
            Quiz.day >= first,
            Quiz.day <= last,
        )
        .group_by(Member.id, Member.name)
    )
    rows = [
        Standing(mid, name, int(pts or 0), int(days))
        for mid, name, pts, days in await session.execute(query)
    ]
    rows.sort(key=lambda s: (-s.points, -s.days, s.name))
    return rows


class Learner(NamedTuple):
    id: int
    branch_id: int
    interests: list[str]


async def learners(session: AsyncSession) -> list[Learner]:
    """Everyone the daily study jobs are for: active members of a branch (plain rows)."""
    query = (
        select(Member.id, Member.branch_id, Member.interests)
        .where(Member.active, Member.branch_id.is_not(None))
        .order_by(Member.id)
    )
    return [
        Learner(mid, branch, interests or [])
        for mid, branch, interests in await session.execute(query)
    ]


async def deactivate_missing(session: AsyncSession, keep: set[str], now: datetime) -> int:
    """Retire every question not in `keep` (an import with --replace); answers stay."""
    query = (
        update(Question)
        .where(Question.code.not_in(keep), Question.active)
        .values(active=False, updated_at=now)
    )
    result = await session.execute(query)
    return int(getattr(result, "rowcount", 0) or 0)


async def mistake_tags(
    session: AsyncSession, member_ids: Sequence[int] | None
) -> dict[int, dict[str, int]]:
    """Per member (None: everyone), the tags of the questions in their 错题本 with how many
    misses each has (a question missed twice counts twice), most missed first."""
    query = (
        select(Mistake.member_id, Mistake.misses, Question.tags)
        .join(Question, Question.id == Mistake.question_id)
        .where(Mistake.cleared_at.is_(None))
    )
    if member_ids is not None:
        query = query.where(Mistake.member_id.in_(member_ids))
    counts: dict[int, dict[str, int]] = {}
    for member_id, misses, tags in await session.execute(query):
        tally = counts.setdefault(member_id, {})
        for tag in tags or ():
            tally[tag] = tally.get(tag, 0) + max(int(misses or 1), 1)
    return {
        m: dict(sorted(t.items(), key=lambda item: (-item[1], item[0]))) for m, t in counts.items()
    }


async def bank_tags(session: AsyncSession) -> set[str]:
    """Every tag of the active questions (the terms the study dictionary must know)."""
    rows = await session.scalars(select(Question.tags).where(Question.active))
    return {tag for tags in rows for tag in tags or ()}
