"""Roll-calls (接龙) in a bound group: made, joined by button and by reply, left, full, past
their deadline, closed early, listed and exported."""

from storage.enums import Role
from tests.support.chat import Chat
from tests.support.rollcall import GROUP, bound_group, entries, post_of, sent, traced

TOPIC = "周六义务植树"


async def test_made_joined_by_button_and_reply_then_left(chat: Chat) -> None:
    secretary = await bound_group(chat)
    made = await secretary.in_group(GROUP).send(
        f"/jielong {TOPIC} 截止 2026-11-28 18:00 限 30 人 活动 社区植树"
    )
    assert made == []  # the post is the answer, queued to the group
    post = await post_of(chat)
    assert post.chat_id == GROUP and post.kind == "group_rollcall"
    for words in (TOPIC, "截止：2026-11-28 18:00", "限 30 人", "活动：社区植树", "还没有人接龙"):
        assert words in post.text, post.text
    assert post.buttons == ["/jielong_join 1", "/jielong_leave 1"]

    message_id = await sent(chat)
    first, second, third = [await chat.bound(n) for n in ("党员甲", "党员乙", "党员丙")]
    [toast] = await first.in_group(GROUP).send(callback="/jielong_join 1")
    assert toast.toast and "第 1 位" in chat.services.renderer.render(toast.text)
    assert "第 2 位" in await second.in_group(GROUP).privately("+1", reply_to=message_id)
    # 接龙 is also /jielong's word, but answering the post it joins
    assert "第 3 位" in await third.in_group(GROUP).privately("接龙", reply_to=message_id)
    assert await third.in_group(GROUP).send("好的收到", reply_to=message_id) == []
    assert "已经在" in await third.in_group(GROUP).privately("1", reply_to=message_id)
    assert "1. 党员甲\n2. 党员乙\n3. 党员丙" in (await post_of(chat)).text
    assert "3/30" in (await post_of(chat)).text

    assert "已退出" in await first.in_group(GROUP).privately("-1", reply_to=message_id)
    [toast] = await second.in_group(GROUP).send(callback="/jielong_leave 1")
    assert "已退出" in chat.services.renderer.render(toast.text)
    assert "不在" in await second.in_group(GROUP).privately("退出", reply_to=message_id)
    assert "1. 党员丙" in (await post_of(chat)).text
    [toast] = await first.in_group(GROUP).send(callback="/jielong_join 1")
    assert "第 2 位" in chat.services.renderer.render(toast.text)
    positions = [(e.position, e.withdrawn_at is None) for e in await entries(chat)]
    assert positions == [(2, False), (3, True), (4, True)]  # a position is never given twice
    kinds = [kind for kind, _, _ in await traced(chat, "rollcall.")]
    assert kinds == ["rollcall.created"] + ["rollcall.joined"] * 3 + ["rollcall.left"] * 2 + [
        "rollcall.joined"
    ]


async def test_a_full_roll_call_refuses_the_next_until_someone_leaves(chat: Chat) -> None:
    secretary = await bound_group(chat)
    await secretary.in_group(GROUP).send("/jielong 座谈会 限2人")
    people = [await chat.bound(n) for n in ("党员甲", "党员乙", "党员丙")]
    for person in people[:2]:
        await person.in_group(GROUP).send(callback="/jielong_join 1")
    [toast] = await people[2].in_group(GROUP).send(callback="/jielong_join 1")
    assert "已满（限 2 人）" in chat.services.renderer.render(toast.text)
    assert "已满（2/2 人）" in (await post_of(chat)).text
    await people[0].in_group(GROUP).send(callback="/jielong_leave 1")
    [toast] = await people[2].in_group(GROUP).send(callback="/jielong_join 1")
    assert "第 2 位" in chat.services.renderer.render(toast.text)
    assert "1. 党员乙\n2. 党员丙" in (await post_of(chat)).text


async def test_a_deadline_passed_closes_it(chat: Chat) -> None:
    secretary = await bound_group(chat)
    # the clock stands at 2026-11-24 10:00 in Shanghai
    await secretary.in_group(GROUP).send("/jielong 报名 截止 2026-11-24 12:00")
    member, late = await chat.bound("党员甲"), await chat.bound("党员乙")
    await member.in_group(GROUP).send(callback="/jielong_join 1")
    chat.clock.advance(hours=3)
    [toast] = await late.in_group(GROUP).send(callback="/jielong_join 1")
    assert "已截止" in chat.services.renderer.render(toast.text)
    [toast] = await member.in_group(GROUP).send(callback="/jielong_leave 1")
    assert "已截止" in chat.services.renderer.render(toast.text)
    post = await post_of(chat)
    assert "已截止，共 1 人" in post.text and "1. 党员甲" in post.text and post.buttons == []
    closed = [(actor, data) for kind, actor, data in await traced(chat, "rollcall.closed")]
    assert closed == [(None, {"why": "deadline", "on_list": 1})]  # closed once, by no one


