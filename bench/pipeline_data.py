"""The synthetic school bench/pipeline.py measures: branches, members, development files
and a focus branch with a year of meetings, study, quizzes, reports, volunteer hours and dues."""

import itertools
import random
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app.services import Services
from handlers.dues.standing import month_of, months_from
from storage.crypto import SecretBox
from storage.enums import (
    DecisionStatus,
    EventKind,
    MeetingKind,
    MeetingStatus,
    Presence,
    QuestionKind,
    QuizMode,
    Role,
    Stage,
    StepKind,
)
from storage.models import (
    Attendance,
    Base,
    Branch,
    Material,
    MaterialRead,
    Meeting,
    Member,
    PlatformAccount,
    Question,
    Quiz,
    QuizAnswer,
)
from storage.pipeline_models import (
    Contact,
    DevelopmentEvent,
    DuesPayment,
    StageChange,
    ThoughtReport,
    ThoughtReview,
    VolunteerRecord,
)
from storage.roster_models import Membership

NOW = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai, when the daily job runs
FIRST_USER = 40_000_000
CHUNK = 5000  # rows per INSERT executemany
PIPELINE = (Stage.APPLICANT, Stage.ACTIVIST, Stage.CANDIDATE, Stage.PROBATIONARY)
# Days from entering a stage to entering the next, and how long ago the current one began.
GAP = {Stage.APPLICANT: (30, 90), Stage.ACTIVIST: (365, 480), Stage.CANDIDATE: (90, 240)}
SINCE = {
    Stage.APPLICANT: (0, 60),
    Stage.ACTIVIST: (0, 540),
    Stage.CANDIDATE: (0, 240),
    Stage.PROBATIONARY: (0, 420),
}
HISTORY_DAYS = 3 * 365
EXTRA_EVENTS = {
    Stage.APPLICANT: (EventKind.TALK,),
    Stage.ACTIVIST: (EventKind.TALK,),
    Stage.CANDIDATE: (EventKind.TALK, EventKind.REVIEW, EventKind.TRAINING),
    Stage.PROBATIONARY: (EventKind.TALK, EventKind.REVIEW, EventKind.TRAINING),
}
MEETINGS, MATERIALS, QUESTIONS, QUIZ_SIZE = 24, 60, 40, 5
MEETING_KINDS = (
    MeetingKind.ASSEMBLY,
    MeetingKind.GROUP,
    MeetingKind.LECTURE,
    MeetingKind.THEME_DAY,
)
PRESENCE = (Presence.PRESENT, Presence.ONLINE, Presence.EXCUSED, Presence.ABSENT)
ACTIVITIES = ("社区义诊", "图书馆志愿服务", "迎新志愿者", "敬老院慰问", "支教活动")


@dataclass
class Person:
    """One member as planned: stage, role and the dates they entered each stage so far."""

    number: int  # name 党员<number>, Telegram chat FIRST_USER + number
    branch: int  # position in the branch list
    stage: Stage = Stage.FULL
    role: Role = Role.MEMBER
    entered: list[tuple[Stage, date]] = field(default_factory=list)  # oldest first
    id: int = 0

    @property
    def name(self) -> str:
        return f"党员{self.number:05d}"

    def entered_on(self, stage: Stage) -> date | None:
        return dict(self.entered).get(stage)


@dataclass
class School:
    branch_ids: list[int]
    branches: list[list[Person]]  # the first is the focus branch; each branch's first: secretary
    focus_name: str
    today: date

    @property
    def focus(self) -> list[Person]:
        return self.branches[0]

    @property
    def secretary(self) -> Person:
        return self.focus[0]


def noon(day: date) -> datetime:
    """Midday in Shanghai of a day, as stored (UTC)."""
    return datetime.combine(day, clock_time(4), UTC)


