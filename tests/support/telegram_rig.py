"""Runs the real bot (PTB Application + router + store) against the fake Bot API, in-process."""

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
