"""Notices as conversations: /broadcast (one line and guided), 收到, status, reminders, summary.

Delivery itself is the outbox sender's job (tests/test_outbox_*.py); here the outbox rows a
handler queued are the observable result, rendered as their recipients would read them.
"""

from datetime import date, timedelta

from sqlalchemy import select, update

from bot.channels.console import bind_console
from handlers.account.members import NewMember, add_member, issue_invite
from handlers.core.incoming import Attachment
from handlers.core.payload import reply_in
from handlers.notices.status import queue_due_summaries
from storage import traces
from storage.enums import Role, Stage
from storage.models import Member, NoticeRecipient, OutboxMessage, PlatformAccount
from tests.support.chat import Chat, User
from tests.support.notices import queued

OTHER_BRANCH = "化学化工学院第二党支部"


async def secretary_and_member(chat: Chat) -> tuple[User, User]:
    return await chat.bound("书记", role=Role.SECRETARY), await chat.bound("党员甲")


async def guided(user: User, text: str, *presses: str) -> str:
    """A guided /broadcast: the text, then these button presses; returns the last reply."""
    await user.say("/broadcast")
    reply = await user.say(text)
    for data in presses:
        reply = await user.say(callback=data)
    return reply


async def branch_of(chat: Chat, names: list[str], **kwargs: object) -> list[User]:
    return [await chat.bound(name, **kwargs) for name in names]  # type: ignore[arg-type]


