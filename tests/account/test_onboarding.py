"""Binding with invite codes, /help by role, /invite, /me and /mydata, as conversations."""

import json

from storage.enums import Role, Stage
from tests.support.chat import Chat


async def test_bind_with_code_then_help_lists_member_commands(chat: Chat) -> None:
    _, code = await chat.enrol("张三")
    user = chat.user()
    assert "还没有绑定" in await user.say("/me")
    reply = await user.say(f"/start {code}")
    assert "绑定成功" in reply and "张三" in reply and "化学化工学院第一党支部" in reply
    help_text = await user.say("帮助")
    assert "/me" in help_text and "/mydata" in help_text
    assert "/invite" not in help_text and "/start" not in help_text


async def test_code_is_single_use_and_case_insensitive(chat: Chat) -> None:
    _, code = await chat.enrol("李四")
    assert "绑定成功" in await chat.user().say(f"/start {code.lower()}")
    assert "用过" in await chat.user().say(f"/start {code}")


async def test_bare_start_asks_for_code_and_survives_a_new_router(chat: Chat) -> None:
    _, code = await chat.enrol("王五")
    user = chat.user()
    assert "邀请码" in await user.say("/start")
    assert "不像邀请码" in await user.say("你好")
    assert "绑定成功" in await user.say(code)


async def test_wrong_codes_are_traced_and_limited(chat: Chat) -> None:
    user = chat.user()
    for _ in range(5):
        assert "不正确" in await user.say("/start ABCDEFGH")
    assert "次数过多" in await user.say("/start ABCDEFGH")


async def test_expired_code(chat: Chat) -> None:
    _, code = await chat.enrol("赵六")
    chat.clock.advance(days=31)
    assert "过期" in await chat.user().say(f"/start {code}")


async def test_secretary_invites_member_and_member_binds(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    help_text = await secretary.say("/help")
    assert "/invite" in help_text
    reply = await secretary.say("/invite 钱七 入党积极分子 2027-06-30")
    assert "已添加 钱七" in reply and "入党积极分子" in reply and "2027-06-30" in reply
    code = reply.split("邀请码：")[1][:8]
    newcomer = chat.user()
    assert "绑定成功" in await newcomer.say(f"/start {code}")
    me = await newcomer.say("/me")
    assert "钱七" in me and "入党积极分子" in me and "见习/实习中，至 2027-06-30" in me


async def test_invite_again_renews_the_code(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    first = await secretary.say("/invite 孙八")
    second = await secretary.say("/invite 孙八")
    assert "已在名册中" in second
    old_code = first.split("邀请码：")[1][:8]
    assert "用过或已作废" in await chat.user().say(f"/start {old_code}")


async def test_member_may_not_invite(chat: Chat) -> None:
    member = await chat.bound("周九")
    assert "仅限支部书记" in await member.say("/invite 吴十")


async def test_invite_bad_input_shows_usage(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    assert "用法" in await secretary.say("/invite")
    assert "看不懂" in await secretary.say("/invite 郑一 明天")
    assert "2026-12-01" in await secretary.say("/invite 郑一 2026-13-45")


async def test_mydata_exports_everything_and_is_traced(chat: Chat) -> None:
    user = await chat.bound("冯二", stage=Stage.PROBATIONARY, phone="13800138000")
    replies = await user.send("/mydata")
    document = json.loads(replies[0].file.content)  # type: ignore[union-attr]
    assert document["profile"]["name"] == "冯二"
    assert document["profile"]["phone"] == "13800138000"
    kinds = [t["kind"] for t in document["traces"]]
    assert kinds[:3] == ["member.created", "invite.issued", "member.bound"]
    assert "导出数据" in await user.say("/me")


async def test_invite_cannot_take_over_accounts_or_lift_roles(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await chat.bound("已绑定的党员")
    assert "已经绑定了账号" in await secretary.say("/invite 已绑定的党员")
    await chat.enrol("组织员", role=Role.ADMIN)
    assert "不低于您" in await secretary.say("/invite 组织员")
    await chat.enrol("另一位书记", role=Role.SECRETARY)
    assert "不低于您" in await secretary.say("/invite 另一位书记")


async def test_one_code_binds_one_account_even_when_raced(chat: Chat) -> None:
    import asyncio

    _, code = await chat.enrol("抢码")
    first, second = chat.user(), chat.user()
    replies = await asyncio.gather(first.say(f"/start {code}"), second.say(f"/start {code}"))
    assert sum("绑定成功" in r for r in replies) == 1


async def test_group_chatter_is_ignored_and_private_data_stays_private(chat: Chat) -> None:
    member = await chat.bound("群成员")
    in_group = member.in_group("-100777")
    assert await in_group.say("我的天，今天开会吗") == ""
    assert await in_group.say("邀请函已经发了") == ""
    replies = await in_group.send("/me")
    assert replies and all(r.chat == member.account_id for r in replies)  # privately
    assert "我没有看懂" in await member.say("我的天")


async def test_an_abandoned_flow_expires(chat: Chat) -> None:
    user = chat.user()
    assert "邀请码" in await user.say("/start")
    chat.clock.advance(minutes=31)
    assert "还没有绑定" in await user.say("你好")
