"""The feedback box (意见箱) as conversations: a named item and a guided anonymous one from
sending to closing, what each sender is told and how, bad input for every command, refusals
traced, free text that begins like a command, and migration 0019 down and up."""

import json

import pytest
from sqlalchemy import select

from bot.app.services import Services
from storage import schema
from storage.enums import Role
from storage.feedback_models import FeedbackItem
from storage.models import Trace
from tests.support.chat import Chat
from tests.support.feedback import ANSWER, CONCERN, cast, items, receipt_in
from tests.support.outbox import queued_to
from tests.support.people import member_named
from tests.support.traces import traces_of


async def test_a_named_item_answered_told_and_closed(chat: Chat) -> None:
    secretary, committee, member, _ = await cast(chat)
    sent = await member.say(f"/feedback {CONCERN}")
    assert "已提交意见 #1（实名）" in sent
    code = receipt_in(sent)
    sender = await member_named(chat, "张三")
    for reader in ("书记", "支委"):
        notes = await queued_to(
            chat.services, (await member_named(chat, reader)).id, "feedback.new"
        )
        assert notes == [
            "📮 意见箱：张三提交了意见 #1，请查看并答复（/feedback_answer 1 答复内容）。"
        ]
    assert not await queued_to(chat.services, sender.id, "feedback.new")
    (submitted,) = await traces_of(chat.services, "feedback.submitted")
    assert (submitted.member_id, submitted.actor_id) == (sender.id, sender.id)
    assert submitted.data == {"anonymous": False, "on": "2026-11-24"} and CONCERN not in str(
        submitted.data
    )

    chat.clock.advance(days=3)
    listing = await committee.say("/feedback_list")
    assert "#1 张三 · 2026-11-24（3 天）· 待答复" in listing and "建议主题党日" in listing
    assert "已答复意见 #1，并已通知提出人" in await committee.say(f"/feedback_answer 1 {ANSWER}")
    (told,) = await queued_to(chat.services, sender.id, "feedback.told")
    assert told == f"📮 支委会答复了您的意见 #1：{ANSWER}"
    (answered,) = await traces_of(chat.services, "feedback.answered")
    assert answered.member_id == sender.id and answered.data == {"answer": 1, "told": True}
    for asked in ("/feedback_status 1", f"/feedback_status {code.lower().replace('-', '')}"):
        shown = await member.say(asked)
        assert "#1（张三）" in shown and "状态：已答复" in shown and ANSWER in shown
    assert "已办结意见 #1（答复 1 次）" in await secretary.say("/feedback_close 1")
    assert "意见 #1 已经办结了" in await secretary.say(f"/feedback_answer 1 {ANSWER}")
    assert "状态：已办结" in await member.say(f"/feedback_status {code}")
    assert "目前没有待处理的意见" in await secretary.say("/feedback_list")
    assert await queued_to(chat.services, sender.id, "feedback.told") == [
        f"📮 支委会答复了您的意见 #1：{ANSWER}",
        "📮 您的意见 #1 已办结。",
    ]
    (file,) = [r.file for r in await member.send("/mydata") if r.file is not None]
    (mine,) = json.loads(file.content)["feedback"]
    assert (mine["id"], mine["text"], mine["received_on"]) == (1, CONCERN, "2026-11-24")
    assert [a["text"] for a in mine["answers"]] == [ANSWER] and mine["closed_at"]


