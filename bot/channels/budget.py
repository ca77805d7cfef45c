"""Each platform's sending budget: every message this process sends to a platform, a direct
answer or a queued one, first takes a slot from the platform's budget.

The slots are one gap apart (1 / (limit × RATE_MARGIN)), so no second holds more messages than
the limit, and a message leaves in its slot or not at all: at most `slot_slack` after it. On
PostgreSQL the slots are shared by every process on the database (storage/rates.py): a process
reserves a few at a time (up to RATE_BLOCK, as many as it has had use for lately) and uses
them without asking the database again; on SQLite (one process) the slots are handed out in
memory as they are asked for (`LocalSlots`), as the outbox paced itself before.

Direct answers come first: while one waits, the queue takes no slot (`take(urgent=False)`).
A message to a group also counts against the group's limit (20 a minute on Telegram), shared
the same way. A 429 pauses the platform for every process (`pause`).

When the database does not answer (storage/rates.QUERY_SECONDS), the budget sends in the slots
it holds and then waits, trying again, rather than guess: a share of the limit taken without
the database would be safe only if every process had lost it at once, and a process that has
lost its database has nothing new to answer anyway (its updates come from the inbox there).
Nothing here raises: a sender waits, it never crashes for the budget's sake.
"""

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from storage.rates import SharedSlots

log = logging.getLogger(__name__)
T = TypeVar("T")
# The group window is this much longer than a minute: the time between counting a message to a
# group and its departure (the wait for its slot) is at most this, or it is counted again.
GROUP_SLACK = 2.0
# The settings' defaults (RATE_MARGIN, RATE_BLOCK: docs/configuration.md).
MARGIN = 0.98
BLOCK = 5
RETRY_SECONDS = 0.5  # after the database failed to answer
STREAMING = 0.1  # seconds: a block wanted this soon after the last ran out is a stream


@dataclass(frozen=True)
class Limits:
    per_second: float = 30.0  # all chats together
    chat_per_second: float = 1.0  # one private chat
    group_per_minute: float = 20.0  # one group chat
    max_attempts: int = 8
    retry_base: float = 5.0  # seconds before the first retry; each next waits 3x longer


class Slots(Protocol):
    """Where a process's budgets get their slots: the database, or this process's memory."""

    shared: bool

    async def reserve(self, platform: str, count: int, gap: float) -> float: ...

    async def enter_group(self, platform: str, chat: str, most: int, window: float) -> float: ...

    async def pause(self, platform: str, seconds: float) -> None: ...

    async def close(self) -> None: ...


def slot_slack(margin: float) -> float:
    """How late a message may leave after its slot: half of what the margin leaves of each
    second (the other half is for the network's jitter). Two messages in neighbouring slots
    are then never closer than a gap less this, and no window of one second holds more than
    the limit: (1 + slack + jitter) × limit × margin ≤ limit."""
    return (1.0 / margin - 1.0) / 2


class LocalSlots:
    """One process's slots in memory (SQLite: one process a database file)."""

    shared = False

    def __init__(self, slack: float) -> None:
        self.slack = slack
        self._next: dict[str, float] = {}
        self._groups: dict[tuple[str, str], deque[float]] = {}

    async def reserve(self, platform: str, count: int, gap: float) -> float:
        now = time.monotonic()
        # A slot missed only by the event loop's wake-up jitter is kept, so the jitter does
        # not pile up; one missed for a real reason starts the spacing afresh.
        ready = self._next.get(platform, 0.0)
        start = ready if ready >= now - self.slack else now
        self._next[platform] = start + count * gap
        return start

    async def enter_group(self, platform: str, chat: str, most: int, window: float) -> float:
        now = time.monotonic()
        sent = self._groups.setdefault((platform, chat), deque())
        while sent and sent[0] <= now - window:
            sent.popleft()
        if len(sent) < most:
            sent.append(now)
            if len(self._groups) > 10_000:  # forget groups whose window is over
                self._groups = {k: v for k, v in self._groups.items() if v[-1] > now - window}
            return 0.0
        return sent[len(sent) - most] + window - now

    async def pause(self, platform: str, seconds: float) -> None:
        self._next[platform] = max(self._next.get(platform, 0.0), time.monotonic() + seconds)

    async def close(self) -> None:
        return None


