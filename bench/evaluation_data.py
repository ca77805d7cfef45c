"""What bench/evaluation.py loads: a year of a school's record, a month at a time, as trace
events and the state rows they speak of (finalised meetings and attendance, leave, notices and
their recipients, daily quizzes, material reads, dues, volunteer hours, thought reports), and
the trace chain they are linked into, exactly as storage.traces.append_many links them but
without building Trace objects (5,000,000 of them would take far longer than the load).
"""

import json
import math
import random
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage.crypto import SecretBox
from storage.enums import (
    DecisionStatus,
    LeaveStatus,
    MeetingKind,
    MeetingStatus,
    Presence,
    QuizMode,
    Role,
    Stage,
)
from storage.models import Trace, TraceHead
from storage.traces import GENESIS, canonical

NOW = datetime(2026, 7, 20, 2, 0, tzinfo=UTC)  # the spring term is over; 10:00 in Shanghai
START = datetime(2025, 7, 21, tzinfo=UTC)  # a year of history: the autumn and spring terms
EVENING = timedelta(hours=11)  # 19:00 in Shanghai, when meetings start
PIPELINE = (Stage.APPLICANT, Stage.ACTIVIST, Stage.CANDIDATE, Stage.PROBATIONARY)
KINDS = (MeetingKind.ASSEMBLY, MeetingKind.GROUP, MeetingKind.LECTURE, MeetingKind.THEME_DAY)
MATERIALS, QUESTIONS, QUIZ_SIZE = 400, 60, 5
FIXED = 14  # traces per member and year that do not scale: dues and volunteer hours
OTHER_KINDS = (  # the rest of a year's record, none of which the scorecards count
    ("data.viewed", 30), ("search.performed", 25), ("quiz.started", 10), ("notice.reminded", 8),
    ("member.nudged", 7), ("access.refused", 6), ("candidates.viewed", 5), ("survey.answered", 9),
)  # fmt: skip
# (at, kind, branch, member, actor, ref, data): data a dict, or for the commonest kinds its
# canonical JSON (compact, keys sorted) written directly.
Data = dict[str, Any] | str
Event = tuple[datetime, str, int | None, int | None, int | None, str | None, Data]
TRACE_COLUMNS = ("id", "at", "kind", "branch_id", "member_id", "actor_id", "ref", "data",
                 "prev_hash", "hash")  # fmt: skip
CHECK_EVERY = 10_000  # linked rows compared with storage.traces.canonical as they are built


@dataclass(frozen=True)
class Size:
    branches: int
    members: int
    traces: int
    movers: float = 0.0  # the share of members moved to another branch in the spring term


@dataclass
class Person:
    id: int
    branch: int  # branch id
    role: Role
    stage: Stage
    joined: datetime  # created_at: someone added mid-year has no record before
    zeal: float  # 0..1, mean 0.71: how diligently they take part
    quiz_streak: tuple[date, int] = (date.min, 0)
    pushes: int = 0  # materials pushed so far, each a different one


@dataclass
class Plan:
    """Who is in the school and how often each kind of event happens in a year."""

    branches: list[list[Person]]  # each branch's first person: its secretary
    meetings: int  # per branch and year
    notices: int  # per branch and year
    quizzes: float  # quizzes per member and year (at average zeal)
    pushes: float  # materials pushed per member and year

    @property
    def people(self) -> list[Person]:
        return [p for branch in self.branches for p in branch]


