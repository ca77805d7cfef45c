"""End to end over HTTP: the fake Bot API ⇄ real PTB ⇄ router ⇄ database, as users would."""

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.app.services import Services
from storage.enums import Role
from tests.support.chat import Chat, Clock
from tests.support.fake_telegram import FakeTelegram
from tests.support.telegram_rig import WEBHOOK_SECRET, telegram_bot

SECRETARY, MEMBER, STRANGER = 501, 502, 503


@pytest.fixture
async def bot(fake: FakeTelegram, database_url: str) -> AsyncIterator[Services]:
    async with telegram_bot(fake, database_url) as rig:
        yield rig.services


async def ask(fake: FakeTelegram, user: int, text: str, replies: int = 1) -> list[str]:
    """Send a message as `user`; wait for `replies` more messages to their chat."""
    before = len(fake.texts_to(user))
    fake.push_message(user, text)
    await fake.wait_until(lambda: len(fake.texts_to(user)) >= before + replies)
    return fake.texts_to(user)[before:]


async def enrol(bot: Services, name: str, role: Role = Role.MEMBER) -> str:
    return (await Chat(bot, Clock(bot.router.clock())).enrol(name, role=role))[1]


async def test_menu_is_set_and_onboarding_works(fake: FakeTelegram, bot: Services) -> None:
    commands = [c for c in fake.calls if c.method == "setMyCommands" and "scope" not in c.params]
    names = [c["command"] for c in commands[-1].params["commands"]]
    assert names == [
        *("help", "bind_code", "me", "mydata", "archive", "checkin", "leave", "meetings"),
        *("minutes", "minutes_show", "quiz", "study", "search", "mistakes", "rank", "materials"),
        *("pipeline", "talk", "appraisal_mine", "thought", "thoughts", "thought_read"),
        *("dues", "volunteer"),
        *("surveys", "survey", "myreport", "record"),
        *("feedback", "feedback_status", "open"),
    ]
    code = await enrol(bot, "书记甲", Role.SECRETARY)
    assert "绑定成功" in (await ask(fake, SECRETARY, f"/start {code}"))[0]
    await fake.wait_until(lambda: fake.count("setMyCommands") >= 3)
    scoped = [c for c in fake.calls if c.method == "setMyCommands"][-1]
    assert scoped.params["scope"] == {"type": "chat", "chat_id": SECRETARY}
    assert "invite" in [c["command"] for c in scoped.params["commands"]]
    invite = (await ask(fake, SECRETARY, "/invite 党员乙 2027-07-01"))[0]
    assert "https://t.me/branchbot_test_bot?start=" in invite
    new_code = invite.split("?start=")[1][:8]
    assert "绑定成功" in (await ask(fake, MEMBER, f"/start {new_code}"))[0]
    assert "见习/实习中" in (await ask(fake, MEMBER, "我的"))[0]


async def test_unbound_and_unknown_input_get_hints(fake: FakeTelegram, bot: Services) -> None:
    assert "还没有绑定" in (await ask(fake, STRANGER, "你好"))[0]
    assert "邀请码不正确" in (await ask(fake, STRANGER, "/start WRONGCOD"))[0]
    assert "还没有绑定" in (await ask(fake, STRANGER, "/me"))[0]
    assert "没有 /frobnicate" in (await ask(fake, STRANGER, "/frobnicate"))[0]
    assert "4096" in (await ask(fake, STRANGER, "长" * 5000))[0]


async def test_mydata_arrives_as_a_document(fake: FakeTelegram, bot: Services) -> None:
    code = await enrol(bot, "党员丙")
    await ask(fake, MEMBER, f"/start {code}")
    fake.push_message(MEMBER, "/mydata")
    await fake.wait_for_sent(1, method="sendDocument")
    doc = next(c for c in fake.sent if c.method == "sendDocument")
    name, content = next(iter(doc.files.values()))
    assert name.startswith("mydata-") and json.loads(content)["profile"]["name"] == "党员丙"
    assert "留痕" in doc.params["caption"]


async def test_personal_commands_in_groups_are_answered_privately(
    fake: FakeTelegram, bot: Services
) -> None:
    code = await enrol(bot, "党员丁")
    await ask(fake, MEMBER, f"/start {code}")
    fake.push_message(MEMBER, "/mydata@branchbot_test_bot", chat_id=-100, chat_type="group")
    await fake.wait_until(lambda: bool(fake.texts_to(-100)))
    assert "已私信回复" in fake.texts_to(-100)[0]
    await fake.wait_until(lambda: any(c.method == "sendDocument" for c in fake.sent_to(MEMBER)))
    assert not any(c.method == "sendDocument" for c in fake.sent_to(-100))


