"""A year of two branches built on a frozen clock, for the annual record's tests. The figures
each member's record must show are worked out by hand in `built`'s docstring."""

import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.dues.record import NewPayment, record_payments
from storage import people, traces
from storage.enums import MeetingStatus, Presence, Role, Stage
from storage.models import Attendance, Meeting, Member
from storage.traces import Entry
from storage.vote_models import AppraisalGrade, Vote
from tests.support.chat import Chat, User
from tests.support.evaluation import joined_on

A = "化学化工学院第一党支部"
B = "化学化工学院第二党支部"
TODAY = date(2026, 12, 20)
JOINED = datetime(2025, 6, 1, tzinfo=UTC)
PEOPLE = (
    ("书记", Role.SECRETARY, A, Stage.FULL),
    ("支委", Role.COMMITTEE, A, Stage.FULL),
    ("乙书记", Role.SECRETARY, B, Stage.FULL),
    ("管理员", Role.ADMIN, A, Stage.FULL),
    ("张三", Role.MEMBER, A, Stage.FULL),
    ("李四", Role.MEMBER, A, Stage.FULL),
    ("赵六", Role.MEMBER, A, Stage.FULL),
    ("王五", Role.MEMBER, B, Stage.ACTIVIST),
)
HERE, ONLINE, LEAVE, AWAY = Presence.PRESENT, Presence.ONLINE, Presence.EXCUSED, Presence.ABSENT
# (branch, day, kind, {name: (presence, late)}): every meeting finalised unless said.
MEETINGS = (
    (A, date(2025, 12, 10), "theme_day", {"张三": (HERE, False)}),  # the year before
    (
        A,
        date(2026, 3, 10),
        "assembly",
        {"张三": (HERE, True), "李四": (HERE, False), "赵六": (HERE, False)},
    ),
    (A, date(2026, 4, 10), "group", {"张三": (ONLINE, False)}),
    (A, date(2026, 5, 10), "lecture", {"张三": (LEAVE, False)}),
    (A, date(2026, 6, 10), "theme_day", {"张三": (AWAY, False)}),
    (A, date(2026, 9, 10), "theme_day", {"张三": (HERE, False)}),
    (A, date(2026, 10, 10), "life", {"张三": (HERE, False)}),
    (B, date(2026, 9, 15), "theme_day", {"李四": (AWAY, False)}),
)


def at(day: date, hour: int = 4) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)  # noon in Shanghai


@dataclass
class History:
    chat: Chat
    ids: dict[str, int] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)

    async def say(self, name: str, text: str) -> str:
        return await self.users[name].say(text)


async def built(chat: Chat) -> History:
    """Everyone on the roster since 2025-06-01; today is 2026-12-20. 张三's 2026 (branch A):
    meetings: 大会 03-10 present and late; 党小组会 04-10 online; 党课 05-10 on leave; 主题党日
      06-10 absent and 09-10 present; 组织生活会 10-10 present; (a 主题党日 of 2025-12-10 and a
      meeting not held in 2026 do not count) → 6 to attend, 3 on site (1 late), 1 online,
      1 on leave, 1 absent;
    study: 7 materials; 10 counted daily quizzes of 4/5 (and a practice round) → 10 days, 50
      answered, 40 right, 80%; notices: 4 received, 3 acknowledged (75%);
    dues: paid January to October → 12 months due (December, in progress, too), 10 paid;
    volunteer 2.5 + 1.5 = 4 hours; 1 thought report; the date he became a full member,
    2026-05-20, entered in his file; an award of 2026-06-30 (and one of 2025, not this year);
    民主评议 graded 合格 on 2026-12-15.
    李四: A's 大会 present; moved to B on 2026-07-01 by the admin; B's 主题党日 absent → 2 to
      attend, 1 on site, 1 absent; no dues paid → 12 due, 0 paid.
    赵六: A's 大会 present; graduated on 2026-08-31 (off the roster from that day).
    王五 (B, an activist, pays no dues): nothing at all."""
    history = History(chat)
    chat.clock.now = at(date(2026, 1, 5))
    for name, role, branch, stage in PEOPLE:
        history.ids[name], history.users[name] = await chat.enrolled(
            name, role=role, branch=branch, stage=stage
        )
    async with chat.services.sessions.begin() as session:
        for member_id in history.ids.values():
            await joined_on(session, member_id, JOINED)
    await _meetings(history)
    await _traced(history)
    await _paid(history)
    await _chat_records(history)
    chat.clock.now = at(TODAY, 2)
    return history


async def _meetings(history: History) -> None:
    services = history.chat.services
    async with services.sessions.begin() as session:
        for number, (branch, day, kind, rows) in enumerate(MEETINGS):
            meeting = await _meeting(session, branch, day, kind, number)
            for name, (presence, late) in rows.items():
                session.add(
                    Attendance(
                        meeting_id=meeting.id,
                        member_id=history.ids[name],
                        presence=presence,
                        late=late,
                        at=meeting.starts_at,
                    )
                )
        # Scheduled, never held: not counted.
        await _meeting(session, A, date(2026, 11, 10), "theme_day", 99, MeetingStatus.SCHEDULED)