def stage_dates(rng: random.Random, stage: Stage, today: date) -> list[tuple[Stage, date]]:
    """When a person now at `stage` entered it and each stage before, within three years."""
    before = PIPELINE[: PIPELINE.index(stage)]
    gaps = [rng.randint(*GAP[s]) for s in before]
    low, high = SINCE[stage]
    day = today - timedelta(days=rng.randint(low, max(low, min(high, HISTORY_DAYS - sum(gaps)))))
    dates = [day]
    for gap in reversed(gaps):
        day -= timedelta(days=gap)
        dates.append(day)
    return list(zip(PIPELINE, reversed(dates), strict=False))


def plan(
    rng: random.Random, n_branches: int, n_members: int, share: float, today: date
) -> list[list[Person]]:
    """Members spread evenly over the branches; `share` of each branch in the pipeline."""
    branches: list[list[Person]] = []
    numbers = itertools.count()
    for b in range(n_branches):
        size = n_members // n_branches + (b < n_members % n_branches)
        people = [Person(next(numbers), b) for _ in range(size)]
        people[0].role = Role.SECRETARY
        chosen = rng.sample(people[1:], min(size - 1, round(size * share)))
        for j, person in enumerate(chosen):
            person.stage = PIPELINE[j % len(PIPELINE)]
            person.entered = stage_dates(rng, person.stage, today)
        branches.append(people)
    return branches


