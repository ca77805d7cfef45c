"""The evaluation's hand-made history (worked-out figures in history's docstring), a
frozen export clock, and binding a member of it."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.account.members import issue_invite
from handlers.core.context import Options
from storage import traces
from storage.enums import MeetingStatus, Presence, Role
from storage.models import Attendance, Meeting, Member
from storage.roster_models import Membership
from storage.traces import Entry
from tests.support.chat import Chat, User

BRANCH = "化学化工学院第一党支部"


TODAY = date(2026, 11, 24)  # the chat clock's day


EXPORTER = "secretary"


OPTIONS = Options()


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


async def _enrol(chat: Chat) -> dict[str, tuple[int, str]]:
    found = {}
    for name, role in (("甲", Role.SECRETARY), ("乙", Role.MEMBER), ("丙", Role.MEMBER)):
        found[name] = await chat.enrol(name, role=role)
    found["丁"] = await chat.enrol("丁")  # added on 2026-11-24: after the period
    return found


async def history(chat: Chat) -> dict[str, int]:
    """The hand-made record (all in 2026-09..2026-10 unless said):
    甲 (on the roster since January): both meetings, late at the first; 8 materials; 30 counted
      daily quizzes of 4/5 (and one practice round, not counted); 2 notices acknowledged in
      60 s and 120 s; 4 volunteer hours approved (2.5 + 1.5).
    乙 (since January): approved leave for both meetings; 4 materials; 1 notice not acknowledged.
    丙 (added 2026-10-01, mid-period): absent at the October meeting; 2 materials; a counted
      daily quiz of 4/5 on each of October's 31 days.
    丁 (added 2026-11-24): nothing; not yet a member in the period.
    Nobody paid dues in the period (the dues records are empty)."""
    people = await _enrol(chat)
    ids = {name: member_id for name, (member_id, _) in people.items()}
    services = chat.services
    async with services.sessions.begin() as session:
        branch_id = (await session.get(Member, ids["甲"])).branch_id  # type: ignore[union-attr]
        for name, joined in (
            ("甲", date(2026, 1, 1)),
            ("乙", date(2026, 1, 1)),
            ("丙", date(2026, 10, 1)),
        ):
            await joined_on(session, ids[name], at(joined, 0))
        september = Meeting(
            branch_id=branch_id,
            kind="assembly",
            title="九月支部党员大会",
            starts_at=at(date(2026, 9, 10)),
            status=MeetingStatus.FINISHED,
            checkin_secret="x" * 32,
            created_at=at(date(2026, 9, 1)),
        )
        october = Meeting(
            branch_id=branch_id,
            kind="theme_day",
            title="十月主题党日",
            starts_at=at(date(2026, 10, 15)),
            status=MeetingStatus.FINISHED,
            checkin_secret="y" * 32,
            created_at=at(date(2026, 10, 1)),
        )
        session.add_all([september, october])
        await session.flush()
        rows = [
            (september, "甲", Presence.PRESENT, True),
            (september, "乙", Presence.EXCUSED, False),
            (october, "甲", Presence.PRESENT, False),
            (october, "乙", Presence.EXCUSED, False),
            (october, "丙", Presence.ABSENT, False),
        ]
        for meeting, name, presence, late in rows:
            session.add(
                Attendance(
                    meeting_id=meeting.id,
                    member_id=ids[name],
                    presence=presence,
                    late=late,
                    at=meeting.starts_at,
                )
            )
        await session.flush()
        box = services.box

        async def add(day: date, *entries: Entry) -> None:
            await traces.append_many(session, box, list(entries), at(day))

        def entry(kind: str, name: str, **data: object) -> Entry:
            return Entry(kind, member_id=ids[name], branch_id=branch_id, data=data or None)

        await add(
            date(2026, 9, 10),
            entry("checkin.recorded", "甲", late=True),
            entry("leave.approved", "乙"),
        )
        await add(
            date(2026, 10, 15),
            entry("checkin.recorded", "甲", late=False),
            entry("leave.approved", "乙"),
        )
        for i in range(8):
            await add(date(2026, 9, 2 + i), entry("material.learned", "甲"))
        for i in range(4):
            await add(date(2026, 9, 20 + i), entry("material.learned", "乙"))
        for i in range(2):
            await add(date(2026, 10, 20 + i), entry("material.learned", "丙"))
        for i in range(30):
            await add(
                date(2026, 9, 1) + timedelta(days=i),
                entry("quiz.completed", "甲", score=4, total=5, counted=True),
            )
        await add(date(2026, 9, 5), entry("quiz.completed", "甲", score=0, total=5, counted=False))
        for i in range(31):
            await add(
                date(2026, 10, 1) + timedelta(days=i),
                entry("quiz.completed", "丙", score=4, total=5, counted=True),
            )
        await add(
            date(2026, 9, 12), entry("notice.delivered", "甲"), entry("notice.delivered", "乙")
        )
        await add(date(2026, 9, 13), entry("notice.acknowledged", "甲", after_seconds=60))
        await add(date(2026, 10, 12), entry("notice.delivered", "甲"))
        await add(date(2026, 10, 13), entry("notice.acknowledged", "甲", after_seconds=120))
        await add(date(2026, 9, 25), entry("volunteer.approved", "甲", hours=2.5))
        await add(date(2026, 10, 25), entry("volunteer.approved", "甲", hours=1.5))
    return ids


async def joined_on(session: AsyncSession, member_id: int, when: datetime) -> None:
    """Back-date a member's joining: their record and their first membership."""
    await session.execute(update(Member).where(Member.id == member_id).values(created_at=when))
    await session.execute(
        update(Membership).where(Membership.member_id == member_id).values(since=when)
    )


def freeze_export(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.cli.scorecard.now", lambda: datetime(2026, 11, 24, 2, tzinfo=UTC))
    monkeypatch.setattr("getpass.getuser", lambda: EXPORTER)


async def bind_member(chat: Chat, name: str) -> User:
    async with chat.services.sessions.begin() as session:
        member = (await session.scalars(select(Member).where(Member.name == name))).one()
        code = await issue_invite(
            session, chat.services.box, member, chat.clock(), timedelta(days=1)
        )
    return await chat.bind(code)
