"""The outbox's way into Telegram: one queued message, one outcome, no retries of its own.

The sender owns retries (they survive restarts) and pacing, so this uses a Bot of its own,
without PTB's rate limiter, which would wait and retry out of the sender's sight.
"""

import logging
import warnings
from datetime import timedelta

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from bot.channels.direct import call_once
from bot.channels.outbox import Blocked, Failed, Outcome, Sent, Throttled
from bot.channels.telegram.send import TEXT_LIMIT, keyboard, post
from handlers.core.i18n import Renderer
from handlers.core.messages import Reply

log = logging.getLogger(__name__)


def retry_seconds(err: RetryAfter) -> float:
    """PTB 22 gives an int (with a deprecation warning) or a timedelta (PTB_TIMEDELTA=1)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = err.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramTransport:
    def __init__(self, bot: Bot, renderer: Renderer) -> None:
        self.bot = bot
        self.renderer = renderer

    async def deliver(self, chat_id: str, reply: Reply, to_group: bool = False) -> Outcome:
        """One queued message (`to_group` changes nothing: a group is a chat like any other)."""
        text = self.renderer.render(reply.text) if reply.text is not None else ""
        if len(text) > TEXT_LIMIT:
            # One queued row must be one message: a split one could be repeated in part.
            log.warning("queued text of %d characters cut to %d", len(text), TEXT_LIMIT)
            text = text[: TEXT_LIMIT - 1] + "…"
        markup = keyboard(reply, self.renderer)
        if reply.replaces is not None:
            return await self._edit(chat_id, reply.replaces, text, markup)
        try:
            try:
                message = await post(self.bot, int(chat_id), reply, text, markup, call_once)
            except ChatMigrated as moved:  # a group became a supergroup: it lives on there
                new_id = int(moved.new_chat_id)
                message = await post(self.bot, new_id, reply, text, markup, call_once)
        except RetryAfter as err:
            return Throttled(retry_seconds(err))
        except Forbidden as err:
            return Blocked(str(err))
        except TelegramError as err:  # network, 5xx, timeouts and refusals alike
            return Failed(f"{type(err).__name__}: {err}")
        if message is None:
            return Failed("nothing to send: the message is empty")
        return Sent(str(message.message_id))

    async def _edit(
        self, chat_id: str, message_id: str, text: str, markup: InlineKeyboardMarkup | None
    ) -> Outcome:
        """A live group post edited in place (its count, its list)."""
        try:
            await call_once(
                lambda: self.bot.edit_message_text(
                    text, chat_id=int(chat_id), message_id=int(message_id), reply_markup=markup
                )
            )
        except RetryAfter as err:
            return Throttled(retry_seconds(err))
        except Forbidden as err:
            return Blocked(str(err))
        except BadRequest as err:
            if "not modified" in str(err).lower():
                return Sent(message_id)  # it shows this already
            return Failed(f"BadRequest: {err}", permanent=True)  # deleted, or too old
        except TelegramError as err:
            return Failed(f"{type(err).__name__}: {err}")
        return Sent(message_id)
