"""How a direct answer (a reply to the person who just wrote) is retried: one policy for
every platform, so a member on WeCom is answered as reliably as one on Telegram.

Each platform call is retried on its own (so a retry never repeats an earlier part of the
answer), and only on errors worth another try, which each adapter names: a busy server, a
5xx, a dropped connection. A timeout is not among them: the message may have arrived, and a
duplicate is worse than a delay. Queued messages are not retried here: the outbox sender owns
their retries, which survive restarts.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

T = TypeVar("T")
# Tried this many times in all, waiting 0.5 s, then 1 s, between tries.
ATTEMPTS = 3
FIRST_RETRY_WAIT = 0.5


async def call_retried(
    request: Callable[[], Awaitable[T]], transient: Callable[[BaseException], bool]
) -> T:
    """One platform call, tried again after a `transient` error (ATTEMPTS in all).

    The first try goes without tenacity: setting up its retry loop for every answer cost
    more than the rest of sending one, and nearly every call succeeds at once."""
    try:
        return await request()
    except Exception as err:
        if not transient(err):
            raise
    await asyncio.sleep(FIRST_RETRY_WAIT)
    async for attempt in AsyncRetrying(
        retry=retry_if_exception(transient),
        stop=stop_after_attempt(ATTEMPTS - 1),
        wait=wait_exponential(multiplier=2 * FIRST_RETRY_WAIT, max=4),
        reraise=True,
    ):
        with attempt:
            return await request()
    raise AssertionError("unreachable: tenacity reraises the last error")


async def call_once(request: Callable[[], Awaitable[T]]) -> T:
    """One platform call, not retried: for the outbox, whose sender decides what follows."""
    return await request()
