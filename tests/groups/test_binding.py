"""Binding a branch group: who may, what the group is told, what happens to it later."""

from sqlalchemy import select

from handlers.core.incoming import BOT_ADDED, BOT_REMOVED, CHAT_MIGRATED
from storage import groups, traces
from storage.enums import Role
from storage.group_models import BranchGroup
from storage.models import OutboxMessage
from tests.support.chat import Chat
from tests.support.notices import queued

GROUP = "-100500"
OTHER_BRANCH = "化学化工学院第二党支部"


async def group_rows(chat: Chat) -> list[BranchGroup]:
    async with chat.services.sessions() as session:
        return list((await session.scalars(select(BranchGroup))).all())


async def posted(chat: Chat, chat_id: str = GROUP) -> list[str]:
    """What the bot queued to the group, as the group reads it."""
    rows = await queued(chat.services, None, chat_id=chat_id)
    return [r.text for r in rows]


async def refusals(chat: Chat) -> list[dict[str, object]]:
    async with chat.services.sessions() as session:
        return [t.data async for t in traces.iter_traces(session) if t.kind == "access.refused"]


async def test_secretary_binds_the_group_and_it_is_told_how_to_join(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    replies = await secretary.in_group(GROUP).send("/group_bind")
    assert replies == []  # the answer goes to the group through the outbox
    [bound] = await group_rows(chat)
    assert bound.branch_id is not None and bound.bound and bound.title == f"群 {GROUP}"
    [text] = await posted(chat)
    assert "本群已绑定到 化学化工学院第一党支部" in text and "邀请码" in text
    async with chat.services.sessions() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.chat_id == GROUP))
    assert row is not None and row.to_group and row.priority == 1


async def test_binding_twice_says_so_and_other_branch_cannot_take_it(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    other = await chat.bound("二支书记", role=Role.SECRETARY, branch=OTHER_BRANCH)
    await secretary.in_group(GROUP).send("/group_bind")
    await secretary.in_group(GROUP).send("绑定本群", reply_to="1")
    assert "已经绑定到" in (await posted(chat))[-1]
    replies = await other.in_group(GROUP).send("/group_bind")
    assert "不是您所在支部的群" in chat.services.renderer.render(replies[0].text)
    await other.in_group(GROUP).send("/group_unbind")
    assert [r["command"] for r in await refusals(chat)] == ["group_bind", "group_unbind"]
    assert (await group_rows(chat))[0].bound


async def test_a_plain_member_cannot_bind_and_is_traced(chat: Chat) -> None:
    await chat.bound("书记", role=Role.SECRETARY)
    member = await chat.bound("党员甲")
    await member.in_group(GROUP).send("/group_bind")
    assert await group_rows(chat) == []
    assert [r["reason"] for r in await refusals(chat)] == ["role"]


async def test_bind_in_private_chat_shows_the_right_way(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    assert "请在要绑定的群里发送" in await secretary.say("/group_bind")


async def test_admin_binds_a_school_wide_group_and_names_branches(chat: Chat) -> None:
    admin = await chat.bound("组织员", role=Role.ADMIN)
    await chat.branch(OTHER_BRANCH)
    await admin.in_group("-1").send("/group_bind 全校")
    await admin.in_group("-2").send(f"/group_bind {OTHER_BRANCH}")
    refused = await admin.in_group("-3").send("/group_bind 不存在的支部")
    school, second = await group_rows(chat)
    assert school.branch_id is None and second.branch_id is not None
    assert "全校" in (await posted(chat, "-1"))[0]
    assert "不存在的支部" in chat.services.renderer.render(refused[0].text)


async def test_unbind_removed_and_migrated(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    in_group = secretary.in_group(GROUP)
    await in_group.send("/group_bind")
    await in_group.send(event=CHAT_MIGRATED, new_chat_id="-100999")
    await in_group.send(event=CHAT_MIGRATED, new_chat_id="-100999")  # the move seen twice
    [moved] = await group_rows(chat)
    assert moved.chat_id == "-100999" and moved.bound
    await secretary.in_group("-100999").send(event=BOT_REMOVED)
    [gone] = await group_rows(chat)
    assert not gone.bound and gone.unbound_reason == "removed"
    rows = await queued(chat.services, None, chat_id=secretary.account_id)
    assert any("已自动解绑" in r.text for r in rows)
    await secretary.in_group("-100999").send(event=BOT_ADDED)
    assert "/group_bind" in (await posted(chat, "-100999"))[-1]
    await secretary.in_group("-100999").send("/group_bind")
    async with chat.services.sessions() as session:
        again = await groups.bound_group(session, "telegram", "-100999")
    assert again is not None and again.id == gone.id


async def test_group_info_and_list(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    member = await chat.bound("党员甲")
    await member.in_group(GROUP).send("/group_info")
    assert "还没有绑定支部" in (await posted(chat))[-1]
    await secretary.in_group(GROUP).send("/group_bind")
    await member.in_group(GROUP).send("本群", reply_to="5")
    assert "本群绑定到 化学化工学院第一党支部" in (await posted(chat))[-1]
    assert f"群 {GROUP}" in await secretary.say("/groups")
