"""What the inbox keeps of a Telegram update: keyed as the router keys it, ordered by its
update_id within the chat PTB would say it is in."""

from telegram import Bot, Update

from bot.channels.telegram.intake import arrival
from tests.support.fake_telegram import FakeTelegram

BOT = Bot("123456:TEST")


def test_an_update_is_filed_under_the_chat_ptb_gives_it(fake: FakeTelegram) -> None:
    fake.push_message(7, "你好")
    fake.push_message(8, "/help", chat_id=-100, chat_type="group")
    fake.push_callback(9, "/me", message_id=1)
    fake.push_raw({"inline_query": {"id": "1", "from": {"id": 9, "is_bot": False,
                   "first_name": "U"}, "query": "x", "offset": ""}})  # fmt: skip
    for data in fake.queued:
        chat = Update.de_json(data, BOT).effective_chat
        filed = arrival(data, 42)
        assert filed.update_key == f"42:{data['update_id']}" and filed.seq == data["update_id"]
        assert filed.chat_key == (str(chat.id) if chat else f"update:42:{data['update_id']}")
        assert filed.platform == "telegram" and "update_id" in filed.body
