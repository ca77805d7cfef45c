"""The fake Bot API answers the real python-telegram-bot over HTTP the way Telegram does."""

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, web
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from tests.support.fake_telegram import FakeTelegram

TOKEN = "123456:TEST"
ROOT = Path(__file__).resolve().parents[2]
KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("同意", callback_data="agree:1")]])


def make_bot(fake: FakeTelegram, token: str = TOKEN) -> Bot:
    """A real PTB bot pointed at the fake."""
    return Bot(token, base_url=f"{fake.base_url}/bot", base_file_url=f"{fake.base_url}/file/bot")


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """A running fake on a free port."""
    async with FakeTelegram(TOKEN) as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    """An initialized PTB bot talking to the fake."""
    async with make_bot(fake) as client:
        yield client


@pytest.fixture
def timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's future timedelta periods (avoids its deprecation warning)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


async def test_get_me_is_served_but_not_counted_as_sent(fake: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "branchbot_test_bot", True)
    assert fake.count("getMe") == 2  # once by `async with bot`, once here
    assert fake.sent == []


async def test_send_message_records_decoded_params(fake: FakeTelegram, bot: Bot) -> None:
    message = await bot.send_message(42, "你好", reply_markup=KEYBOARD, parse_mode="HTML")
    assert message.text == "你好"
    assert message.chat.id == 42
    assert message.from_user is not None and message.from_user.id == fake.bot_id
    assert message.reply_markup == KEYBOARD
    [call] = fake.sent
    assert call.method == "sendMessage"
    assert call.params["chat_id"] == 42
    assert call.params["parse_mode"] == "HTML"
    assert call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "同意", "callback_data": "agree:1"}]]
    }
    assert fake.sent_to(42) == [call]
    assert fake.texts_to(42) == ["你好"]
    assert fake.count("sendMessage", sent_only=True) == 1


