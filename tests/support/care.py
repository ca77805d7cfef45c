"""A half year of a branch built month by month on a moving clock, for the six-month rule's
tests (the counts it must give are in CareHistory's docstring), and the daily job run on a
given morning."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.app.services import Services
from handlers.care.alerts import remind_care
from handlers.dues.record import NewPayment, record_payments
from handlers.meetings.domain import finalize
from storage import meetings, people
from storage.enums import MeetingStatus, Presence, Role
from storage.models import Meeting, Member
from storage.roster import move_membership
from tests.support.chat import Chat, User

ZONE = ZoneInfo("Asia/Shanghai")
A = "化学化工学院第一党支部"
B = "化学化工学院第二党支部"
START = datetime(2026, 1, 5, 2, tzinfo=UTC)  # 10:00 in Shanghai
MOVED_AT = datetime(2026, 4, 1, tzinfo=ZONE)  # 转接 moves from A to B that day


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)  # 20:00 in Shanghai


def morning(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 1, tzinfo=UTC)  # 09:00 in Shanghai


async def new_meeting(services: Services, branch: str, day: date, label: str = "") -> int:
    """A 主题党日 of the branch at noon that day (20:00 in Shanghai), not yet held, titled
    "<label><month>月主题党日"."""
    async with services.sessions.begin() as session:
        found = await people.branch_by_name(session, branch)
        assert found is not None
        meeting = Meeting(
            branch_id=found.id,
            kind="theme_day",
            title=f"{label}{day.month}月主题党日",
            starts_at=noon(day),
            status=MeetingStatus.SCHEDULED,
            checkin_secret="JBSWY3DPEHPK3PXP",
            created_at=noon(day) - timedelta(days=5),
            online_link="https://meeting.example/1",
        )
        session.add(meeting)
        await session.flush()
        return meeting.id


async def held(services: Services, branch: str, days: list[date], present: list[int]) -> None:
    """A meeting of the branch on each day, held, with `present` there and the rest absent."""
    for day in days:
        meeting_id = await new_meeting(services, branch, day)
        async with services.sessions.begin() as session:
            for member_id in present:
                await meetings.record(session, meeting_id, member_id, Presence.PRESENT, noon(day))
            assert await finalize(session, services.box, meeting_id, noon(day) + timedelta(days=1))


@dataclass
class CareHistory:
    """2026, one meeting a month in each branch: A's on the 15th, B's on the 20th.
    书记 (A's secretary) and 乙书记 (B's) attend all of their branch's meetings.
    缺席: absent from every one.               请假: leave approved in March, else absent.
    实习: intern on placement, checked in online in March, else absent.
    病假: absent; sick leave recorded for 2026-02-01..2026-04-30.
    转接: absent; moved from A to B on 2026-04-01.
    党费: attends all, paid dues for January only (everyone else paid the whole year).
    新人: added to A on 2026-03-20 (after its March meeting), absent since, no dues paid.
    On 1 May the counts (meetings/dues) are: 缺席 4/0, 请假 3, 实习 1, 病假 1, 转接 4 (three
    months in A, one in B), 党费 0/3, 新人 1/2; each later month adds one to each run."""

    chat: Chat
    ids: dict[str, int] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    meetings: dict[str, int] = field(default_factory=dict)  # "A-3": A's March meeting

    async def begin(self) -> None:
        self.chat.clock.now = START
        for name, role, branch in (
            ("书记", Role.SECRETARY, A),
            ("乙书记", Role.SECRETARY, B),
            ("缺席", Role.MEMBER, A),
            ("请假", Role.MEMBER, A),
            ("病假", Role.MEMBER, A),
            ("转接", Role.MEMBER, A),
            ("党费", Role.MEMBER, A),
        ):
            self.ids[name], self.users[name] = await self.chat.enrolled(
                name, role=role, branch=branch
            )
        remote = date(2026, 12, 31)
        self.ids["实习"], self.users["实习"] = await self.chat.enrolled("实习", remote_until=remote)
        await self._pay(["书记", "乙书记", "缺席", "请假", "病假", "转接", "实习"], range(1, 13))
        await self._pay(["党费"], range(1, 2))
        excused = await self.users["书记"].say("/excuse 病假 2026-02-01 2026-04-30 病假 住院治疗")
        assert "已登记" in excused, excused

    async def _pay(self, names: list[str], months: range) -> None:
        async with self.chat.services.sessions.begin() as session:
            payments = []
            for name in names:
                member = await session.get(Member, self.ids[name])
                assert member is not None
                payments += [
                    NewPayment(member, date(2026, m, 1), 20, date(2026, 1, 5)) for m in months
                ]
            await record_payments(
                session, self.chat.services.box, payments, source="chat", actor_id=None, now=START
            )

    async def month(self, number: int, also_present: tuple[str, ...] = ()) -> None:
        """The month's two meetings, the leave asked and approved before them, the check-ins
        (and those of `also_present`, at A's meeting) and the finalising afterwards."""
        clock = self.chat.clock
        clock.now = noon(date(2026, number, 10))
        if number == 3:
            clock.now = noon(date(2026, 3, 20))
            self.ids["新人"], self.users["新人"] = await self.chat.enrolled("新人")
            clock.now = noon(date(2026, 3, 10))
        if number == 4:
            await self._move()
        for branch, where, day in (("A", A, 15), ("B", B, 20)):
            self.meetings[f"{branch}-{number}"] = await new_meeting(
                self.chat.services, where, date(2026, number, day), branch
            )
        if number == 3:
            await self._leave(self.meetings["A-3"])
        clock.now = noon(date(2026, number, 25))
        await self._check_ins(number, also_present)
        async with self.chat.services.sessions.begin() as session:
            for branch in ("A", "B"):
                meeting_id = self.meetings[f"{branch}-{number}"]
                assert await finalize(session, self.chat.services.box, meeting_id, clock.now)

    async def _leave(self, meeting_id: int) -> None:
        asked = await self.users["请假"].say(f"/leave {meeting_id} 参加学术会议")
        assert "已提交" in asked, asked
        leave_id = asked.split("#")[1].split()[0]
        assert "已批准" in await self.users["书记"].say(f"/leave_approve {leave_id}")

    async def _check_ins(self, number: int, also_present: tuple[str, ...]) -> None:
        at = self.chat.clock()
        records = [("书记", "A", Presence.PRESENT), ("乙书记", "B", Presence.PRESENT)]
        records += [(name, "A", Presence.PRESENT) for name in ("党费", *also_present)]
        if number == 3:
            records.append(("实习", "A", Presence.ONLINE))
        async with self.chat.services.sessions.begin() as session:
            for name, branch, presence in records:
                meeting_id = self.meetings[f"{branch}-{number}"]
                await meetings.record(session, meeting_id, self.ids[name], presence, at)

    async def _move(self) -> None:
        async with self.chat.services.sessions.begin() as session:
            mover = await session.get(Member, self.ids["转接"])
            to = await people.branch_by_name(session, B)
            assert mover is not None and to is not None
            await move_membership(session, mover, to, MOVED_AT, "transferred", "transferred")

    async def job(self, day: date) -> int:
        """The daily part on that morning; returns how many members it told about."""
        self.chat.clock.now = morning(day)
        services = self.chat.services
        async with services.sessions.begin() as session:
            return await remind_care(session, services.box, services.router.options, morning(day))
