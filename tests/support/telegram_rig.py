"""Runs the real bot (PTB Application + router + store) against the fake Bot API, in-process;
and talks to it as a user would: say, wait to have received, press a button."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from bot.app.services import Services, build_services
from bot.app.settings import load_settings
from bot.channels.outbox import Limits, OutboxSender
from bot.channels.telegram.convert import PLATFORM
from bot.channels.telegram.service import TelegramService
from bot.serve import start_sender
from bot.web.server import build_web_app, start_site
from handlers.core.router import Clock, utc_now
from tests.conftest import SECRET
from tests.support.chat import User
from tests.support.fake_telegram import FakeTelegram

WEBHOOK_SECRET = "s3cret-token_42"
# Retries a hundred times sooner than in service, so fault tests take seconds.
FAST_RETRIES = Limits(retry_base=0.05)


@dataclass
class Rig:
    services: Services
    telegram: TelegramService
    sender: OutboxSender
    port: int


@asynccontextmanager
async def telegram_bot(
    fake: FakeTelegram,
    database_url: str,
    *,
    webhook: bool = False,
    limits: Limits = FAST_RETRIES,
    clock: Clock = utc_now,
    **settings: Any,
) -> AsyncIterator[Rig]:
    """Start the bot and its outbox sender on the fake API (polling, or webhook on a local
    port); stop them after."""
    overrides: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": SECRET,
        "telegram_token": "123456:TEST",
        "telegram_base_url": fake.base_url,
        **settings,
    }
    runner = None
    port = 0
    if webhook:
        # Bind first to learn the port, then tell the bot its public URL.
        holder: dict[str, Any] = {}

        async def forward(request: Any) -> Any:
            return await holder["service"].handle_webhook(request)

        runner, port = await start_site(build_web_app({"/tg/hook": forward}), "127.0.0.1", 0)
        overrides["webhook_url"] = f"http://127.0.0.1:{port}/tg/hook"
        overrides["webhook_secret"] = WEBHOOK_SECRET
    services = build_services(load_settings(**overrides), clock=clock)
    service = TelegramService(services)
    if webhook:
        holder["service"] = service
    await service.start()
    sender = start_sender(services, {PLATFORM: service.transport}, limits)
    try:
        yield Rig(services, service, sender, port)
    finally:
        await service.stop()
        await sender.stop()
        await service.close()
        if runner is not None:
            await runner.cleanup()
        await services.close()


async def say(
    fake: FakeTelegram, user: User, text: str = "", *, callback: str | None = None
) -> str:
    """Send as the user over Telegram; the bot's next message (or edit) to their chat."""
    chat_id = int(user.account_id)
    before = len(fake.texts_to(chat_id))
    if callback is not None:
        fake.push_callback(chat_id, callback, message_id=1)
    else:
        fake.push_message(chat_id, text)
    await fake.wait_until(lambda: len(fake.texts_to(chat_id)) > before)
    return fake.texts_to(chat_id)[-1]


async def received(fake: FakeTelegram, user: User, marker: str) -> str:
    """Wait until the outbox has delivered a message containing `marker` to the user."""
    chat_id = int(user.account_id)
    await fake.wait_until(lambda: any(marker in t for t in fake.texts_to(chat_id)), 15)
    return next(t for t in reversed(fake.texts_to(chat_id)) if marker in t)


async def press(fake: FakeTelegram, user: User, wanted: str) -> str:
    """Press the button whose data contains `wanted` on the newest message that has
    buttons; returns the text the bot then sent or edited in."""
    chat_id = int(user.account_id)
    await fake.wait_until(lambda: any(wanted in b for b in fake.buttons_on_latest(chat_id)[1]))
    message_id, buttons = fake.buttons_on_latest(chat_id)
    data = next(b for b in buttons if wanted in b)
    before = len(fake.texts_to(chat_id))
    fake.push_callback(chat_id, data, message_id=message_id)
    await fake.wait_until(lambda: len(fake.texts_to(chat_id)) > before)
    return fake.texts_to(chat_id)[-1]
