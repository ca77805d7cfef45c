"""WeCom group chats over HTTP against the fake WeCom: an application chat made by /group_create
and kept in step with the roster, queued group messages through appchat/send, a group robot
set, posting within its limit and retried after it, and both unbound from the private chat."""

import asyncio
import secrets
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.outbox import Sent, Throttled
from bot.channels.wecom.appchats import next_owner
from bot.channels.wecom.robot import RobotTransport
from handlers.core.messages import Button, Msg, Reply
from handlers.core.notify import queue_to_chat
from handlers.groups.appchat import AppChatRoster
from handlers.groups.robot import ROBOT_PLATFORM, webhook_key
from storage import traces
from storage.enums import Role
from storage.group_models import BranchGroup
from storage.models import OutboxMessage
from tests.support.chat import Chat, Clock
from tests.support.fake_wecom import ROBOT_PER_MINUTE
from tests.support.platforms import Both, WeComUser, heard, person


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.now(UTC))


async def wecom(both: Both, clock: Clock, name: str, **kwargs: Any) -> WeComUser:
    user = await person(both, clock, "wecom", name, **kwargs)
    assert isinstance(user, WeComUser)
    return user


async def the_group(both: Both, kind: str) -> BranchGroup:
    async with both.services.sessions() as session:
        found = await session.scalar(select(BranchGroup).where(BranchGroup.kind == kind))
    assert found is not None
    return found


async def members_of_chat(both: Both, wanted: set[str]) -> dict[str, Any]:
    """The one application chat, once its members are `wanted`."""
    fake = both.wecom
    await fake.wait_until(lambda: any(set(c["userlist"]) == wanted for c in fake.chats.values()))
    [chat] = fake.chats.values()
    return chat


async def said(user: WeComUser, text: str, marker: str) -> str:
    """What the user is answered (the text holding `marker`) to what they say."""
    before = len(user.texts())
    await user.say(text)
    return await heard(user, marker, before)


async def outcome(both: Both, clock: Clock, key: str) -> str:
    """The status a queued row ends in (retries fall due as the test clock moves on)."""
    for _ in range(500):
        async with both.services.sessions() as session:
            row = await session.scalar(select(OutboxMessage).where(OutboxMessage.key == key))
        if row is not None and row.status not in ("pending", "sending"):
            return row.status
        clock.advance(seconds=1)
        both.sender.wake()
        await asyncio.sleep(0.02)
    raise TimeoutError(f"{key} was never settled")


async def post(both: Both, group: BranchGroup, reply: Reply, key: str) -> None:
    async with both.services.sessions.begin() as session:
        await queue_to_chat(
            session, group.platform, group.chat_id, reply, key=key, kind="group_note",
            now=both.services.router.clock(), branch_id=group.branch_id,
        )  # fmt: skip
    both.sender.wake()


async def test_group_create_makes_the_chat_and_follows_the_roster(both: Both, clock: Clock) -> None:
    secretary = await wecom(both, clock, "书记", role=Role.SECRETARY)
    first = await wecom(both, clock, "党员甲")
    second = await wecom(both, clock, "党员乙")
    await person(both, clock, "telegram", "党员丙")  # not on WeCom: not in the chat
    await secretary.say("/group_create 化学一支部")
    assert "3 位成员" in await heard(secretary, "正在创建企业微信支部群")
    chat = await members_of_chat(both, {secretary.account_id, first.account_id, second.account_id})
    assert chat["owner"] == secretary.account_id and chat["name"] == "化学一支部"
    group = await the_group(both, "appchat")
    assert group.platform == "wecom" and group.chat_id in both.wecom.chats and group.bound
    # WeCom shows a new chat once something is posted: the bot says hello there.
    await both.wecom.wait_until(lambda: bool(both.wecom.chat_texts(group.chat_id)))
    assert "成员随支部名册自动增减" in both.wecom.chat_texts(group.chat_id)[0]
    async with both.services.sessions() as session:
        kinds = [t.kind async for t in traces.iter_traces(session)]
    assert "group.bound" in kinds

    later = await wecom(both, clock, "党员丁")  # binding on WeCom puts them in
    await secretary.say("/transfer_out 党员乙 某某公司党委 JX2026-031")  # leaving takes out
    await heard(secretary, "党员乙")
    wanted = {secretary.account_id, first.account_id, later.account_id}
    assert (await members_of_chat(both, wanted))["owner"] == secretary.account_id


