"""Binding a further platform: `/bind_code` (绑定码) for oneself, or a secretary's for a member of
the branch; redeemed with /start on the other platform, keeping the first account bound."""

import json
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from handlers.core.payload import queued_reply
from storage import people
from storage.enums import Role
from storage.models import OutboxMessage, Trace
from tests.conftest import BRANCH, Cli, Threaded
from tests.support.chat import Chat, Clock, User
from tests.support.platforms import Both, WeComUser, heard, person

OTHER = "化学化工学院第二党支部"


@pytest.fixture
def clock() -> Clock:
    """Now: the CLI issues codes on the wall clock, and the bot must not see them as future."""
    return Clock(datetime.now(UTC))


def code_in(text: str) -> str:
    found = re.search(r"/start ([A-Z2-9]{8})\b", text)
    assert found, text
    return found.group(1)


async def member_of(chat: Chat, user: User) -> int | None:
    async with chat.services.sessions() as session:
        account = await people.account(session, user.platform, user.account_id)
        return account.member_id if account else None


async def traces_of(chat: Chat, kind: str) -> list[Trace]:
    async with chat.services.sessions() as session:
        query = select(Trace).where(Trace.kind == kind).order_by(Trace.id)
        return list((await session.scalars(query)).all())


async def queued_codes(chat: Chat) -> list[tuple[OutboxMessage, str]]:
    """The bind-code messages waiting in the outbox, with their text as the member reads it."""
    services = chat.services
    async with services.sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.kind == "bind_code")
        rows = list((await session.scalars(query.order_by(OutboxMessage.id))).all())
    render = services.renderer.render
    return [(row, render(queued_reply(services.box, row.payload, row.sealed).text)) for row in rows]


async def test_member_binds_wecom_with_a_code_asked_for_on_telegram(chat: Chat) -> None:
    member = await chat.bound("张三")
    reply = await member.say("/bind_code")
    assert "绑定码" in reply and "已绑定：Telegram" in reply
    wecom = chat.user("zhangsan", platform="wecom")
    bound = await wecom.say(f"/start {code_in(reply)}")
    assert "绑定成功" in bound and "张三" in bound
    member_id = await member_of(chat, member)
    assert member_id is not None and await member_of(chat, wecom) == member_id
    for user in (member, wecom):  # both accounts speak for the same member
        me = await user.say("/me")
        assert "张三" in me and "Telegram" in me and "企业微信" in me
    [issued] = await traces_of(chat, "bind_code.issued")
    assert (issued.member_id, issued.actor_id) == (member_id, member_id)
    assert issued.data["platforms"] == ["telegram"]
    bound_traces = await traces_of(chat, "member.bound")
    assert [t.data["platform"] for t in bound_traces] == ["telegram", "wecom"]
    assert "/bind_code" in await wecom.say("/help")
    async with chat.services.sessions() as session:  # told on Telegram, whatever DELIVER_TO says
        query = select(OutboxMessage).where(OutboxMessage.kind == "member.bound")
        [told] = (await session.scalars(query)).all()
    assert (told.platform, told.member_id) == ("telegram", member_id)


async def test_alias_and_a_code_binds_only_once(chat: Chat) -> None:
    member = await chat.bound("李四")
    code = code_in(await member.say("绑定码"))
    assert "绑定成功" in await chat.user(platform="wecom").say(f"/start {code}")
    assert "用过或已作废" in await chat.user(platform="wecom").say(f"/start {code}")


async def test_expired_and_replaced_codes_are_refused(chat: Chat) -> None:
    member = await chat.bound("王五")
    first = code_in(await member.say("/bind_code"))
    second = code_in(await member.say("/bind_code"))
    assert "用过或已作废" in await chat.user(platform="wecom").say(f"/start {first}")
    chat.clock.advance(days=31)
    wecom = chat.user(platform="wecom")
    assert "过期" in await wecom.say(f"/start {second}")
    assert await member_of(chat, wecom) is None
    reasons = [t.data["reason"] for t in await traces_of(chat, "invite.rejected")]
    assert reasons == ["used", "expired"]


async def test_a_second_account_on_the_same_platform_is_refused_and_traced(chat: Chat) -> None:
    member = await chat.bound("赵六")
    code = code_in(await member.say("/bind_code"))
    intruder = chat.user()  # another Telegram account
    reply = await intruder.say(f"/start {code}")
    assert "赵六 已经绑定了一个Telegram账号" in reply and "绑定成功" not in reply
    assert await member_of(chat, intruder) is None
    [rejected] = await traces_of(chat, "invite.rejected")
    assert rejected.data == {"reason": "platform_taken"}
    assert rejected.member_id == await member_of(chat, member)
    assert rejected.ref == f"telegram:{intruder.account_id}"
    # The member's own account is untouched, and the code still works where it should.
    assert "赵六" in await member.say("/me")
    assert "绑定成功" in await chat.user(platform="wecom").say(f"/start {code}")


