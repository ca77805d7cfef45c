"""PTB's rate limiter for direct answers, drawing on the platform's sending budget (shared by
every process on PostgreSQL: bot/channels/budget.py), instead of PTB's own AIORateLimiter,
whose budget lived in each process.

Every call that sends or changes a message takes a slot first, and one to a group chat its
turn in the group's limit too; a retry is another call. Other calls (answering a button
press, menus, files, getUpdates) are no messages and go at once. A 429 pauses the platform
for every process and the call is tried again after it (up to `retries` times)."""

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.channels.budget import Budget
from bot.channels.telegram.deliver import retry_seconds

MESSAGES = ("send", "edit", "copy", "forward")  # what Telegram counts as messages
Answer = bool | dict[str, Any] | list[dict[str, Any]]


def group_of(data: dict[str, Any]) -> str | None:
    """The chat a call writes to, when it is a group or channel (a negative id, or @name)."""
    chat = data.get("chat_id")
    if isinstance(chat, str) and not chat.lstrip("-").isdigit():
        return chat
    try:
        return str(chat) if chat is not None and int(chat) < 0 else None
    except (TypeError, ValueError):
        return None


class BudgetLimiter(BaseRateLimiter[int]):
    def __init__(self, budget: Budget, retries: int = 3) -> None:
        self.budget = budget
        self.retries = retries

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Answer]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Answer:
        counted = endpoint.startswith(MESSAGES)
        group = group_of(data)
        retries = self.retries if rate_limit_args is None else rate_limit_args
        for attempt in range(retries + 1):
            if counted:
                await self.budget.take(group=group)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as err:
                seconds = retry_seconds(err)
                await self.budget.pause(seconds)
                if attempt == retries:
                    raise
                if not counted:  # no slot to wait for: wait out the pause here
                    await asyncio.sleep(seconds)
        raise AssertionError("unreachable: the last attempt returns or raises")
