"""A roll-call end to end over HTTP: the fake Bot API (a group with privacy mode) ⇄ real PTB ⇄
router ⇄ outbox ⇄ database. A reply 接龙 to the post joins (answered privately), a button
press joins (answered on the presser's screen), and the post is edited in place."""

from bot.channels.outbox import Limits
from storage.enums import Role
from tests.support.chat import Chat, Clock
from tests.support.fake_telegram import FakeTelegram
from tests.support.telegram_rig import telegram_bot

SECRETARY, FIRST, SECOND = 701, 702, 703
GROUP = -4101
# The group's own pacing is tested elsewhere (tests/groups/test_live_posts.py): here it is quick.
QUICK = Limits(retry_base=0.05, group_per_minute=600)


async def test_a_roll_call_over_telegram(fake: FakeTelegram, database_url: str) -> None:
    async with telegram_bot(fake, database_url, limits=QUICK) as rig:
        chat = Chat(rig.services, Clock(rig.services.router.clock()))
        for user, name, role in (
            (SECRETARY, "书记甲", Role.SECRETARY),
            (FIRST, "党员乙", Role.MEMBER),
            (SECOND, "党员丙", Role.MEMBER),
        ):
            code = (await chat.enrol(name, role=role))[1]
            fake.push_message(user, f"/start {code}")
            await fake.wait_until(lambda u=user: any("绑定成功" in t for t in fake.texts_to(u)))
        fake.push_group_message(SECRETARY, GROUP, "/group_bind", title="一支部群")
        await fake.wait_until(lambda: any("本群已绑定到" in t for t in fake.texts_to(GROUP)))
        fake.push_group_message(SECRETARY, GROUP, "/jielong 周六义务植树 限 30 人")
        await fake.wait_until(lambda: any("接龙 #1" in t for t in fake.texts_to(GROUP)))
        message_id, buttons = fake.buttons_on_latest(GROUP)
        assert buttons == ["/jielong_join 1", "/jielong_leave 1"]

        fake.push_group_message(FIRST, GROUP, "接龙", reply_to=message_id)
        await fake.wait_until(lambda: any("第 1 位" in t for t in fake.texts_to(FIRST)))
        fake.push_callback(SECOND, "/jielong_join 1", message_id=message_id, chat_id=GROUP)
        await fake.wait_until(
            lambda: any("1. 党员乙\n2. 党员丙" in t for t in fake.texts_to(GROUP))
        )
        toasts = [c.params.get("text") for c in fake.calls if c.method == "answerCallbackQuery"]
        assert any("第 2 位" in str(t) for t in toasts)
        edits = [c for c in fake.sent_to(GROUP) if c.method == "editMessageText"]
        assert edits and all(int(c.params["message_id"]) == message_id for c in edits)
        # the group saw the binding, the post and its edits: no answer to anyone's joining
        sends = [c for c in fake.sent_to(GROUP) if c.method == "sendMessage"]
        assert len(sends) == 2
