"""The platforms' sending budgets in PostgreSQL, shared by every process on the database.

Telegram refuses a bot more than about 30 messages in any second (and 20 a minute in one
group), whichever process sends them. So every message to a platform, a direct answer or a
queued one, leaves in a slot of its own, the slots one gap apart (1/limit, less a margin:
bot/channels/budget.py), and a row of `rate_slots` per platform says where the first slot
nobody holds begins. A process reserves a block of slots in one statement (`reserve`) and
uses them without asking again; the blocks of all processes follow one another and never
overlap, so however many processes there are, no second holds more slots than the limit.

A slot is a time: a message may leave in it, not later than a little slack after it (the
budget's rule), so a block held by a process that died, froze or had nothing left to send
simply passes unused: the next reservation starts after it, and nobody waits for its holder.

Times come from the database's clock, as leases do, and each process reads that clock from
its own (`DbClock`), so the processes' clocks never have to agree. Each group chat's last
sends are kept as a list in `rate_groups`, one conditional statement a message (`enter_group`).

SQLite is one process per database file: its budget stays in memory
(bot/channels/budget.py, `LocalSlots`), and these tables stay empty.
"""

import asyncio
import contextlib
import logging
import time
from collections import deque
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)
# A budget query that takes longer has failed: the sender waits rather than guess.
QUERY_SECONDS = 2.0
# How long a reading of the database's clock is trusted: the two clocks drift apart slowly.
CLOCK_SAMPLE_SECONDS = 60.0
CLOCK_SAMPLES = 16
# A block starts no sooner than its answer can be back: twice the last round trip, within
# these bounds (else on a slow connection every first slot would have passed on arrival).
LEAD_SECONDS = (0.002, 0.1)

# `span`: the block's length; `lead`: how soon after the statement the process can use a slot
# (its answer must come back first). The returned `ends` is where the block ends.
RESERVE = text("""
INSERT INTO rate_slots (platform, next_at)
VALUES (:platform, statement_timestamp() + make_interval(secs => :lead)
                   + make_interval(secs => :span))
ON CONFLICT (platform) DO UPDATE
SET next_at = greatest(rate_slots.next_at, statement_timestamp() + make_interval(secs => :lead))
              + make_interval(secs => :span)
RETURNING extract(epoch FROM next_at)::float8 AS ends,
          extract(epoch FROM statement_timestamp())::float8 AS now
""")

# A message to a group counts only while fewer than `most` went in the last `window`
# seconds; else `wait` says when the oldest of them that is in the way leaves the window (read
# from the statement's snapshot: a concurrent entry can only make the next try sooner).
ENTER_GROUP = text("""
WITH entered AS (
  INSERT INTO rate_groups AS g (platform, chat_id, sent)
  VALUES (:platform, :chat, ARRAY[statement_timestamp()])
  ON CONFLICT (platform, chat_id) DO UPDATE
  SET sent = ARRAY(SELECT t FROM unnest(g.sent) AS t
                   WHERE t > statement_timestamp() - make_interval(secs => :window)
                   ORDER BY t) || statement_timestamp()
  WHERE (SELECT count(*) FROM unnest(g.sent) AS t
         WHERE t > statement_timestamp() - make_interval(secs => :window)) < :most
  RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM entered) AS entered,
       (SELECT extract(epoch FROM t + make_interval(secs => :window) - statement_timestamp())
        FROM rate_groups AS g, unnest(g.sent) AS t
        WHERE g.platform = :platform AND g.chat_id = :chat
        ORDER BY t DESC OFFSET :most - 1 LIMIT 1)::float8 AS wait,
       extract(epoch FROM statement_timestamp())::float8 AS now
""")

