"""How Telegram's updates reach the inbox: each webhook post, or each getUpdates batch, is
stored (committed) before Telegram is told it arrived; the webhook is set only when it is not
already ours; and only one process on a database polls.

Telegram forgets an update once our webhook answered 200, or once a later getUpdates gives an
offset past it, and never sends it again: so both wait for the inbox's commit.
"""

import asyncio
import contextlib
import json
import logging
from typing import Any
from urllib.parse import urlencode

from telegram import Bot
from telegram.error import Conflict, TelegramError
from telegram.request import BaseRequest

from bot.app.services import Services
from bot.app.settings import PREFIX, ConfigError
from bot.channels.inbox import InboxWorker, wall_clock
from bot.channels.telegram.convert import PLATFORM
from storage import inbox
from storage.inbox import Arrival
from storage.leader import Leadership

log = logging.getLogger(__name__)
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
POLL_TIMEOUT = 30  # seconds a getUpdates call waits for news
READ_SLACK = 10  # seconds beyond it before the answer counts as lost
PAUSE = 5.0  # seconds after a failure (Telegram, the network or the database)
POLLER = "poller"  # the leadership role of the one process that polls


def arrival(data: dict[str, Any], bot_id: int) -> Arrival:
    """An update (its JSON, with a numeric update_id) for the inbox, keyed as the router keys
    it and ordered within its chat by update_id; one without a chat is a chat of its own."""
    update_id = int(data["update_id"])
    key = f"{bot_id}:{update_id}"
    chat = _chat_id(data)
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Arrival(PLATFORM, key, f"update:{key}" if chat is None else str(chat), body, update_id)


def _chat_id(data: dict[str, Any]) -> object:
    """The chat an update is in, read from its JSON as PTB's effective_chat reads it: the
    `chat` of its one content object (message, member change …), or of the message a
    button was on. (Parsing the whole update into PTB's objects cost more than storing it.)"""
    for value in data.values():
        if isinstance(value, dict):
            chat = value.get("chat") or (value.get("message") or {}).get("chat")
            return chat.get("id") if isinstance(chat, dict) else None
    return None


async def set_webhook_once(bot: Bot, url: str, secret: str | None, services: Services) -> bool:
    """Set the webhook unless Telegram already posts to this URL with this secret (every
    process shares them, so the first to start sets it); True if it was set now. Telegram
    shows the URL but never the secret: a keyed fingerprint of what was set is kept."""
    fingerprint = services.box.mac(json.dumps([url, secret, ALLOWED_UPDATES]).encode())
    info = await bot.get_webhook_info()
    async with services.readers() as session:
        known = await inbox.webhook_fingerprint(session, PLATFORM)
    if info.url == url and known == fingerprint:
        log.info("Telegram webhook already set to %s", url)
        return False
    await bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
    async with services.sessions.begin() as session:
        await inbox.webhook_registered(session, PLATFORM, fingerprint, wall_clock())
    log.info("Telegram webhook set to %s", url)
    return True


class Poller:
    """getUpdates in a loop, each batch into the inbox before the next call's offset tells
    Telegram it arrived. Telegram answers a second poller with 409, so only the process that
    leads the `poller` role on the database polls; another refuses to start."""

    def __init__(
        self, bot: Bot, request: BaseRequest, worker: InboxWorker, leadership: Leadership
    ) -> None:
        self.bot = bot
        self.request = request  # the bot's own for getUpdates (PTB sets it up and closes it)
        self.worker = worker
        self.leadership = leadership
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if not await self.leadership.try_acquire():
            raise ConfigError(
                f"{PREFIX}WEBHOOK_URL",
                "another branchbot process already polls Telegram for this database (Telegram"
                " lets one poll at a time); stop it, or set a webhook URL to run several",
            )
        await self.bot.delete_webhook()  # getUpdates is refused while a webhook is set
        self._task = asyncio.create_task(self._run(), name="telegram-poller")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.leadership.release()

    async def _run(self) -> None:
        offset: int | None = None
        while True:
            try:
                offset = await self._batch(offset)
            except Conflict as err:
                log.error("Telegram refused getUpdates: %s (is another bot polling?)", err)
                await asyncio.sleep(PAUSE)
            except TelegramError as err:  # network trouble, or Telegram's own
                log.warning("getUpdates failed: %s", err)
                await asyncio.sleep(PAUSE)
            except Exception:  # the inbox: the same batch comes again with the same offset
                log.exception("could not store fetched Telegram updates")
                await asyncio.sleep(PAUSE)

    async def _batch(self, offset: int | None) -> int | None:
        """One getUpdates, stored; the offset that acknowledges it."""
        if not await self.leadership.check() and not await self.leadership.try_acquire():
            log.error("lost the %s role to another process; not polling", POLLER)
            await asyncio.sleep(PAUSE)
            return offset
        updates = await self._get_updates(offset)
        if not updates:
            return offset
        await self.worker.accept([arrival(data, self.bot.id) for data in updates])
        return int(updates[-1]["update_id"]) + 1

    async def _get_updates(self, offset: int | None) -> list[dict[str, Any]]:
        """getUpdates as JSON: Bot.get_updates would build PTB's objects of every update, and
        storing them would take them apart again (the two were most of the inbox's cost)."""
        query = {"timeout": POLL_TIMEOUT, "allowed_updates": json.dumps(ALLOWED_UPDATES)}
        if offset is not None:
            query["offset"] = offset
        url = f"{self.bot.base_url}/getUpdates?{urlencode(query)}"
        # A GET answered as any Bot API call (errors raise as they would from the Bot).
        payload = await self.request.retrieve(url, read_timeout=POLL_TIMEOUT + READ_SLACK)
        updates = json.loads(payload)["result"]
        return [u for u in updates if isinstance(u, dict) and type(u.get("update_id")) is int]
