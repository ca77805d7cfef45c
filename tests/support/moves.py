"""A term with a transfer and a leaving in it (worked-out figures in `moved_history`'s
docstring): two branches, a member moved from one to the other on 2026-10-01, a member who
left the school that day, meetings of both branches finalised after both."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.app.services import Services
from handlers.dues.record import NewPayment, record_payments
from handlers.meetings.domain import finalize
from storage import meetings, people, traces
from storage.enums import Departure, MeetingStatus, Presence, Role
from storage.models import Meeting, Member
from storage.roster import move_membership
from storage.traces import Entry
from tests.support.chat import Chat
from tests.support.evaluation import BRANCH, joined_on

OTHER = "数学学院教工党支部"
ZONE = ZoneInfo("Asia/Shanghai")
MOVED_ON = date(2026, 10, 1)
MOVED_AT = datetime(2026, 10, 1, tzinfo=ZONE)  # that day's first instant in the school's zone
FINALISED = datetime(2026, 11, 24, 2, tzinfo=UTC)  # after the move and the leaving


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)  # 20:00 in Shanghai


@dataclass(frozen=True)
class Moved:
    ids: dict[str, int]  # by name
    branches: dict[str, int]  # A (BRANCH), B (OTHER)
    meetings: dict[str, int]  # B-9, B-10: each branch's September and October


async def moved_history(chat: Chat) -> Moved:
    """In 2026-09..2026-10 (everyone on the roster since 2026-01-01):
    甲, secretary of A: present at both of A's meetings (10 Sep, 15 Oct).
    己, secretary of B: present at both of B's meetings (12 Sep, 20 Oct).
    戊, moved from A to B on 1 Oct: present at A's September meeting, late at B's October
      one; counted daily quizzes of 4/5 on 1–30 Sep and of 3/5 on 1–10 Oct; 2 materials
      learned in September, 5 in October; a notice acknowledged in 60 s in September, one
      not acknowledged in October; volunteer hours 2 in September, 1 in October; dues for
      September paid, October not.
    庚, of A, left the school on 1 Oct (graduated): absent from A's September meeting;
      counted daily quizzes of 5/5 on 1–12 Sep (and one on 5 Oct, after leaving); dues
      for September paid.
    Every meeting is finalised on 2026-11-24, after the move and the leaving."""
    ids = {name: (await chat.enrol(name, role=role, branch=branch))[0] for name, role, branch in (
        ("甲", Role.SECRETARY, BRANCH),
        ("戊", Role.MEMBER, BRANCH),
        ("庚", Role.MEMBER, BRANCH),
        ("己", Role.SECRETARY, OTHER),
    )}  # fmt: skip
    branches = {"A": (await chat.branch(BRANCH)).id, "B": (await chat.branch(OTHER)).id}
    services = chat.services
    async with services.sessions.begin() as session:
        for member_id in ids.values():
            await joined_on(session, member_id, noon(date(2026, 1, 1)))
        await _move_and_leave(session, ids, branches)
        found = await _meetings(session, ids, branches)
        await _traces(session, services, ids, branches)
        payers = [await session.get(Member, ids[name]) for name in ("戊", "庚")]
        payments = [NewPayment(m, date(2026, 9, 1), 10_000, date(2026, 9, 5)) for m in payers if m]
        await record_payments(
            session, services.box, payments, source="chat", actor_id=None, now=noon(MOVED_ON)
        )
    async with services.sessions.begin() as session:
        for meeting_id in found.values():
            assert await finalize(session, services.box, meeting_id, FINALISED)
    return Moved(ids, branches, found)


async def _move_and_leave(
    session: AsyncSession, ids: dict[str, int], branches: dict[str, int]
) -> None:
    mover, leaver = await session.get(Member, ids["戊"]), await session.get(Member, ids["庚"])
    to = await people.branch_by_name(session, OTHER)
    assert mover is not None and leaver is not None and to is not None
    assert to.id == branches["B"]
    await move_membership(session, mover, to, MOVED_AT, "transferred", "transferred")
    await move_membership(session, leaver, None, MOVED_AT, "", Departure.GRADUATED)
    leaver.active, leaver.left_on = False, MOVED_ON


async def _meetings(
    session: AsyncSession, ids: dict[str, int], branches: dict[str, int]
) -> dict[str, int]:
    """The four meetings, each with its check-ins (the absent are left to finalising)."""
    found = {}
    for key, day, present in (
        ("A-9", date(2026, 9, 10), ["甲", "戊"]),
        ("A-10", date(2026, 10, 15), ["甲"]),
        ("B-9", date(2026, 9, 12), ["己"]),
        ("B-10", date(2026, 10, 20), ["己", "戊"]),
    ):
        meeting = Meeting(
            branch_id=branches[key[0]],
            kind="theme_day",
            title=key,
            starts_at=noon(day),
            status=MeetingStatus.SCHEDULED,
            checkin_secret=key * 8,
            created_at=noon(day - timedelta(days=7)),
        )
        session.add(meeting)
        await session.flush()
        for name in present:
            late = key == "B-10" and name == "戊"
            await meetings.record(
                session, meeting.id, ids[name], Presence.PRESENT, noon(day), late=late
            )
        found[key] = meeting.id
    return found


async def _traces(
    session: AsyncSession, services: Services, ids: dict[str, int], branches: dict[str, int]
) -> None:
    def entry(kind: str, name: str, branch: str, **data: object) -> Entry:
        return Entry(kind, member_id=ids[name], branch_id=branches[branch], data=data or None)

    async def add(day: date, *entries: Entry) -> None:
        await traces.append_many(session, services.box, list(entries), noon(day))

    for i in range(30):
        await add(date(2026, 9, 1) + timedelta(days=i), entry("quiz.completed", "戊", "A",
                  score=4, total=5, counted=True))  # fmt: skip
    for i in range(10):
        await add(date(2026, 10, 1) + timedelta(days=i), entry("quiz.completed", "戊", "B",
                  score=3, total=5, counted=True))  # fmt: skip
    for i in range(12):
        await add(date(2026, 9, 1) + timedelta(days=i), entry("quiz.completed", "庚", "A",
                  score=5, total=5, counted=True))  # fmt: skip
    await add(date(2026, 10, 5), entry("quiz.completed", "庚", "A", score=5, total=5, counted=True))
    for i in range(2):
        await add(date(2026, 9, 20 + i), entry("material.learned", "戊", "A"))
    for i in range(5):
        await add(date(2026, 10, 20 + i), entry("material.learned", "戊", "B"))
    await add(date(2026, 9, 12), entry("notice.delivered", "戊", "A"))
    await add(date(2026, 9, 13), entry("notice.acknowledged", "戊", "A", after_seconds=60))
    await add(date(2026, 10, 12), entry("notice.delivered", "戊", "B"))
    await add(date(2026, 9, 25), entry("volunteer.approved", "戊", "A", hours=2))
    await add(date(2026, 10, 25), entry("volunteer.approved", "戊", "B", hours=1))