async def _meeting(
    session: AsyncSession,
    branch: str,
    day: date,
    kind: str,
    number: int,
    status: MeetingStatus = MeetingStatus.FINISHED,
) -> Meeting:
    found = await people.branch_by_name(session, branch)
    assert found is not None
    meeting = Meeting(branch_id=found.id, kind=kind, title=f"{day:%m}月{kind}",
                      starts_at=at(day), status=status, checkin_secret=f"{number:02d}" * 16,
                      created_at=at(day - timedelta(days=7)))  # fmt: skip
    session.add(meeting)
    await session.flush()
    return meeting


async def _traced(history: History) -> None:
    services, ids = history.chat.services, history.ids

    def entry(kind: str, name: str, **data: object) -> Entry:
        return Entry(kind, member_id=ids[name], data=data or None)

    async with services.sessions.begin() as session:

        async def add(day: date, *entries: Entry) -> None:
            await traces.append_many(session, services.box, list(entries), at(day))

        for i in range(7):
            await add(date(2026, 2, 1 + i), entry("material.learned", "张三"))
        await add(date(2025, 12, 30), entry("material.learned", "张三"))  # the year before
        for i in range(10):
            quiz = entry("quiz.completed", "张三", score=4, total=5, counted=True)
            await add(date(2026, 3, 1 + i), quiz)
        await add(
            date(2026, 3, 2), entry("quiz.completed", "张三", score=1, total=5, counted=False)
        )
        for i in range(4):
            await add(date(2026, 4, 1 + i), entry("notice.delivered", "张三"))
        for i in range(3):
            await add(date(2026, 4, 2 + i), entry("notice.acknowledged", "张三", after_seconds=60))
        await add(date(2026, 5, 1), entry("volunteer.approved", "张三", hours=2.5))
        await add(date(2026, 9, 1), entry("volunteer.approved", "张三", hours=1.5))
        await add(date(2026, 10, 1), entry("thought.submitted", "张三", stage="full"))
        await _graded(session, history)


async def _graded(session: AsyncSession, history: History) -> None:
    """The 民主评议 of December: 张三 graded 合格 by the committee."""
    life = await session.scalar(select(Meeting).where(Meeting.kind == "life"))
    assert life is not None and life.branch_id is not None
    opened = at(date(2026, 12, 15))
    vote = Vote(kind="appraisal", branch_id=life.branch_id, meeting_id=life.id, entitled=5,
                opened_at=opened, closed_at=opened, candidates=[history.ids["张三"]],
                result={"tally": {}})  # fmt: skip
    session.add(vote)
    await session.flush()
    session.add(
        AppraisalGrade(vote_id=vote.id, member_id=history.ids["张三"], grade="qualified",
                       reason="按时参加组织生活", decided_by=history.ids["书记"], decided_at=opened)
    )  # fmt: skip


async def _paid(history: History) -> None:
    services = history.chat.services
    async with services.sessions.begin() as session:
        member = await session.get(Member, history.ids["张三"])
        assert member is not None
        paid = [NewPayment(member, date(2026, m, 1), 20, date(2026, m, 5)) for m in range(1, 11)]
        await record_payments(
            session, services.box, paid, source="chat", actor_id=None, now=at(date(2026, 10, 5))
        )


async def _chat_records(history: History) -> None:
    """What the secretary and the admin record in chat, each on its day."""
    clock = history.chat.clock
    clock.now = at(date(2026, 6, 30))
    for award in (
        "/archive_add 张三 奖励 2026-06-30 校级 优秀共产党员 依据：校党委〔2026〕8号",
        "/archive_add 张三 奖励 2025-06-30 院级 优秀学生党员 依据：院党委〔2025〕3号",
    ):
        assert "添加档案条目" in await history.say("书记", award)
    for step in ("/stage 张三 预备党员 2025-05-20", "/stage 张三 正式党员 2026-05-20"):
        answer = await history.say("书记", step)
        assert "张三" in answer and "用法" not in answer, answer
    clock.now = at(date(2026, 7, 1))
    moved = await history.say("管理员", f"/transfer 李四 {B} 2026-07-01")
    assert "李四" in moved and B in moved, moved
    clock.now = at(date(2026, 8, 31))
    left = await history.say("书记", "/depart 赵六 毕业 2026-08-31")
    assert "赵六" in left, left


def pdf_text(content: bytes) -> str:
    """The words of a PDF, without spaces (pypdf reads fpdf2's embedded font codes with a NUL
    before each character)."""
    reader = PdfReader(io.BytesIO(content))
    text = "".join(p.extract_text() for p in reader.pages).replace("\x00", "")
    return "".join(text.split())
