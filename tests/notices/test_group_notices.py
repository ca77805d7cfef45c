"""Notices in the branch group: the live post with its 收到 count and button, acknowledgements
from the group and in private merged in /notice_status, and where a notice goes (私聊和群,
仅私聊, 仅群)."""

from sqlalchemy import select

from handlers.core.incoming import Attachment
from storage import traces
from storage.enums import Role
from storage.models import NoticeRecipient
from tests.support.chat import Chat, User
from tests.support.group_posts import edits_queued, group_texts, mark_posted
from tests.support.notices import queued

GROUP = "-100500"
OTHER_BRANCH = "化学化工学院第二党支部"
MEMBERS = ["党员甲", "党员乙", "党员丙"]


async def branch_with_group(chat: Chat) -> tuple[User, list[User]]:
    """A secretary who bound the branch group, and three members."""
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    members = [await chat.bound(name) for name in MEMBERS]
    await secretary.in_group(GROUP).send("/group_bind")
    return secretary, members


async def post_of(chat: Chat, ref: str = "notice:1", chat_id: str = GROUP) -> str:
    """The notice's group post as drawn now (the last row queued for it: its latest edit)."""
    rows = await queued(chat.services, ref, chat_id=chat_id)
    assert rows, f"nothing of {ref} in {chat_id}"
    return rows[-1].text


async def private_rows(chat: Chat, ref: str) -> list[str]:
    return [r.chat_id for r in await queued(chat.services, ref) if r.member_id is not None]


async def guided(user: User, text: str, *presses: str) -> list[str]:
    """A guided /broadcast: the text, then these button presses; the answers to the presses."""
    await user.say("/broadcast")
    await user.say(text)
    return [await user.say(callback=data) for data in presses]


async def acked_via(chat: Chat) -> list[str | None]:
    async with chat.services.sessions() as session:
        query = select(NoticeRecipient.acked_via).order_by(NoticeRecipient.member_id)
        return list((await session.scalars(query)).all())


async def test_acknowledged_from_the_group_and_privately_merged_in_status(chat: Chat) -> None:
    secretary, (first, second, third) = await branch_with_group(chat)
    sent = await secretary.say("/broadcast 周五前交党费。")
    assert "共 3 人，并已发到 1 个支部群" in sent
    assert len(await private_rows(chat, "notice:1")) == 3
    [row] = await queued(chat.services, "notice:1", chat_id=GROUP)
    assert "周五前交党费" in row.text and "收到 0/3" in row.text and row.buttons == ["/ack 1"]

    [toast] = await first.in_group(GROUP).send(callback="/ack 1")
    assert toast.toast and "已确认收到通知 #1" in chat.services.renderer.render(toast.text)
    await second.send(callback="/ack 1")  # in the private chat: the group count follows
    assert "收到 2/3" in await post_of(chat)
    assert await edits_queued(chat.services, "notice:1") == 1  # folded while it waits
    [again] = await first.in_group(GROUP).send(callback="/ack 1")
    assert "之前已确认" in chat.services.renderer.render(again.text)

    await mark_posted(chat.services, chat.clock, "notice:1", GROUP, "4242")
    answer = await third.in_group(GROUP).privately("收到", reply_to="4242")
    assert "已确认收到通知 #1" in answer
    assert "收到 3/3" in await post_of(chat)
    assert await acked_via(chat) == ["group", "private", "group"]

    status = await secretary.say("/notice_status 1")
    assert "回执：3/3（100%）" in status and "其中 2 人在支部群里点了“收到”" in status
    assert "另发到 1 个支部群" in status
    for text in await group_texts(chat.services, GROUP):
        assert not any(name in text for name in MEMBERS), text


async def test_a_tap_by_someone_not_addressed_is_not_counted(chat: Chat) -> None:
    secretary, _ = await branch_with_group(chat)
    other = await chat.bound("他支部丁", branch=OTHER_BRANCH)
    await secretary.say("/broadcast 明天开会")
    [toast] = await other.in_group(GROUP).send(callback="/ack 1")
    assert toast.toast and "不是发给您的" in chat.services.renderer.render(toast.text)
    [own] = await secretary.in_group(GROUP).send(callback="/ack 1")  # the author: not addressed
    assert own.toast
    [stranger] = await chat.user().in_group(GROUP).send(callback="/ack 1")
    assert stranger.toast and stranger.text is not None and stranger.text.key == "error.not_bound"
    assert "收到 0/3" in await post_of(chat)
    async with chat.services.sessions() as session:
        refused = [t.data async for t in traces.iter_traces(session) if t.kind == "access.refused"]
    assert [r["target"] for r in refused] == ["notice:1", "notice:1"]


