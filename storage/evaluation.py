"""Aggregate figures for the evaluation (考评), straight from the traces and attendance rows.

Every query groups by member (and kind) over a period, so a branch costs a few queries and
a whole school a few more: the traces are read through their kind/at and member indexes,
never one member at a time.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median

from sqlalchemy import Select, and_, case, func, or_, select, text, true, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload

from storage import roster
from storage.db import chunks, core_rows
from storage.enums import MeetingStatus, Presence
from storage.models import Attendance, Meeting, Member, Trace
from storage.roster_models import Membership

LEARNED = "material.learned"
QUIZ = "quiz.completed"
VOLUNTEER = "volunteer.approved"
THOUGHT = "thought.submitted"
DELIVERED = "notice.delivered"
ACKED = "notice.acknowledged"
KINDS = (LEARNED, QUIZ, VOLUNTEER, THOUGHT, DELIVERED, ACKED)


async def plan_each_query(session: AsyncSession) -> None:
    """On PostgreSQL, plan this transaction's queries for their own values. After five runs of
    a prepared statement PostgreSQL may settle on one generic plan, and for a branch's
    members over a period that plan scans the whole term's traces (2.5 s instead of 80 ms)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


@dataclass
class TraceFigures:
    """One member's counts over a period, from the traces."""

    learned: int = 0
    quiz_days: int = 0  # counted daily rounds: at most one a day
    quiz_answered: int = 0
    quiz_correct: int = 0
    last_quiz: datetime | None = None
    volunteer_hours: float = 0.0
    thoughts: int = 0
    delivered: int = 0
    acknowledged: int = 0
    ack_seconds: list[float] = field(default_factory=list)

    @property
    def median_ack_seconds(self) -> float | None:
        return float(median(self.ack_seconds)) if self.ack_seconds else None


COUNTED = (LEARNED, THOUGHT, DELIVERED, ACKED)  # a count is all they need
SUMMED = (QUIZ, VOLUNTEER)  # their data holds what is added up


def _figure_queries(since: datetime, until: datetime) -> list[Select[tuple]]:
    """Per member and kind over [since, until): counts of the counted kinds (from the
    indexes alone: kind, at, member), and counts, sums and the latest time of the summed
    ones, whose data is read (a quiz only when it counted)."""
    in_period = (Trace.at >= since, Trace.at < until, Trace.member_id.is_not(None))
    counts = (
        select(Trace.member_id, Trace.kind, func.count())  # count(id) would read each row
        .where(Trace.kind.in_(COUNTED), *in_period)
        .group_by(Trace.member_id, Trace.kind)
    )
    counted = Trace.data["counted"].as_boolean()
    # Each field only for the kind that has it: SQLite parses the JSON again for every field
    # read, and a school's term has hundreds of thousands of quizzes.
    quiz, volunteer = Trace.kind == QUIZ, Trace.kind == VOLUNTEER
    sums = (
        select(
            Trace.member_id,
            Trace.kind,
            func.count(Trace.id),
            func.sum(case((quiz, Trace.data["score"].as_integer()))),
            func.sum(case((quiz, Trace.data["total"].as_integer()))),
            func.sum(case((volunteer, Trace.data["hours"].as_float()))),
            func.max(Trace.at),
        )
        .where(Trace.kind.in_(SUMMED), *in_period, or_(Trace.kind != QUIZ, counted == true()))
        .group_by(Trace.member_id, Trace.kind)
    )
    return [counts, sums]


async def trace_figures(
    session: AsyncSession,
    since: datetime,
    until: datetime,
    member_ids: Sequence[int] | None,
    *,
    medians_of: Sequence[int] = (),
) -> dict[int, TraceFigures]:
    """Counts per member in [since, until); `member_ids` None: every member (a school).
    `medians_of`: whose acknowledgement times to gather for a median (a row each)."""
    found: dict[int, TraceFigures] = defaultdict(TraceFigures)
    for base in _figure_queries(since, until):
        queries = (
            [base]
            if member_ids is None
            else [base.where(Trace.member_id.in_(chunk)) for chunk in chunks(member_ids)]
        )
        for query in queries:
            for member_id, kind, n, *summed in await core_rows(session, query):
                _add(found[member_id], kind, int(n), *(summed or (None, None, None, None)))
    if medians_of:
        await _ack_seconds(session, since, until, medians_of, found)
    return found


def _add(
    figures: TraceFigures,
    kind: str,
    n: int,
    score: int | None,
    total: int | None,
    hours: float | None,
    last: datetime | None,
) -> None:
    if kind == LEARNED:
        figures.learned = n
    elif kind == QUIZ:
        figures.quiz_days, figures.last_quiz = n, last
        figures.quiz_correct, figures.quiz_answered = int(score or 0), int(total or 0)
    elif kind == VOLUNTEER:
        figures.volunteer_hours = float(hours or 0)
    elif kind == THOUGHT:
        figures.thoughts = n
    elif kind == DELIVERED:
        figures.delivered = n
    elif kind == ACKED:
        figures.acknowledged = n


