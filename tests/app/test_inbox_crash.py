"""A service process SIGKILLed at each step of an update's way in (stored, answered, handled)
loses nothing and does nothing twice: the process started after it (same database, same
webhook URL) handles the update exactly once. Telegram's webhook and WeCom's callback alike."""

import asyncio
import signal
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from bot.channels.faults import CRASH_AT
from bot.channels.wecom.convert import CALLBACK_PATH
from tests.support import fake_wecom
from tests.support.fake_telegram import FakeTelegram
from tests.support.fake_wecom import FakeWeCom, WeComMember
from tests.support.processes import (
    ended,
    free_port,
    invite_codes,
    scalar,
    service_env,
    start_service,
    stop_service,
    webhook_env,
)

# Stored and committed, not yet answered / answered 200 / handled and replied, not yet deleted.
CRASH_POINTS = ["inbox.accepted", "webhook.answered", "inbox.handled"]
USER = 9101
WECOM_USER = "zhangsan"
LEASE = "2"  # seconds: the heir takes a dead process's claim over this soon
BOUND = "SELECT COUNT(*) FROM traces WHERE kind = 'member.bound'"


async def _settled(database_url: str, seconds: float = 30) -> None:
    """Wait until the inbox is empty: every update taken in was handled and forgotten."""
    deadline = asyncio.get_running_loop().time() + seconds
    while await scalar(database_url, "SELECT COUNT(*) FROM inbox"):
        assert asyncio.get_running_loop().time() < deadline, "the inbox was not emptied"
        await asyncio.sleep(0.2)


async def _webhook_recorded(database_url: str, seconds: float = 30) -> None:
    """Wait until the process has set the webhook and recorded so, the last of its start."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not await scalar(database_url, "SELECT COUNT(*) FROM webhook_state"):
        assert asyncio.get_running_loop().time() < deadline, "the webhook was never set"
        await asyncio.sleep(0.1)


async def _until(check: Callable[[], bool], seconds: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "gave up waiting"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("point", CRASH_POINTS)
async def test_a_telegram_update_accepted_by_a_killed_process_is_handled_once(
    fake: FakeTelegram, database_url: str, tmp_path: Path, point: str
) -> None:
    [code] = await invite_codes(database_url, ["崩溃测试"])
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    env = webhook_env(
        database_url, fake.base_url, url, listen_port=str(port), inbox_lease_seconds=LEASE
    )
    with (tmp_path / "run.log").open("wb") as log:
        doomed = start_service({**env, CRASH_AT: point}, log)
        await _webhook_recorded(database_url)  # its start is over
        fake.push_message(USER, f"/start {code}")
        assert await ended(doomed) == -signal.SIGKILL
        heir = start_service(env, log)
        try:
            await fake.wait_until(lambda: any("绑定成功" in t for t in fake.texts_to(USER)), 30)
            await _settled(database_url)
        finally:
            assert await stop_service(heir) == 0
    assert sum("绑定成功" in t for t in fake.texts_to(USER)) == 1
    assert await scalar(database_url, BOUND) == 1
    assert fake.count("setWebhook") == 1  # the heir found it already set to the same URL


@pytest.mark.parametrize("point", CRASH_POINTS)
async def test_a_wecom_message_accepted_by_a_killed_process_is_handled_once(
    database_url: str, tmp_path: Path, point: str
) -> None:
    [code] = await invite_codes(database_url, ["企业微信崩溃测试"])
    port = free_port()
    async with FakeWeCom(members={WECOM_USER}) as wecom, aiohttp.ClientSession() as http:
        env = service_env(
            database_url,
            wecom_corp_id=fake_wecom.CORP_ID,
            wecom_agent_id=str(fake_wecom.AGENT_ID),
            wecom_secret=fake_wecom.SECRET,
            wecom_token=fake_wecom.TOKEN,
            wecom_aes_key=fake_wecom.AES_KEY,
            wecom_base_url=wecom.base_url,
            listen_port=str(port),
            inbox_lease_seconds=LEASE,
        )
        member = WeComMember(f"http://127.0.0.1:{port}{CALLBACK_PATH}", WECOM_USER, http)

        def bound() -> bool:
            return any("绑定成功" in t for t in wecom.texts_to(WECOM_USER))

        with (tmp_path / "run.log").open("wb") as log:
            doomed = start_service({**env, CRASH_AT: point}, log)
            await _until(lambda: wecom.tokens_issued >= 1)
            await _until_listening(http, port)
            try:
                await member.text(f"/start {code}")
            except aiohttp.ClientError:  # killed before answering: WeCom would retry
                assert point == "inbox.accepted"
            assert await ended(doomed) == -signal.SIGKILL
            heir = start_service(env, log)
            try:
                await _until(bound)
                await _settled(database_url)
            finally:
                assert await stop_service(heir) == 0
        assert sum("绑定成功" in t for t in wecom.texts_to(WECOM_USER)) == 1
    assert await scalar(database_url, BOUND) == 1


async def _until_listening(http: aiohttp.ClientSession, port: int, seconds: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        assert asyncio.get_running_loop().time() < deadline, "the service never listened"
        await asyncio.sleep(0.1)