async def test_a_member_asking_for_someone_elses_code_is_refused_and_traced(chat: Chat) -> None:
    other = await chat.bound("钱七")
    member = await chat.bound("孙八")
    reply = await member.say("/bind_code 钱七")
    assert "只能为自己生成绑定码" in reply and "/start" not in reply
    [refused] = await traces_of(chat, "access.refused")
    assert refused.actor_id == await member_of(chat, member)
    assert refused.data["command"] == "bind_code" and refused.data["reason"] == "scope"
    assert refused.ref == f"member:#{await member_of(chat, other)}"
    assert not await traces_of(chat, "bind_code.issued") and not await queued_codes(chat)
    assert "/start" in await member.say("/bind_code 孙八")  # naming oneself is fine


async def test_secretary_sends_a_code_to_the_members_own_chat(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    member = await chat.bound("周九")
    reply = await secretary.say("/bind_code 周九")
    assert "已为 周九" in reply and "私聊" in reply
    [(row, text)] = await queued_codes(chat)
    code = code_in(text)
    assert code not in reply and "书记 为您生成了绑定码" in text
    assert code not in json.dumps(row.payload) and row.sealed is not None  # sealed at rest
    assert row.member_id == await member_of(chat, member)
    assert "绑定成功" in await chat.user(platform="wecom").say(f"/start {code}")
    [issued] = await traces_of(chat, "bind_code.issued")
    assert issued.actor_id == await member_of(chat, secretary)
    assert issued.member_id == row.member_id


async def test_secretary_of_another_branch_is_refused_and_traced(chat: Chat) -> None:
    member = await chat.bound("吴十")
    stranger = await chat.bound("乙书记", role=Role.SECRETARY, branch=OTHER)
    reply = await stranger.say("/bind_code 吴十")
    assert "没有找到“吴十”" in reply
    [refused] = await traces_of(chat, "access.refused")
    assert refused.actor_id == await member_of(chat, stranger)
    assert refused.data["command"] == "bind_code" and refused.data["reason"] == "scope"
    assert refused.ref == f"member:#{await member_of(chat, member)}"
    assert not await traces_of(chat, "bind_code.issued") and not await queued_codes(chat)
    admin = await chat.bound("组织员", role=Role.ADMIN, branch=OTHER)
    assert "已为 吴十" in await admin.say("/bind_code 吴十")  # an admin: any branch


async def test_unbound_members_get_invites_and_chats_stay_private(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await chat.enrol("未绑定")
    assert "还没有绑定任何账号" in await secretary.say("/bind_code 未绑定")
    assert "还没有绑定" in await chat.user().say("/bind_code")
    in_group = secretary.in_group("-100777")
    assert "私聊" in await in_group.say("/bind_code")
    assert not await traces_of(chat, "bind_code.issued")


async def test_cli_issues_a_code_for_an_existing_member(chat: Chat, database_url: str) -> None:
    cli = Threaded(Cli(database_url))
    assert (await cli("branch", "add", BRANCH)).exit_code == 0
    member = await chat.bound("郑一", branch=BRANCH)
    result = await cli("member", "bind-code", "郑一", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["member_id"] == await member_of(chat, member)
    wecom = chat.user(platform="wecom")
    assert "绑定成功" in await wecom.say(f"/start {data['bind_code']}")
    assert await member_of(chat, wecom) == data["member_id"]
    [issued] = await traces_of(chat, "bind_code.issued")
    assert issued.actor_id is None and issued.member_id == data["member_id"]
    shown = await cli("member", "bind-code", f"#{data['member_id']}")
    assert shown.exit_code == 0 and "已绑定：Telegram、企业微信" in shown.output
    code_in(shown.output)
    await chat.enrol("未绑定", branch=BRANCH)
    refused = await cli("member", "bind-code", "未绑定", "--branch", BRANCH)
    assert refused.exit_code == 1 and "还没有绑定任何账号" in refused.output
    unknown = await cli("member", "bind-code", "查无此人")
    assert unknown.exit_code == 1 and "没有名为“查无此人”的成员" in unknown.output


async def test_bind_code_end_to_end_from_telegram_to_wecom(both: Both, clock: Clock) -> None:
    telegram = await person(both, clock, "telegram", "党员甲")
    since = len(telegram.texts())
    await telegram.say("/bind_code")
    code = code_in(await heard(telegram, "绑定码", since))
    wecom = WeComUser(both, "dangyuanjia")
    await wecom.say(f"/start {code}")
    assert "党员甲" in await heard(wecom, "绑定成功")
    async with both.services.sessions() as session:
        first = await people.account(session, "telegram", telegram.account_id)
        second = await people.account(session, "wecom", wecom.account_id)
    assert first is not None and second is not None and first.member_id == second.member_id
    # The account the member already had hears of the new one (whoever redeemed the code).
    warning = await heard(telegram, "企业微信上完成绑定", since)
    assert "如果不是您本人操作" in warning
    assert not [t for t in wecom.texts() if "完成绑定" in t]