async def test_text_that_looks_like_json_stays_a_string(fake: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(42, "123")
    await bot.send_message(42, "true")
    assert fake.texts_to(42) == ["123", "true"]


async def test_reply_keyboards_are_not_echoed_in_the_message(fake: FakeTelegram, bot: Bot) -> None:
    keyboard = ReplyKeyboardMarkup([[KeyboardButton("分享位置", request_location=True)]])
    message = await bot.send_message(42, "请分享位置", reply_markup=keyboard)
    assert message.reply_markup is None
    assert fake.sent[0].params["reply_markup"]["keyboard"][0][0]["request_location"] is True


async def test_get_updates_returns_pushed_message_and_offset_confirms(
    fake: FakeTelegram, bot: Bot
) -> None:
    first = fake.push_message(7, "/start", username="zhang", first_name="张")
    second = fake.push_message(7, "大家好", chat_id=-100, chat_type="group")
    assert (first, second) == (1, 2)
    updates = await bot.get_updates()
    assert [update.update_id for update in updates] == [1, 2]
    private, group = (update.message for update in updates)
    assert private is not None and group is not None
    assert private.text == "/start"
    assert private.from_user is not None and private.from_user.username == "zhang"
    assert private.from_user.language_code == "zh-hans"
    assert (private.chat.id, private.chat.type) == (7, "private")
    assert (group.chat.id, group.chat.type, group.text) == (-100, "group", "大家好")
    assert group.message_id > private.message_id
    assert len(await bot.get_updates(offset=2)) == 1  # update 1 confirmed
    assert await bot.get_updates(offset=3) == ()
    assert fake.queued == []


async def test_get_updates_honours_limit_and_negative_offset(fake: FakeTelegram, bot: Bot) -> None:
    for n in range(5):
        fake.push_message(7, f"m{n}")
    assert [update.update_id for update in await bot.get_updates(limit=2)] == [1, 2]
    assert [update.update_id for update in await bot.get_updates(offset=-1)] == [5]
    assert [update["update_id"] for update in fake.queued] == [5]


async def test_long_poll_wakes_on_push(fake: FakeTelegram, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_until(lambda: fake.count("getUpdates") == 1)
    await asyncio.sleep(0.05)
    assert not poll.done()
    started = asyncio.get_running_loop().time()
    fake.push_message(7, "醒醒")
    updates = await poll
    assert asyncio.get_running_loop().time() - started < 0.5
    assert updates[0].message is not None and updates[0].message.text == "醒醒"


async def test_a_newer_poll_ends_an_older_one_with_conflict(fake: FakeTelegram, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_until(lambda: fake.count("getUpdates") == 1)
    url = f"{fake.base_url}/bot{TOKEN}/getUpdates"
    async with ClientSession() as http, http.post(url) as response:
        assert (await response.json())["ok"] is True
    with pytest.raises(Conflict, match="terminated by other getUpdates"):
        await poll


async def test_stop_ends_a_pending_long_poll_promptly() -> None:
    fake = FakeTelegram(TOKEN)
    await fake.start()
    async with make_bot(fake) as client:
        poll = asyncio.create_task(client.get_updates(timeout=30))
        await fake.wait_until(lambda: fake.count("getUpdates") == 1)
        started = asyncio.get_running_loop().time()
        await fake.stop()
        assert await poll == ()
        assert asyncio.get_running_loop().time() - started < 1


async def test_edit_message_text(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(42, "待审核", reply_markup=KEYBOARD)
    edited = await bot.edit_message_text("已通过", chat_id=42, message_id=sent.message_id)
    assert isinstance(edited, type(sent))
    assert (edited.message_id, edited.text, edited.reply_markup) == (
        sent.message_id,
        "已通过",
        None,
    )
    assert edited.edit_date is not None
    assert fake.texts_to(42) == ["待审核", "已通过"]
    with pytest.raises(BadRequest, match=r"(?i)^message is not modified"):
        await bot.edit_message_text("已通过", chat_id=42, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)^message to edit not found"):
        await bot.edit_message_text("x", chat_id=42, message_id=999)
    keyboard_back = await bot.edit_message_reply_markup(
        chat_id=42, message_id=sent.message_id, reply_markup=KEYBOARD
    )
    assert not isinstance(keyboard_back, bool) and keyboard_back.reply_markup == KEYBOARD


async def test_send_document_and_photo_record_the_files(fake: FakeTelegram, bot: Bot) -> None:
    content = b"%PDF-1.4 roster"
    message = await bot.send_document(42, content, filename="roster.pdf", caption="名单")
    assert message.document is not None
    assert (message.document.file_name, message.document.mime_type) == (
        "roster.pdf",
        "application/pdf",
    )
    assert message.document.file_size == len(content)
    assert fake.sent[0].files == {"document": ("roster.pdf", content)}
    assert fake.sent[0].params["chat_id"] == 42
    photo = await bot.send_photo(42, b"\x89PNG fake", filename="chart.png")
    assert photo.photo and photo.photo[-1].file_size == len(b"\x89PNG fake")
    assert fake.sent[1].files["photo"] == ("chart.png", b"\x89PNG fake")
    assert fake.texts_to(42) == ["名单"]


async def test_callback_embeds_the_sent_message_and_can_be_answered(
    fake: FakeTelegram, bot: Bot
) -> None:
    sent = await bot.send_message(42, "是否参加?", reply_markup=KEYBOARD)
    fake.push_callback(42, "agree:1", message_id=sent.message_id)
    fake.push_callback(42, "stale", message_id=77)
    known, unknown = (update.callback_query for update in await bot.get_updates())
    assert known is not None and unknown is not None
    assert known.data == "agree:1"
    assert known.from_user.id == 42
    assert known.message is not None and known.message.message_id == sent.message_id
    assert getattr(known.message, "reply_markup", None) == KEYBOARD
    assert unknown.message is not None and unknown.message.chat.id == 42
    assert await bot.answer_callback_query(known.id, text="已记录")
    answered = fake.sent[-1]
    assert answered.method == "answerCallbackQuery"
    assert answered.params == {"callback_query_id": known.id, "text": "已记录"}


async def test_location_and_document_updates(fake: FakeTelegram, bot: Bot) -> None:
    fake.push_location(7, 39.99, 116.31)
    fake.push_document(7, "申请书.pdf", caption="入党申请书")
    location_update, document_update = await bot.get_updates()
    assert location_update.message is not None and location_update.message.location is not None
    assert location_update.message.location.latitude == pytest.approx(39.99)
    document = document_update.message
    assert document is not None and document.document is not None
    assert (document.document.file_name, document.caption) == ("申请书.pdf", "入党申请书")


async def test_raw_updates_keep_or_get_ids(fake: FakeTelegram, bot: Bot) -> None:
    assert fake.push_raw({"update_id": 50, "message": {"message_id": 1, "date": 0}}) == 50
    assert fake.push_raw({"my_chat_member": None}) == 51


async def test_commands(fake: FakeTelegram, bot: Bot) -> None:
    assert await bot.set_my_commands([BotCommand("start", "开始"), ("help", "帮助")])
    assert fake.sent[0].params["commands"] == [
        {"command": "start", "description": "开始"},
        {"command": "help", "description": "帮助"},
    ]
    assert [command.command for command in await bot.get_my_commands()] == ["start", "help"]
    assert await bot.get_my_commands(language_code="en") == ()
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()


async def test_429_raises_retry_after(
    fake: FakeTelegram, bot: Bot, timedelta_periods: None
) -> None:
    fake.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(42, "hi")
    assert raised.value.retry_after == timedelta(seconds=7)
    await bot.send_message(42, "hi")  # the fault was consumed
    assert fake.count("sendMessage") == 2
    assert [call.status for call in fake.calls if call.method == "sendMessage"] == [429, 200]
    assert len(fake.sent) == 1
    assert fake.rejected_429 == 1


@pytest.mark.parametrize(
    ("status", "error", "text"),
    [
        (500, NetworkError, "Internal Server Error"),
        (502, NetworkError, "Bad Gateway"),
        (400, BadRequest, "Bad Request"),
        (409, Conflict, "Conflict"),
    ],
)
async def test_error_status_maps_to_ptb_error(
    fake: FakeTelegram, bot: Bot, status: int, error: type[Exception], text: str
) -> None:
    fake.fail_next("sendMessage", status, times=2)
    for _ in range(2):
        with pytest.raises(error) as raised:
            await bot.send_message(42, "hi")
        assert type(raised.value) is error
        assert text in str(raised.value)
    await bot.send_message(42, "hi")
    assert len(fake.sent) == 1


async def test_dropped_connection_raises_network_error(fake: FakeTelegram, bot: Bot) -> None:
    fake.drop_next("sendMessage")
    with pytest.raises(NetworkError) as raised:
        await bot.send_message(42, "hi")
    assert type(raised.value) is NetworkError
    assert "RemoteProtocolError" in str(raised.value)
    assert (await bot.send_message(42, "again")).text == "again"
    assert [call.status for call in fake.calls if call.method == "sendMessage"] == [0, 200]


async def test_blocked_chat_raises_forbidden(fake: FakeTelegram, bot: Bot) -> None:
    fake.block(42)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(42, "hi")
    await bot.send_message(43, "others still work")
    fake.unblock(42)
    await bot.send_message(42, "hi")
    assert fake.texts_to(42) == ["hi"]


async def test_wrong_token_and_unknown_method(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(InvalidToken):
        async with make_bot(fake, token="999:WRONG"):
            pass
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("makeCoffee")


async def test_global_rate_rejects_excess_sends(timedelta_periods: None) -> None:
    async with FakeTelegram(TOKEN, global_rate=2) as limited, make_bot(limited) as client:
        await client.send_message(1, "a")
        await client.send_message(2, "b")
        with pytest.raises(RetryAfter) as raised:
            await client.send_message(3, "c")
    assert raised.value.retry_after == timedelta(seconds=1)
    assert (len(limited.sent), limited.rejected_429) == (2, 1)


async def test_wait_for_sent(fake: FakeTelegram, bot: Bot) -> None:
    sender = asyncio.create_task(bot.send_message(42, "hi"))
    await fake.wait_for_sent(1, method="sendMessage", timeout=2)
    await sender
    with pytest.raises(AssertionError, match=r"expected at least 2 sent .*'hi'"):
        await fake.wait_for_sent(2, timeout=0.05)


class WebhookReceiver:
    """A tiny web server standing in for the bot's webhook endpoint."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.received: list[tuple[str | None, dict[str, Any]]] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        """Record the delivery, answer the next planned status."""
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        self.received.append((secret, await request.json()))
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)

    async def __aenter__(self) -> "WebhookReceiver":
        """Listen on a free port."""
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/hook"
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Stop listening."""
        assert self.runner is not None
        await self.runner.cleanup()


async def test_webhook_delivery_with_secret_and_retry(fake: FakeTelegram, bot: Bot) -> None:
    async with WebhookReceiver(statuses=[500]) as receiver:
        assert await bot.set_webhook(receiver.url, secret_token="s3cret")
        assert fake.webhook_url == receiver.url
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        update_id = fake.push_message(7, "via webhook")
        await fake.wait_until(lambda: fake.webhook_deliveries == [500, 200], timeout=2)
        assert [secret for secret, _ in receiver.received] == ["s3cret", "s3cret"]
        update = Update.de_json(receiver.received[-1][1], bot)
        assert update.update_id == update_id
        assert update.message is not None and update.message.text == "via webhook"
        info = await bot.get_webhook_info()
        assert (info.url, info.pending_update_count) == (receiver.url, 0)
    assert await bot.delete_webhook()
    assert await bot.get_updates() == ()


async def test_webhook_gives_up_after_three_retries(fake: FakeTelegram, bot: Bot) -> None:
    fake.WEBHOOK_RETRY_PAUSE = 0.01
    async with WebhookReceiver(statuses=[]) as receiver:
        dead_url = receiver.url
    await bot.set_webhook(dead_url)
    fake.push_message(7, "nobody listens")
    await fake.wait_until(lambda: len(fake.webhook_deliveries) == 4, timeout=2)
    assert fake.webhook_deliveries == [0, 0, 0, 0]
    await bot.delete_webhook()
    [update] = await bot.get_updates()  # the undelivered update is still pending
    assert update.message is not None and update.message.text == "nobody listens"


async def test_webhook_posts_go_out_concurrently_up_to_the_connections() -> None:
    """With three connections, three posts are in flight at once: each answers only once all
    three arrived (with one connection the first would wait in vain and fail)."""
    together = asyncio.Barrier(3)

    async def handle(request: web.Request) -> web.Response:
        try:
            await asyncio.wait_for(together.wait(), 2)
        except TimeoutError:
            return web.Response(status=500)
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        async with FakeTelegram(TOKEN, webhook_connections=3) as fake, make_bot(fake) as bot:
            await bot.set_webhook(f"http://127.0.0.1:{runner.addresses[0][1]}/hook")
            for user in (1, 2, 3):
                fake.push_message(user, "签到 123456")
            await fake.wait_until(lambda: len(fake.webhook_deliveries) == 3, timeout=5)
            assert fake.webhook_deliveries == [200, 200, 200]
            assert fake.queued == []
    finally:
        await runner.cleanup()


async def test_control_endpoints(fake: FakeTelegram, bot: Bot) -> None:
    raw = {"message": {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"}}}
    async with ClientSession(base_url=fake.base_url) as http:
        async with http.post("/_control/updates", json=[raw, raw]) as response:
            assert await response.json() == {"ok": True, "queued": 2}
        async with http.post("/_control/updates", data="not json") as response:
            assert response.status == 400
        assert [update.update_id for update in await bot.get_updates()] == [1, 2]
        async with http.post("/_control/fail", json={"method": "sendMessage", "status": 502}):
            pass
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(5, "x")
        await bot.send_message(5, "y")
        async with http.get("/_control/stats") as response:
            stats = await response.json()
        assert stats["sent"] == {"sendMessage": 1}
        assert (stats["total_sent"], stats["rejected_429"], stats["queued"]) == (1, 0, 2)
        async with http.post("/_control/reset") as response:
            assert response.status == 200
        async with http.get("/_control/stats") as response:
            stats = await response.json()
        assert (stats["total_sent"], stats["total_calls"], stats["queued"]) == (0, 0, 0)
    assert fake.push_message(5, "ids keep growing") == 3


async def test_application_polls_and_replies_end_to_end(fake: FakeTelegram) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Reply with the same text."""
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"收到: {update.effective_message.text}")

    app = (
        Application.builder()
        .token(TOKEN)
        .base_url(f"{fake.base_url}/bot")
        .base_file_url(f"{fake.base_url}/file/bot")
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0)
        fake.push_message(7, "你好")
        await fake.wait_for_sent(1, method="sendMessage", timeout=5)
        await app.updater.stop()
        await app.stop()
    assert fake.texts_to(7) == ["收到: 你好"]
    assert fake.count("deleteWebhook") == 1
    assert fake.queued == []  # PTB confirmed the update on shutdown


async def test_standalone_server_prints_url_and_stops_on_sigterm() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.fake_telegram",
        "--port",
        "0",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), 10)).decode().strip()
    assert line.startswith("fake Telegram Bot API on http://127.0.0.1:")
    base_url = line.rsplit(" ", 1)[1]
    async with ClientSession() as http, http.get(f"{base_url}/_control/stats") as response:
        assert (await response.json())["total_sent"] == 0
    process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(process.wait(), 10) == 0