async def test_only_the_group_or_only_private_chats(chat: Chat) -> None:
    secretary, (first, *_) = await branch_with_group(chat)
    sent = await secretary.say("/broadcast 仅群 明天下午开会")
    assert "已发到 1 个支部群（未私信），共 3 人需确认" in sent
    assert await private_rows(chat, "notice:1") == []
    assert "明天下午开会" in await post_of(chat) and "仅群" not in await post_of(chat)
    await first.in_group(GROUP).send(callback="/ack 1")
    status = await secretary.say("/notice_status 1")
    assert "仅发到 1 个支部群（未私信）" in status and "回执：1/3" in status
    assert "未确认（2 人）：党员乙、党员丙" in status and "无法送达" not in status
    assert "已向 2 位未确认的成员" in await secretary.say("/notice_remind 1")
    reminders = await queued(chat.services, "notice:1")
    assert [r.kind for r in reminders if r.chat_id == GROUP] == ["group_notice"]  # stays private

    assert "并已发到" not in await secretary.say("/broadcast 仅私聊 后天交材料")
    assert len(await private_rows(chat, "notice:2")) == 3
    assert await queued(chat.services, "notice:2", chat_id=GROUP) == []


async def test_guided_broadcast_asks_where_it_goes(chat: Chat) -> None:
    secretary, _ = await branch_with_group(chat)
    await secretary.say("/broadcast")
    await secretary.say("周末志愿活动报名")
    await secretary.say(callback="aud:all")
    ask = await secretary.say(callback="ack:yes")
    assert "发到哪里？已绑定 1 个支部群" in ask
    buttons = [b.data for row in secretary.replies[0].buttons for b in row]
    assert buttons[:3] == ["where:both", "where:private", "where:group"]
    again = await secretary.say("都发")
    assert "请点击下方按钮选择" in again and "发到哪里" in again
    preview = await secretary.say(callback="where:group")
    assert "发到：仅 1 个支部群（不私信）" in preview
    assert "已发到 1 个支部群（未私信）" in await secretary.say(callback="confirm:send")
    assert await private_rows(chat, "notice:1") == []

    answers = await guided(secretary, "下周停电", "aud:all", "ack:no", "where:both", "confirm:send")
    assert "发到：私聊和 1 个支部群" in answers[2]
    [post] = await queued(chat.services, "notice:2", chat_id=GROUP)
    assert "下周停电" in post.text and "收到 0/" not in post.text and post.buttons == []


async def test_bad_choice_words_no_group_and_files(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await chat.bound("党员甲")
    wrong = await secretary.say("/broadcast 仅微信 明天开会")
    assert "看不懂“仅微信”" in wrong and "仅群 或 仅私聊" in wrong
    assert "还没有绑定支部群" in await secretary.say("/broadcast 仅群 明天开会")
    both = await secretary.say("/broadcast 仅限正式党员参加 明天开会")  # words, not a choice
    assert "通知 #1 已开始发送，共 1 人。" in both
    await secretary.in_group(GROUP).send("/group_bind")
    doc = Attachment("document", "FILE1", "名单.xlsx")
    refused = await secretary.say("/broadcast 仅群 请看名单", attachments=(doc,))
    assert "带文件的通知不能只发到群" in refused
    await secretary.say("/broadcast 请看名单", attachments=(doc,))
    post = await post_of(chat, "notice:2")
    assert "附件“名单.xlsx”已私信发给各位" in post


async def test_a_school_wide_notice_reaches_every_branch_group(chat: Chat) -> None:
    admin = await chat.bound("组织员", role=Role.ADMIN)
    await admin.in_group("-1").send("/group_bind 全校")
    names = ["化学化工学院第一党支部", OTHER_BRANCH, "化学化工学院第三党支部"]
    members = []
    for index, branch in enumerate(names):
        secretary = await chat.bound(f"书记{index}", role=Role.SECRETARY, branch=branch)
        members.append(await chat.bound(f"党员{index}", branch=branch))
        await secretary.in_group(f"-10{index}").send("/group_bind")
    presses = ("scope:all", "aud:all", "ack:yes", "where:both", "confirm:send")
    answers = await guided(admin, "全校通知：周五前完成学习", *presses)
    assert "已绑定 4 个支部群" in answers[2] and "并已发到 4 个支部群" in answers[4]
    for index in range(3):
        assert "收到 0/2" in await post_of(chat, chat_id=f"-10{index}")
    assert "收到 0/6" in await post_of(chat, chat_id="-1")
    await members[1].in_group("-101").send(callback="/ack 1")
    assert await edits_queued(chat.services, "notice:1") == 2  # its branch's and the school's
    assert "收到 1/2" in await post_of(chat, chat_id="-101")
    assert "收到 1/6" in await post_of(chat, chat_id="-1")
    assert "收到 0/2" in await post_of(chat, chat_id="-100")
