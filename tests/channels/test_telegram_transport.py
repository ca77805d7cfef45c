"""The aiohttp backend under PTB (bot/channels/telegram/transport.py): what reaches the
server and how transport failures surface, against a real local HTTP server."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.channels.telegram.transport import AiohttpRequest, _environment_proxy

TOKEN = "123456:TEST"


class Server:
    """Answers every Bot API method like Telegram would, after `delay`; remembers requests."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any], dict[str, tuple[str, bytes]]]] = []
        self.delay = 0.0
        self.drop = False

    async def handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        fields: dict[str, Any] = {}
        files: dict[str, tuple[str, bytes]] = {}
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                files[key] = (value.filename, value.file.read())
            else:
                fields[key] = value
        self.seen.append((method, fields, files))
        if self.drop and request.transport is not None:
            request.transport.close()
            return web.Response()
        await asyncio.sleep(self.delay)
        if method == "getMe":
            user = {"id": 1, "is_bot": True, "first_name": "b", "username": "b_bot"}
            return web.json_response({"ok": True, "result": user})
        if fields.get("text") == "bad":
            return web.json_response(
                {"ok": False, "error_code": 400, "description": "Bad Request: nope"}, status=400
            )
        message = {"message_id": 7, "date": 0, "chat": {"id": 5, "type": "private"}}
        return web.json_response({"ok": True, "result": message})


@pytest.fixture
async def server() -> AsyncIterator[tuple[Server, str]]:
    state = Server()
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", state.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield state, f"http://127.0.0.1:{port}/bot"
    await runner.cleanup()


async def _bot(base_url: str, **timeouts: float) -> Bot:
    bot = Bot(TOKEN, base_url=base_url, request=AiohttpRequest(2, **timeouts))
    await bot.initialize()
    return bot


async def test_fields_and_files_reach_the_server_as_ptb_sends_them(
    server: tuple[Server, str],
) -> None:
    state, url = server
    bot = await _bot(url)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("同意", callback_data="ok:1")]])
    message = await bot.send_message(5, "你好", reply_markup=markup)
    await bot.send_document(5, b"col\n1\n", filename="名单.csv", caption="附件")
    await bot.shutdown()
    assert message.message_id == 7
    _, fields, _ = state.seen[-2]
    assert fields["text"] == "你好"
    assert json.loads(fields["reply_markup"])["inline_keyboard"][0][0]["callback_data"] == "ok:1"
    method, fields, files = state.seen[-1]
    assert method == "sendDocument" and fields["caption"] == "附件"
    assert files["document"] == ("名单.csv", b"col\n1\n")


async def test_a_slow_answer_is_timed_out_and_an_error_status_is_ptbs(
    server: tuple[Server, str],
) -> None:
    state, url = server
    bot = await _bot(url, read_timeout=0.2)
    state.delay = 1.0
    with pytest.raises(TimedOut):
        await bot.send_message(5, "hi")
    state.delay = 0.0
    with pytest.raises(BadRequest, match=r"(?i)nope"):
        await bot.send_message(5, "bad")
    await bot.shutdown()


async def test_a_dropped_connection_is_a_network_error(server: tuple[Server, str]) -> None:
    state, url = server
    bot = await _bot(url)
    state.drop = True
    with pytest.raises(NetworkError) as caught:
        await bot.send_message(5, "hi")
    assert not isinstance(caught.value, TimedOut | BadRequest)
    await bot.shutdown()


async def test_requests_before_initialize_are_refused() -> None:
    with pytest.raises(NetworkError, match="not initialized"):
        await Bot(TOKEN, request=AiohttpRequest()).get_me()


def test_the_environment_names_the_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.campus.example:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    _environment_proxy.cache_clear()
    try:
        found = _environment_proxy("https", "api.telegram.org")
        assert found == "http://proxy.campus.example:3128"
        assert _environment_proxy("https", "127.0.0.1") is None
    finally:
        _environment_proxy.cache_clear()
