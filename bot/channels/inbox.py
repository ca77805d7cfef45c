"""The inbox worker: handles a platform's accepted updates from the database, chat by chat.

Adapters accept an update (storage/inbox.py, committed) before telling the platform it
arrived; the worker of every process serving that platform then claims chat heads, handles
them (at most `concurrency` at once) and deletes them. Its claims are renewed while it
lives; a dead process's run out after `lease` seconds and are taken over.
"""

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.faults import crash_point
from storage import inbox
from storage.crypto import SecretBox
from storage.inbox import Arrival, Claimed

log = logging.getLogger(__name__)
IDLE_POLL = 1.0  # seconds: another process's updates, and a dead one's, are seen this fast
# An update whose handling killed this many processes (or outlived their leases) is dropped,
# so one poisoned update does not block its chat for ever.
MAX_ATTEMPTS = 5
Handle = Callable[[str], Awaitable[None]]


def wall_clock() -> datetime:
    """Leases are real time, whatever clock the handlers are given (tests fix theirs)."""
    return datetime.now(UTC)


def process_name() -> str:
    """This process among those sharing the database, in the claims it holds."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


class InboxWorker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        box: SecretBox,
        platform: str,
        handle: Handle,
        *,
        concurrency: int,
        lease: float,
    ) -> None:
        self.sessions = sessions
        self.box = box
        self.platform = platform
        self.handle = handle
        self.concurrency = concurrency
        self.lease = timedelta(seconds=lease)
        self.holder = process_name()
        self._queue: deque[Claimed] = deque()  # claimed, waiting for a free slot
        self._running: dict[int, asyncio.Task[None]] = {}
        self._done: list[int] = []
        self._wake = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []

    async def accept(self, arrivals: Sequence[Arrival]) -> None:
        """Store updates durably (committed on return), then see to them."""
        async with self.sessions.begin() as session:
            await inbox.accept(session, self.box, arrivals, wall_clock())
        self._wake.set()

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._run(), name=f"inbox-{self.platform}"),
            asyncio.create_task(self._renew_forever(), name=f"inbox-lease-{self.platform}"),
        ]

    async def stop(self, patience: float = 10.0) -> None:
        """Finish the updates being handled (within `patience`), then give back the rest."""
        self._stopping = True
        self._wake.set()
        if self._running:
            await asyncio.wait(set(self._running.values()), timeout=patience)
        for task in [*self._running.values(), *self._tasks]:
            task.cancel()
        await asyncio.gather(*self._running.values(), *self._tasks, return_exceptions=True)
        try:
            async with self.sessions.begin() as session:
                await inbox.finish(session, self.holder, self._done)
                await inbox.release(session, self.holder)
        except Exception:  # the database is gone: the claims run out by themselves
            log.exception("could not give back the %s inbox's claims", self.platform)

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            claimed = False
            if self._wants_round():
                try:
                    claimed = await self._round()
                except Exception:
                    log.exception("the %s inbox could not be read; trying again", self.platform)
            while self._queue and len(self._running) < self.concurrency:
                row = self._queue.popleft()
                self._running[row.id] = asyncio.create_task(
                    self._handle(row), name=f"inbox-{row.id}"
                )
            if claimed:
                continue  # more may be waiting behind them
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), IDLE_POLL)

    def _wants_round(self) -> bool:
        """Claim when there is nothing queued to start next; forget handled updates at least
        every `concurrency` of them. (Under load that is a round per `concurrency` updates,
        not one per update.)"""
        hungry = not self._queue and len(self._running) < self.concurrency
        return hungry or len(self._done) >= self.concurrency

    async def _round(self) -> bool:
        """Forget what was handled and claim up to twice `concurrency` in hand, in one
        transaction; whether anything was claimed."""
        done, self._done = self._done, []
        room = 2 * self.concurrency - len(self._running) - len(self._queue)
        now = wall_clock()
        try:
            async with self.sessions.begin() as session:
                await inbox.finish(session, self.holder, done)
                claimed = await inbox.claim(
                    session,
                    self.box,
                    self.platform,
                    self.holder,
                    now=now,
                    cutoff=now - self.lease,
                    limit=room,
                )
        except BaseException:
            self._done.extend(done)
            raise
        self._queue.extend(claimed)
        return bool(claimed)

    async def _handle(self, row: Claimed) -> None:
        try:
            await self._handle_once(row)
        except asyncio.CancelledError:  # stopped mid-way: not done, given back at stop
            self._running.pop(row.id, None)
            raise
        self._running.pop(row.id, None)
        self._done.append(row.id)
        self._wake.set()

    async def _handle_once(self, row: Claimed) -> None:
        if row.attempts > MAX_ATTEMPTS:
            log.error("dropping %s update %s: tried %d times", self.platform, row.update_key,
                      row.attempts - 1)  # fmt: skip
            return
        try:
            await self.handle(row.body)
        except Exception:  # the router answers its own failures: this is the adapter's
            log.exception("handling %s update %s failed", self.platform, row.update_key)
        crash_point("inbox.handled")

    async def _renew_forever(self) -> None:
        """Keep this process's claims alive: a third of the lease between renewals."""
        pause = self.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(pause)
            if not self._running and not self._queue:
                continue
            try:
                async with self.sessions.begin() as session:
                    await inbox.renew(session, self.holder, wall_clock())
            except Exception as err:
                log.warning("could not renew the %s inbox's claims: %s", self.platform, err)