async def test_a_guided_anonymous_item_and_its_receipt(chat: Chat) -> None:
    secretary, committee, member, _ = await cast(chat)
    await member.send("/feedback")
    assert [b.data for row in member.replies[0].buttons for b in row] == [
        "/feedback 实名",
        "/feedback 匿名",
    ]
    assert "请发送您的意见（匿名" in await member.say(callback="/feedback 匿名")
    sent = await member.say(CONCERN)
    assert "已匿名投入意见箱" in sent and "#" not in sent
    code = receipt_in(sent)
    assert "已于 2026-11-24 投入意见箱，还没有开箱" in await member.say(f"/feedback_status {code}")
    assert "目前没有待处理的意见" in await secretary.say("/feedback_list"), "held for the day"
    assert await items(chat) == []

    chat.clock.advance(days=1)
    listing = await committee.say("意见列表")
    assert "#1 匿名 · 2026-11-24（1 天）· 待答复" in listing
    reply = await committee.say(f"答复意见 1 {ANSWER}")
    assert "这是匿名意见" in reply and "无法通知" in reply
    (answered,) = await traces_of(chat.services, "feedback.answered")
    assert answered.member_id is None and answered.data == {"answer": 1, "told": False}
    shown = await member.say(f"/feedback_status {code}")
    assert "状态：已答复" in shown and ANSWER in shown and CONCERN in shown
    assert "#1" not in shown, "a code holder never learns an anonymous item's number"
    assert "找不到意见 #1" in await member.say("/feedback_status 1")
    assert "#1（匿名）" in await secretary.say("/feedback_status 1")


async def test_anonymity_begins_with_the_word(chat: Chat) -> None:
    """匿名 glued to the text, or after a colon, is still anonymous; the guided choice may be
    typed, and the text step takes words that begin like a command (党费，…) as the text."""
    _, _, member, _ = await cast(chat)
    for sent in (f"/feedback 匿名：{CONCERN}", f"/feedback 匿名反映{CONCERN}"):
        assert "已匿名投入意见箱" in await member.say(sent)
    assert "请选择提交方式" in await member.say("意见箱")
    assert "请选择“实名”或“匿名”" in await member.say("随便")
    assert "请发送您的意见（实名" in await member.say("实名")
    assert "已提交意见 #1（实名）" in await member.say("党费，建议公布每季度的收缴情况。")
    async with chat.services.sessions() as session:
        item = await session.get(FeedbackItem, 1)
        assert item is not None and not item.anonymous
        assert chat.services.box.decrypt(item.text_enc) == "党费，建议公布每季度的收缴情况。"


BAD = [
    ("/feedback 太短", "意见请写 5 到 1000 个字（现在是 2 个字）"),
    ("/feedback 匿名 短", "意见请写 5 到 1000 个字"),
    ("/feedback " + "长" * 1001, "意见请写 5 到 1000 个字"),
    ("/feedback_status", "格式不对"),
    ("/feedback_status 回执", "“回执”不是编号或回执码"),
    ("/feedback_status K7QM-3XRA-9PT", "不是编号或回执码"),
    ("/feedback_status K7QM-3XRA-9PTD", "没有找到这个回执码对应的意见"),
    ("/feedback_status 99", "找不到意见 #99"),
]
STAFF_BAD = [
    ("/feedback_answer", "格式不对"),
    ("/feedback_answer 1", "格式不对"),
    ("/feedback_answer 第一条 好的", "格式不对"),
    ("/feedback_answer 1 好", "答复请写 2 到 1000 个字"),
    ("/feedback_answer 99 好的", "找不到意见 #99"),
    ("/feedback_close", "格式不对"),
    ("/feedback_close 一", "格式不对"),
    ("/feedback_close 99", "找不到意见 #99"),
]


async def test_bad_input_gets_the_right_form(chat: Chat) -> None:
    secretary, _, member, _ = await cast(chat)
    for command, words in BAD:
        reply = await member.say(command)
        assert words in reply, (command, reply)
    assert await member.say(f"/feedback {CONCERN}")
    for command, words in STAFF_BAD:
        reply = await secretary.say(command)
        assert words in reply, (command, reply)
    assert len(await items(chat)) == 1
    assert "请发送您的意见" in await member.say("/feedback 实名")
    assert "意见请写 5 到 1000 个字" in await member.say("好")
    assert "已提交意见 #2" in await member.say(CONCERN), "a bad text keeps the step"


async def refusals(services: Services) -> list[tuple[int | None, dict[str, object]]]:
    return [(t.actor_id, t.data or {}) for t in await traces_of(services, "access.refused")]