async def test_one_line_broadcast_queues_to_everyone_but_the_author(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    members = await branch_of(chat, ["党员甲", "党员乙"])
    await chat.enrol("未绑定丙")
    await chat.bound("他支部丁", branch=OTHER_BRANCH)
    reply = await secretary.say("/broadcast 明天下午2点在化工楼301召开支部党员大会。")
    assert "通知 #1 已开始发送，共 3 人。其中 1 人未绑定账号，收不到" in reply
    rows = await queued(chat.services, "notice:1")
    assert sorted(r.chat_id for r in rows) == sorted(m.account_id for m in members)
    assert "📢 通知 #1" in rows[0].text and "化工楼301" in rows[0].text
    assert "—— 书记，化学化工学院第一党支部" in rows[0].text
    assert rows[0].buttons == ["/ack 1"]
    async with chat.services.sessions() as session:
        kinds = [t.kind async for t in traces.iter_traces(session)]
    assert "notice.created" in kinds


async def test_notice_keeps_the_authors_punctuation(chat: Chat) -> None:
    secretary, _ = await secretary_and_member(chat)
    await secretary.say("/broadcast 时间：周五（下午），地点：３０１")
    await guided(secretary, "第二条：全角，标点", "aud:all", "ack:no", "confirm:send")
    texts = [r.text for r in await queued(chat.services)]
    assert "时间：周五（下午），地点：３０１" in texts[0]
    assert "第二条：全角，标点" in texts[1]


async def test_guided_broadcast_to_one_stage_with_preview(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    activist = await chat.bound("积极分子甲", stage=Stage.ACTIVIST)
    await chat.bound("党员乙")
    assert "请发送通知内容" in await secretary.say("发通知")
    assert "发给谁" in await secretary.say("请于周五前提交思想汇报。")
    assert "哪个阶段" in await secretary.say(callback="aud:stage")
    assert "回执" in await secretary.say(callback="stage:activist")
    preview = await secretary.say(callback="ack:yes")
    assert "请确认" in preview and "仅入党积极分子（1 人" in preview and "思想汇报" in preview
    assert secretary.replies[0].edit
    done = await secretary.say(callback="confirm:send")
    assert "通知 #1 已开始发送，共 1 人" in done
    assert "按钮已经失效" in await secretary.say(callback="confirm:send")  # a second press
    rows = await queued(chat.services)
    assert [r.chat_id for r in rows] == [activist.account_id]


async def test_guided_broadcast_re_asks_when_typed_at_a_button_step(chat: Chat) -> None:
    secretary, _ = await secretary_and_member(chat)
    await secretary.say("/broadcast")
    await secretary.say("通知内容")
    again = await secretary.say("随便打的字")
    assert "请点击下方按钮选择" in again and "发给谁" in again
    assert "已取消" in await secretary.say(callback="/cancel")
    assert await queued(chat.services) == []


async def test_interns_only_and_no_ack(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    intern = await chat.bound("实习甲", remote_until=date(2027, 6, 30))
    await chat.bound("已返校乙", remote_until=date(2026, 1, 1))
    link = "线上党课链接：https://meeting.example/1"
    await guided(secretary, link, "aud:interns", "ack:no", "confirm:send")
    rows = await queued(chat.services)
    assert [r.chat_id for r in rows] == [intern.account_id]
    assert rows[0].buttons == [] and "收到" not in rows[0].text


async def test_document_notice_forwards_the_file(chat: Chat) -> None:
    secretary, _ = await secretary_and_member(chat)
    doc = Attachment("document", "FILE123", "学习材料.pdf", "application/pdf")
    reply = await secretary.say("/broadcast 请学习附件", attachments=(doc,))
    assert "通知 #1" in reply
    async with chat.services.sessions() as session:
        row = await session.scalar(select(OutboxMessage))
    assert row is not None
    forwarded = reply_in(row.payload).forward
    assert forwarded is not None and forwarded.file_id == "FILE123"


async def test_ack_by_button_then_again_then_status(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    first, second = await branch_of(chat, ["党员甲", "党员乙"])
    await secretary.say("/broadcast 周五交党费")
    chat.clock.advance(minutes=30)
    await first.send(callback="/ack 1")
    edited = first.replies[0]
    assert edited.edit and [b.data for row in edited.buttons for b in row] == ["/ack 1"]
    assert chat.services.renderer.render(edited.buttons[0][0].label) == "✅ 已收到"
    await first.send(callback="/ack 1")  # a second press changes nothing
    assert first.replies[0].edit
    status = await secretary.say("/notice_status 1")
    assert "回执：1/2（50%）" in status and "中位数 30 分钟" in status
    assert "未确认（1 人）：党员乙" in status
    assert "周五交党费" in status
    assert "已确认收到通知 #1" in await second.say("收到")
    async with chat.services.sessions() as session:
        acks = (await session.scalars(select(NoticeRecipient.acked_at))).all()
        kinds = [t.kind async for t in traces.iter_traces(session)]
    assert all(acks) and kinds.count("notice.acknowledged") == 2  # once per member


async def test_typed_ack_takes_the_latest_and_lists_the_rest(chat: Chat) -> None:
    secretary, member = await secretary_and_member(chat)
    await secretary.say("/broadcast 第一条")
    await secretary.say("/broadcast 第二条")
    reply = await member.say("收到")
    assert "已确认收到通知 #2" in reply and "还有待确认的通知：#1" in reply
    assert "已确认收到通知 #1" in await member.say("收到")
    assert "没有待确认" in await member.say("收到")


async def test_ack_of_a_notice_not_addressed(chat: Chat) -> None:
    secretary, _ = await secretary_and_member(chat)
    await secretary.say("/broadcast 通知")
    stranger = await chat.bound("他支部乙", branch=OTHER_BRANCH)
    assert "不是发给您的" in await stranger.say("/ack 1")
    assert "不是发给您的" in await stranger.say("/ack 99")
    assert "格式不对" in await stranger.say("/ack abc")


async def refusing(chat: Chat, user: User) -> None:
    """Mark the user's account as refused by its chat app (as the sender does on a refusal:
    Telegram's 403, WeCom's 81013 for someone outside the application's visible range)."""
    async with chat.services.sessions.begin() as session:
        await session.execute(
            update(PlatformAccount)
            .where(PlatformAccount.external_id == user.account_id)
            .values(blocked_at=chat.clock())
        )


async def test_who_cannot_be_reached_is_said_in_their_apps_words(chat: Chat) -> None:
    """Blocking the bot is Telegram's refusal; WeCom's is a member outside the application's
    visible range. Each member's line says theirs; a count over both says neither."""
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    _, code = await chat.enrol("党员甲")
    on_wecom = chat.user("wecom-jia", platform="wecom")
    assert "绑定成功" in await on_wecom.say(f"/start {code}")
    on_telegram = await chat.bound("党员乙")
    await chat.enrol("党员丙")  # never bound
    await refusing(chat, on_wecom)
    reply = await secretary.say("/broadcast 周五下午主题党日")
    assert "其中 2 人未绑定账号或不在应用可见范围，收不到" in reply
    status = await secretary.say("/notice_status 1")
    assert "党员甲（不在应用可见范围）" in status and "党员丙（未绑定账号）" in status
    assert "屏蔽" not in status
    reply = await secretary.say("/notice_remind 1")
    assert "另有 2 人未绑定账号或不在应用可见范围，收不到提醒" in reply
    await refusing(chat, on_telegram)
    preview = await guided(secretary, "周六志愿服务", "aud:all", "ack:yes")
    assert "其中 3 人未绑定账号或无法送达，收不到" in preview
    assert "其中 3 人未绑定账号或无法送达" in await secretary.say(callback="confirm:send")
    status = await secretary.say("/notice_status 2")
    assert "党员甲（不在应用可见范围）" in status and "党员乙（已屏蔽机器人）" in status


async def test_remind_only_the_unacknowledged_once_an_hour(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    first, second = await branch_of(chat, ["党员甲", "党员乙"])
    await secretary.say("/broadcast 请填写信息表")
    await first.say("收到")
    reply = await secretary.say("/notice_remind 1")
    assert "已向 1 位未确认的成员再次发送通知 #1（第 1 次提醒）" in reply
    reminders = [r for r in await queued(chat.services) if r.kind == "notice.reminder"]
    assert [r.chat_id for r in reminders] == [second.account_id]
    assert "提醒" in reminders[0].text and reminders[0].buttons == ["/ack 1 r"]
    assert "刚提醒过" in await secretary.say("催回执 1")
    chat.clock.advance(hours=2)
    await second.send(callback="/ack 1 r")
    assert "⏰" in chat.services.renderer.render(second.replies[0].text)  # the reminder stays
    assert "都已确认" in await secretary.say("/notice_remind #1")


async def test_status_names_who_cannot_be_reached(chat: Chat) -> None:
    secretary, _ = await secretary_and_member(chat)
    await chat.enrol("未绑定乙")
    await secretary.say("/broadcast 通知")
    status = await secretary.say("回执 1")
    assert "送达：0/2，排队中 1，无法送达 1" in status
    assert "未绑定乙（未绑定账号）" in status


async def test_only_secretaries_of_the_branch(chat: Chat) -> None:
    secretary, member = await secretary_and_member(chat)
    other = await chat.bound("他支部书记", role=Role.SECRETARY, branch=OTHER_BRANCH)
    assert "仅限" in await member.say("/broadcast 我也想发")
    await secretary.say("/broadcast 通知")
    assert "找不到通知 #1" in await other.say("/notice_status 1")
    assert "格式不对" in await secretary.say("/notice_status")
    assert "没有可以发送的成员" in await other.say("/broadcast 没有人")


async def test_admin_addresses_all_branches(chat: Chat) -> None:
    admin = await chat.bound("组织员", role=Role.ADMIN)
    first = await chat.bound("一支部党员")
    second = await chat.bound("二支部党员", branch=OTHER_BRANCH)
    await admin.say("/broadcast")
    assert "发给哪些支部" in await admin.say("全院通知：请各支部上报材料")
    await admin.say(callback="scope:pick")
    assert "没有找到支部：不存在" in await admin.say("不存在")
    await admin.say(f"化学化工学院第一党支部，{OTHER_BRANCH}")
    await admin.say(callback="aud:all")
    assert "2 个支部" in await admin.say(callback="ack:yes")
    await admin.say(callback="confirm:send")
    rows = await queued(chat.services)
    assert sorted(r.chat_id for r in rows) == sorted([first.account_id, second.account_id])


async def test_audience_of_those_who_did_not_ack_an_earlier_notice(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    first, second = await branch_of(chat, ["党员甲", "党员乙"])
    await secretary.say("/broadcast 第一条")
    await first.say("收到")
    text = "第二条，只发给没确认第一条的人"
    await guided(secretary, text, "aud:unacked", "notice:1", "ack:yes", "confirm:send")
    rows = await queued(chat.services, "notice:2")
    assert [r.chat_id for r in rows] == [second.account_id]


async def test_bad_content(chat: Chat) -> None:
    secretary, _ = await secretary_and_member(chat)
    assert "通知太长（3001 字）" in await secretary.say("/broadcast " + "长" * 3001)
    await secretary.say("/broadcast")
    assert "太长" in await secretary.say("字" * 3001)
    assert "发给谁" in await secretary.say("这次短一些")
    assert await queued(chat.services) == []


async def test_summary_goes_to_the_author_once_a_day_later(chat: Chat) -> None:
    secretary, _ = await secretary_and_member(chat)
    await secretary.say("/broadcast 通知")
    async with chat.services.sessions.begin() as session:
        assert await queue_due_summaries(session, chat.clock()) == 0
    chat.clock.advance(hours=24)
    for expected in (1, 0):
        async with chat.services.sessions.begin() as session:
            assert await queue_due_summaries(session, chat.clock()) == expected
    summaries = [r for r in await queued(chat.services) if r.kind == "notice.summary"]
    assert [r.chat_id for r in summaries] == [secretary.account_id]
    assert "已满 24 小时" in summaries[0].text and "未确认（1 人）：党员甲" in summaries[0].text
    assert summaries[0].buttons == ["/notice_remind 1"]


async def test_notice_list(chat: Chat) -> None:
    secretary, member = await secretary_and_member(chat)
    assert "还没有发布过通知" in await secretary.say("/notices")
    await secretary.say("/broadcast 第一条通知的内容")
    await member.say("收到")
    listing = await secretary.say("通知列表")
    assert "#1" in listing and "已确认 1/1" in listing


async def test_a_branch_sees_only_its_notices(chat: Chat) -> None:
    secretary, _ = await secretary_and_member(chat)
    other = await chat.bound("他支部书记", role=Role.SECRETARY, branch=OTHER_BRANCH)
    await chat.bound("他支部党员", branch=OTHER_BRANCH)
    await secretary.say("/broadcast 本支部通知")
    assert "找不到通知 #1" in await other.say("/notice_remind 1")
    assert "#1" not in await other.say("/notices")
    # An admin's notice to several branches is followed up by admins, not by one branch.
    admin = await chat.bound("组织员", role=Role.ADMIN, branch="化学化工学院第一党支部")
    sent = await guided(admin, "全院通知", "scope:all", "aud:all", "ack:yes", "confirm:send")
    assert "通知 #2" in sent
    assert "找不到通知 #2" in await secretary.say("/notice_status 2")
    assert "送达：0/4" in await admin.say("/notice_status 2")


async def test_branchless_secretary_and_group_chats(chat: Chat) -> None:
    secretary, _ = await secretary_and_member(chat)
    await secretary.say("/broadcast 通知")
    in_group = secretary.in_group("-100777")
    assert "通知 #1" in await in_group.privately("/notice_status 1")
    assert "最近的通知" in await in_group.privately("/notices")
    async with chat.services.sessions.begin() as session:
        nobody = await add_member(
            session,
            chat.services.box,
            None,
            NewMember(name="无支部书记", role=Role.SECRETARY),
            chat.clock(),
        )
        code = await issue_invite(session, chat.services.box, nobody, chat.clock(), timedelta(1))
    stray = chat.user()
    await stray.say(f"/start {code}")
    assert "没有归属支部" in await stray.say("/notices")
    assert "没有归属支部" in await stray.say("/broadcast 通知")


async def test_flow_takes_a_document_and_ignores_stale_buttons(chat: Chat) -> None:
    secretary, _ = await secretary_and_member(chat)
    await secretary.say("/broadcast")
    assert "请发送通知内容" in await secretary.say(callback="confirm:send")
    doc = Attachment("document", "FILE9", "名单.xlsx")
    assert "发给谁" in await secretary.say("", attachments=(doc,))
    await secretary.say(callback="aud:all")
    preview = await secretary.say(callback="ack:yes")
    assert "请查看附件：名单.xlsx" in preview
    await secretary.say(callback="confirm:send")
    assert "📎 名单.xlsx" in await secretary.say("/notices")


async def test_ack_by_everyday_words_and_while_writing_a_notice(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    member = await chat.bound("党员甲", role=Role.SECRETARY)
    await secretary.say("/broadcast 第一条")
    await secretary.say("/broadcast 第二条")
    assert "已确认收到通知 #2" in await member.say("收到，谢谢！")
    await member.say("/broadcast")  # the member (a secretary too) starts writing a notice
    assert "已确认收到通知 #1" in await member.say("收到了")
    assert "发给谁" in await member.say("我的通知正文")  # the draft survived
    assert "格式不对" in await member.say("/ack abc")


async def test_ack_of_a_notice_that_asks_for_none(chat: Chat) -> None:
    secretary, member = await secretary_and_member(chat)
    await guided(secretary, "无需回执的通知", "aud:all", "ack:no", "confirm:send")
    assert "不要求回执" in await member.say("/ack 1")
    assert "没有待确认" in await member.say("收到")


async def test_notices_go_to_the_chat_app_not_the_operators_console(chat: Chat) -> None:
    secretary, member = await secretary_and_member(chat)
    async with chat.services.sessions() as session:
        record = await session.get(Member, 2)
    assert record is not None and record.name == "党员甲"
    console = chat.user(await bind_console(chat.services, record), platform="console")
    chat.clock.advance(hours=1)
    assert "党员甲" in await console.say("/me")  # the console is now the latest seen
    await secretary.say("/broadcast 通知")
    rows = await queued(chat.services)
    assert [r.chat_id for r in rows] == [member.account_id]
