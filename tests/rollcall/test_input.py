"""A roll-call's options as people type them, wrong ones answered with the right form; one
attached to a meeting pre-registers for it; the deadline job closes what is past."""

from scheduler import branch_group_jobs
from scheduler.context import JobContext, use
from tests.support.chat import Chat
from tests.support.meetings import ONE_LINE
from tests.support.rollcall import GROUP, bound_group, post_of, traced

BAD = [
    ("/jielong", "用法"),
    ("/jielong 截止 2026-12-01", "用法"),
    ("/jielong 植树 截止 明天", "没看懂截止时间“明天”"),
    ("/jielong 植树 截止 2026-11-31 18:00", "没看懂截止时间"),
    ("/jielong 植树 截止 2026-11-20", "已经过了"),
    ("/jielong 植树 限 三十 人", "人数限制“三十 人”不对"),
    ("/jielong 植树 限0人", "人数限制“0人”不对"),
    ("/jielong 植树 会议 下周", "会议编号“下周”不对"),
    ("/jielong 植树 会议 99", "没有找到会议 #99"),
    ("/jielong 植树 会议 1 活动 社区", "只能关联一个会议或一个活动"),
    ("/jielong 植树 限 3 限 4", "同一项只能写一次"),
    ("/jielong 植树 活动", "活动名称请写"),
]


async def test_bad_input_shows_the_right_form(chat: Chat) -> None:
    secretary = await bound_group(chat)
    for typed, answer in BAD:
        said = await secretary.in_group(GROUP).say(typed)
        assert answer in said, (typed, said)
    assert await traced(chat, "rollcall.") == []


async def test_option_words_inside_a_topic_stay_in_it(chat: Chat) -> None:
    secretary = await bound_group(chat)
    await secretary.in_group(GROUP).send("/jielong 限时答题挑战（第一期） 截止2026-11-30 限３０人")
    post = await post_of(chat)
    assert "限时答题挑战（第一期）" in post.text, post.text
    assert "截止：2026-11-30 23:59" in post.text and "限 30 人" in post.text


async def test_unknown_meeting_is_a_traced_refusal(chat: Chat) -> None:
    secretary = await bound_group(chat)
    await secretary.in_group(GROUP).send("/jielong 植树 会议 99")
    refusals = [(d["command"], d["reason"]) for _, _, d in await traced(chat, "access.refused")]
    assert refusals == [("jielong", "missing")]


async def test_attached_to_a_meeting_it_pre_registers(chat: Chat) -> None:
    secretary = await bound_group(chat)
    assert "已创建会议 #1" in await secretary.say(ONE_LINE)
    await secretary.in_group(GROUP).send("/jielong 主题党日报名 会议 1")
    assert "报名会议：#1 主题党日" in (await post_of(chat)).text
    member = await chat.bound("党员甲")
    await member.in_group(GROUP).send(callback="/jielong_join 1")
    assert "已报名（接龙，1）：党员甲" in await secretary.say("/attendance 1")
    chat.clock.advance(days=2)  # the meeting is over
    assert "已经结束或取消" in await secretary.in_group(GROUP).say("/jielong 补报名 会议 1")


async def test_the_deadline_job_closes_once(chat: Chat) -> None:
    secretary = await bound_group(chat)
    await secretary.in_group(GROUP).send("/jielong 报名 截止 2026-11-24 12:00")
    await secretary.in_group(GROUP).send("/jielong 长期报名")
    services = chat.services
    use(JobContext(services.sessions, services.box, services.router.options, chat.clock))
    assert await branch_group_jobs.rollcall_deadlines() == 0
    chat.clock.advance(hours=2, minutes=5)
    assert await branch_group_jobs.rollcall_deadlines() == 1
    assert await branch_group_jobs.rollcall_deadlines() == 0
    assert "已截止，共 0 人" in (await post_of(chat, 1)).text
    assert "已截止" not in (await post_of(chat, 2)).text
    assert [k for k, _, _ in await traced(chat, "rollcall.closed")] == ["rollcall.closed"]