# A 429: no process takes a slot before the pause is over.
PAUSE = text("""
INSERT INTO rate_slots (platform, next_at)
VALUES (:platform, statement_timestamp() + make_interval(secs => :seconds))
ON CONFLICT (platform) DO UPDATE
SET next_at = greatest(rate_slots.next_at, statement_timestamp() + make_interval(secs => :seconds))
RETURNING extract(epoch FROM statement_timestamp())::float8 AS now
""")


class DbClock:
    """The database's clock as this process sees it: the offset between the database's time
    and time.monotonic(), known to half the quickest recent round trip.

    Each query returns the database's time when it ran, which lies between the local times
    the query was sent and answered: one reading bounds the offset, and the readings of the
    last minute together bound it as tightly as the quickest of them (a slow answer, a busy
    event loop, widens one reading, never the estimate)."""

    def __init__(self) -> None:
        self._readings: deque[tuple[float, float, float]] = deque(maxlen=CLOCK_SAMPLES)

    def read(self, sent: float, answered: float, database_now: float) -> None:
        """A query sent at `sent` and answered at `answered` (monotonic) ran at
        `database_now` (the database's epoch seconds)."""
        low, high = database_now - answered, database_now - sent
        while self._readings and self._readings[0][2] < answered - CLOCK_SAMPLE_SECONDS:
            self._readings.popleft()
        if self._readings and (low > self._high() or high < self._low()):
            self._readings.clear()  # the database's clock was set: start afresh
        self._readings.append((low, high, answered))

    def local(self, database_time: float) -> float:
        """A database time as time.monotonic()."""
        return database_time - (self._low() + self._high()) / 2

    def _low(self) -> float:
        return max(r[0] for r in self._readings)

    def _high(self) -> float:
        return min(r[1] for r in self._readings)


class SharedSlots:
    """The budget's queries on a connection of their own (a budget must not wait for the pool
    behind the updates it is answering), one at a time, each in its own transaction. A query
    that fails or takes longer than QUERY_SECONDS raises, and the connection is dropped; the
    next query opens another."""

    shared = True

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.clock = DbClock()
        self._conn: AsyncConnection | None = None
        self._busy = asyncio.Lock()
        self._round_trip = 0.01

    async def reserve(self, platform: str, count: int, gap: float) -> float:
        """Reserve `count` slots `gap` seconds apart; when the first begins (monotonic)."""
        low, high = LEAD_SECONDS
        lead = min(max(2 * self._round_trip, low), high)
        row = await self._run(RESERVE, platform=platform, span=count * gap, lead=lead)
        return self.clock.local(row["ends"] - count * gap)

    async def enter_group(self, platform: str, chat: str, most: int, window: float) -> float:
        """Count a message to the group now, if fewer than `most` went in the last `window`
        seconds: 0.0; else the seconds until one may go (nothing counted)."""
        row = await self._run(ENTER_GROUP, platform=platform, chat=chat, most=most, window=window)
        return 0.0 if row["entered"] else max(row["wait"] or 0.0, 0.0)

    async def pause(self, platform: str, seconds: float) -> None:
        await self._run(PAUSE, platform=platform, seconds=seconds)

    async def close(self) -> None:
        async with self._busy:
            await self._drop(broken=False)

    async def _run(self, statement: Any, **values: object) -> dict[str, Any]:
        async with self._busy:
            try:
                conn = self._conn or await self._connect()
                sent = time.monotonic()
                result = await asyncio.wait_for(conn.execute(statement, values), QUERY_SECONDS)
                answered = time.monotonic()
                row = dict(result.mappings().one())
            except BaseException:  # failed, timed out or cancelled: the connection is in doubt
                await self._drop(broken=True)
                raise
        self.clock.read(sent, answered, row["now"])
        self._round_trip = answered - sent
        return row

    async def _connect(self) -> AsyncConnection:
        conn = await asyncio.wait_for(self.engine.connect(), QUERY_SECONDS)
        self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        return self._conn

    async def _drop(self, *, broken: bool) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        with contextlib.suppress(Exception):
            if broken:
                await conn.invalidate()
            await conn.close()