def plan(rng: random.Random, size: Size) -> Plan:
    """Members spread over the branches, 10% in the pipeline, 4% added during the year; the
    yearly rates set so the core events come to about 94% of the traces asked for (meetings
    ~1 trace per member each, notices ~1.85, quizzes 1, pushes ~1.7), other kinds the rest."""
    branches: list[list[Person]] = []
    next_id = 1
    for b in range(size.branches):
        people = []
        for i in range(size.members // size.branches + (b < size.members % size.branches)):
            role = Role.SECRETARY if i == 0 else Role.COMMITTEE if i < 3 else Role.MEMBER
            stage = PIPELINE[i % 4] if i >= 3 and rng.random() < 0.1 else Stage.FULL
            added = i >= 3 and rng.random() < 0.04
            # The roster was imported when the bot came into use, just before the year began.
            days = rng.uniform(20, 340) if added else -rng.uniform(10, 60)
            zeal = rng.betavariate(5, 2)
            people.append(Person(next_id, b + 1, role, stage, START + timedelta(days=days), zeal))
            next_id += 1
        branches.append(people)
    rest = max(size.traces / max(size.members, 1) * 0.94 - FIXED, 20.0)
    return Plan(branches, meetings=max(4, round(rest * 0.15 / 1.05)),
                notices=max(4, round(rest * 0.36 / 1.85)), quizzes=rest * 0.33,
                pushes=rest * 0.16 / 1.7)  # fmt: skip


class Month:
    """One month's events and state rows, before they are linked and loaded."""

    def __init__(self, start: datetime, end: datetime, ids: dict[str, int]) -> None:
        self.start, self.end, self.ids = start, end, ids
        self.events: list[Event] = []
        self.rows: dict[str, list[tuple[Any, ...]]] = {}  # by table
        self.days = [(start + timedelta(days=d)).date() for d in range((end - start).days)]

    def trace(self, at: datetime, kind: str, branch: int | None, member: int | None,
              actor: int | None, ref: str | None, data: Data | None = None) -> None:  # fmt: skip
        self.events.append((at, kind, branch, member, actor, ref, data or {}))

    def row(self, table: str, *values: Any) -> None:
        self.rows.setdefault(table, []).append(values)

    def next_id(self, table: str) -> int:
        self.ids[table] = self.ids.get(table, 0) + 1
        return self.ids[table]

    def moment(self, rng: random.Random) -> datetime:
        return self.start + (self.end - self.start) * rng.random()

    def some_days(self, rng: random.Random, per_year: float) -> list[date]:
        """About per_year/365 of the month's days (a binomial draw), in order."""
        mean = min(per_year / 365, 1.0) * len(self.days)
        drawn = round(rng.gauss(mean, math.sqrt(mean * max(0.0, 1 - mean / len(self.days)))))
        return sorted(rng.sample(self.days, min(max(drawn, 0), len(self.days))))


def meeting_days(rng: random.Random, plan: Plan) -> list[list[datetime]]:
    """Each branch's meetings at 19:00, spread over the year, all finalised before NOW."""
    step = (NOW - START - timedelta(days=2)) / plan.meetings
    days = [[(START + step * (k + rng.random() * 0.8)).date() for k in range(plan.meetings)]
            for _ in plan.branches]  # fmt: skip
    return [[datetime.combine(d, clock_time(), UTC) + EVENING for d in ds] for ds in days]


def add_meeting(
    month: Month, rng: random.Random, branch: list[Person], starts: datetime, reason: bytes
) -> None:
    """A finished meeting: scheduled a week before, reminded, check-ins, approved leave (its
    reason encrypted, `reason`) and every expected member's attendance row; the finalisation
    counts them."""
    meeting_id, secretary, b = month.next_id("meetings"), branch[0].id, branch[0].branch
    ref, kind = f"meeting:{meeting_id}", str(KINDS[meeting_id % len(KINDS)])
    month.row("meetings", meeting_id, b, kind, f"组织生活 {meeting_id}", starts, 90,
              str(MeetingStatus.FINISHED), "BENCH" * 6, starts - timedelta(minutes=10),
              secretary, starts - timedelta(days=7), True)  # fmt: skip
    data: Data = {"kind": kind, "start": starts.isoformat()}
    month.trace(starts - timedelta(days=7), "meeting.created", b, None, secretary, ref, data)
    data = {"minutes": 1440, "count": len(branch)}
    month.trace(starts - timedelta(days=1), "reminder.sent", b, None, None, ref, data)
    month.trace(starts - timedelta(minutes=10), "checkin.opened", b, None, secretary, ref)
    counts = {str(p): 0 for p in Presence}
    for p in (p for p in branch if p.joined <= starts):
        roll = rng.random()
        if roll < 0.55 + 0.4 * p.zeal:
            presence = Presence.ONLINE if p.id % 31 == 0 else Presence.PRESENT
            at = starts + timedelta(minutes=rng.uniform(-10, 25))
            late = at > starts + timedelta(minutes=10)
            mode = "online" if presence == Presence.ONLINE else "code"
            month.row("attendance", meeting_id, p.id, str(presence), late, mode, at)
            data = f'{{"late":{_json(late)},"mode":"{mode}","presence":"{presence}"}}'
            month.trace(at, "checkin.recorded", b, p.id, p.id, ref, data)
        elif roll < 0.65 + 0.33 * p.zeal:
            presence, asked = Presence.EXCUSED, starts - timedelta(days=2, hours=rng.uniform(0, 48))
            leave_id, decided = month.next_id("leave_requests"), asked + timedelta(hours=3)
            month.row("leave_requests", leave_id, meeting_id, p.id, reason,
                      str(LeaveStatus.APPROVED), asked, secretary, decided)  # fmt: skip
            month.row("attendance", meeting_id, p.id, str(presence), False, None, decided)
            data = {"leave": leave_id}
            month.trace(asked, "leave.requested", b, p.id, p.id, ref, data)
            month.trace(decided, "leave.approved", b, p.id, secretary, ref, {"leave": leave_id})
        else:
            presence, at = Presence.ABSENT, starts + timedelta(minutes=90)
            month.row("attendance", meeting_id, p.id, str(presence), False, None, at)
        counts[presence] += 1
    month.trace(starts + timedelta(minutes=90), "attendance.finalized", b, None, None, ref, counts)


def add_notice(month: Month, rng: random.Random, branch: list[Person]) -> None:
    """A notice needing 收到: delivered to everyone, acknowledged by most, minutes to days on."""
    notice_id, secretary, b = month.next_id("notices"), branch[0].id, branch[0].branch
    sent, ref = month.moment(rng), f"notice:{notice_id}"
    people = [p for p in branch if p.joined <= sent]
    month.row("notices", notice_id, b, secretary, f"通知 {notice_id}：请按时参加支部活动。",
              {"branches": [b], "filter": "all"}, True, sent, 0)  # fmt: skip
    data: Data = {"audience": "all", "recipients": len(people), "reachable": len(people)}
    month.trace(sent, "notice.created", b, None, secretary, ref, data)
    for p in people:
        delivered, acked = sent + timedelta(seconds=rng.uniform(1, 90)), None
        month.trace(delivered, "notice.delivered", b, p.id, None, ref, '{"platform":"telegram"}')
        if rng.random() < 0.55 + 0.44 * p.zeal:
            after = int(rng.expovariate(1 / (600 + 150_000 * (1 - p.zeal)))) + 20
            acked = sent + timedelta(seconds=after)
            data = f'{{"after_seconds":{after}}}'
            month.trace(acked, "notice.acknowledged", b, p.id, p.id, ref, data)
        month.row("notice_recipients", notice_id, p.id, acked)


def add_quizzes(month: Month, rng: random.Random, plan: Plan, p: Person) -> None:
    """Daily quizzes on some days (counted, now and then a practice round), with the score."""
    for day in month.some_days(rng, plan.quizzes * p.zeal / 0.714):
        started = datetime.combine(day, clock_time(), UTC) + timedelta(hours=rng.uniform(0, 15))
        if started < p.joined:
            continue
        counted = rng.random() > 0.08
        if counted:
            last, streak = p.quiz_streak
            p.quiz_streak = (day, streak + 1 if (day - last).days == 1 else 1)
        quiz_id, done = month.next_id("quizzes"), started + timedelta(minutes=rng.uniform(1, 6))
        score = sum(rng.random() < 0.5 + 0.45 * p.zeal for _ in range(QUIZ_SIZE))
        mode = QuizMode.DAILY if counted else QuizMode.PRACTICE
        questions = [(quiz_id + i) % QUESTIONS + 1 for i in range(QUIZ_SIZE)]
        month.row("quizzes", quiz_id, p.id, p.branch, day, str(mode), counted, questions,
                  QUIZ_SIZE, score, "", done, started, done)  # fmt: skip
        streak, total = p.quiz_streak[1] if counted else 0, QUIZ_SIZE
        data = f'{{"counted":{_json(counted)},"score":{score},"streak":{streak},"total":{total}}}'
        month.trace(done, "quiz.completed", p.branch, p.id, p.id, f"quiz:{quiz_id}", data)


def add_reading(month: Month, rng: random.Random, plan: Plan, p: Person) -> None:
    """Materials pushed to the member, most marked 已学习 within two days."""
    for day in month.some_days(rng, plan.pushes)[: MATERIALS - p.pushes]:
        material = (p.id * 7 + p.pushes) % MATERIALS + 1
        pushed = datetime.combine(day, clock_time(), UTC)
        p.pushes += 1
        if pushed < p.joined:
            continue
        ref, learned = f"material:{material}", None
        month.trace(pushed, "material.pushed", p.branch, p.id, None, ref)
        if rng.random() < 0.3 + 0.65 * p.zeal:
            learned = pushed + timedelta(hours=rng.uniform(0.1, 48))
            month.trace(learned, "material.learned", p.branch, p.id, p.id, ref)
        month.row("material_reads", p.id, material, pushed, learned)


def add_duties(month: Month, rng: random.Random, box: SecretBox, p: Person, secretary: int) -> None:
    """Dues for the month (full and probationary members), volunteer service now and then
    (most approved), a thought report every few months from activists on."""
    if p.joined > month.start:
        return
    first = month.start.date().replace(day=1)
    if p.stage in (Stage.FULL, Stage.PROBATIONARY) and rng.random() < 0.75 + 0.24 * p.zeal:
        paid = min(month.start + timedelta(days=rng.uniform(0, 20)), month.end - timedelta(hours=1))
        month.row("dues_payments", p.id, first, 20, paid.date(), "chat", secretary, paid)
        data: Data = {"month": f"{first:%Y-%m}", "amount": "0.20",
                      "paid_on": paid.date().isoformat(), "source": "chat"}  # fmt: skip
        month.trace(paid, "dues.recorded", p.branch, p.id, secretary, f"dues:{p.id}", data)
    if rng.random() < 0.17 * p.zeal / 0.714:
        record_id, reported = month.next_id("volunteer_records"), month.moment(rng)
        minutes, ref = rng.choice((60, 120, 180, 240)), f"volunteer:{record_id}"
        status = rng.choices(tuple(DecisionStatus), weights=(1, 8, 1))[0]
        decided = reported + timedelta(days=1) if status != DecisionStatus.PENDING else None
        decider = secretary if decided else None
        month.row("volunteer_records", record_id, p.id, p.branch, reported.date(), minutes,
                  "社区志愿服务", str(status), reported, decider, decided)  # fmt: skip
        data = {"day": reported.date().isoformat(), "hours": minutes / 60}
        month.trace(reported, "volunteer.reported", p.branch, p.id, p.id, ref, data)
        if decided is not None:
            kind, data = f"volunteer.{status}", {"hours": minutes / 60}
            month.trace(decided, kind, p.branch, p.id, secretary, ref, data)
    if p.stage in PIPELINE[1:] and rng.random() < 0.35:
        report_id, at = month.next_id("thought_reports"), month.moment(rng)
        body = box.encrypt("思想汇报：近期学习体会。")
        month.row("thought_reports", report_id, p.id, p.branch, str(p.stage), body, at)
        data, ref = {"stage": str(p.stage), "document": False}, f"thought:{report_id}"
        month.trace(at, "thought.submitted", p.branch, p.id, p.id, ref, data)


def add_others(month: Month, rng: random.Random, people: list[Person], count: int) -> None:
    """Kinds the scorecards do not count: views, searches, reminders, refusals..."""
    kinds, weights = zip(*OTHER_KINDS, strict=True)
    for kind in rng.choices(kinds, weights, k=count):
        p = rng.choice(people)
        month.trace(month.moment(rng), kind, p.branch, p.id, p.id, None, '{"bench":true}')


def build_month(
    month: Month, rng: random.Random, box: SecretBox, plan: Plan, schedule: list[list[datetime]]
) -> None:
    reason = box.encrypt("课程冲突") or b""
    for branch, starts in zip(plan.branches, schedule, strict=True):
        for at in (s for s in starts if month.start <= s < month.end):
            add_meeting(month, rng, branch, at, reason)
        for _ in month.some_days(rng, plan.notices):
            add_notice(month, rng, branch)
        for p in branch:
            add_quizzes(month, rng, plan, p)
            add_reading(month, rng, plan, p)
            add_duties(month, rng, box, p, branch[0].id)


class Chain:
    """Links events into the trace chain as storage.traces.append_many does, in memory: the
    canonical JSON is written directly (its keys in sorted order), which is several times
    faster than building Trace objects; every CHECK_EVERY-th row is compared with
    storage.traces.canonical, so a difference stops the run."""

    def __init__(self, box: SecretBox, postgres: bool) -> None:
        self.box, self.postgres, self.last_id, self.last_hash = box, postgres, 0, GENESIS
        encoder = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        self.encode = encoder.encode

    def link(self, events: list[Event]) -> list[tuple[Any, ...]]:
        """The events (in time order) as trace rows ready for Loader.load(cooked=True)."""
        rows, mac, encode = [], self.box.mac, self.encode
        last_id, prev = self.last_id, self.last_hash
        for at, kind, branch, member, actor, ref, data in events:
            last_id += 1
            stamp = at.isoformat(timespec="microseconds")
            body = data if data.__class__ is str else encode(data) if data else "{}"
            quoted = "null" if ref is None else f'"{ref}"'  # refs and kinds are plain ASCII
            content = (f'{{"actor":{_num(actor)},"at":"{stamp}","branch":{_num(branch)},'
                       f'"data":{body},"id":{last_id},"kind":"{kind}","member":{_num(member)},'
                       f'"ref":{quoted}}}')  # fmt: skip
            digest = mac((prev + content).encode())
            if last_id % CHECK_EVERY == 1:
                trace = Trace(id=last_id, at=at, kind=kind, branch_id=branch, member_id=member,
                              actor_id=actor, ref=ref, data=json.loads(body),
                              prev_hash=prev)  # fmt: skip
                assert mac(canonical(trace)) == digest, f"trace {last_id} hashed differently"
            # Stored as SQLAlchemy binds it: naive UTC (ISO text on SQLite), JSON text.
            at_value = at.replace(tzinfo=None) if self.postgres else f"{stamp[:10]} {stamp[11:26]}"
            rows.append((last_id, at_value, kind, branch, member, actor, ref, body, prev, digest))
            prev = digest
        self.last_id, self.last_hash = last_id, prev
        return rows


def _json(flag: bool) -> str:
    return "true" if flag else "false"


def _num(value: int | None) -> str:
    return "null" if value is None else str(value)


def memberships(plan: Plan, movers: float) -> list[tuple[Any, ...]]:
    """One membership per person from the day they were added; `movers`: that share of the
    members (never a branch's first three) moved to the next branch on a day of the spring
    term (2026-03-02 + 0..59 days), their records before and after left as generated."""
    rows: list[tuple[Any, ...]] = []
    every = round(1 / movers) if movers else 0
    for p in plan.people:
        if not every or p.id % every or p.role != Role.MEMBER:
            rows.append((len(rows) + 1, p.id, p.branch, p.joined, None, "joined", None))
            continue
        moved = max(p.joined, datetime(2026, 3, 2, tzinfo=UTC) + timedelta(days=p.id % 60))
        rows.append((len(rows) + 1, p.id, p.branch, p.joined, moved, "joined", "transferred"))
        to = p.branch % len(plan.branches) + 1
        rows.append((len(rows) + 1, p.id, to, moved, None, "transferred", None))
    return rows


def school_rows(plan: Plan, movers: float = 0.0) -> dict[str, list[tuple[Any, ...]]]:
    """Branches, members, their memberships, the question bank and the materials, with
    explicit ids (a mover's branch is the one they moved to)."""
    created, options = START - timedelta(days=2000), ["甲", "乙", "丙", "丁"]
    stretches = memberships(plan, movers)
    now = {row[1]: row[2] for row in stretches}
    return {
        "branches": [(b, f"第{b:03d}党支部", created) for b in range(1, len(plan.branches) + 1)],
        "members": [(p.id, now[p.id], f"党员{p.id:05d}", str(p.role), str(p.stage), [], True,
                     p.joined) for p in plan.people],
        "memberships": stretches,
        "questions": [(i, f"BENCH{i:03d}", "single", f"题目 {i}", options, "A", [], 1, "", "",
                       True, START) for i in range(1, QUESTIONS + 1)],
        "materials": [(i, None, f"学习资料 {i}", "学习内容。", [], {}, f"{i:064x}", True, START)
                      for i in range(1, MATERIALS + 1)],
    }  # fmt: skip


def month_starts() -> list[datetime]:
    found, at = [START], START
    while at < NOW:
        at = min(datetime(at.year + at.month // 12, at.month % 12 + 1, 1, tzinfo=UTC), NOW)
        found.append(at)
    return found


async def check_sample(engine: AsyncEngine, box: SecretBox, count: int, seed: int = 3) -> int:
    """Re-read `count` random traces through the ORM and check each one's hash and its link
    to the row before, as storage.chain.verify does; returns how many were checked."""
    async with AsyncSession(engine) as session:
        last = int(await session.scalar(select(TraceHead.last_id)) or 0)
        picks = sorted(random.Random(seed).sample(range(2, last + 1), min(count, last - 1)))
        for start in range(0, len(picks), 400):
            chunk = picks[start : start + 400]
            query = select(Trace).where(Trace.id.in_({i for p in chunk for i in (p - 1, p)}))
            rows = {t.id: t for t in (await session.scalars(query)).all()}
            for p in chunk:
                assert rows[p].prev_hash == rows[p - 1].hash, f"trace {p}: broken link"
                assert box.mac_matches(canonical(rows[p]), rows[p].hash), f"trace {p}: altered"
    return len(picks)