async def test_group_create_refuses_what_cannot_be_made(both: Both, clock: Clock) -> None:
    on_telegram = await person(both, clock, "telegram", "书记", role=Role.SECRETARY)
    await on_telegram.say("/group_create")
    assert "/bind_code" in await heard(on_telegram, "需要您本人已绑定企业微信")
    secretary = await wecom(both, clock, "副书记", role=Role.SECRETARY)
    assert "只有 1 人" in await said(secretary, "创建支部群", "至少 2 人")
    await wecom(both, clock, "党员甲")
    await said(secretary, "/group_create " + "长" * 51, "群名最多 50 个字")
    await said(secretary, "/group_create", "正在创建")
    answer = await said(secretary, "/group_create 再来一个", "本支部已有企业微信支部群")
    assert "/group_unbind" in answer
    await both.wecom.wait_until(lambda: len(both.wecom.chats) == 1)


async def test_a_chat_wecom_will_not_make_is_explained_to_its_maker(
    both: Both, clock: Clock
) -> None:
    secretary = await wecom(both, clock, "书记", role=Role.SECRETARY)
    await wecom(both, clock, "党员甲")
    both.wecom.appchat_failures = [60011]  # the application is not visible company-wide
    await secretary.say("/group_create")
    assert "根部门" in await heard(secretary, "企业微信没能创建支部群")
    assert both.wecom.chats == {}


async def test_a_queued_group_message_goes_through_appchat_send(both: Both, clock: Clock) -> None:
    secretary = await wecom(both, clock, "书记", role=Role.SECRETARY)
    await wecom(both, clock, "党员甲")
    await said(secretary, "/group_create", "正在创建")
    group = await the_group(both, "appchat")
    await both.wecom.wait_until(lambda: group.chat_id in both.wecom.chats)
    ack = Button(Msg("notice.ack_button"), "/ack 7")
    link = Button(Msg("group.branch_name", name="说明"), "", url="https://example.org/help")
    await post(both, group, Reply(Msg("quiz.reminder"), ((ack, link),)), "note-1")
    await both.wecom.wait_until(lambda: len(both.wecom.chat_sent.get(group.chat_id, [])) >= 2)
    sent = both.wecom.chat_sent[group.chat_id]
    assert {b["msgtype"] for b in sent} == {"text"}  # a group gets no cards
    [text] = [t for t in both.wecom.chat_texts(group.chat_id) if "每日答题" in t]
    assert "私聊中点「收到」（或发送 /ack 7）" in text and "说明：https://example.org/help" in text
    assert all(c.body.get("touser") != group.chat_id for c in both.wecom.calls)


async def test_a_group_robot_is_set_and_bad_addresses_refused(both: Both, clock: Clock) -> None:
    secretary = await wecom(both, clock, "书记", role=Role.SECRETARY)
    key = f"{secrets.token_hex(4)}-aaaa-bbbb-cccc-{secrets.token_hex(6)}"
    good = both.wecom.robot_url(key)
    base = both.wecom.base_url
    wrong = [
        f"https://evil.example/cgi-bin/webhook/send?key={key}",
        f"{base}/cgi-bin/webhook/other?key={key}",
        f"{base}/cgi-bin/webhook/send?key={key}&debug=1",
        f"{base}/cgi-bin/webhook/send?token={key}",
        f"{base}/cgi-bin/webhook/send?key=<script>",
        good.replace("http://", "ftp://"),
        "",
    ]
    for address in wrong:
        answer = await said(secretary, f"/group_robot {address}", "不是企业微信群机器人")
        assert key not in answer and base in answer  # the right form, on the API's host
    async with both.services.sessions() as session:
        assert await session.scalar(select(BranchGroup)) is None
    answer = await said(secretary, f"/group_robot {good}", "群机器人已设置")
    assert key[-4:] in answer and key not in answer and "看不到群里" in answer
    group = await the_group(both, "robot")
    assert group.platform == ROBOT_PLATFORM and key not in group.chat_id + group.title
    assert group.robot_url_enc is not None and key.encode() not in group.robot_url_enc
    await both.wecom.wait_until(lambda: bool(both.wecom.robot_texts(key)))
    assert "只发不收" in both.wecom.robot_texts(key)[0]
    await said(secretary, f"/group_robot {good}", "已经设置过了")


