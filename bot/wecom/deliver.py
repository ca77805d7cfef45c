"""Sending a Reply through WeCom's API: for answers to users and for the outbox.

For the outbox, WeCom's error codes map to the sender's outcomes, as Telegram's 429 and 403
do: frequency limits pause the queue, a member outside the application's scope is blocked,
a refused message is not retried, and the rest is retried later.
"""

import logging

from bot.i18n import Renderer
from bot.outbox import Blocked, Failed, Limits, Outcome, Sent, Throttled
from bot.wecom.client import WeComClient, WeComError
from bot.wecom.render import render, text_message
from handlers.messages import Reply

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


class WeComTransport:
    def __init__(self, client: WeComClient, renderer: Renderer) -> None:
        self.client = client
        self.renderer = renderer

    async def send_reply(self, userid: str, reply: Reply) -> list[str]:
        """Send one reply (media first, then text, then cards); the msgids of what went out.
        Raises WeComError, with what went out before it in `sent`."""
        messages = await self._messages(reply)
        sent: list[str] = []
        for message in messages:
            try:
                sent.append(str((await self.client.send(userid, message)).get("msgid", "")))
            except WeComError as err:
                if message.get("msgtype") in ("image", "file") and reply.forward is not None:
                    # A file from another platform (or expired after three days) has no
                    # WeCom media id: the text still goes.
                    log.info("forwarded file not on WeCom (%s); sending the text alone", err)
                    continue
                err.sent = sent
                raise
        return sent

    async def _messages(self, reply: Reply) -> list[dict[str, object]]:
        media = await self._media(reply)
        shown = render(reply, self.renderer)
        return [
            *([media] if media is not None else []),
            *(text_message(text) for text in shown.texts),
            *({"msgtype": "template_card", "template_card": card} for card in shown.cards),
        ]

    async def _media(self, reply: Reply) -> dict[str, object] | None:
        if reply.image is not None:
            media_id = await self.client.upload("image", "image.png", reply.image)
            return {"msgtype": "image", "image": {"media_id": media_id}}
        if reply.file is not None:
            media_id = await self.client.upload("file", reply.file.name, reply.file.content)
            return {"msgtype": "file", "file": {"media_id": media_id}}
        if reply.forward is not None:  # a member's upload, by its (temporary) media id
            kind = "image" if reply.forward.kind == "photo" else "file"
            return {"msgtype": kind, kind: {"media_id": reply.forward.file_id}}
        return None

    async def deliver(self, chat_id: str, reply: Reply) -> Outcome:
        try:
            sent = await self.send_reply(chat_id, reply)
        except WeComError as err:
            if err.sent:
                # Part of it went out (the text, say, but not its card): trying again would
                # repeat that part, which is worse than the missing rest.
                log.warning("queued reply to %s sent in part: %s", chat_id, err)
                return Sent(err.sent[-1])
            if err.errcode in THROTTLED:
                return Throttled(THROTTLED[err.errcode])
            if err.errcode in BLOCKED:
                return Blocked(str(err))
            return Failed(str(err), permanent=err.errcode in REFUSED)
        except Exception as err:  # network trouble: retried by the sender
            return Failed(f"{type(err).__name__}: {err}")
        if not sent:
            return Failed("nothing to send: the message is empty", permanent=True)
        return Sent(sent[-1])
