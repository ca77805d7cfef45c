"""The branch group end to end over HTTP: the fake Bot API (groups with privacy mode, the group
rate limit, supergroup upgrades, the bot removed) ⇄ real PTB ⇄ router ⇄ outbox ⇄ database."""

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app.services import Services
from storage import meetings
from storage.enums import Role
from storage.group_models import BranchGroup
from tests.support.chat import Chat, Clock
from tests.support.fake_telegram import FakeTelegram
from tests.support.telegram_rig import Rig, received, say, telegram_bot

SECRETARY, MEMBER, STRANGER = 601, 602, 603
GROUP, SUPERGROUP = -4001, -1002000004001


@pytest.fixture
async def bot(fake: FakeTelegram, database_url: str) -> AsyncIterator[Services]:
    async with telegram_bot(fake, database_url) as rig:
        yield rig.services


async def bound_user(fake: FakeTelegram, bot: Services, user: int, name: str, role: Role) -> None:
    code = (await Chat(bot, Clock(bot.router.clock())).enrol(name, role=role))[1]
    fake.push_message(user, f"/start {code}")
    await fake.wait_until(lambda: any("绑定成功" in t for t in fake.texts_to(user)))


async def said_in(fake: FakeTelegram, chat_id: int, marker: str) -> str:
    await fake.wait_until(lambda: any(marker in t for t in fake.texts_to(chat_id)))
    return next(t for t in fake.texts_to(chat_id) if marker in t)


async def group_row(bot: Services) -> BranchGroup:
    async with bot.sessions() as session:
        found = await session.scalar(select(BranchGroup))
    assert found is not None
    return found


async def test_bind_migrate_remove(fake: FakeTelegram, bot: Services) -> None:
    await bound_user(fake, bot, SECRETARY, "书记甲", Role.SECRETARY)
    await bound_user(fake, bot, MEMBER, "党员乙", Role.MEMBER)
    assert fake.push_group_message(MEMBER, GROUP, "大家好", title="一支部群") is None  # privacy
    fake.push_group_message(MEMBER, GROUP, "/group_bind@branchbot_test_bot")
    assert "仅限" in await said_in(fake, GROUP, "/group_bind")
    fake.push_group_message(SECRETARY, GROUP, "/group_bind")
    await said_in(fake, GROUP, "本群已绑定到")
    bound_post = next(c for c in fake.sent_to(GROUP) if "本群已绑定到" in c.params.get("text", ""))
    [[button]] = bound_post.params["reply_markup"]["inline_keyboard"]
    assert button["url"] == "https://t.me/branchbot_test_bot?start=group"
    assert (await group_row(bot)).title == "一支部群"

    fake.push_migration(SECRETARY, GROUP, SUPERGROUP)
    fake.push_group_message(MEMBER, SUPERGROUP, "/group_info")
    assert "第一党支部" in await said_in(fake, SUPERGROUP, "本群绑定到")  # handled after the move
    assert (await group_row(bot)).chat_id == str(SUPERGROUP)

    fake.push_bot_membership(SECRETARY, SUPERGROUP, "kicked", old="member")
    await said_in(fake, SECRETARY, "已自动解绑")
    assert not (await group_row(bot)).bound


async def test_groups_have_a_menu_of_their_own(fake: FakeTelegram, bot: Services) -> None:
    [group_menu] = [
        c
        for c in fake.calls
        if c.method == "setMyCommands" and c.params.get("scope") == {"type": "all_group_chats"}
    ]
    names = [c["command"] for c in group_menu.params["commands"]]
    assert {"group_bind", "group_unbind", "group_info"} <= set(names) and "me" not in names


async def test_personal_answers_and_strangers_buttons(fake: FakeTelegram, bot: Services) -> None:
    await bound_user(fake, bot, MEMBER, "党员丙", Role.MEMBER)
    fake.push_group_message(MEMBER, GROUP, "/me@branchbot_test_bot")
    await said_in(fake, GROUP, "已私信回复")
    assert "党员丙" in await said_in(fake, MEMBER, "【党员丙】")
    assert not any("【党员丙】" in t for t in fake.texts_to(GROUP))
    note_id = fake.sent_to(GROUP)[-1]
    fake.push_callback(
        STRANGER, "/me", message_id=int(note_id.params.get("message_id", 1)), chat_id=GROUP
    )
    await fake.wait_for_sent(1, method="answerCallbackQuery")
    answer = [c for c in fake.sent if c.method == "answerCallbackQuery"][-1]
    assert answer.params["url"] == "https://t.me/branchbot_test_bot?start=group"
    assert "绑定" in answer.params["text"]
    assert not fake.texts_to(STRANGER)  # nothing can be sent to someone who never wrote


async def test_a_notice_and_a_meeting_code_in_the_group(
    fake: FakeTelegram, rig: Rig, clock: Clock
) -> None:
    chat = Chat(rig.services, clock)
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    members = [await chat.bound(name) for name in ("党员甲", "党员乙")]
    fake.push_group_message(int(secretary.account_id), GROUP, "/group_bind")
    await said_in(fake, GROUP, "本群已绑定到")

    await say(fake, secretary, "/broadcast 周五下午两点开支部党员大会")
    assert "收到 0/2" in await said_in(fake, GROUP, "周五下午两点")
    post = next(c for c in fake.sent_to(GROUP) if "周五下午两点" in c.params.get("text", ""))
    message_id = fake.message_id_of(post)
    fake.push_callback(int(members[0].account_id), "/ack 1", message_id=message_id, chat_id=GROUP)
    await said_in(fake, GROUP, "收到 1/2")  # the same message, edited in place
    toast = [c for c in fake.sent if c.method == "answerCallbackQuery"][-1]
    assert toast.params.get("text")
    assert await say(fake, members[1], callback="/ack 1")  # privately: the group count follows
    await said_in(fake, GROUP, "收到 2/2")
    assert [c.method for c in fake.sent_to(GROUP) if "周五" in c.params.get("text", "")] == [
        "sendMessage",
        "editMessageText",
        "editMessageText",
    ]

    day = (clock() + timedelta(days=1)).astimezone(rig.services.settings.zone).date()
    await say(fake, secretary, f"/meeting_new {day} 14:30 | 主题党日 | 学习全会精神 | 化工楼301")
    await said_in(fake, GROUP, "新会议")
    async with rig.services.sessions() as session:
        meeting = await meetings.get(session, 1)
    assert meeting is not None
    clock.now = meeting.starts_at - timedelta(minutes=10)
    await say(fake, secretary, "/checkin_open 1")
    code_post = await said_in(fake, GROUP, "分钟更换")
    code = code_post.split("签到码 ")[1][:6]
    posted = next(c for c in fake.sent_to(GROUP) if "分钟更换" in c.params.get("text", ""))
    fake.push_group_message(
        int(members[0].account_id), GROUP, code, reply_to=fake.message_id_of(posted)
    )
    assert "签到" in await received(fake, members[0], "签到成功")
    assert not any(name in t for t in fake.texts_to(GROUP) for name in ("党员甲", "党员乙"))
