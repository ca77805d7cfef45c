"""Every process shares one webhook URL and secret, so the webhook is set by the first
process to start and left alone by the others; a new secret, or a webhook someone else
changed, is set again; a process still starting asks Telegram to post again later."""

import aiohttp
from sqlalchemy import text

from bot.app.services import build_services
from bot.app.settings import load_settings
from bot.channels.telegram.service import TelegramService
from bot.web.server import build_web_app, start_site
from tests.conftest import SECRET
from tests.support.fake_telegram import FakeTelegram

URL = "https://dj.example.edu/telegram"  # the public URL, behind the proxy (never posted to)


async def _start_and_stop(fake: FakeTelegram, database_url: str, secret: str) -> None:
    settings = load_settings(
        database_url=database_url,
        secret_key=SECRET,
        telegram_token="123456:TEST",
        telegram_base_url=fake.base_url,
        webhook_url=URL,
        webhook_secret=secret,
    )
    services = build_services(settings)
    service = TelegramService(services)
    try:
        await service.start()
        await service.stop()
        await service.close()
    finally:
        await services.close()


async def test_the_webhook_is_set_once_and_again_only_when_it_changed(
    fake: FakeTelegram, database_url: str
) -> None:
    await _start_and_stop(fake, database_url, "first-secret")
    await _start_and_stop(fake, database_url, "first-secret")  # a second process
    assert fake.count("setWebhook") == 1
    assert (fake.webhook_url, fake.webhook_secret) == (URL, "first-secret")
    await _start_and_stop(fake, database_url, "second-secret")  # Telegram cannot show it
    assert fake.count("setWebhook") == 2 and fake.webhook_secret == "second-secret"
    fake.webhook_url = "https://elsewhere.example/hook"  # e.g. a developer's copy took it
    await _start_and_stop(fake, database_url, "second-secret")
    assert fake.count("setWebhook") == 3 and fake.webhook_url == URL


async def test_a_post_before_the_service_has_started_is_answered_503(
    fake: FakeTelegram, database_url: str
) -> None:
    """Behind a balancer a process may get posts while it still starts: Telegram is told to
    try again (it does), and nothing is stored or half-done."""
    settings = load_settings(
        database_url=database_url,
        secret_key=SECRET,
        telegram_token="123456:TEST",
        telegram_base_url=fake.base_url,
        webhook_url=URL,
        webhook_secret="first-secret",
    )
    services = build_services(settings)
    service = TelegramService(services)
    runner, port = await start_site(build_web_app({"/tg": service.handle_webhook}), "127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as http:
            headers = {"X-Telegram-Bot-Api-Secret-Token": "first-secret"}
            update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "text": "hi",
                      "chat": {"id": 5, "type": "private"}}}  # fmt: skip
            posted = await http.post(f"http://127.0.0.1:{port}/tg", json=update, headers=headers)
            assert posted.status == 503
        async with services.engine.connect() as conn:
            assert await conn.scalar(text("SELECT COUNT(*) FROM inbox")) == 0
    finally:
        await runner.cleanup()
        await services.close()