async def test_robot_posts_are_retried_after_its_limit(both: Both, clock: Clock) -> None:
    secretary = await wecom(both, clock, "书记", role=Role.SECRETARY)
    key = secrets.token_hex(8)
    await said(secretary, f"/group_robot {both.wecom.robot_url(key)}", "群机器人已设置")
    await both.wecom.wait_until(lambda: bool(both.wecom.robot_texts(key)))
    group = await the_group(both, "robot")
    both.wecom.robot_failures = [45009]  # the minute's 20 used up (by the branch's scripts)
    ack = Button(Msg("notice.ack_button"), "ack:1")
    await post(both, group, Reply(Msg("quiz.reminder"), ((ack,),)), "robot-note")
    assert await outcome(both, clock, "robot-note") == "sent"
    assert len(both.wecom.robot_texts(key)) == 2  # refused once, then sent once
    assert "私聊中点「收到」" in both.wecom.robot_texts(key)[1]


async def test_one_robot_at_its_limit_holds_back_no_other(both: Both, clock: Clock) -> None:
    """Each group robot has its own 20 a minute: one refused waits out its minute while
    another branch's robot posts at once."""
    keys = [secrets.token_hex(8), secrets.token_hex(8)]
    secretaries = [
        await wecom(both, clock, "书记", role=Role.SECRETARY),
        await wecom(both, clock, "二支书记", role=Role.SECRETARY, branch="第二党支部"),
    ]
    for secretary, key in zip(secretaries, keys, strict=True):
        await said(secretary, f"/group_robot {both.wecom.robot_url(key)}", "群机器人已设置")
        await both.wecom.wait_until(lambda key=key: bool(both.wecom.robot_texts(key)))
    async with both.services.sessions() as session:
        groups = (await session.scalars(select(BranchGroup).order_by(BranchGroup.id))).all()
    both.sender.transports[ROBOT_PLATFORM].pause = 60.0  # type: ignore[attr-defined]
    both.wecom.robot_failures = [45009]  # the first robot's minute is used up
    await post(both, groups[0], Reply(Msg("quiz.reminder")), "limited")
    await both.wecom.wait_until(lambda: both.wecom.robot_failures == [])
    await post(both, groups[1], Reply(Msg("quiz.reminder")), "free")
    await both.wecom.wait_until(lambda: len(both.wecom.robot_texts(keys[1])) == 2, 5)
    assert len(both.wecom.robot_texts(keys[0])) == 1  # its greeting; the note waits its minute


async def test_the_fake_robot_takes_twenty_a_minute(both: Both) -> None:
    key = secrets.token_hex(8)
    url = both.wecom.robot_url(key)

    async def resolve(_chat_id: str) -> str:
        return url

    transport = RobotTransport(resolve, both.services.renderer)
    try:
        note = Reply(Msg("quiz.reminder"))
        outcomes = [await transport.deliver("robot:x", note) for _ in range(ROBOT_PER_MINUTE + 1)]
    finally:
        await transport.close()
    assert all(isinstance(o, Sent) for o in outcomes[:-1])
    assert isinstance(outcomes[-1], Throttled) and outcomes[-1].seconds == 60
    assert len(both.wecom.robot_texts(key)) == ROBOT_PER_MINUTE