async def test_closed_early_listed_and_exported(chat: Chat) -> None:
    secretary = await bound_group(chat)
    await secretary.in_group(GROUP).send("/jielong 观影")
    for name in ("党员甲", "=HYPERLINK(1)"):
        person = await chat.bound(name)
        await person.in_group(GROUP).send(callback="/jielong_join 1")
    listed = await secretary.say("/jielong_list 1")
    assert "1. 党员甲\n2. =HYPERLINK(1)" in listed and "进行中" in listed
    assert "已结束，共 2 人" in await secretary.in_group(GROUP).privately("/jielong_close 1")
    assert "已经截止" in await secretary.say("/jielong_close 1")
    assert "已截止" in (await post_of(chat)).text
    [reply] = await secretary.send("/jielong_list 1 csv")
    assert reply.file is not None and reply.file.name.endswith(".csv")
    lines = reply.file.content.decode("utf-8-sig").splitlines()
    assert lines[1:3] == ["主题,观影", "序号,姓名,接龙时间,状态,退出时间"]
    assert lines[3].startswith("1,党员甲,2026-11-24 10:00,在列")
    assert lines[4].startswith("2,'=HYPERLINK(1)")  # never a formula
    [reply] = await secretary.send("/jielong_list 1 xlsx")
    assert reply.file is not None and reply.file.name.endswith(".xlsx")
    assert await _xlsx_rows(reply.file.content) == [
        ["主题", "观影", None, None, None],
        ["序号", "姓名", "接龙时间", "状态", "退出时间"],
        [1, "党员甲", "2026-11-24 10:00", "在列", None],
        [2, "=HYPERLINK(1)", "2026-11-24 10:00", "在列", None],
    ]
    exports = [data for _, _, data in await traced(chat, "rollcall.exported")]
    assert exports == [{"format": "csv", "rows": 2}, {"format": "xlsx", "rows": 2}]
    assert "不支持的格式" in await secretary.say("/jielong_list 1 pdf")


async def _xlsx_rows(content: bytes) -> list[list[object]]:
    import io

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    return [list(row) for row in sheet.iter_rows(max_row=4, values_only=True)]


async def test_who_may_start_one_and_where(chat: Chat) -> None:
    secretary = await bound_group(chat)
    member = await chat.bound("党员甲")
    refused = await member.in_group(GROUP).say("/jielong 主题")
    assert "支委" in refused
    other = await chat.bound("二支书记", role=Role.SECRETARY, branch="化学化工学院第二党支部")
    assert "不是您所在支部的群" in await other.in_group(GROUP).say("/jielong 主题")
    assert "还没有绑定支部" in await secretary.in_group("-100999").say("/jielong 主题")
    assert "请在支部群里发送" in await secretary.say("/jielong 主题")
    refusals = [(d["command"], d["reason"]) for _, _, d in await traced(chat, "access.refused")]
    assert refusals == [("jielong", "role"), ("jielong", "scope")]
    assert await traced(chat, "rollcall.") == []
    # a member of another branch cannot join; a number that does not exist is not found
    await secretary.in_group(GROUP).send("/jielong 主题")
    stranger = await chat.bound("外支部党员", branch="化学化工学院第二党支部")
    [toast] = await stranger.in_group(GROUP).send(callback="/jielong_join 1")
    assert "只限本支部成员" in chat.services.renderer.render(toast.text)
    # the same by a reply to the post: refused in their private chat, not before the group
    [answer] = await stranger.in_group(GROUP).send("+1", reply_to=await sent(chat, 1))
    assert answer.chat == stranger.account_id
    assert "只限本支部成员" in chat.services.renderer.render(answer.text)
    assert "没有找到接龙 #9" in await member.say("/jielong_join 9")
    assert "没有找到接龙 #1" in await other.say("/jielong_list 1")
    refusals = [(d["command"], d["reason"]) for _, _, d in await traced(chat, "access.refused")]
    assert refusals[2:] == [
        ("jielong_join", "scope"),
        ("jielong_join", "scope"),
        ("jielong_join", "missing"),
        ("jielong_list", "scope"),
    ]
