"""The six-month rule on a half year built month by month (tests/support/care.py): the counts
across approved leave, an intern who took part online, sick leave recorded and withdrawn, a
transfer mid-way and a payment of arrears; the secretaries told once per threshold and the
member reminded once at four months, however often the job runs; /care and /care NAME."""

from datetime import date

from sqlalchemy import func, select

from handlers.care.sixmonth import DUES, MEETINGS, counts_of
from scheduler import pipeline_jobs
from scheduler.context import JobContext, use
from storage.care_models import CareNotice
from storage.models import Member, OutboxMessage
from tests.support.care import CareHistory, morning
from tests.support.chat import Chat
from tests.support.notices import Queued, queued
from tests.support.traces import traces_of

MAY, JUNE, JULY = date(2026, 5, 1), date(2026, 6, 1), date(2026, 7, 1)


async def built(chat: Chat, months: int) -> CareHistory:
    history = CareHistory(chat)
    await history.begin()
    for number in range(1, months + 1):
        await history.month(number)
    return history


async def counts(history: CareHistory, day: date) -> dict[str, tuple[int, int]]:
    """Each person's (months without organisational life, months unpaid) on that morning."""
    services = history.chat.services
    async with services.sessions() as session:
        members = [m for i in history.ids.values() if (m := await session.get(Member, i))]
        found = await counts_of(session, members, morning(day), services.router.options)
    return {n: (found[i].count(MEETINGS), found[i].count(DUES)) for n, i in history.ids.items()}


def care_messages(rows: list[Queued]) -> list[Queued]:
    return [r for r in rows if r.kind.startswith("care.")]


async def outbox_rows(chat: Chat) -> int:
    async with chat.services.sessions() as session:
        return int(await session.scalar(select(func.count(OutboxMessage.id))) or 0)


async def test_the_counts_month_by_month(chat: Chat) -> None:
    history = await built(chat, 4)
    assert await counts(history, MAY) == {
        "书记": (0, 0),
        "乙书记": (0, 0),
        "缺席": (4, 0),
        "请假": (3, 0),  # March on approved leave: passed over, not the end of the run
        "病假": (1, 0),  # February to April excused by the sick leave recorded
        "转接": (4, 0),  # January to March in A, April in B
        "党费": (0, 3),  # January paid, February to April not (May is still open)
        "实习": (1, 0),  # took part online in March
        "新人": (1, 2),  # A's March meeting was before they joined; dues from March
    }
    await history.month(5)
    assert await counts(history, JUNE) == {
        "书记": (0, 0),
        "乙书记": (0, 0),
        "缺席": (5, 0),
        "请假": (4, 0),
        "病假": (2, 0),
        "转接": (5, 0),
        "党费": (0, 4),
        "实习": (2, 0),
        "新人": (2, 3),
    }
    chat.clock.now = morning(JUNE)
    paid = await history.users["书记"].say("/dues_record 党费 2026-02..2026-06 0.2")
    assert "已记录" in paid, paid
    assert (await counts(history, JUNE))["党费"] == (0, 0), "the payment ends the run"
    await history.month(6)
    found = await counts(history, JULY)
    assert found["缺席"] == found["转接"] == (6, 0) and found["病假"] == (3, 0)
    chat.clock.now = morning(JULY)
    assert "已撤销" in await history.users["书记"].say("/excuse_withdraw 1")
    assert (await counts(history, JULY))["病假"] == (6, 0), "without the sick leave"


async def test_attending_in_the_month_in_progress_resets_at_once(chat: Chat) -> None:
    history = await built(chat, 4)
    await history.month(5, also_present=("缺席",))
    assert (await counts(history, date(2026, 5, 26)))["缺席"] == (0, 0)
    assert (await counts(history, JUNE))["缺席"] == (0, 0)