async def insert_rows(session: AsyncSession, model: type[Base], rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        await session.execute(insert(model), rows[start : start + CHUNK])


async def add_branches(session: AsyncSession, count: int) -> tuple[list[int], str]:
    """`count` branches (bulk, no traces: setting up is never timed); (ids, the first's name)."""
    created = NOW - timedelta(days=2000)
    rows = [{"name": f"第{i + 1:03d}党支部", "created_at": created} for i in range(count)]
    await insert_rows(session, Branch, rows)
    ids = list((await session.scalars(select(Branch.id).order_by(Branch.id))).all())
    return ids, str(rows[0]["name"])


async def add_people(
    session: AsyncSession, rng: random.Random, branch_ids: list[int], people: list[Person]
) -> None:
    """The members, each bound to a Telegram chat; sets each Person's id."""
    rows = []
    for p in people:
        joined = p.entered[0][1] - timedelta(days=1) if p.entered else None
        created = noon(joined) if joined else NOW - timedelta(days=rng.randint(400, 1500))
        rows.append({"branch_id": branch_ids[p.branch], "name": p.name, "role": p.role,
                     "stage": p.stage, "active": True, "interests": [],
                     "created_at": created})  # fmt: skip
    await insert_rows(session, Member, rows)
    ids = dict((await session.execute(select(Member.name, Member.id))).tuples().all())
    for p in people:
        p.id = ids[p.name]
    accounts = [
        {"platform": "telegram", "external_id": str(FIRST_USER + p.number),
         "chat_id": str(FIRST_USER + p.number), "member_id": p.id, "bound_at": NOW}
        for p in people
    ]  # fmt: skip
    await insert_rows(session, PlatformAccount, accounts)
    stretches = [
        {"member_id": p.id, "branch_id": branch_ids[p.branch], "since": row["created_at"],
         "reason": "joined"}
        for p, row in zip(people, rows, strict=True)
    ]  # fmt: skip
    await insert_rows(session, Membership, stretches)


def step_rows(
    rng: random.Random, person: Person, secretary: int, assemblies: list[tuple[int, date]]
) -> list[dict[str, Any]]:
    """The person's steps: the application date copied from paper, then moves or dates."""
    rows = []
    for i, (stage, on) in enumerate(person.entered):
        kind = StepKind.DATED if i == 0 or rng.random() < 0.3 else StepKind.ADVANCE
        decided = kind == StepKind.ADVANCE and stage == Stage.PROBATIONARY
        held = [(day, m) for m, day in assemblies if day <= on] if decided else []
        meeting = max(held)[1] if held else None  # the latest assembly before the move
        rows.append({"member_id": person.id, "kind": kind, "stage": stage, "on": on,
                     "decision": "支部大会讨论通过" if meeting else "", "meeting_id": meeting,
                     "approved_on": on + timedelta(days=14) if decided else None,
                     "recorded_by": secretary, "recorded_at": noon(on)})  # fmt: skip
    return rows


def event_rows(
    rng: random.Random, person: Person, secretary: int, today: date
) -> list[dict[str, Any]]:
    """A talk soon after the application, then up to two more talks, reviews or trainings."""
    applied = person.entered[0][1]
    found = [(min(applied + timedelta(days=rng.randint(5, 45)), today), EventKind.TALK)]
    for _ in range(rng.randint(0, 2)):
        day = applied + timedelta(days=rng.randint(0, (today - applied).days))
        found.append((day, rng.choice(EXTRA_EVENTS[person.stage])))
    return [
        {"member_id": person.id, "kind": kind, "on": on, "note": "",
         "hours": rng.choice((8, 16, 24, 32)) if kind == EventKind.TRAINING else None,
         "recorded_by": secretary, "recorded_at": noon(on)}
        for on, kind in sorted(found)
    ]  # fmt: skip


def contact_rows(
    rng: random.Random, person: Person, branch: list[Person], secretary: int, today: date
) -> list[dict[str, Any]]:
    """One or two full members of the branch, assigned soon after the person became an
    activist (activists and candidates only)."""
    since = person.entered_on(Stage.ACTIVIST)
    if person.stage not in (Stage.ACTIVIST, Stage.CANDIDATE) or since is None:
        return []
    full = [p for p in branch if p.stage == Stage.FULL]
    assigned = min(since + timedelta(days=rng.randint(0, 30)), today)
    return [
        {"member_id": person.id, "contact_id": c.id, "assigned_on": assigned,
         "assigned_by": secretary}
        for c in rng.sample(full, min(len(full), rng.randint(1, 2)))
    ]  # fmt: skip


async def add_files(
    session: AsyncSession, rng: random.Random, school: School, assemblies: list[tuple[int, date]]
) -> None:
    """Every pipeline person's steps, events and contact persons."""
    steps, events, contacts = [], [], []
    for b, branch in enumerate(school.branches):
        secretary = branch[0].id
        for person in (p for p in branch if p.entered):
            steps += step_rows(rng, person, secretary, assemblies if b == 0 else [])
            events += event_rows(rng, person, secretary, school.today)
            contacts += contact_rows(rng, person, branch, secretary, school.today)
    await insert_rows(session, StageChange, steps)
    await insert_rows(session, DevelopmentEvent, events)
    await insert_rows(session, Contact, contacts)


@dataclass
class Year:
    """What the focus branch's year of history is built from."""

    rng: random.Random
    box: SecretBox
    branch_id: int
    people: list[Person]  # the first: the secretary
    today: date

    @property
    def secretary(self) -> int:
        return self.people[0].id


async def add_meetings(session: AsyncSession, year: Year) -> list[tuple[int, date]]:
    """24 finished meetings over the last year with everyone's attendance; returns the
    assemblies (id, day)."""
    rng = year.rng
    rows = [
        {"branch_id": year.branch_id, "kind": MEETING_KINDS[k % len(MEETING_KINDS)],
         "title": f"组织生活 {k + 1}", "starts_at": NOW - timedelta(days=15 * k + 7, hours=3),
         "minutes": 90, "status": MeetingStatus.FINISHED, "checkin_secret": "BENCH" * 6,
         "created_by": year.secretary, "created_at": NOW - timedelta(days=15 * k + 14),
         "jobs_synced": True}
        for k in range(MEETINGS)
    ]  # fmt: skip
    await insert_rows(session, Meeting, rows)
    query = select(Meeting.id, Meeting.starts_at, Meeting.kind)
    meetings = (await session.execute(query.where(Meeting.branch_id == year.branch_id))).all()
    attendance = []
    for meeting_id, starts, _ in meetings:
        for p in year.people:
            presence = rng.choices(PRESENCE, weights=(70, 10, 10, 10))[0]
            attendance.append({"meeting_id": meeting_id, "member_id": p.id, "presence": presence,
                               "late": presence == Presence.PRESENT and rng.random() < 0.1,
                               "mode": "online" if presence == Presence.ONLINE else "code",
                               "at": starts + timedelta(minutes=rng.randint(-10, 20))})  # fmt: skip
    await insert_rows(session, Attendance, attendance)
    return [(m, s.date()) for m, s, kind in meetings if kind == MeetingKind.ASSEMBLY]


async def add_reading(session: AsyncSession, year: Year) -> None:
    """Materials pushed over the year, most of them marked learned."""
    materials: list[dict[str, Any]] = [
        {"branch_id": year.branch_id if i % 2 else None, "title": f"学习资料 {i}",
         "body": "学习内容。", "keywords": [], "terms": {}, "digest": f"{i:064x}",
         "active": True, "created_at": NOW - timedelta(days=360 - 6 * i)}
        for i in range(MATERIALS)
    ]  # fmt: skip
    await insert_rows(session, Material, materials)
    material_ids = list((await session.scalars(select(Material.id))).all())
    reads, rng = [], year.rng
    for p in year.people:
        for material in rng.sample(material_ids, rng.randint(10, len(material_ids))):
            pushed = NOW - timedelta(days=rng.randint(1, 360))
            learned = pushed + timedelta(hours=rng.randint(1, 48)) if rng.random() < 0.7 else None
            reads.append({"member_id": p.id, "material_id": material, "pushed_at": pushed,
                          "learned_at": learned})  # fmt: skip
    await insert_rows(session, MaterialRead, reads)


async def add_quizzes(session: AsyncSession, year: Year) -> None:
    """A bank of questions and, per member, 30–250 counted daily quizzes with their answers."""
    questions = [
        {"code": f"BENCH{i:03d}", "kind": QuestionKind.SINGLE, "stem": f"题目 {i}",
         "options": ["甲", "乙", "丙", "丁"], "answer": "A", "tags": [], "difficulty": 1,
         "explanation": "", "source": "", "active": True, "updated_at": NOW}
        for i in range(QUESTIONS)
    ]  # fmt: skip
    await insert_rows(session, Question, questions)
    question_ids = list((await session.scalars(select(Question.id))).all())
    quizzes: list[dict[str, Any]] = []
    rng = year.rng
    for p in year.people:
        for back in rng.sample(range(1, 365), rng.randint(30, 250)):
            started = noon(year.today - timedelta(days=back))
            quizzes.append({"member_id": p.id, "branch_id": year.branch_id,
                            "day": started.date(), "mode": QuizMode.DAILY, "counted": True,
                            "question_ids": rng.sample(question_ids, QUIZ_SIZE),
                            "position": QUIZ_SIZE, "correct": rng.randint(1, QUIZ_SIZE),
                            "selection": "", "asked_at": started, "started_at": started,
                            "finished_at": started + timedelta(minutes=2)})  # fmt: skip
    await insert_rows(session, Quiz, quizzes)
    query = select(Quiz.member_id, Quiz.day, Quiz.id)
    ids = {(m, d): i for m, d, i in (await session.execute(query)).all()}
    answers = [
        {"quiz_id": ids[(q["member_id"], q["day"])], "position": i, "member_id": q["member_id"],
         "question_id": question, "given": "A", "correct": i < q["correct"], "seconds": 9.0,
         "at": q["started_at"] + timedelta(seconds=20 * i)}
        for q in quizzes
        for i, question in enumerate(q["question_ids"])
    ]  # fmt: skip
    await insert_rows(session, QuizAnswer, answers)


async def add_thoughts(session: AsyncSession, year: Year) -> None:
    """Reports about every three months from becoming an activist; the secretary read half."""
    reports = []
    for p in (p for p in year.people if p.stage in PIPELINE[1:]):
        day = p.entered_on(Stage.ACTIVIST)
        while day and (day := day + timedelta(days=year.rng.randint(70, 110))) <= year.today:
            stage = [s for s, on in p.entered if on <= day][-1]
            reports.append({"member_id": p.id, "branch_id": year.branch_id, "stage": stage,
                            "body_enc": year.box.encrypt(f"{p.name}的思想汇报：近期学习体会。"),
                            "submitted_at": noon(day)})  # fmt: skip
    await insert_rows(session, ThoughtReport, reports)
    query = select(ThoughtReport.id, ThoughtReport.submitted_at)
    reviews = [
        {"report_id": report_id, "reader_id": year.secretary, "read_at": at + timedelta(days=3),
         "comment_enc": year.box.encrypt("已阅")}
        for report_id, at in (await session.execute(query)).all()
        if report_id % 2
    ]  # fmt: skip
    await insert_rows(session, ThoughtReview, reviews)


def volunteer_rows(year: Year) -> list[dict[str, Any]]:
    """0–4 reports of service per member over the year, most approved."""
    statuses = (DecisionStatus.APPROVED, DecisionStatus.PENDING, DecisionStatus.REJECTED)
    rows, rng = [], year.rng
    for p in year.people:
        for _ in range(rng.randint(0, 4)):
            day = year.today - timedelta(days=rng.randint(1, 360))
            status = rng.choices(statuses, weights=(6, 2, 2))[0]
            decided = noon(day) + timedelta(days=2) if status != DecisionStatus.PENDING else None
            rows.append({"member_id": p.id, "branch_id": year.branch_id, "day": day,
                         "minutes": rng.choice((60, 120, 180, 240)),
                         "activity": rng.choice(ACTIVITIES), "status": status,
                         "created_at": noon(day), "decided_at": decided,
                         "decided_by": year.secretary if decided else None})  # fmt: skip
    return rows


def dues_rows(year: Year, created: dict[int, datetime]) -> list[dict[str, Any]]:
    """Nine in ten months paid, from probation (or joining the roster) to this month."""
    rows = []
    for p in (p for p in year.people if p.stage in (Stage.PROBATIONARY, Stage.FULL)):
        first = p.entered_on(Stage.PROBATIONARY) or created[p.id].date()
        for month in months_from(month_of(first), month_of(year.today)):
            if year.rng.random() < 0.9:
                paid = min(month + timedelta(days=year.rng.randint(0, 20)), year.today)
                rows.append({"member_id": p.id, "month": month, "amount_fen": 20,
                             "paid_on": paid, "source": "chat", "recorded_by": year.secretary,
                             "recorded_at": noon(paid)})  # fmt: skip
    return rows


async def add_year(services: Services, year: Year) -> list[tuple[int, date]]:
    """The focus branch's year of history; returns its assemblies (id, day)."""
    async with services.sessions.begin() as session:
        assemblies = await add_meetings(session, year)
        await add_reading(session, year)
        await add_quizzes(session, year)
        await add_thoughts(session, year)
        await insert_rows(session, VolunteerRecord, volunteer_rows(year))
        query = select(Member.id, Member.created_at).where(Member.branch_id == year.branch_id)
        created = {m: at for m, at in (await session.execute(query)).all()}
        await insert_rows(session, DuesPayment, dues_rows(year, created))
    return assemblies


async def populate(
    services: Services, n_branches: int, n_members: int, share: float, today: date
) -> School:
    rng = random.Random(8)
    async with services.sessions.begin() as session:
        branch_ids, focus_name = await add_branches(session, n_branches)
        branches = plan(rng, n_branches, n_members, share, today)
        await add_people(session, rng, branch_ids, [p for b in branches for p in b])
    school = School(branch_ids, branches, focus_name, today)
    year = Year(rng, services.box, branch_ids[0], school.focus, today)
    assemblies = await add_year(services, year)
    async with services.sessions.begin() as session:
        await add_files(session, rng, school, assemblies)
    return school
