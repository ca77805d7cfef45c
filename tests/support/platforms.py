"""One bot on both platforms at once (fake Telegram and fake WeCom over HTTP), and a driver
per platform with the same verbs, so a scenario written once runs on each."""

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

import aiohttp
from eviltransform import wgs2gcj

from bot.app.services import Services, build_services
from bot.app.settings import load_settings
from bot.channels.outbox import OutboxSender
from bot.channels.telegram.convert import PLATFORM as TELEGRAM
from bot.channels.telegram.service import TelegramService
from bot.channels.wecom.convert import PLATFORM as WECOM
from bot.channels.wecom.robot import ROBOT_PLATFORM, RobotTransport, resolver
from bot.channels.wecom.service import CALLBACK_PATH, WeComService
from bot.serve import start_sender
from bot.web.server import build_web_app, start_site
from handlers.core.router import Clock
from scheduler.context import JobContext, use
from tests.conftest import SECRET
from tests.support import fake_wecom
from tests.support.chat import Chat
from tests.support.chat import Clock as TestClock
from tests.support.fake_telegram import FakeTelegram
from tests.support.fake_wecom import FakeWeCom, WeComMember
from tests.support.telegram_rig import FAST_RETRIES


@dataclass
class Both:
    services: Services
    telegram: FakeTelegram
    wecom: FakeWeCom
    callback_url: str
    http: aiohttp.ClientSession
    sender: OutboxSender


@asynccontextmanager
async def both_platforms(
    database_url: str, clock: Clock, **overrides: object
) -> AsyncIterator[Both]:
    async with FakeTelegram() as telegram, FakeWeCom() as wecom:
        settings = load_settings(
            database_url=database_url,
            secret_key=SECRET,
            telegram_token="123456:TEST",
            telegram_base_url=telegram.base_url,
            wecom_corp_id=fake_wecom.CORP_ID,
            wecom_agent_id=fake_wecom.AGENT_ID,
            wecom_secret=fake_wecom.SECRET,
            wecom_token=fake_wecom.TOKEN,
            wecom_aes_key=fake_wecom.AES_KEY,
            wecom_base_url=wecom.base_url,
            **overrides,
        )
        services = build_services(settings, clock=clock)
        use(JobContext(services.sessions, services.box, services.router.options, clock))
        tg, wc = TelegramService(services), WeComService(services)
        web_runner, port = await start_site(
            build_web_app({}, {CALLBACK_PATH: wc.handle}), "127.0.0.1", 0
        )
        await tg.start()
        await wc.start()
        # A group robot that hit its limit rests half a second here, not a minute.
        robots = RobotTransport(resolver(services.readers, services.box), services.renderer, 0.5)
        transports = {TELEGRAM: tg.transport, WECOM: wc.transport, ROBOT_PLATFORM: robots}
        sender = start_sender(services, transports, FAST_RETRIES)  # type: ignore[arg-type]
        http = aiohttp.ClientSession()
        try:
            url = f"http://127.0.0.1:{port}{CALLBACK_PATH}"
            yield Both(services, telegram, wecom, url, http, sender)
        finally:
            await http.close()
            await web_runner.cleanup()
            await tg.stop()
            await sender.stop()
            await robots.close()
            await tg.close()
            await wc.close()
            await services.close()


class Driver(Protocol):
    """A person on one platform: what they can do and what they have been sent."""

    platform: str
    account_id: str

    async def say(self, text: str) -> None: ...
    async def press(self, wanted: str) -> None: ...
    async def share_location(self, latitude: float, longitude: float) -> None: ...
    def texts(self) -> list[str]: ...


class TelegramUser:
    platform = TELEGRAM

    def __init__(self, fake: FakeTelegram, chat_id: int) -> None:
        self.fake = fake
        self.account_id = str(chat_id)
        self.chat_id = chat_id

    async def say(self, text: str) -> None:
        self.fake.push_message(self.chat_id, text)

    async def press(self, wanted: str) -> None:
        """The newest button whose data contains `wanted`, once it is there."""
        fake, chat = self.fake, self.chat_id
        await fake.wait_until(lambda: any(wanted in b for b in fake.buttons_on_latest(chat)[1]))
        message_id, buttons = fake.buttons_on_latest(chat)
        fake.push_callback(chat, next(b for b in buttons if wanted in b), message_id=message_id)

    async def share_location(self, latitude: float, longitude: float) -> None:
        self.fake.push_location(self.chat_id, latitude, longitude)

    def texts(self) -> list[str]:
        return self.fake.texts_to(self.chat_id)


class WeComUser:
    platform = WECOM

    def __init__(self, both: Both, userid: str) -> None:
        self.fake = both.wecom
        self.account_id = userid
        self.member = WeComMember(both.callback_url, userid, both.http)
        both.wecom.members.add(userid)

    async def say(self, text: str) -> None:
        assert await self.member.text(text) == 200

    async def press(self, wanted: str) -> None:
        """The newest card button whose key contains `wanted`, once it is there."""

        def keys() -> list[str]:
            card = self.fake.latest_card(self.account_id)
            return [b["key"] for b in card["button_list"]] if card else []

        await self.fake.wait_until(lambda: any(wanted in k for k in keys()))
        card = self.fake.latest_card(self.account_id)
        assert card is not None
        key = next(k for k in keys() if wanted in k)
        assert await self.member.press(key, card["task_id"]) == 200

    async def share_location(self, latitude: float, longitude: float) -> None:
        """As WeChat's map reports it: in GCJ-02."""
        assert await self.member.location(*wgs2gcj(latitude, longitude)) == 200

    def texts(self) -> list[str]:
        return self.fake.texts_to(self.account_id)


async def heard(user: Driver, marker: str, since: int = 0, seconds: float = 10.0) -> str:
    """Wait until the user has been sent a text containing `marker` (among those from the
    `since`-th on); returns it."""
    fake = user.fake  # type: ignore[attr-defined]
    await fake.wait_until(lambda: any(marker in t for t in user.texts()[since:]), seconds)
    return next(t for t in reversed(user.texts()[since:]) if marker in t)


# Chat numbers for the people the scenarios make, apart from the other tests' users.
chat_numbers = itertools.count(7_000_001)


async def person(
    both: Both, clock: TestClock, platform: str, name: str, **kwargs: object
) -> Driver:
    """A member called `name`, bound on `platform` with their invite code."""
    _, code = await Chat(both.services, clock).enrol(name, **kwargs)  # type: ignore[arg-type]
    number = next(chat_numbers)
    user: Driver
    if platform == "telegram":
        user = TelegramUser(both.telegram, number)
    else:
        user = WeComUser(both, f"user{number}")
    await user.say(f"/start {code}")
    await heard(user, "绑定成功")
    return user