async def test_refusals_are_traced(chat: Chat) -> None:
    secretary, _, member, other = await cast(chat)
    sent = await member.say(f"/feedback {CONCERN}")
    code = receipt_in(sent)
    stranger = chat.user()
    assert "还没有绑定" in await stranger.say(f"/feedback {CONCERN}")
    assert "还没有绑定" in await stranger.say(f"/feedback_status {code}")
    assert await refusals(chat.services) == [], "strangers are not traced"
    assert "仅限支委及以上使用" in await member.say("/feedback_list")
    assert "找不到意见 #1" in await other.say(f"/feedback_answer 1 {ANSWER}")
    assert "找不到意见 #1" in await other.say("/feedback_close 1")
    assert "找不到意见 #1" in await other.say("/feedback_status 1")
    neighbour = await chat.bound("李四")
    assert "找不到意见 #1" in await neighbour.say("/feedback_status 1")
    assert "没有找到这个回执码" in await neighbour.say("/feedback_status AAAA-BBBB-CCCC")
    assert "请在与我的私聊中" in await member.in_group("-100700").say(f"/feedback 匿名 {CONCERN}")
    ids = {n: (await member_named(chat, n)).id for n in ("张三", "乙书记", "李四")}
    assert [
        (a, d.get("command"), d.get("reason"), d.get("target"))
        for a, d in await refusals(chat.services)
    ] == [
        (ids["张三"], "feedback_list", "role", None),
        (ids["乙书记"], "feedback_answer", "scope", "feedback:1"),
        (ids["乙书记"], "feedback_close", "scope", "feedback:1"),
        (ids["乙书记"], "feedback_status", "scope", "feedback:1"),
        (ids["李四"], "feedback_status", "scope", "feedback:1"),
        (ids["李四"], "feedback_status", "missing", "feedback:receipt"),
        (ids["张三"], "feedback", "private", None),
    ]
    assert "#1（张三）" in await secretary.say("/feedback_status 1")
    viewed = [t for t in await traces_of(chat.services, "data.viewed") if t.ref == "feedback:1"]
    assert [(t.member_id, (t.data or {})["what"]) for t in viewed] == [(ids["张三"], "feedback")]


async def test_a_member_who_left_reads_their_item_but_sends_none(chat: Chat) -> None:
    secretary, _, member, _ = await cast(chat)
    code = receipt_in(await member.say(f"/feedback 匿名 {CONCERN}"))
    assert "已登记：张三 转出" in await secretary.say(
        "转出 张三 某某公司党委 JX2026-031 2026-11-24"
    )
    assert "离开本支部名册" in await member.say(f"/feedback {CONCERN}")
    assert "投入意见箱" in await member.say(f"/feedback_status {code}")
    refused = [d for _, d in await refusals(chat.services)]
    assert refused == [{"command": "feedback", "reason": "former"}]


@pytest.mark.parametrize("answered", [False, True])
async def test_an_admin_sees_every_branch(chat: Chat, answered: bool) -> None:
    _, _, member, _ = await cast(chat)
    assert await member.say(f"/feedback {CONCERN}")
    admin = await chat.bound("组织员", role=Role.ADMIN)
    assert "#1 张三" in await admin.say("/feedback_list")
    if answered:
        assert "已答复意见 #1" in await admin.say(f"/feedback_answer 1 {ANSWER}")
    assert "已办结意见 #1" in await admin.say("/feedback_close 1")


async def test_migration_0019_down_and_up(chat: Chat) -> None:
    _, _, member, _ = await cast(chat)
    assert "已提交" in await member.say(f"/feedback {CONCERN}")
    engine = chat.services.engine
    await schema.downgrade(engine, "0018")
    async with engine.connect() as conn:
        names = set(await conn.run_sync(lambda c: c.dialect.get_table_names(c)))
    assert not names & {"feedback_items", "feedback_answers", "feedback_boxes", "public_decisions"}
    await schema.upgrade(engine)
    assert "已提交意见 #1" in await member.say(f"/feedback {CONCERN}")
    async with chat.services.sessions() as session:
        kinds = (
            await session.scalars(select(Trace.kind).where(Trace.kind.like("feedback%")))
        ).all()
    assert kinds == ["feedback.submitted", "feedback.submitted"]