async def test_chat_and_robot_are_unbound_privately_by_number(both: Both, clock: Clock) -> None:
    secretary = await wecom(both, clock, "书记", role=Role.SECRETARY)
    await wecom(both, clock, "党员甲")
    other = await wecom(both, clock, "二支书记", role=Role.SECRETARY, branch="第二党支部")
    key = secrets.token_hex(8)
    await said(secretary, f"/group_robot {both.wecom.robot_url(key)}", "群机器人已设置")
    await said(secretary, "/group_create", "正在创建")
    robot, chat = await the_group(both, "robot"), await the_group(both, "appchat")
    # Another branch's group: "not found", as for a number nobody has, and traced.
    await said(other, f"/group_unbind {robot.id}", "没有找到这个编号")
    await said(secretary, "/group_unbind 第三个", "请写上群的编号")
    await said(secretary, f"/group_unbind {robot.id}", "Webhook 地址已删除")
    answer = await said(secretary, f"/group_unbind #{chat.id}", "已解绑企业微信支部群")
    assert "群主可在群设置里解散" in answer
    robot = await the_group(both, "robot")
    assert not robot.bound and robot.robot_url_enc is None
    assert not (await the_group(both, "appchat")).bound
    async with both.services.sessions() as session:
        refused = [t.data async for t in traces.iter_traces(session) if t.kind == "access.refused"]
    assert [r["command"] for r in refused] == ["group_unbind"]
    # Nothing posts through an unbound robot: its address is gone.
    await both.wecom.wait_until(lambda: bool(both.wecom.robot_texts(key)))  # the hello
    posts = len(both.wecom.robot_texts(key))
    await post(both, robot, Reply(Msg("quiz.reminder")), "after-unbind")
    assert await outcome(both, clock, "after-unbind") == "failed"
    assert len(both.wecom.robot_texts(key)) == posts


async def test_group_robot_in_a_group_is_refused_as_a_secret(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abcdef12-3456"
    replies = await secretary.in_group("-100500").send(f"/group_robot {url}")
    assert replies and "abcdef12-3456" not in chat.services.renderer.render(replies[0].text)
    async with chat.services.sessions() as session:
        assert await session.scalar(select(BranchGroup)) is None


API = "https://qyapi.weixin.qq.com"


@pytest.mark.parametrize(
    ("address", "key"),
    [
        (f"{API}/cgi-bin/webhook/send?key=693a91f6-7aaa-4bc4-97a0", "693a91f6-7aaa-4bc4-97a0"),
        (f" {API}/cgi-bin/webhook/send?key=abcdef123 ", "abcdef123"),
        (f"{API}:443/cgi-bin/webhook/send?key=abcdef123", None),  # not as WeCom writes it
        ("http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abcdef123", None),
        (f"{API}/cgi-bin/webhook/send?key=abcdef123#x", None),
        (f"{API}/cgi-bin/webhook/send?key=abcdef123&key=abcdef456", None),
        (f"{API}/cgi-bin/webhook/send?key=short", None),
        (f"{API}.evil.example/cgi-bin/webhook/send?key=abcdef123", None),
        ("https://qyapi.weixin.qq.com:bad/cgi-bin/webhook/send?key=abcdef123", None),
        ("abcdef123", None),
    ],
)
def test_only_a_webhook_address_on_the_api_host_is_taken(address: str, key: str | None) -> None:
    assert webhook_key(address, API) == key


@pytest.mark.parametrize(
    ("owners", "members", "now", "wanted"),
    [
        (("sec",), {"sec", "a"}, "sec", None),  # as it should be
        (("sec",), {"sec", "a"}, "a", "sec"),  # back to the secretary
        ((), {"a", "b"}, "a", None),  # no staff on WeCom: the owner stays while a member
        ((), {"b", "c"}, "a", "b"),  # the owner left: the first member takes it
        ((), set(), "a", None),  # nobody left to hand it to
    ],
)
def test_who_owns_an_app_chat(
    owners: tuple[str, ...], members: set[str], now: str, wanted: str | None
) -> None:
    roster = AppChatRoster(1, "bb1", "群", frozenset(members), owners)
    assert next_owner(roster, now) == wanted
