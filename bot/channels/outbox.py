"""The outbox sender: drains queued messages within the platforms' rate limits, loses nothing.

One sender runs per database (storage/leader.py). It sends one message at a time: the row is
marked `sending` and committed (fenced by the sender's lease), the platform is called, and the
outcome is committed; so a process killed or frozen at any moment leaves at most that one
message to go out twice. Pacing is
measured from each call's departure, so a slow commit never squeezes two sends together.
"""

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.budget import GROUP_SLACK, Budget, Budgets, Limits
from handlers.core.messages import Reply
from handlers.core.payload import queued_reply
from handlers.groups import live
from storage import groups, outbox
from storage.crypto import SecretBox
from storage.leader import Leadership, LeaseLost
from storage.models import OutboxMessage

log = logging.getLogger(__name__)
BATCH = 100
IDLE_POLL = 1.0  # seconds; another process's queued rows are seen this fast
LEADER_RETRY = 5.0


@dataclass(frozen=True)
class Sent:
    message_id: str


@dataclass(frozen=True)
class Throttled:
    """429: the platform asks for a pause; not the message's fault. `done`: as in Failed."""

    seconds: float
    done: int = 0
    # The limit is the chat's own (a WeCom group robot's 20 a minute): only that chat waits,
    # not the platform's other chats.
    chat_only: bool = False


@dataclass(frozen=True)
class Blocked:
    error: str


@dataclass(frozen=True)
class Failed:
    """Anything else (network, 5xx, a refusal): tried again later, a bounded number of times,
    unless `permanent` (trying again cannot help). `done`: how many parts of a reply sent as
    several platform messages went out (all counted from the first): a retry resumes after
    them, so no part is sent twice and none is lost."""

    error: str
    permanent: bool = False
    done: int = 0


@dataclass(frozen=True)
class Deferred:
    """Not yet: the row waits `seconds` and is tried again, using up no attempt (an edit whose
    first message is still in flight)."""

    seconds: float
    why: str


Outcome = Sent | Throttled | Blocked | Failed | Deferred


class Transport(Protocol):
    """A platform's way to deliver one queued message; never raises, says what happened.
    `to_group`: the chat is a group (on WeCom an application chat, sent to another way)."""

    async def deliver(self, chat_id: str, reply: Reply, to_group: bool = False) -> Outcome: ...


@runtime_checkable
class Resumable(Protocol):
    """A transport that may send one queued reply as several messages (WeCom: a text, then
    its card) and can go on after the first `done` of them."""

    async def resume(
        self, chat_id: str, reply: Reply, done: int, to_group: bool = False
    ) -> Outcome: ...


# Where a row's payload remembers how many of its parts went out (handlers/core/payload.py
# ignores keys it does not know).
PARTS_DONE = "$parts_done"


class Pacer:
    """When the next message may leave to each chat (the platform's budget paces them all
    together: bot/channels/budget.py). Times are time.monotonic().

    Rows come in priority order but are not sent strictly in it: a chat that must wait does
    not hold back the chats behind it."""

    def __init__(self, limits: Limits) -> None:
        self.chat_gap = 1.0 / limits.chat_per_second
        self.group_gap = 60.0 / limits.group_per_minute
        self.next_chat: dict[str, float] = {}

    def chat_ready_at(self, chat_id: str) -> float:
        return self.next_chat.get(chat_id, 0.0)

    def waiting_chats(self, now: float, limit: int = 500) -> list[str]:
        """Chats that may not be sent to yet, so a fetch can skip their rows."""
        return [c for c, t in self.next_chat.items() if t > now][:limit]

    def took(self, chat_id: str, to_group: bool, now: float) -> None:
        """A message to the chat leaves now."""
        self.hold(chat_id, now + (self.group_gap if to_group else self.chat_gap))
        if len(self.next_chat) > 10_000:  # forget chats whose wait is long over
            self.next_chat = {c: t for c, t in self.next_chat.items() if t > now}

    def hold(self, chat_id: str, until: float) -> None:
        """Nothing more to the chat before `until`."""
        self.next_chat[chat_id] = max(self.next_chat.get(chat_id, 0.0), until)


def _remember_parts(row: OutboxMessage, done: int) -> None:
    """Keep, with the row, how many of its parts went out before a retry (a new dict: the
    JSON column sees a change only when it is assigned)."""
    if done > int(row.payload.get(PARTS_DONE, 0) or 0):
        row.payload = {**row.payload, PARTS_DONE: done}


def _undrawn(drawn: live.Drawn) -> Outcome:
    """What a live row that sends nothing comes to."""
    if drawn.skip:  # its first message, not yet sent, will show the state itself
        return Sent("")
    if drawn.wait:
        return Deferred(2.0, "waiting for its first message to be sent")
    return Failed(drawn.gone or "nothing to draw", permanent=True)


