"""Half a year of two branches built on the frozen test clock (2026-11-24) for /segments: each
member's record made to fit one or two groups of handlers/care/data/segments.toml, worked
out in SegmentHistory's docstring; and a synthetic school of well-separated kinds for
/clusters."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.dues.record import NewPayment, record_payments
from storage import people, traces
from storage.crypto import SecretBox
from storage.enums import MeetingStatus, Presence, Role, Stage
from storage.models import Attendance, Meeting, Member
from storage.roster import move_membership
from storage.traces import Entry
from tests.support.chat import Chat, User
from tests.support.evaluation import joined_on

A = "化学化工学院第一党支部"
B = "化学化工学院第二党支部"
OFFICE = "校党委组织部"
MONTHS = (6, 7, 8, 9, 10, 11)  # a meeting each month: A's on the 15th, B's on the 16th
JANUARY = datetime(2026, 1, 1, tzinfo=UTC)
NEW_ON = datetime(2026, 10, 10, 2, tzinfo=UTC)
MOVED_ON = datetime(2026, 9, 20, 2, tzinfo=UTC)
ON_TIME, LATE, ONLINE, AWAY = "on_time", "late", "online", "away"

# Who takes part how in A's meetings (month → how); a month not given: absent.
EVERY = dict.fromkeys(MONTHS, ON_TIME)
A_PLAN: dict[str, dict[int, str]] = {
    "书记": EVERY,
    "支委": EVERY,
    "稳定": EVERY,
    "迟到": {**EVERY, 6: LATE, 8: LATE, 10: LATE},
    "学霸": {10: ON_TIME, 11: ON_TIME},
    "实习": {10: ONLINE, 11: ONLINE},
    "新人": {10: ON_TIME, 11: ON_TIME},
    "转入": {10: ON_TIME, 11: ON_TIME},
    "缺席": {},
    "欠费": EVERY,
    "积极分子": {},
}
B_PLAN: dict[str, dict[int, str]] = {
    "乙书记": EVERY,
    "乙迟到": {**EVERY, 6: LATE, 7: LATE, 9: LATE, 11: LATE},
    "转入": {6: LATE, 7: LATE, 8: LATE, 9: LATE},
}
# Months paid (2026); everyone else pays the whole year.
PAID = {"缺席": range(1, 7), "欠费": range(1, 9), "新人": range(10, 13)}
LEARNED = {"稳定": 13, "学霸": 25}  # materials marked learned in the window
BOUND = ("书记", "支委", "乙书记", "迟到", "缺席", "欠费", "新人", "转入")
# The groups of A and B as the shipped rules must make them.
EXPECTED_A = {
    "steady": {"稳定"},
    "often_late": {"迟到"},
    "learns_not_meets": {"学霸"},
    "remote_behind": {"实习"},
    "new_this_term": {"新人", "转入"},
    "inactive": {"缺席"},
    "dues_behind": {"缺席", "欠费"},
}
EXPECTED_B = {"often_late": {"乙迟到"}}


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


@dataclass
class SegmentHistory:
    """The window is 2026-05-25..2026-11-24 (184 days); a meeting a month, June to November.
    稳定: every meeting on time, 13 materials (2.1 a month): steady.
    迟到: every meeting, late at 3 of 6: often late.
    学霸: 25 materials (4.1 a month), at 2 of 6 meetings (October, November): learns a lot,
      rarely at meetings.
    实习: on placement until 2027-01-31, online at 2 of 6: away and behind online.
    新人: added 2026-10-10, at both meetings since: new this term.
    转入: B's member, late at B's four meetings June to September, moved to A on 2026-09-20,
      on time at A's two since: new this term in A, and not often late there (B's lateness
      was in B: the membership true on each date).
    缺席: at no meeting (five whole months in a row, June to October) and paid January to June
      only: inactive for months, and dues behind (5 of the window's 7 months; 4 in a row).
    欠费: every meeting on time, paid January to August: dues behind (3 months; 2 in a row).
    书记, 支委: every meeting on time, nothing learned: in no group.
    积极分子: an activist, absent from every meeting: not grouped (not a full or probationary
      member).
    B: 乙书记 every meeting on time; 乙迟到 late at 4 of 6: often late in B."""

    chat: Chat
    ids: dict[str, int] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)

    @classmethod
    async def built(cls, chat: Chat) -> "SegmentHistory":
        history = cls(chat)
        await history.build()
        return history

    async def build(self) -> None:
        for plan, branch in ((A_PLAN, A), (B_PLAN, B)):
            for name in plan:
                if name == "转入" and branch == A:
                    continue  # enrolled in B, moved later
                await self._enrol(name, branch)
        async with self.chat.services.sessions.begin() as session:
            for name, member_id in self.ids.items():
                when = NEW_ON if name == "新人" else JANUARY
                await joined_on(session, member_id, when)
            mover = await session.get(Member, self.ids["转入"])
            to = await people.branch_by_name(session, A)
            assert mover is not None and to is not None
            await move_membership(session, mover, to, MOVED_ON, "transferred", "transferred")
        async with self.chat.services.sessions.begin() as session:
            await self._meetings(session, A, A_PLAN, 15)
            await self._meetings(session, B, B_PLAN, 16)
            await self._learned(session)
            await self._pay(session)

    async def _enrol(self, name: str, branch: str) -> None:
        role = {"书记": Role.SECRETARY, "乙书记": Role.SECRETARY, "支委": Role.COMMITTEE}
        kwargs: dict[str, Any] = {"role": role.get(name, Role.MEMBER), "branch": branch}
        if name == "积极分子":
            kwargs["stage"] = Stage.ACTIVIST
        if name == "实习":
            kwargs["remote_until"] = date(2027, 1, 31)
        if name in BOUND:
            self.ids[name], self.users[name] = await self.chat.enrolled(name, **kwargs)
        else:
            self.ids[name], _ = await self.chat.enrol(name, **kwargs)

    async def _meetings(
        self, session: AsyncSession, branch: str, plan: dict[str, dict[int, str]], day: int
    ) -> None:
        names = {self.ids[name]: name for name in plan}
        by_id = {self.ids[name]: months for name, months in plan.items()}
        await held_meetings(
            session, branch, by_id, day, lambda m, at: self._belonged(names[m], branch, at)
        )

    @staticmethod
    def _belonged(name: str, branch: str, at: datetime) -> bool:
        if name == "新人":
            return at >= NEW_ON
        if name == "转入":
            return (at >= MOVED_ON) == (branch == A)
        return True

    async def _learned(self, session: AsyncSession) -> None:
        learned = {self.ids[name]: count for name, count in LEARNED.items()}
        await learned_materials(session, self.chat.services.box, learned)

    async def _pay(self, session: AsyncSession) -> None:
        months = {
            member_id: PAID.get(name, range(1, 13))
            for name, member_id in self.ids.items()
            if name != "积极分子"  # an activist pays no dues
        }
        await pay(session, self.chat.services.box, months)

    def names(self, member_ids: Iterable[int]) -> set[str]:
        by_id = {member_id: name for name, member_id in self.ids.items()}
        return {by_id[i] for i in member_ids}


async def held_meetings(
    session: AsyncSession,
    branch: str,
    plan: dict[int, dict[int, str]],
    day: int,
    belonged: Callable[[int, datetime], bool] = lambda _member, _at: True,
) -> None:
    """A finished 主题党日 of the branch on that day of each month, with a record for each
    member of the plan who belonged then: how they took part that month, absent if not said."""
    found = await people.branch_by_name(session, branch)
    assert found is not None
    for month in MONTHS:
        starts = noon(date(2026, month, day))
        meeting = Meeting(
            branch_id=found.id,
            kind="theme_day",
            title=f"{month}月主题党日",
            starts_at=starts,
            status=MeetingStatus.FINISHED,
            checkin_secret="x" * 32,
            created_at=starts - timedelta(days=5),
        )
        session.add(meeting)
        await session.flush()
        for member_id, months in plan.items():
            if not belonged(member_id, starts):
                continue
            how = months.get(month, AWAY)
            presence = {ONLINE: Presence.ONLINE, AWAY: Presence.ABSENT}.get(how, Presence.PRESENT)
            session.add(
                Attendance(
                    meeting_id=meeting.id,
                    member_id=member_id,
                    presence=presence,
                    late=how == LATE,
                    at=starts,
                )
            )
    await session.flush()


async def learned_materials(session: AsyncSession, box: SecretBox, learned: dict[int, int]) -> None:
    """Each member marks that many materials learned, one a day from 2026-06-01."""
    for member_id, count in learned.items():
        for i in range(count):
            entry = Entry("material.learned", member_id=member_id)
            await traces.append_many(
                session, box, [entry], noon(date(2026, 6, 1)) + timedelta(days=i)
            )


# A synthetic school for /clusters: three kinds of members, alike within a kind, in three
# branches in different proportions.
KINDS = {
    "勤学": (EVERY, 30),  # at every meeting on time, 30 materials learned
    "迟到": (dict.fromkeys(MONTHS, LATE), 0),  # at every meeting, late at each
    "缺席": ({}, 0),  # at none
}
SCHOOL = {
    "甲支部": {"勤学": 4, "迟到": 2, "缺席": 1},
    "乙支部": {"勤学": 1, "迟到": 3, "缺席": 2},
    "丙支部": {"勤学": 2, "迟到": 1, "缺席": 3},
}


async def school(chat: Chat) -> tuple[User, dict[str, str]]:
    """The school (its admin is one of 甲支部's 勤学); returns the admin and each member's
    kind by name."""
    admin_id, admin = await chat.enrolled("组织员", role=Role.ADMIN, branch="甲支部")
    kind_of = {"组织员": "勤学"}
    ids = {"组织员": admin_id}
    for branch, counts in SCHOOL.items():
        for kind, count in counts.items():
            for i in range(count - (branch == "甲支部" and kind == "勤学")):
                name = f"{branch[0]}{kind}{i + 1}"
                ids[name], _ = await chat.enrol(name, branch=branch)
                kind_of[name] = kind
    async with chat.services.sessions.begin() as session:
        for member_id in ids.values():
            await joined_on(session, member_id, JANUARY)
        for branch in SCHOOL:
            plan = {
                member_id: KINDS[kind_of[name]][0]
                for name, member_id in ids.items()
                if name[0] == branch[0] or (name == "组织员" and branch == "甲支部")
            }
            await held_meetings(session, branch, plan, 15)
        learned = {ids[name]: KINDS[kind][1] for name, kind in kind_of.items()}
        await learned_materials(session, chat.services.box, learned)
        await pay(session, chat.services.box, dict.fromkeys(ids.values(), range(1, 13)))
    return admin, kind_of


async def pay(session: AsyncSession, box: SecretBox, months: Mapping[int, Iterable[int]]) -> None:
    """Each member pays the rate (0.20 yuan) for those months of 2026, on 2026-01-05."""
    payments = []
    for member_id, paid in months.items():
        member = await session.get(Member, member_id)
        assert member is not None
        payments += [NewPayment(member, date(2026, m, 1), 20, date(2026, 1, 5)) for m in paid]
    await record_payments(session, box, payments, source="chat", actor_id=None, now=JANUARY)