async def _ack_seconds(
    session: AsyncSession,
    since: datetime,
    until: datetime,
    member_ids: Sequence[int],
    found: dict[int, TraceFigures],
) -> None:
    """How long each acknowledgement took (for the median); one row per acknowledgement."""
    query = select(Trace.member_id, Trace.data["after_seconds"].as_float()).where(
        Trace.kind == ACKED, Trace.at >= since, Trace.at < until
    )
    for chunk in chunks(member_ids):
        for member_id, seconds in (
            await session.execute(query.where(Trace.member_id.in_(chunk)))
        ).all():
            if member_id is not None and seconds is not None:
                found[member_id].ack_seconds.append(float(seconds))


async def last_counted_quiz(
    session: AsyncSession, member_ids: Sequence[int], since: datetime
) -> dict[int, datetime]:
    """Each member's latest counted daily quiz since a time (for /inactive)."""
    found: dict[int, datetime] = {}
    counted = Trace.data["counted"].as_boolean()
    for chunk in chunks(member_ids):
        query = (
            select(Trace.member_id, func.max(Trace.at))
            .where(
                Trace.kind == QUIZ,
                Trace.at >= since,
                Trace.member_id.in_(chunk),
                counted == true(),
            )
            .group_by(Trace.member_id)
        )
        found.update({m: at for m, at in (await session.execute(query)).all() if at})
    return found


async def members_between(
    session: AsyncSession, branch_id: int | None, since: datetime, until: datetime
) -> Sequence[Member]:
    """Who a branch's (every branch's: None) report over [since, until) lists: members of it
    at some time then (since moved away or left too), and its active members now (added
    after the period: listed as not yet members); by id, without their branch (a report has
    its branches: a school's 30,000 joined rows cost a second)."""
    was = select(Membership.member_id).where(roster.overlapping(since, until))
    now = select(Member.id).where(Member.active.is_(True), Member.branch_id.is_not(None))
    if branch_id is not None:
        was = was.where(Membership.branch_id == branch_id)
        now = now.where(Member.branch_id == branch_id)
    # A union of ids, each side by its index: an OR over members would scan them all.
    query = select(Member).options(raiseload(Member.branch)).where(Member.id.in_(union(was, now)))
    return (await session.scalars(query.order_by(Member.id))).all()


@dataclass
class MeetingRow:
    """One finalised meeting and who took part how (names: a branch's table only)."""

    meeting_id: int
    branch_id: int
    title: str
    kind: str
    starts_at: datetime
    present: list[str] = field(default_factory=list)
    online: list[str] = field(default_factory=list)
    late: list[str] = field(default_factory=list)
    excused: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # presence (and "late"): how many

    @property
    def expected(self) -> int:
        return sum(
            self.counts.get(p, 0) for p in (Presence.PRESENT, Presence.ONLINE, Presence.ABSENT)
        )

    @property
    def attended(self) -> int:
        return self.counts.get(Presence.PRESENT, 0) + self.counts.get(Presence.ONLINE, 0)


def _finished(since: datetime, until: datetime) -> list:
    return [
        Meeting.status == MeetingStatus.FINISHED,
        Meeting.starts_at >= since,
        Meeting.starts_at < until,
    ]


async def meeting_rows(
    session: AsyncSession, branch_id: int | None, since: datetime, until: datetime
) -> list[MeetingRow]:
    """Finalised meetings in [since, until), oldest first. For one branch each row names
    who was present, online, late, excused and absent; for all branches (None) it counts."""
    query = select(Meeting).where(*_finished(since, until), Meeting.branch_id.is_not(None))
    if branch_id is not None:
        query = query.where(Meeting.branch_id == branch_id)
    meetings = (await session.scalars(query.order_by(Meeting.starts_at, Meeting.id))).all()
    rows = {
        m.id: MeetingRow(m.id, int(m.branch_id or 0), m.title, m.kind, m.starts_at)
        for m in meetings
    }
    if not rows:
        return []
    joined = and_(
        Meeting.id == Attendance.meeting_id,
        Meeting.branch_id.is_not(None),
        *_finished(since, until),
    )
    if branch_id is None:
        counts = (
            select(
                Attendance.meeting_id,
                Attendance.presence,
                func.count(),
                func.sum(case((Attendance.late, 1), else_=0)),
            )
            .join(Meeting, joined)
            .group_by(Attendance.meeting_id, Attendance.presence)
        )
        for meeting_id, presence, n, late in (await session.execute(counts)).all():
            row = rows[meeting_id]
            row.counts[presence] = int(n)
            row.counts["late"] = row.counts.get("late", 0) + int(late or 0)
        return list(rows.values())
    names = (
        select(Attendance.meeting_id, Member.name, Attendance.presence, Attendance.late)
        .join(Meeting, joined)
        .join(Member, Member.id == Attendance.member_id)
        .where(Meeting.branch_id == branch_id)
        .order_by(Attendance.meeting_id, Member.id)
    )
    for meeting_id, name, presence, late in (await session.execute(names)).all():
        row = rows[meeting_id]
        getattr(row, str(presence)).append(name)
        row.counts[presence] = row.counts.get(presence, 0) + 1
        if late:
            row.late.append(name)
            row.counts["late"] = row.counts.get("late", 0) + 1
    return list(rows.values())
