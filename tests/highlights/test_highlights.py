"""The weekly highlights: switched on and off in the group by its secretary; on Monday the
past week's quiz leaders and the branch's rates, naming nobody for what they missed."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from scheduler import branch_group_jobs
from scheduler.context import JobContext, use
from storage import traces
from storage.enums import MeetingStatus, Presence, QuizMode
from storage.models import Attendance, Meeting, Member, Quiz
from storage.traces import Entry
from tests.support.chat import Chat, User
from tests.support.notices import queued
from tests.support.rollcall import GROUP, bound_group, traced

MONDAY_NINE = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
# Right answers in the week's daily quizzes (2026-11-23..29): 党员庚 is sixth, 党员己 did none.
POINTS = {"党员甲": 10, "党员乙": 9, "党员丙": 9, "党员丁": 7, "党员戊": 5, "党员庚": 3}


async def _switched_on(chat: Chat) -> User:
    secretary = await bound_group(chat)
    await secretary.in_group(GROUP).send("/group_highlights 开")
    [note] = [q for q in await queued(chat.services, chat_id=GROUP) if "每周亮点" in q.text]
    assert "已开启每周亮点" in note.text
    return secretary


def _at(day: int, hour: int = 4) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


async def _week(chat: Chat) -> dict[str, int]:
    """The week's record: the quizzes above, one finished meeting that 党员己 missed, and
    notices delivered to all, acknowledged by all but 党员己 and 党员庚."""
    for name in [*POINTS, "党员己"]:
        await chat.enrol(name)
    async with chat.services.sessions.begin() as session:
        people = {m.name: m for m in (await session.scalars(select(Member))).all()}
        branch_id = people["党员甲"].branch_id
        for offset, (name, points) in enumerate(POINTS.items()):
            day = date(2026, 11, 25 + offset % 4)
            session.add(_quiz(people[name], day, points))
        session.add(_quiz(people["党员己"], date(2026, 11, 22), 10))  # the week before
        meeting = Meeting(
            branch_id=branch_id,
            kind="theme_day",
            title="十一月主题党日",
            starts_at=_at(26),
            status=MeetingStatus.FINISHED,
            checkin_secret="z" * 32,
            created_at=_at(24),
        )
        session.add(meeting)
        await session.flush()
        for name, member in people.items():
            presence = Presence.ABSENT if name == "党员己" else Presence.PRESENT
            session.add(
                Attendance(
                    meeting_id=meeting.id, member_id=member.id, presence=presence, at=_at(26)
                )
            )
        entries = [
            Entry("notice.delivered", member_id=m.id, branch_id=branch_id) for m in people.values()
        ]
        await traces.append_many(session, chat.services.box, entries, _at(25))
        acks = [
            Entry(
                "notice.acknowledged",
                member_id=m.id,
                branch_id=branch_id,
                data={"after_seconds": 60},
            )
            for name, m in people.items()
            if name not in ("党员己", "党员庚")
        ]
        await traces.append_many(session, chat.services.box, acks, _at(25, 5))
    return {name: m.id for name, m in people.items()}


def _quiz(member: Member, day: date, points: int) -> Quiz:
    at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    return Quiz(
        member_id=member.id,
        branch_id=member.branch_id,
        day=day,
        mode=QuizMode.DAILY,
        counted=True,
        question_ids=[],
        correct=points,
        asked_at=at,
        started_at=at,
        finished_at=at + timedelta(minutes=5),
    )


def _jobs_on(chat: Chat) -> None:
    services = chat.services
    use(JobContext(services.sessions, services.box, services.router.options, chat.clock))


async def _highlights(chat: Chat, chat_id: str = GROUP) -> list[str]:
    rows = await queued(chat.services, chat_id=chat_id)
    return [r.text for r in rows if r.kind == "group_highlights"]


async def test_monday_posts_the_leaders_and_rates_once(chat: Chat) -> None:
    await _switched_on(chat)
    await _week(chat)
    chat.clock.now = MONDAY_NINE
    _jobs_on(chat)
    assert await branch_group_jobs.weekly_highlights() == 1
    assert await branch_group_jobs.weekly_highlights() == 0  # once a week, however often run
    [post] = await _highlights(chat)
    assert "上周亮点（2026-11-23 至 2026-11-29）" in post
    leaders = [
        "1. 党员甲　10 分",
        "2. 党员乙　9 分",
        "2. 党员丙　9 分",
        "4. 党员丁　7 分",
        "5. 党员戊　5 分",
    ]
    assert all(line in post for line in leaders), post
    assert "党员庚" not in post and "党员己" not in post  # only the leaders are named
    # the rates are the scorecard's for the week: 7 of 8 came, 6 of 8 acknowledged
    assert "会议出勤率：88%" in post and "通知回执率：75%" in post, post


async def test_a_quiet_week_says_so_and_a_group_switched_off_gets_nothing(chat: Chat) -> None:
    secretary = await _switched_on(chat)
    chat.clock.now = MONDAY_NINE
    _jobs_on(chat)
    assert await branch_group_jobs.weekly_highlights() == 1
    assert await _highlights(chat) == [
        "🌟 上周（2026-11-23 至 2026-11-29）没有答题、会议和通知记录。"
    ]
    await secretary.in_group(GROUP).send("/group_highlights 关")
    chat.clock.advance(days=7)
    assert await branch_group_jobs.weekly_highlights() == 0
    assert len(await _highlights(chat)) == 1


async def test_switching_it(chat: Chat) -> None:
    secretary = await bound_group(chat)
    member = await chat.bound("党员甲")
    in_group = secretary.in_group(GROUP)
    assert "未开启" in await in_group.say("/group_highlights")
    await member.in_group(GROUP).send("/group_highlights 开")
    for typed in (
        "/group_highlights 开",
        "/group_highlights 开启",
        "/group_highlights 关",
        "/group_highlights off",
    ):
        await in_group.send(typed)
    said = [q.text for q in await queued(chat.services, chat_id=GROUP)][1:]
    assert said == [
        "已开启每周亮点：每周一上午推送上周的答题排行前 5 名和支部出勤率、通知回执率"
        "（不点名任何人的缺勤或未回执）。",
        "本群的每周亮点已经开启了。",
        "已关闭本群的每周亮点。",
        "本群的每周亮点本来就没有开启。",
    ]
    switched = [data for _, _, data in await traced(chat, "highlights.switched")]
    assert switched == [{"on": True}, {"on": False}]
    refusals = [(d["command"], d["reason"]) for _, _, d in await traced(chat, "access.refused")]
    assert refusals == [("group_highlights", "role")]
    assert "请在支部群里发送" in await secretary.say("/group_highlights 开")
