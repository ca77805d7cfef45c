"""The feedback box's daily parts over a frozen clock: the box opened the morning after, the
committee told how many came; an item unanswered reminds the branch's secretaries at 14 days
and then weekly, once each time however often the job runs, until it is answered."""

from datetime import date, timedelta

from scheduler import pipeline_jobs
from scheduler.context import JobContext, use
from storage.enums import Role
from storage.feedback_models import FeedbackItem
from tests.support.chat import Chat
from tests.support.feedback import ANSWER, CONCERN, cast
from tests.support.outbox import queued_to
from tests.support.people import member_named
from tests.support.traces import traces_of

QUESTION = "请问下学期的党课安排什么时候公布？"
SECOND = "食堂晚饭时间太早，实验做完常常赶不上，建议延长半小时。"


async def daily(chat: Chat) -> tuple[int, int]:
    """The daily job's feedback parts: (items opened, items reminded of)."""
    services = chat.services
    use(JobContext(services.sessions, services.box, services.router.options, chat.clock))
    counts = await pipeline_jobs.daily()
    return counts["feedback_opened"], counts["feedback"]


async def test_fourteen_days_then_weekly_and_once(chat: Chat) -> None:
    secretary, committee, member, _ = await cast(chat)
    start = chat.clock.now  # 2026-11-24, 10:00 in Shanghai
    assert "#1" in await member.say(f"/feedback {CONCERN}")
    assert "#2" in await member.say(f"/feedback {QUESTION}")
    assert "已匿名投入意见箱" in await member.say(f"/feedback 匿名 {SECOND}")
    assert await daily(chat) == (0, 0), "the day is not over"
    seen: dict[int, tuple[int, int]] = {}
    for day in range(1, 36):
        chat.clock.now = start + timedelta(days=day)
        if day == 3:
            assert "已答复意见 #2" in await committee.say(f"/feedback_answer 2 {ANSWER}")
        if day == 30:
            assert "已答复意见 #1" in await secretary.say(f"/feedback_answer 1 {ANSWER}")
        seen[day] = await daily(chat)
        assert await daily(chat) == (0, 0), f"a second run on day {day} does nothing"
    assert seen[1] == (1, 0)
    assert {d: n for d, (_, n) in seen.items() if n} == {14: 2, 21: 2, 28: 2, 35: 1}

    ids = {n: (await member_named(chat, n)).id for n in ("书记", "支委", "张三")}
    (opened,) = await queued_to(chat.services, ids["支委"], "feedback.opened")
    assert opened == "📮 意见箱开箱：收到 1 条匿名意见，请查看并答复。"
    assert await queued_to(chat.services, ids["支委"], "feedback.reminder") == []
    reminders = await queued_to(chat.services, ids["书记"], "feedback.reminder")
    assert len(reminders) == 4
    assert "以下 2 条意见已超过 14 天没有答复" in reminders[0]
    assert "· #1（实名）2026-11-24 提交，已 14 天" in reminders[0]
    assert "· #3（匿名）2026-11-24 提交，已 14 天" in reminders[0]
    assert "#1" not in reminders[3] and "· #3（匿名）2026-11-24 提交，已 35 天" in reminders[3]
    traced = await traces_of(chat.services, "feedback.reminded")
    assert [(t.ref, t.member_id, t.actor_id, t.data) for t in traced if t.ref == "feedback:3"] == [
        ("feedback:3", None, None, {"days": days, "reminder": n})
        for n, days in enumerate((14, 21, 28, 35), start=1)
    ]
    assert {t.member_id for t in traced if t.ref == "feedback:1"} == {ids["张三"]}


async def test_a_job_that_missed_weeks_reminds_once_and_keeps_the_rhythm(chat: Chat) -> None:
    _, _, member, _ = await cast(chat)
    start = chat.clock.now
    await member.say(f"/feedback {CONCERN}")
    days = {}
    for day in (40, 41, 42, 43, 49):
        chat.clock.now = start + timedelta(days=day)
        days[day] = (await daily(chat))[1]
    assert days == {40: 1, 41: 0, 42: 1, 43: 0, 49: 1}
    async with chat.services.sessions() as session:
        item = await session.get(FeedbackItem, 1)
        assert item is not None and item.reminders == 6 and item.received_on == date(2026, 11, 24)


async def test_a_branch_without_a_secretary_is_reminded_once_it_has_one(chat: Chat) -> None:
    lonely = "化学化工学院第三党支部"
    member = await chat.bound("王五", branch=lonely)
    start = chat.clock.now
    await member.say(f"/feedback {CONCERN}")
    chat.clock.now = start + timedelta(days=14)
    assert (await daily(chat))[1] == 0
    await chat.bound("丙书记", role=Role.SECRETARY, branch=lonely)
    chat.clock.now = start + timedelta(days=15)
    assert (await daily(chat))[1] == 1
    (reminder,) = await queued_to(
        chat.services, (await member_named(chat, "丙书记")).id, "feedback.reminder"
    )
    assert "· #1（实名）2026-11-24 提交，已 15 天" in reminder