class Budget:
    """One platform's budget in this process (one object, shared by its direct answers and
    its outbox sender)."""

    def __init__(
        self, platform: str, limits: Limits, slots: Slots, margin: float, block: int
    ) -> None:
        self.platform = platform
        self.slots = slots
        self.margin = margin
        self.slack = slot_slack(margin)
        self.block = block if slots.shared else 1  # in memory a slot costs nothing to ask
        self.configure(limits)
        self._free: deque[float] = deque()  # reserved slots not yet used (monotonic)
        self._waiting = {True: 0, False: 0}  # takers waiting, urgent or not
        self._used = 0  # slots used of the last block
        self._block_ends = 0.0
        self._paused_until = 0.0
        self._refilling = asyncio.Lock()
        self._failing = False

    def configure(self, limits: Limits) -> None:
        self.gap = 1.0 / (limits.per_second * self.margin)
        self.group_most = max(int(limits.group_per_minute), 1)

    async def take(self, *, urgent: bool = True, group: str | None = None) -> None:
        """Wait for a slot (and, for a `group`, its turn in the group's limit); the message
        leaves now. `urgent`: a direct answer; the queue waits while one does."""
        while True:
            if group is not None:
                await self._enter(group)
            counted = time.monotonic()
            await self._slot(urgent)
            if group is None or time.monotonic() - counted <= GROUP_SLACK:
                return

    async def enter_group(self, chat: str) -> float:
        """Count a message to the group now if its limit allows: 0.0; else the seconds until
        it may (nothing counted). The queue asks before it takes its slot (it never waits
        for one group)."""
        window = 60.0 + GROUP_SLACK
        try:
            wait = await self.slots.enter_group(self.platform, chat, self.group_most, window)
        except Exception as err:
            self._trouble(err)
            return RETRY_SECONDS
        self._answered()
        return wait

    async def pause(self, seconds: float) -> None:
        """The platform asked for a pause (a 429): no slot is used before it is over, in any
        process."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)
        try:
            await self.slots.pause(self.platform, seconds)
        except Exception as err:  # the slots this process holds are dropped all the same
            self._trouble(err)

    async def _enter(self, group: str) -> None:
        """Wait until the group's limit lets a message go, and count it."""
        while True:
            wait = await self.enter_group(group)
            if wait <= 0:
                return
            await asyncio.sleep(wait)

    async def _slot(self, urgent: bool) -> None:
        self._waiting[urgent] += 1
        try:
            while True:
                now = time.monotonic()
                self._drop_missed(now)
                if now < self._paused_until:
                    await asyncio.sleep(self._paused_until - now)
                elif not self._free:
                    await self._refill()
                elif not urgent and self._waiting[True]:
                    await asyncio.sleep(self.gap)  # a direct answer is waiting: it goes first
                elif self._free[0] > now:
                    await asyncio.sleep(self._free[0] - now)
                else:
                    self._free.popleft()
                    self._used += 1
                    return
        finally:
            self._waiting[urgent] -= 1

    def _drop_missed(self, now: float) -> None:
        """Slots too late to use, or inside a pause, are given up."""
        free = self._free
        while free and (free[0] < now - self.slack or free[0] < self._paused_until):
            free.popleft()

    async def _refill(self) -> None:
        """Reserve the next block (one taker does it; the others wait for it)."""
        async with self._refilling:
            if self._free:
                return
            count = self._block_size()
            try:
                first = await self.slots.reserve(self.platform, count, self.gap)
            except Exception as err:
                self._trouble(err)
                await asyncio.sleep(RETRY_SECONDS)
                return
            self._answered()
            self._free.extend(first + i * self.gap for i in range(count))
            self._used, self._block_ends = 0, first + count * self.gap

    def _block_size(self) -> int:
        """As many slots as are wanted now, or, when the last block has only just run out
        (a steady stream: a broadcast), twice as many as it had used: a broadcast's blocks
        grow to RATE_BLOCK, an answer now and then takes one slot and wastes none."""
        wanted = self._waiting[True] + self._waiting[False]
        if time.monotonic() - self._block_ends < STREAMING:
            wanted = max(wanted, 2 * self._used)
        return max(1, min(wanted, self.block))

    def _answered(self) -> None:
        if self._failing:
            log.info("the %s sending budget answers again", self.platform)
            self._failing = False

    def _trouble(self, err: Exception) -> None:
        if not self._failing:
            log.warning("the %s sending budget did not answer; waiting: %r", self.platform, err)
        self._failing = True


def paced(budget: Budget, request: Callable[[], Awaitable[T]]) -> Callable[[], Awaitable[T]]:
    """The request, taking a slot of a direct answer before each call (a retry is a call)."""

    async def call() -> T:
        await budget.take()
        return await request()

    return call


class Budgets:
    """This process's budgets, one per platform, over the slots its database allows."""

    def __init__(self, slots: Slots, margin: float = MARGIN, block: int = BLOCK) -> None:
        self.slots = slots
        self.margin = margin
        self.block = block
        self._budgets: dict[str, Budget] = {}

    @classmethod
    def for_engine(cls, engine: AsyncEngine, margin: float, block: int) -> "Budgets":
        """Shared through PostgreSQL; in memory on SQLite."""
        if engine.dialect.name == "postgresql":
            return cls(SharedSlots(engine), margin, block)
        return cls.in_memory(margin)

    @classmethod
    def in_memory(cls, margin: float = MARGIN) -> "Budgets":
        return cls(LocalSlots(slot_slack(margin)), margin)

    def of(self, platform: str, limits: Limits) -> Budget:
        """The platform's budget, under `limits` from now on (the adapter asks with the
        settings' limits, the outbox sender with its own, which in a service are the same)."""
        budget = self._budgets.get(platform)
        if budget is None:
            budget = Budget(platform, limits, self.slots, self.margin, self.block)
            self._budgets[platform] = budget
        else:
            budget.configure(limits)
        return budget

    def all(self, limits: Mapping[str, Limits]) -> dict[str, Budget]:
        return {platform: self.of(platform, each) for platform, each in limits.items()}

    async def close(self) -> None:
        await self.slots.close()
