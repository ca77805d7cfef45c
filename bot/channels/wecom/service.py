"""The WeCom side of `branchbot run`: the application's callback URL and its replies, and its
group chats kept in step with the roster (appchats.py).

WeCom posts each message encrypted to our callback and waits at most five seconds for an
answer, retrying otherwise. So the callback checks the signature, decrypts (wechatpy's WeCom
crypto), stores the message in the inbox (committed, encrypted under our own key) and
acknowledges at once; the inbox worker handles it, one member's messages in the order
received, and replies go out through the API. A redelivered message is handled once (the
router's dedup, by MsgId), and one acknowledged is handled even if this process dies.
"""

import logging
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import aiohttp
from aiohttp import web
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException

from bot.app.services import Services
from bot.app.settings import Settings
from bot.channels.budget import paced
from bot.channels.faults import answer, crash_point
from bot.channels.inbox import InboxWorker
from bot.channels.wecom.appchats import AppChatSync
from bot.channels.wecom.client import WeComClient, WeComError
from bot.channels.wecom.convert import (
    CALLBACK_PATH,
    PLATFORM,
    Callback,
    fields,
    log_ref,
    to_incoming,
)
from bot.channels.wecom.deliver import WECOM_LIMITS, WeComTransport, retried
from bot.channels.wecom.render import card_update, text_message
from handlers.core.context import FileUnavailable
from handlers.core.incoming import Attachment
from handlers.core.messages import Reply
from storage.inbox import Arrival
from storage.signals import AfterCommit

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024
FRESHNESS = 600  # seconds


class WeComService:
    def __init__(self, services: Services) -> None:
        self.services = services
        settings: Settings = services.settings
        wecom = settings.require_wecom()
        self.crypto = WeChatCrypto(wecom.token, wecom.aes_key, wecom.corp_id)
        self.client = WeComClient(wecom.base_url, wecom.corp_id, wecom.secret, wecom.agent_id)
        self.transport = WeComTransport(self.client, services.renderer)
        self.inbox = InboxWorker(
            services.sessions,
            services.box,
            PLATFORM,
            self._process,
            concurrency=settings.telegram_concurrency,
            lease=settings.inbox_lease_seconds,
        )
        self.appchats = AppChatSync(
            self.client, services.sessions, services.readers, services.router.clock
        )
        # Every call of a direct answer takes its slot in WeCom's budget, as queued ones do.
        self.budget = services.budgets.of(PLATFORM, WECOM_LIMITS)

    async def start(self) -> None:
        await self.client.token()  # a wrong secret or unreachable API stops start-up here
        self.services.files.register(PLATFORM, self.fetch_file)
        self.services.router.on_commit(AfterCommit.ROSTER_CHANGED, self.appchats.wake)
        self.appchats.start()
        self.inbox.start()

    async def fetch_file(self, _platform: str, attachment: Attachment, limit: int) -> bytes:
        """An image a member sent, by media/get (its MediaId lasts three days)."""
        try:
            return await self.client.media(attachment.file_id, limit)
        except (WeComError, aiohttp.ClientError) as err:
            raise FileUnavailable(f"WeCom refused the media: {err}") from err

    async def close(self, patience: float = 10.0) -> None:
        """Finish the messages in hand (the rest stay in the inbox for the next process),
        then stop; the callback route is closed before this."""
        await self.inbox.stop(patience)
        await self.appchats.stop()
        await self.client.close()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """GET: the URL check when the callback is configured. POST: a message."""
        query = request.query
        signature, stamp, nonce = (
            query.get(k, "") for k in ("msg_signature", "timestamp", "nonce")
        )
        if request.method == "GET":
            try:
                echo = self.crypto.check_signature(
                    signature, stamp, nonce, query.get("echostr", "")
                )
            except Exception as err:  # a bad signature, or an echostr that does not decrypt
                log.warning("WeCom URL check refused (%s)", type(err).__name__)
                return web.Response(status=403, text="forbidden")
            return web.Response(text=echo)
        if (request.content_length or 0) > MAX_BODY:
            return web.Response(status=413, text="too large")
        if not _fresh(stamp):
            log.warning("WeCom callback with a stale or missing timestamp refused")
            return web.Response(status=403, text="forbidden")
        try:
            plain = self.crypto.decrypt_message(await request.text(), signature, stamp, nonce)
        except InvalidSignatureException:
            log.warning("WeCom callback with a bad signature refused")
            return web.Response(status=403, text="forbidden")
        except Exception as err:  # tampered or garbled: never processed
            # Only the kind of failure: the error's text may quote what was decrypted so far
            # (a UnicodeDecodeError holds the bytes), and logs hold no message content.
            log.warning("WeCom callback that does not decrypt refused (%s)", type(err).__name__)
            return web.Response(status=400, text="bad request")
        try:
            callback = to_incoming(fields(plain))
        except ValueError as err:  # signed by WeCom but not what we expect: do not retry
            # Not the error's text: it may quote a field of the message (a user id, a word).
            kind = type(err).__name__
            log.warning("WeCom callback not understood (%s, %d bytes)", kind, len(plain))
            return web.Response(text="success")
        if callback is not None:
            incoming = callback.incoming
            key = incoming.update_key or ""
            await self.inbox.accept([Arrival(PLATFORM, key, incoming.chat_id, plain)])
            crash_point("inbox.accepted")
        # At once (WeCom retries after five seconds), and only once stored.
        return await answer(request, web.Response(text="success"), "webhook.answered")

    async def _process(self, plain: str) -> None:
        """Answer a message from the inbox (the callback's decrypted XML)."""
        callback = to_incoming(fields(plain))
        if callback is not None:
            await self._answer(callback)

    async def _answer(self, callback: Callback) -> None:
        incoming = callback.incoming
        # StoreUnavailable goes up to the inbox, which keeps the message and tries again.
        replies = await self.services.answer(incoming)
        try:
            for reply in replies:
                if reply.edit and callback.response_code:
                    await self._edit(incoming.chat_id, callback, reply)
                    callback = Callback(incoming)  # a response code serves once
                else:
                    await self.transport.send_reply(incoming.chat_id, reply, call=self._call)
        except WeComError as err:
            log.warning("reply to WeCom user %s failed: %s", log_ref(incoming.chat_id), err)
        except Exception:
            log.exception("handling WeCom message %s failed", incoming.update_key)

    async def _edit(self, userid: str, callback: Callback, reply: Reply) -> None:
        """Show an edit on the card that was pressed (render.card_update says how); each
        call is retried as any direct answer's."""
        update = card_update(reply, self.services.renderer, callback.task_id)
        code = callback.response_code or ""
        try:
            await self._call(lambda: self.client.update_card(userid, code, update.change))
        except WeComError as err:  # expired code or a deleted card: send it anew instead
            log.info("could not update the WeCom card (%s); sending anew", err)
            await self.transport.send_reply(userid, reply, call=self._call)
            return
        if update.resend:
            await self.transport.send_reply(userid, reply, call=self._call)
        for text in update.texts:
            await self._call(partial(self.client.send, userid, text_message(text)))

    async def _call(self, request: Callable[[], Awaitable[Any]]) -> Any:
        """One API call of a direct answer: its slot in the budget, then the call, retried
        (each try takes a slot of its own)."""
        return await retried(paced(self.budget, request))


def _fresh(stamp: str) -> bool:
    """A callback's timestamp within ten minutes of now: an old captured one is not replayed
    after its message id has been forgotten."""
    try:
        return abs(time.time() - int(stamp)) <= FRESHNESS
    except ValueError:
        return False


__all__ = ["CALLBACK_PATH", "PLATFORM", "WeComService"]
