"""Study over HTTP through the fake Bot API: a daily quiz of every kind, answered by pressing
the buttons of the message the bot sent (which it then edits) and by typing; a search; and
the morning push delivered by the outbox sender with its 已学习 button."""

from datetime import UTC, datetime

import pytest

from scheduler import study_jobs
from tests.support.chat import Chat, Clock
from tests.support.fake_telegram import FakeTelegram
from tests.support.study import RIGHT_BY_TEXT, add_demo_corpus, codes_of, current_round, load_bank
from tests.support.telegram_rig import Rig, press, received, say


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.now(UTC))


async def test_daily_quiz_of_every_kind_over_http(
    fake: FakeTelegram, rig: Rig, clock: Clock
) -> None:
    chat = Chat(rig.services, clock)
    await load_bank(chat)
    member = await chat.bound("党员甲")
    chat_id = int(member.account_id)
    await say(fake, member, "/quiz")
    await fake.wait_until(lambda: "第 1/5 题" in fake.texts_to(chat_id)[-1])
    round_ = await current_round(chat)
    for code in await codes_of(chat, round_):
        if code == "T-1":
            assert "回答正确" in await press(fake, member, " A")
        elif code == "T-2":
            await press(fake, member, " +A")
            assert fake.buttons_on_latest(chat_id)[1][0].endswith("+A")
            await press(fake, member, " +C")
            await press(fake, member, " +B")
            assert "回答正确" in await press(fake, member, " ok")
        elif code == "T-3":
            assert "回答正确" in await press(fake, member, " 错")
        else:
            before = len(fake.texts_to(chat_id))
            fake.push_message(chat_id, RIGHT_BY_TEXT[code])
            await fake.wait_until(lambda b=before: len(fake.texts_to(chat_id)) > b + 1)
            assert any("回答正确" in t for t in fake.texts_to(chat_id)[before:])
    await fake.wait_until(lambda: "今日答题完成：答对 5/5 题" in fake.texts_to(chat_id)[-1])
    edits = [c for c in fake.sent_to(chat_id) if c.method == "editMessageText"]
    assert len(edits) >= 6  # three toggles and three verdicts replaced their question


async def test_search_and_morning_push_over_http(
    fake: FakeTelegram, rig: Rig, clock: Clock
) -> None:
    chat = Chat(rig.services, clock)
    await add_demo_corpus(chat)
    member = await chat.bound("党员甲")
    results = await say(fake, member, "/search 转正")
    assert "预备党员" in results.splitlines()[1]
    assert await study_jobs.material_push() == 1
    rig.sender.wake()
    pushed = await received(fake, member, "今日学习")
    title = pushed.splitlines()[0].removeprefix("📚 今日学习：")
    learned = await press(fake, member, "/learned")
    assert title in learned and "本月已学习 1 篇" in learned
