"""Sending a Reply through WeCom's API: for answers to users and for the outbox.

A direct answer's calls are retried as Telegram's are (bot/channels/direct.py). For the outbox,
WeCom's error codes map to the sender's outcomes, as Telegram's 429 and 403 do: frequency
limits pause the queue, a member outside the application's scope is blocked, a refused
message is not retried, and the rest is retried later. A queued reply may go out as several
messages (a long text, then its card): a retry resumes after the parts already delivered.
"""

import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import aiohttp

from bot.channels.direct import call_once, call_retried
from bot.channels.outbox import Blocked, Failed, Limits, Outcome, Sent, Throttled
from bot.channels.wecom.client import WeComClient, WeComError
from bot.channels.wecom.convert import log_ref
from bot.channels.wecom.render import group_texts, render, text_message
from handlers.core.i18n import Renderer
from handlers.core.messages import Reply

log = logging.getLogger(__name__)
# WeCom drops messages beyond 30 a minute to one member, and allows each API about 10,000
# calls a minute per company; the daily quota (200 per licensed account) shows as 45009.
# A queued row may be two messages (a text, then its card): 15 rows a minute stays within 30.
WECOM_LIMITS = Limits(per_second=50.0, chat_per_second=0.25)
# 45009: API calls over the limit (per minute or the daily quota); 45033: too many at once.
THROTTLED = {45009: 60.0, 45033: 2.0}
# 60111/81013: no such member, or not in the application's visible range. (60020, the
# server's IP not among the trusted ones, is the installation's fault: retried, not blocked.)
BLOCKED = frozenset({60111, 81013})
# The message itself is wrong: trying again cannot help.
REFUSED = frozenset({40003, 40007, 40008, 41006, 44004, 45002, 82001})
# Worth another try at once for a direct answer: -1 (system busy), 45033 (too many calls at
# the same moment) and a 5xx (the client reports HTTP 500 as -500).
BUSY = frozenset({-1, 45033})

Message = dict[str, Any]
Call = Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]]
# Not WeCom's answer but no answer at all (a dropped connection, a timeout).
NETWORK = -2
# A part already delivered on an earlier attempt: neither uploaded nor sent again.
_SKIPPED: Message = {"msgtype": "skipped"}


def transient(err: BaseException) -> bool:
    """Errors a direct answer is retried after (the policy in bot/channels/direct.py): WeCom busy, a
    5xx, a dropped connection. Not a timeout: the message may have arrived."""
    if isinstance(err, WeComError):
        return err.errcode in BUSY or err.errcode <= -500
    return isinstance(err, aiohttp.ClientConnectionError) and not isinstance(
        err, aiohttp.ServerTimeoutError
    )


async def retried(request: Callable[[], Awaitable[Any]]) -> Any:
    """One API call of a direct answer, retried as Telegram's are."""
    return await call_retried(request, transient)


class WeComTransport:
    def __init__(self, client: WeComClient, renderer: Renderer) -> None:
        self.client = client
        self.renderer = renderer

    async def send_reply(
        self,
        userid: str,
        reply: Reply,
        *,
        call: Call = retried,
        skip: int = 0,
        group: bool = False,
    ) -> list[str]:
        """Send one reply (media first, then text, then cards), each call made through `call`
        (retried for a direct answer); the msgids of what went out. The first `skip` parts
        went out before and are left out. `group`: `userid` is an application chat's id,
        sent to with appchat/send, which shows no cards (render.group_texts). Raises
        WeComError, with `done` (the parts out before it, counting the skipped) and `sent`."""
        send = self.client.send_to_chat if group else self.client.send
        messages = await self._messages(reply, skip, call, group)
        sent: list[str] = []
        for index, message in enumerate(messages):
            if index < skip:
                continue
            try:
                body = await call(partial(send, userid, message))
                sent.append(str(body.get("msgid", "")))
            except WeComError as err:
                if message.get("msgtype") in ("image", "file") and reply.forward is not None:
                    # A file from another platform (or expired after three days) has no
                    # WeCom media id: the text still goes.
                    log.info("forwarded file not on WeCom (%s); sending the text alone", err)
                    continue
                err.sent, err.done = sent, index
                raise
            except Exception as err:  # network trouble: said as an error that knows how far
                failure = WeComError(NETWORK, f"{type(err).__name__}: {err}")
                failure.sent, failure.done = sent, index
                raise failure from err
        return sent

    async def _messages(self, reply: Reply, skip: int, call: Call, group: bool) -> list[Message]:
        if group:
            texts, cards = group_texts(reply, self.renderer), []
        else:
            shown = render(reply, self.renderer)
            texts, cards = shown.texts, shown.cards
        messages = [
            *(text_message(text) for text in texts),
            *({"msgtype": "template_card", "template_card": card} for card in cards),
        ]
        has_media = reply.image is not None or reply.file is not None or reply.forward is not None
        if has_media and skip > 0:
            return [_SKIPPED, *messages]
        media = await self._media(reply, call)
        return [*([media] if media is not None else []), *messages]

    async def _media(self, reply: Reply, call: Call) -> Message | None:
        """The reply's image or file as a message, uploaded first (media are never queued,
        so only a direct answer uploads)."""
        if reply.image is not None:
            image = reply.image
            media_id = await call(lambda: self.client.upload("image", "image.png", image))
            return {"msgtype": "image", "image": {"media_id": media_id}}
        if reply.file is not None:
            file = reply.file
            media_id = await call(lambda: self.client.upload("file", file.name, file.content))
            return {"msgtype": "file", "file": {"media_id": media_id}}
        if reply.forward is not None:  # a member's upload, by its (temporary) media id
            kind = "image" if reply.forward.kind == "photo" else "file"
            return {"msgtype": kind, kind: {"media_id": reply.forward.file_id}}
        return None

    async def deliver(self, chat_id: str, reply: Reply, to_group: bool = False) -> Outcome:
        """A queued reply: one outcome for all its parts, no retries of its own. For a group
        (`to_group`), `chat_id` is an application chat's."""
        return await self.resume(chat_id, reply, 0, to_group)

    async def resume(
        self, chat_id: str, reply: Reply, done: int, to_group: bool = False
    ) -> Outcome:
        """A queued reply whose first `done` parts went out on an earlier attempt: the rest.
        A part that fails makes the whole a failure (with how far it got), retried by the
        sender from that part on; nothing is counted sent until every part is."""
        if reply.replaces is not None:  # live posts are not edited here (groups.live.EDITABLE)
            return Failed("a WeCom message cannot be edited once sent", permanent=True)
        try:
            sent = await self.send_reply(chat_id, reply, call=call_once, skip=done, group=to_group)
        except WeComError as err:
            if err.done > done:
                log.warning(
                    "queued reply to %s sent in part (%d); the rest is retried: %s",
                    log_ref(chat_id), err.done, err,
                )  # fmt: skip
            return _outcome(err)
        except Exception as err:  # an upload's network trouble: retried by the sender
            return Failed(f"{type(err).__name__}: {err}", done=done)
        if not sent and not done:
            return Failed("nothing to send: the message is empty", permanent=True)
        return Sent(sent[-1] if sent else "")


def _outcome(err: WeComError) -> Outcome:
    """What a WeCom error means for a queued row, keeping how many parts went out."""
    if err.errcode in THROTTLED:
        return Throttled(THROTTLED[err.errcode], done=err.done)
    if err.errcode in BLOCKED:
        return Blocked(str(err))
    error = f"{err} (after {err.done} part(s))" if err.done else str(err)
    return Failed(error, permanent=err.errcode in REFUSED, done=err.done)