def backoff(attempts: int, base: float) -> timedelta:
    """5 s, 15 s, 45 s ... up to 30 min (base 5), with jitter: eight attempts span about an
    hour, so a Telegram outage of a few minutes loses nothing."""
    seconds = min(base * 3 ** max(attempts - 1, 0), 1800)
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))


class OutboxSender:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        box: SecretBox,
        leadership: Leadership,
        transports: dict[str, Transport],
        limits: Limits | Mapping[str, Limits],
        clock: Callable[[], datetime],
        readers: async_sessionmaker[AsyncSession] | None = None,
        budgets: Budgets | None = None,
    ) -> None:
        self.sessions = sessions
        # Polling for due rows must not take SQLite's write lock every second.
        self.readers = readers or sessions
        self.box = box
        self.leadership = leadership
        self.transports = transports
        # Each platform has its own budget (Telegram's 30 a second is not WeCom's).
        per = limits if isinstance(limits, Mapping) else dict.fromkeys(transports, limits)
        self.limits = {p: per.get(p, Limits()) for p in transports}
        self.clock = clock
        self.pacers = {p: Pacer(self.limits[p]) for p in transports}
        # The platforms' budgets, shared with the direct answers (and on PostgreSQL with the
        # other processes); a sender of its own (tests, the demo) has them to itself.
        self.budgets = (budgets or Budgets.in_memory()).all(self.limits)
        self.sent = 0
        # Told how each attempt ended, by platform (the service's metrics): sent, deferred (an
        # edit waiting for its post), throttled (a 429), retry, blocked or failed (given up).
        self.on_attempt: Callable[[str, str], None] = lambda _platform, _outcome: None
        self._wake = asyncio.Event()
        self._stopping = False
        self._checked_at = 0.0
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Something was queued in this process: look now instead of at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-sender")

    async def stop(self, patience: float = 10.0) -> None:
        """Let the message in flight finish, then stop and give up the leadership."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, patience)
            except TimeoutError:
                log.warning("outbox sender did not stop in %.0f s; cancelled", patience)
        await self.leadership.release()

    async def _run(self) -> None:
        leading = False
        while not self._stopping:
            try:
                now_leading = await self.leadership.try_acquire()
                if now_leading and not leading:
                    await self._recover()
                leading = now_leading
                if not leading:
                    await self._sleep(LEADER_RETRY)
                elif not await self._drain_batch():
                    await self._sleep(IDLE_POLL)
            except LeaseLost:
                log.warning("another process sends the outbox now")
                leading = False
                await self._sleep(IDLE_POLL)
            except Exception:
                log.exception("outbox sender trouble; trying again shortly")
                # A failed write may have left a row `sending`: recover it before going on
                # (nothing is in flight now, the sender sends one message at a time).
                leading = False
                await self._sleep(IDLE_POLL)

    async def _recover(self) -> None:
        async with self.sessions.begin() as session:
            count = await outbox.recover_in_flight(session)
            await self.leadership.fence(session)
        if count:
            log.warning("%d queued message(s) were in flight at a crash and go out again", count)

    async def _drain_batch(self) -> bool:
        """Send one batch of due rows; False when there was nothing to send."""
        platforms = list(self.transports)
        now = time.monotonic()
        waiting = {p: pacer.waiting_chats(now) for p, pacer in self.pacers.items()}
        async with self.readers() as session:
            rows = list(await outbox.due(session, self.clock(), platforms, BATCH, waiting))
        if not rows:
            return False
        while rows and not self._stopping and await self._still_leading():
            row = self._next_ready(rows)
            if row is None:
                soonest = min(self._pacer(r).chat_ready_at(r.chat_id) for r in rows)
                await self._sleep(min(max(soonest - time.monotonic(), 0.0), IDLE_POLL))
                if time.monotonic() < soonest:
                    return True  # fetch afresh: newer, more urgent rows may be waiting
                continue
            rows.remove(row)
            await self._send(row)
        return True

    async def _still_leading(self) -> bool:
        """Checked about once a second (by the lease's clock: no query while it runs): a
        sender that lost its lease must stop at once, or the new leader would send its
        message in flight a second time."""
        now = time.monotonic()
        if now - self._checked_at < 1.0:
            return True
        self._checked_at = now
        return await self.leadership.check()

    def _pacer(self, row: OutboxMessage) -> Pacer:
        return self.pacers[row.platform]

    def _next_ready(self, rows: list[OutboxMessage]) -> OutboxMessage | None:
        now = time.monotonic()
        return next((r for r in rows if self._pacer(r).chat_ready_at(r.chat_id) <= now), None)

    async def _send(self, row: OutboxMessage) -> None:
        budget = self.budgets[row.platform]
        if row.to_group and not await self._group_turn(row, budget):
            return
        counted = time.monotonic()
        # Claimed before waiting for the slot, so the commit overlaps the wait.
        async with self.sessions.begin() as session:
            if not await outbox.start_sending(session, row):
                return
            # A sender that lost its lease claims nothing; a takeover waits for this commit,
            # so the new leader's recovery sees the claim.
            await self.leadership.fence(session)
        await budget.take(urgent=False)
        now, pacer = time.monotonic(), self._pacer(row)
        # Counted in its group's limit too long before it leaves (a pause, a burst of direct
        # answers): counted again, or tried when the group's minute allows.
        if row.to_group and now - counted > GROUP_SLACK and not await self._group_turn(row, budget):
            outcome: Outcome = Deferred(pacer.chat_ready_at(row.chat_id) - now, "group limit")
        else:
            pacer.took(row.chat_id, row.to_group, now)
            outcome = await self._deliver(row)
        async with self.sessions.begin() as session:
            session.add(row)
            ended = await self._record(session, row, outcome)
        self.on_attempt(row.platform, ended)

    async def _group_turn(self, row: OutboxMessage, budget: Budget) -> bool:
        """Count the message in its group's limit; when the group's minute is full, its
        chat waits (the sender goes on with the others)."""
        wait = await budget.enter_group(row.chat_id)
        if wait > 0:
            self._pacer(row).hold(row.chat_id, time.monotonic() + wait)
        return wait <= 0

    async def _deliver(self, row: OutboxMessage) -> Outcome:
        if live.LIVE in row.payload:
            drawn = await self._draw(row)
            if drawn.reply is None:
                return _undrawn(drawn)
            reply = drawn.reply
        else:
            try:
                reply = queued_reply(self.box, row.payload, row.sealed)
            except (KeyError, TypeError, ValueError) as err:
                return Failed(f"unreadable payload: {err!r}", permanent=True)
        transport = self.transports[row.platform]
        done = int(row.payload.get(PARTS_DONE, 0) or 0)
        try:
            if done and isinstance(transport, Resumable):
                return await transport.resume(row.chat_id, reply, done, row.to_group)
            return await transport.deliver(row.chat_id, reply, row.to_group)
        except Exception as err:  # a transport bug must not kill the sender or lose the row
            log.exception("transport %s failed on outbox row %s", row.platform, row.id)
            return Failed(repr(err))

    async def _draw(self, row: OutboxMessage) -> live.Drawn:
        """A live post's reply drawn from the state now (handlers/groups/live.py); an edit
        first takes up the post's waiting edit, so a change from now on queues another."""
        post_id = row.payload.get(live.LIVE)
        if row.payload.get(live.EDIT) and isinstance(post_id, int):
            async with self.sessions.begin() as session:
                await groups.take_edit(session, post_id)
        async with self.readers() as session:
            return await live.draw(session, self.box, row.payload)

    async def _record(self, session: AsyncSession, row: OutboxMessage, outcome: Outcome) -> str:
        """Keep the attempt's outcome with the row; how it ended (see on_attempt)."""
        now = self.clock()
        if isinstance(outcome, Deferred):
            due = now + timedelta(seconds=outcome.seconds)
            outbox.retry_later(row, due, outcome.why, counts=False)
            return "deferred"
        if isinstance(outcome, Sent):
            await outbox.mark_sent(session, self.box, row, now, outcome.message_id)
            self.sent += 1
            return "sent"
        if isinstance(outcome, Throttled):
            _remember_parts(row, outcome.done)
            if outcome.chat_only:
                self._pacer(row).hold(row.chat_id, time.monotonic() + outcome.seconds)
            else:
                await self.budgets[row.platform].pause(outcome.seconds)
            due = now + timedelta(seconds=outcome.seconds)
            outbox.retry_later(row, due, f"429 retry after {outcome.seconds:g}s", counts=False)
            log.info("rate limited by %s: pausing %.1f s", row.platform, outcome.seconds)
            return "throttled"
        if isinstance(outcome, Blocked):
            await outbox.mark_undeliverable(
                session, self.box, row, now, outcome.error, blocked=True
            )
            return "blocked"
        if outcome.permanent or row.attempts + 1 >= self.limits[row.platform].max_attempts:
            log.warning("outbox row %s failed for good: %s", row.id, outcome.error)
            await outbox.mark_undeliverable(
                session, self.box, row, now, outcome.error, blocked=False
            )
            return "failed"
        _remember_parts(row, outcome.done)
        delay = backoff(row.attempts + 1, self.limits[row.platform].retry_base)
        outbox.retry_later(row, now + delay, outcome.error, counts=True)
        return "retry"

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake early when something is queued or the sender stops."""
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except TimeoutError:
            return
        self._wake.clear()
