"""Keeping WeCom's application chats (应用群聊) in step with the branches' rosters: each bound
chat is made when it does not exist yet, then given the members who joined or bound WeCom,
rid of those who left or moved, and handed to the secretary when its owner goes.

A sync of its own rather than outbox rows: who belongs in a chat is read when the sync runs
(handlers/groups/appchat.py `rosters`), so a change never waits behind an older one, and
WeCom's answer (appchat/get) is the record of who is in the chat. Nothing is kept but what was
last brought about, to leave alone the chats nothing changed for. It runs when a committed
change raised ROSTER_CHANGED (a member bound, joined, left or moved; a chat was asked for),
every ten minutes for changes made elsewhere (the CLI, another process), and checks each chat
against WeCom once a day. A chat that fails waits longer each time (up to a day) before the
next try. Every step is idempotent, so two processes doing it at once do no harm.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.wecom.client import WeComClient, WeComError
from bot.channels.wecom.deliver import transient
from handlers.groups import appchat
from handlers.groups.appchat import AppChatRoster
from storage import groups

log = logging.getLogger(__name__)
SYNC_EVERY = 600.0  # seconds between rounds nothing woke
RECHECK_EVERY = 86_400.0  # a chat is compared with WeCom's once a day even if nothing changed
BACKOFF = (60.0, 300.0, 1800.0, 7200.0, 86_400.0)  # after the 1st, 2nd … failure in a row
CHAT_MISSING = 86003  # appchat/get: no such chat (not made yet)

Wanted = tuple[frozenset[str], tuple[str, ...]]


@dataclass
class _Chat:
    applied: Wanted | None = None  # the members and owners last brought about
    checked: float = 0.0  # time.monotonic() of that
    failures: int = 0
    retry_at: float = 0.0


class AppChatSync:
    def __init__(
        self,
        client: WeComClient,
        sessions: async_sessionmaker[AsyncSession],
        readers: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime],
    ) -> None:
        self.client = client
        self.sessions = sessions
        self.readers = readers
        self.clock = clock
        self._chats: dict[int, _Chat] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="wecom-appchats")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.sync_once()
            except Exception:  # the database away: the next round tries again
                log.exception("bringing the WeCom app chats in step failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), SYNC_EVERY)
            self._wake.clear()

    async def sync_once(self) -> None:
        """One round over every bound application chat."""
        async with self.readers() as session:
            rosters = await appchat.rosters(session)
        self._chats = {r.group_id: self._chats.get(r.group_id, _Chat()) for r in rosters}
        for roster in rosters:
            await self._one(roster, self._chats[roster.group_id])

    async def _one(self, roster: AppChatRoster, chat: _Chat) -> None:
        now = time.monotonic()
        wanted = (roster.userids, roster.owners)
        unchanged = chat.applied == wanted and now - chat.checked < RECHECK_EVERY
        if unchanged or now < chat.retry_at:
            return
        try:
            await self._bring(roster)
        except (WeComError, aiohttp.ClientError, TimeoutError) as err:
            chat.failures += 1
            chat.retry_at = now + BACKOFF[min(chat.failures, len(BACKOFF)) - 1]
            log.warning("WeCom app chat of group %d not in step: %s", roster.group_id, err)
            return
        chat.applied, chat.checked, chat.failures, chat.retry_at = wanted, now, 0, 0.0

    async def _bring(self, roster: AppChatRoster) -> None:
        try:
            info = await self.client.get_chat(roster.chat_id)
        except WeComError as err:
            if err.errcode != CHAT_MISSING:
                raise
            await self._create(roster)
            return
        await self._update(roster, info)

    async def _create(self, roster: AppChatRoster) -> None:
        """Make the chat; its maker hears why if WeCom will not (a busy WeCom is only
        tried again)."""
        userids = sorted(roster.userids)
        owner = roster.owners[0] if roster.owners else userids[0] if userids else ""
        try:
            if len(userids) < appchat.MIN_MEMBERS:
                raise WeComError(86006, "fewer than two members on WeCom")
            await self.client.create_chat(
                roster.chat_id, roster.name[: appchat.NAME_LIMIT], owner, userids
            )
        except WeComError as err:
            if not transient(err) and err.errcode > 0:
                async with self.sessions.begin() as session:
                    await appchat.not_created(session, roster.group_id, err.errcode, self.clock())
            raise
        log.info("WeCom app chat of group %d made (%d members)", roster.group_id, len(userids))
        async with self.sessions.begin() as session:
            await appchat.created(session, roster.group_id, len(userids), self.clock())

    async def _update(self, roster: AppChatRoster, info: dict[str, Any]) -> None:
        """Members in and out, the owner handed on. Only accounts the bot knows are taken
        out: someone the owner added on purpose stays."""
        current = {str(u) for u in info.get("userlist") or []}
        owner_now = str(info.get("owner") or "")
        async with self.readers() as session:
            known = await groups.known_accounts(session, appchat.WECOM, sorted(current))
        add = sorted(roster.userids - current)
        remove = (current - roster.userids) & known
        owner = next_owner(roster, owner_now)
        if owner is None:
            remove.discard(owner_now)  # nobody to hand the chat to: its owner stays
        if not (add or remove or owner):
            return
        await self.client.update_chat(roster.chat_id, owner=owner, add=add, remove=sorted(remove))
        log.info(
            "WeCom app chat of group %d: %d in, %d out%s",
            roster.group_id, len(add), len(remove), ", owner changed" if owner else "",
        )  # fmt: skip


def next_owner(roster: AppChatRoster, owner_now: str) -> str | None:
    """Who should own the chat from now, if not who does: its maker or the branch's staff
    first; else the owner stays while a member; else the first member."""
    if roster.owners:
        wanted = roster.owners[0]
    elif owner_now in roster.userids or not roster.userids:
        return None
    else:
        wanted = min(roster.userids)
    return None if wanted == owner_now else wanted
