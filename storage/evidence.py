"""Per-person figures over a period, batched: attendance, materials learned, daily quizzes.

Each function takes many member ids and answers in one query per chunk, so a table of a whole
branch costs a handful of queries however large the branch.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import chunks, core_rows
from storage.enums import MeetingStatus, Presence
from storage.models import Attendance, MaterialRead, Meeting, Quiz


@dataclass(frozen=True)
class AttendanceCounts:
    present: int = 0  # on site
    online: int = 0
    late: int = 0
    excused: int = 0
    absent: int = 0

    @property
    def held(self) -> int:
        return self.present + self.online + self.excused + self.absent

    @property
    def attended(self) -> int:
        return self.present + self.online

    @property
    def expected(self) -> int:
        """Meetings the person was expected at: excused ones are not held against them."""
        return self.held - self.excused


async def attendance(
    session: AsyncSession, member_ids: Sequence[int] | None, since: datetime, until: datetime
) -> dict[int, AttendanceCounts]:
    """Finalised meetings in [since, until) per member, by how they took part; `member_ids`
    None: everyone (a school), in one pass over the period's meetings."""
    counts: dict[int, dict[str, int]] = {m: {} for m in member_ids or ()}
    for query in _attendance_queries(member_ids, since, until):
        for member_id, presence, n, late in await core_rows(session, query):
            found = counts.setdefault(member_id, {})
            found[presence] = int(n)
            found["late"] = found.get("late", 0) + int(late or 0)
    return {member_id: _counts(found) for member_id, found in counts.items()}


def _counts(found: dict[str, int]) -> AttendanceCounts:
    return AttendanceCounts(
        present=found.get(Presence.PRESENT, 0),
        online=found.get(Presence.ONLINE, 0),
        late=found.get("late", 0),
        excused=found.get(Presence.EXCUSED, 0),
        absent=found.get(Presence.ABSENT, 0),
    )


async def attendance_by_kind(
    session: AsyncSession, member_id: int, since: datetime, until: datetime
) -> dict[str, AttendanceCounts]:
    """One member's finalised meetings in [since, until) by meeting kind, by how they took
    part (as `attendance` counts them)."""
    query = (
        select(
            Meeting.kind,
            Attendance.presence,
            func.count(),
            func.sum(case((Attendance.late, 1), else_=0)),
        )
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .where(
            Attendance.member_id == member_id,
            Meeting.status == MeetingStatus.FINISHED,
            Meeting.starts_at >= since,
            Meeting.starts_at < until,
        )
        .group_by(Meeting.kind, Attendance.presence)
    )
    counts: dict[str, dict[str, int]] = {}
    for kind, presence, n, late in (await session.execute(query)).all():
        found = counts.setdefault(kind, {})
        found[presence] = int(n)
        found["late"] = found.get("late", 0) + int(late or 0)
    return {kind: _counts(found) for kind, found in counts.items()}


def _attendance_queries(
    member_ids: Sequence[int] | None, since: datetime, until: datetime
) -> list[Select[tuple[int, str, int, int]]]:
    """Some members: their rows (by the member index), each meeting checked by EXISTS, so
    the database cannot start from every meeting of a school and probe each one for the
    members (seconds at school scale). Everyone: the period's meetings, then their rows."""
    finished = select(Meeting.id).where(
        Meeting.status == MeetingStatus.FINISHED,
        Meeting.starts_at >= since,
        Meeting.starts_at < until,
    )
    base = select(
        Attendance.member_id,
        Attendance.presence,
        func.count(),
        func.sum(case((Attendance.late, 1), else_=0)),
    ).group_by(Attendance.member_id, Attendance.presence)
    if member_ids is None:
        return [base.where(Attendance.meeting_id.in_(finished))]
    held = finished.where(Meeting.id == Attendance.meeting_id).exists()
    return [base.where(Attendance.member_id.in_(chunk), held) for chunk in chunks(member_ids)]


async def learned(
    session: AsyncSession, member_ids: Sequence[int], since: datetime, until: datetime
) -> dict[int, int]:
    """Materials each member marked 已学习 in [since, until)."""
    found = dict.fromkeys(member_ids, 0)
    for chunk in chunks(member_ids):
        query = (
            select(MaterialRead.member_id, func.count())
            .where(
                MaterialRead.member_id.in_(chunk),
                MaterialRead.learned_at >= since,
                MaterialRead.learned_at < until,
            )
            .group_by(MaterialRead.member_id)
        )
        found.update({m: int(n) for m, n in (await session.execute(query)).all()})
    return found


@dataclass(frozen=True)
class QuizFigures:
    days: int = 0  # days with a counted daily quiz
    answered: int = 0
    correct: int = 0

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.answered if self.answered else None


async def quizzes(
    session: AsyncSession, member_ids: Sequence[int], since: date, until: date
) -> dict[int, QuizFigures]:
    """Counted daily quizzes on days in [since, until): days taken, answers, right answers."""
    found = {m: QuizFigures() for m in member_ids}
    for chunk in chunks(member_ids):
        # A round's position is how many of its questions were answered, `correct` how many
        # rightly: no need to read the answers themselves.
        query = (
            select(
                Quiz.member_id,
                func.count(func.distinct(Quiz.day)),
                func.sum(Quiz.position),
                func.sum(Quiz.correct),
            )
            .where(
                Quiz.member_id.in_(chunk),
                Quiz.counted.is_(True),
                Quiz.day >= since,
                Quiz.day < until,
            )
            .group_by(Quiz.member_id)
        )
        for member_id, days, answered, correct in (await session.execute(query)).all():
            found[member_id] = QuizFigures(int(days), int(answered or 0), int(correct or 0))
    return found
