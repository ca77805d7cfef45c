"""The outbox's way into a WeCom group robot (群机器人): a POST of text to the robot's webhook.

The webhook address is the robot's only key, kept encrypted with its group: it is read
when a message goes, so a robot unbound meanwhile posts nothing, and it never appears in a
log or an error. A robot takes 20 messages a minute (paced by the sender, ROBOT_LIMITS); its
answers map to the sender's outcomes as the application's do (45009: over the limit).
"""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.outbox import Blocked, Failed, Limits, Outcome, Sent, Throttled
from bot.channels.wecom.client import TIMEOUT
from bot.channels.wecom.deliver import REFUSED
from bot.channels.wecom.render import group_texts, text_message
from handlers.core.i18n import Renderer
from handlers.core.messages import Reply
from handlers.groups.robot import ROBOT_PLATFORM, robot_url
from storage.crypto import SecretBox

log = logging.getLogger(__name__)
# 20 a minute per robot; 19 leaves room for the clocks of our pacing and WeCom's window.
ROBOT_LIMITS = Limits(per_second=20.0, group_per_minute=19.0)
RATE_LIMITED = 45009  # a minute's 20 used up: WeCom refuses the robot for the rest of it
PAUSE = 60.0
# The webhook's key is wrong, or the robot was removed from its group.
GONE = frozenset({93000, 93004})

# The robot's webhook address for its outbox chat id (None: no longer bound).
Resolver = Callable[[str], Awaitable[str | None]]


def resolver(readers: async_sessionmaker[AsyncSession], box: SecretBox) -> Resolver:
    async def resolve(chat_id: str) -> str | None:
        async with readers() as session:
            return await robot_url(session, box, chat_id)

    return resolve


class RobotTransport:
    def __init__(self, resolve: Resolver, renderer: Renderer, pause: float = PAUSE) -> None:
        self.resolve = resolve
        self.renderer = renderer
        self.pause = pause  # how long a rate-limited robot rests (tests shorten it)
        self._http: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def deliver(self, chat_id: str, reply: Reply, to_group: bool = True) -> Outcome:
        return await self.resume(chat_id, reply, 0, to_group)

    async def resume(self, chat_id: str, reply: Reply, done: int, to_group: bool = True) -> Outcome:
        """Post the reply's text pieces from the `done`-th on (a long text is several)."""
        if reply.replaces is not None:
            return Failed("a group robot's message cannot be edited", permanent=True)
        url = await self.resolve(chat_id)
        if url is None:
            return Failed("the group robot is no longer bound", permanent=True)
        pieces = group_texts(reply, self.renderer)
        if not pieces:
            return Failed("nothing to send: the message is empty", permanent=True)
        for index in range(done, len(pieces)):
            outcome = await self._post(url, pieces[index], index)
            if outcome is not None:
                return outcome
        return Sent("")  # a robot's post has no id: it can be neither edited nor recalled

    async def _post(self, url: str, text: str, index: int) -> Outcome | None:
        """One piece: None when it went, else what stopped it (`index` pieces went before)."""
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=TIMEOUT)
        try:
            async with self._http.post(url, json=text_message(text)) as response:
                if response.status >= 400:
                    return Failed(f"HTTP {response.status}", done=index)
                body: dict[str, Any] = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as err:
            # Only the kind: an aiohttp error may quote the address, and with it the key.
            return Failed(f"{type(err).__name__} posting to a group robot", done=index)
        code = int(body.get("errcode", 0) or 0)
        if not code:
            return None
        error = f"group robot error {code}: {body.get('errmsg', '')}"[:200]
        if code == RATE_LIMITED:
            return Throttled(self.pause, done=index, chat_only=True)  # each robot its own limit
        if code in GONE:
            return Blocked(error)
        return Failed(error, permanent=code in REFUSED, done=index)


__all__ = ["ROBOT_LIMITS", "ROBOT_PLATFORM", "RobotTransport", "resolver"]