async def test_secretaries_told_once_per_threshold_and_the_member_reminded(chat: Chat) -> None:
    history = await built(chat, 4)
    assert await history.job(MAY) == 2  # 缺席 in A, 转接 in B (told in B, where they are now)
    rows = care_messages(await queued(chat.services))
    to_a = [r for r in rows if r.member_id == history.ids["书记"]]
    to_b = [r for r in rows if r.member_id == history.ids["乙书记"]]
    assert len(to_a) == len(to_b) == 1
    assert "缺席已满 4 个月" in to_a[0].text and "已连续 4 个月未参加支部组织生活" in to_a[0].text
    assert "A1月主题党日" in to_a[0].text and "《中国共产党章程》第九条" in to_a[0].text
    assert to_a[0].buttons == [
        f"/care_note #{history.ids['缺席']} reason",
        f"/care_note #{history.ids['缺席']} talk",
    ]
    assert "A3月主题党日" in to_b[0].text and "B4月主题党日" in to_b[0].text
    reminder = next(r for r in rows if r.member_id == history.ids["缺席"])
    assert reminder.kind == "care.reminder" and "🌱 缺席同志" in reminder.text
    assert "4 个月没有参加支部的组织生活" in reminder.text and "/leave" in reminder.text
    assert "脱党" not in reminder.text, "the member's reminder is kind, never a warning"
    before = await outbox_rows(chat)
    assert await history.job(MAY) == 0, "a second run the same day tells nobody again"
    assert await outbox_rows(chat) == before

    await history.month(5)
    assert await history.job(JUNE) == 4  # 缺席 5, 转接 5, 请假 4, 党费's dues 4
    rows = care_messages(await queued(chat.services))[len(rows) :]
    about = sorted(r.text.split("：")[1].split("已满")[0] for r in rows if r.kind == "care.alert")
    assert about == ["党费", "缺席", "请假", "转接"], about
    reminded = sorted(r.member_id for r in rows if r.kind == "care.reminder")
    assert reminded == sorted([history.ids["请假"], history.ids["党费"]]), "once, at four"
    dues = next(r for r in rows if r.member_id == history.ids["党费"])
    assert (
        "4 个月的党费还没有交（2026年2月至2026年5月）" in dues.text and "支部书记 书记" in dues.text
    )

    await history.month(6)
    # 缺席 and 转接 listed at six, 请假 5, 党费's dues 5, 新人's dues 4
    assert await history.job(JULY) == 5
    rows = care_messages(await queued(chat.services))
    lists = [r for r in rows if r.kind == "care.six"]
    assert [r.member_id for r in lists] == [history.ids["书记"], history.ids["乙书记"]]
    assert "缺席" in lists[0].text and "转接" not in lists[0].text
    assert "未参加组织生活 6 个月，自2026年1月起；近 24 个月内没有参加会议的记录" in lists[0].text
    assert "党员如果没有正当理由，连续六个月不参加党的组织生活" in lists[0].text
    assert lists[0].buttons == [f"/care_note #{history.ids['缺席']} conclusion"]
    async with chat.services.sessions() as session:
        told = (await session.scalars(select(CareNotice))).all()
    assert len(told) == len(
        {(t.member_id, t.measure, t.audience, t.run_since, t.threshold) for t in told}
    )
    alerted = await traces_of(chat.services, "care.alerted")
    assert [t.data["listed"] for t in alerted[-5:]].count(True) == 2
    assert len(await traces_of(chat.services, "care.reminded")) == 5


async def test_the_daily_job_carries_the_part(chat: Chat) -> None:
    await built(chat, 4)
    chat.clock.now = morning(MAY)
    services = chat.services
    use(JobContext(services.sessions, services.box, services.router.options, chat.clock))
    assert (await pipeline_jobs.daily())["care"] == 2
    assert (await pipeline_jobs.daily())["care"] == 0


async def test_care_lists_the_branch_and_shows_one_member(chat: Chat) -> None:
    history = await built(chat, 6)
    chat.clock.now = morning(JULY)
    secretary = history.users["书记"]
    note = "电话联系，在外地住院，出院后参加主题党日"
    assert "已记录缺席的谈话" in await secretary.say(f"/care_note 缺席 谈话 {note}")
    listing = await secretary.say("/care")
    names = [
        line.split("：")[0].lstrip("· ") for line in listing.splitlines() if line.startswith("· ")
    ]
    assert names == ["缺席", "党费", "请假", "新人", "实习", "病假"], listing
    assert "未参加组织生活 6 个月（自2026年1月）" in listing and "最近记录：#1 谈话" in listing
    assert "转接" not in listing, "in B since April"
    assert "转接" in await history.users["乙书记"].say("/care")
    one = await secretary.say("/care 请假")
    assert "已连续 5 个月未参加支部组织生活：2026年1月至2026年2月、2026年4月至2026年6月" in one
    assert "· 2026年4月：主题党日“A4月主题党日”（2026-04-15）" in one
    sick = await secretary.say("/care 病假")
    assert "#1 病假：病假 2026-02-01 至 2026-04-30（说明：住院治疗）" in sick
    viewed = [t.data for t in await traces_of(chat.services, "data.viewed")]
    assert {"what": "care", "members": 6} in viewed and {"what": "care"} in viewed
