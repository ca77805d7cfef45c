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
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.faults import crash_point
from handlers.core.router import StoreUnavailable
from storage import inbox
from storage.crypto import SecretBox
from storage.driven import drive
from storage.inbox import Arrival, Claimed

log = logging.getLogger(__name__)
IDLE_POLL = 1.0  # seconds: another process's updates, and a dead one's, are seen this fast
# Seconds: while an update accepted here waits behind its chat's earlier one (held by another
# process, say), rounds come this often; a handled update is forgotten this soon at most,
# unless the next update accepted forgets it first (a steady stream needs no rounds).
BEHIND_POLL = 0.2
FORGET_SOON = 0.05
# An update whose handling killed this many processes (or outlived their leases) is dropped,
# so one poisoned update does not block its chat for ever.
MAX_ATTEMPTS = 5
# Seconds between tries of an update the database was unreachable for, doubling up to the last.
FIRST_RETRY = 0.5
LAST_RETRY = 30.0
Handle = Callable[[str], Awaitable[None]]


def wall_clock() -> datetime:
    """Leases are real time, whatever clock the handlers are given (tests fix theirs)."""
    return datetime.now(UTC)


def process_name() -> str:
    """This process among those sharing the database, in the claims it holds."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


class InboxWorker:
    """One platform's worker in one process. An update it accepts is claimed in the same
    transaction when it may go at once (its chat's head, with room in hand); otherwise a
    round claims it later: at once when an update of its chat is done here, or when the
    last round filled its batch; else by the next poll (IDLE_POLL, or BEHIND_POLL while
    updates accepted here wait), which also finds what other processes (living or dead)
    left. Handled updates are forgotten in the next transaction, whichever it is."""

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
        # Updates accepted here that could not go at once, by chat: when one of that chat is
        # done here, a round is due (the next may go now).
        self._behind: Counter[str] = Counter()
        self._due = False  # a round is due now
        self._round_at = 0.0  # monotonic time of the next round at the latest
        self._wake = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []

    async def accept(self, arrivals: Sequence[Arrival]) -> None:
        """Store updates durably (committed on return), then see to them."""
        claimed = await self._in_transaction(arrivals)
        went = {row.update_key for row in claimed}
        behind = [a.chat_key for a in arrivals if a.update_key[:64] not in went]
        if behind:
            self._behind.update(behind)
            self._round_by(BEHIND_POLL)
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
                unstarted = [row.id for row in self._queue]
                await inbox.release(session, self.holder, unstarted)
        except Exception:  # the database is gone: the claims run out by themselves
            log.exception("could not give back the %s inbox's claims", self.platform)

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            full = False
            if self._wants_round():
                try:
                    full = await self._round()
                except Exception:
                    log.exception("the %s inbox could not be read; trying again", self.platform)
            while self._queue and len(self._running) < self.concurrency:
                row = self._queue.popleft()
                self._running[row.id] = asyncio.create_task(
                    self._handle(row), name=f"inbox-{row.id}"
                )
            if full:
                continue  # more may be waiting behind the batch
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._patience())

    def _hungry(self) -> bool:
        return not self._queue and len(self._running) < self.concurrency

    def _wants_round(self) -> bool:
        """A round when there is room and it is due (or its time came); and at least every
        2 × concurrency updates done."""
        timely = self._due or time.monotonic() >= self._round_at
        return (self._hungry() and timely) or len(self._done) >= 2 * self.concurrency

    def _patience(self) -> float:
        """How long to wait for news: until the next round when there is room to claim."""
        if self._hungry():
            return max(0.0, self._round_at - time.monotonic())
        return IDLE_POLL

    def _round_by(self, seconds: float) -> None:
        self._round_at = min(self._round_at, time.monotonic() + seconds)

    async def _round(self) -> bool:
        """Claim what there is room for; whether that filled the room (more may wait)."""
        room = 2 * self.concurrency - len(self._running) - len(self._queue)
        claimed = await self._in_transaction()
        self._round_at = time.monotonic() + (BEHIND_POLL if self._behind else IDLE_POLL)
        self._due = len(claimed) == room > 0
        return self._due

    async def _in_transaction(self, arrivals: Sequence[Arrival] = ()) -> list[Claimed]:
        """Forget what was handled, store `arrivals`, and claim what there is room for
        (with arrivals: only among them), all in one transaction; the rows claimed."""
        done, self._done = self._done, []
        room = 2 * self.concurrency - len(self._running) - len(self._queue)
        try:
            # In one greenlet, as the router runs an update (storage/driven.py).
            claimed = await drive(lambda: self._transaction(done, arrivals, room))
        except BaseException:
            self._done.extend(done)
            raise
        self._queue.extend(claimed)
        for row in claimed:
            if self._behind[row.chat_key] > 0:
                self._behind[row.chat_key] -= 1
        self._behind = +self._behind  # drop the chats with none left behind
        return claimed

    async def _transaction(
        self, done: Sequence[int], arrivals: Sequence[Arrival], room: int
    ) -> list[Claimed]:
        session = self.sessions()
        try:
            now = wall_clock()
            await inbox.finish(session, self.holder, done)
            await inbox.accept(session, self.box, arrivals, now)
            keys = [a.update_key for a in arrivals] if arrivals else None
            claimed = await self._claim(session, now, room, keys)
            await session.commit()
            return claimed
        finally:
            await session.close()

    async def _claim(
        self, session: AsyncSession, now: datetime, room: int, keys: Sequence[str] | None
    ) -> list[Claimed]:
        if room <= 0:
            return []
        cutoff = now - self.lease
        return await inbox.claim(
            session,
            self.box,
            self.platform,
            self.holder,
            now=now,
            cutoff=cutoff,
            limit=room,
            keys=keys,
        )

    async def _handle(self, row: Claimed) -> None:
        try:
            await self._handle_once(row)
        except asyncio.CancelledError:  # stopped mid-way: not done, given back at stop
            self._running.pop(row.id, None)
            raise
        self._running.pop(row.id, None)
        self._done.append(row.id)
        if self._behind[row.chat_key]:  # the chat's next, accepted here, may go now
            self._due = True
        self._round_by(FORGET_SOON)
        self._wake.set()

    async def _handle_once(self, row: Claimed) -> None:
        if row.attempts > MAX_ATTEMPTS:
            log.error("dropping %s update %s: tried %d times", self.platform, row.update_key,
                      row.attempts - 1)  # fmt: skip
            return
        crash_point("inbox.handling")
        pause = FIRST_RETRY
        while True:
            try:
                await self.handle(row.body)
            except StoreUnavailable:
                # Nothing of it was recorded: keep it (claimed, renewed) and try again, at
                # growing intervals, until the database answers or this process stops.
                log.warning("the database is unreachable; %s update %s waits %.0f s",
                            self.platform, row.update_key, pause)  # fmt: skip
                await asyncio.sleep(pause)
                pause = min(pause * 2, LAST_RETRY)
                continue
            except Exception:  # the router answers its own failures: this is the adapter's
                log.exception("handling %s update %s failed", self.platform, row.update_key)
            break
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