async def test_button_press_is_routed_and_answered(fake: FakeTelegram, bot: Services) -> None:
    code = await enrol(bot, "党员戊")
    await ask(fake, MEMBER, f"/start {code}")
    fake.push_callback(MEMBER, "/me", message_id=1)
    await fake.wait_for_sent(1, method="answerCallbackQuery")
    await fake.wait_until(lambda: "党员戊" in fake.texts_to(MEMBER)[-1])


async def test_one_chat_is_answered_in_order(fake: FakeTelegram, bot: Services) -> None:
    code = await enrol(bot, "党员己")
    fake.push_message(MEMBER, f"/start {code}")
    for _ in range(4):
        fake.push_message(MEMBER, "/me")
    await fake.wait_until(lambda: len(fake.texts_to(MEMBER)) >= 5)
    texts = fake.texts_to(MEMBER)
    assert "绑定成功" in texts[0] and all("党员己" in t for t in texts[1:])


async def test_replies_survive_429_5xx_and_dropped_connections(
    fake: FakeTelegram, bot: Services
) -> None:
    fake.fail_next("sendMessage", 429, retry_after=1)
    assert "还没有绑定" in (await ask(fake, STRANGER, "一"))[0]
    fake.fail_next("sendMessage", 502)
    assert "还没有绑定" in (await ask(fake, STRANGER, "二"))[0]
    fake.drop_next("sendMessage")
    assert "还没有绑定" in (await ask(fake, STRANGER, "三"))[0]
    assert fake.count("sendMessage") == 6  # three failures, three deliveries


async def test_blocked_user_does_not_break_the_bot(fake: FakeTelegram, bot: Services) -> None:
    fake.block(STRANGER)
    fake.push_message(STRANGER, "你好")
    await fake.wait_until(lambda: fake.count("sendMessage") >= 1)
    assert "还没有绑定" in (await ask(fake, MEMBER, "你好"))[0]


async def test_webhook_checks_secret_and_handles_redelivery_once(
    fake: FakeTelegram, database_url: str
) -> None:
    async with telegram_bot(fake, database_url, webhook=True) as rig:
        port = rig.port
        assert fake.webhook_secret == WEBHOOK_SECRET
        fake.push_message(STRANGER, "你好")
        await fake.wait_until(lambda: len(fake.texts_to(STRANGER)) == 1)
        update = {
            "update_id": 777,
            "message": {
                "message_id": 9,
                "date": 0,
                "chat": {"id": STRANGER, "type": "private"},
                "from": {"id": STRANGER, "is_bot": False, "first_name": "X"},
                "text": "/help",
            },
        }
        url = f"http://127.0.0.1:{port}/tg/hook"
        async with aiohttp.ClientSession() as http:
            bad = await http.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "no"}
            )
            assert bad.status == 403
            headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
            for _ in range(2):  # Telegram redelivers when it did not see our 200 in time
                assert (await http.post(url, json=update, headers=headers)).status == 200
            garbage = await http.post(url, data=b"{not json", headers=headers)
            assert garbage.status == 400
            # JSON that is not an update object: 400 and one log line, never a 500.
            for body in (b'"abc"', b"null", b"[1,2]", b"42", b'{"update_id": "x"}'):
                refused = await http.post(url, data=body, headers=headers)
                assert refused.status == 400, body
        await fake.wait_until(lambda: len(fake.texts_to(STRANGER)) >= 2)
        await asyncio.sleep(0.3)
        assert len(fake.texts_to(STRANGER)) == 2
        assert "欢迎使用支部助手" in fake.texts_to(STRANGER)[1]


async def test_commands_for_another_bot_are_left_alone(fake: FakeTelegram, bot: Services) -> None:
    fake.push_message(STRANGER, "/help@SomeOtherBot", chat_id=-200, chat_type="group")
    fake.push_message(STRANGER, "/help@branchbot_test_bot", chat_id=-200, chat_type="group")
    await fake.wait_until(lambda: len(fake.texts_to(-200)) >= 1)
    await asyncio.sleep(0.2)
    # A stranger in a group is shown the way to the bot's private chat, nothing else.
    assert len(fake.texts_to(-200)) == 1 and "私聊机器人" in fake.texts_to(-200)[0]
