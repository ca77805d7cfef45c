"""One process at a time: the lease that makes a process the outbox sender or the scheduler.

On PostgreSQL several service processes may share one database. A role is held by a lease, a
row of `leases` valid for LEASE_SECONDS by the database's clock and renewed by a heartbeat
every RENEW_SECONDS. Another process takes the role over when the lease has run out (the
holder is frozen, cut off, or too busy to renew) or at once when the holder's own database
session is gone (it died or stopped). A frozen process keeps its session: the kernel answers
TCP keepalives for a stopped process, so only the lease's expiry reveals it.

A leader acts only while its lease is valid by its own monotonic clock (which runs on while
the process is stopped), and fences what it writes: `fence()`, the last statement of a
leader's transaction, checks the lease in that transaction and holds it until the commit, so
a takeover waits for the commit and nothing a former leader writes commits after it. A leader
that wakes from a freeze after its lease ran out therefore stops before acting.
SQLite is one process per database file (docs/operations.md), so there the only process leads.
"""

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import (
    DateTime,
    Integer,
    Select,
    and_,
    column,
    delete,
    func,
    literal,
    or_,
    select,
    table,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from storage.ops_models import Lease

log = logging.getLogger(__name__)
LEASE_SECONDS = 15.0
RENEW_SECONDS = 5.0
# The lease counts as over this much before the database's expiry: the two clocks may drift.
MARGIN_SECONDS = 1.0
QUERY_SECONDS = 3.0  # a lease query that takes longer failed (a cut-off connection hangs)
LOCK_WAIT = "2s"  # a takeover waits this long at most for a fenced transaction to commit
# A fenced transaction left idle this long (its process frozen between the fence and the
# commit) is ended by the server, so it cannot hold a takeover back.
FENCED_IDLE_MS = 5000
SESSIONS = table("pg_stat_activity", column("pid", Integer))


class LeaseLost(Exception):
    """This process no longer leads the role; what it was writing is rolled back."""

    def __init__(self, role: str) -> None:
        super().__init__(f"no longer the {role} leader")
        self.role = role


def holder_name() -> str:
    """Who holds a lease, readable by an operator: host, process id, and a random part."""
    return f"{socket.gethostname()[:90]}:{os.getpid()}:{secrets.token_hex(4)}"


def _expiry(seconds: float) -> Any:
    """The database's time now plus `seconds`."""
    return func.clock_timestamp(type_=DateTime(timezone=True)) + timedelta(seconds=seconds)


class Leadership:
    """One role (`name`) as this process holds it: by a lease on PostgreSQL, always on SQLite."""

    def __init__(
        self,
        engine: AsyncEngine,
        name: str,
        *,
        lease: float = LEASE_SECONDS,
        renew: float = RENEW_SECONDS,
    ) -> None:
        self.engine = engine
        self.name = name
        self.lease = lease
        self.renew_every = renew
        self.holder = holder_name()
        self.token: int | None = None
        self._single = engine.dialect.name != "postgresql"
        self._conn: AsyncConnection | None = None
        self._valid_until = 0.0
        self._busy = asyncio.Lock()  # one query at a time on the lease's connection
        self._heartbeat: asyncio.Task[None] | None = None

    @property
    def held(self) -> bool:
        return self.valid()

    def valid(self) -> bool:
        """Leading now, by this process's own clock (no query): the last renewal was sent
        less than the lease's length ago."""
        return self._single or (self._conn is not None and time.monotonic() < self._valid_until)

    async def try_acquire(self) -> bool:
        """Become the leader if the lease is free; True if this process leads now."""
        if self._single or self._conn is not None:
            return await self.check()
        conn = await self.engine.connect()
        try:
            sent = time.monotonic()
            token = await asyncio.wait_for(self._take(conn), QUERY_SECONDS)
        except BaseException as err:
            await _discard(conn)
            if isinstance(err, DBAPIError) and _waited_for_lock(err):
                return False  # the leader is committing a fenced transaction: not now
            raise
        if token is None:
            await conn.close()
            return False
        self._conn, self.token = conn, token
        self._valid_from(sent)
        self._heartbeat = asyncio.create_task(self._beat(), name=f"lease-{self.name}")
        log.info("this process now leads %s (lease %d, %s)", self.name, token, self.holder)
        return True

    async def check(self) -> bool:
        """Still the leader? While the lease runs by the local clock, yes without a query;
        past it (after a freeze, or renewals failing) only if renewing succeeds now."""
        return self.valid() or await self._renew()

    async def fence(self, session: AsyncSession) -> None:
        """Raise LeaseLost unless this process still leads; the last statement of a leader's
        transaction. The lease row stays share-locked until the commit, so a takeover waits
        for it: what this transaction wrote is then in before the new leader looks."""
        if self._single:
            return
        if not self.valid():
            raise LeaseLost(self.name)
        idle = func.set_config("idle_in_transaction_session_timeout", str(FENCED_IDLE_MS), True)
        query = self._mine(idle).with_for_update(read=True)
        if await session.scalar(query) is None:
            raise LeaseLost(self.name)

    def lease_query(self) -> Select[Any] | None:
        """A query with a row while this process holds the lease, by the database (for a
        synchronous client: APScheduler's store); None on SQLite."""
        return None if self._single else self._mine(literal(1))

    def _mine(self, column: Any) -> Select[Any]:
        return (
            select(column)
            .select_from(Lease)
            .where(
                Lease.role == self.name,
                Lease.holder == self.holder,
                Lease.token == self.token,
                Lease.expires_at > func.clock_timestamp(),
            )
        )

    async def release(self) -> None:
        """Give the role up at once (a clean stop): the next process need not wait."""
        self._stop_heartbeat()
        try:
            async with self._busy:
                if self._conn is None:
                    return
                await asyncio.wait_for(self._give_up(self._conn), QUERY_SECONDS)
        except Exception as err:
            log.info("could not give up the %s lease; it runs out: %s", self.name, err)
            await self._drop(broken=True)
            return
        await self._drop(broken=False)

    async def _take(self, conn: AsyncConnection) -> int | None:
        """The lease, when free: never held, run out, or its holder's session gone."""
        values = {
            "role": self.name,
            "holder": self.holder,
            "token": 1,
            "backend_pid": func.pg_backend_pid(),
            "expires_at": _expiry(self.lease),
        }
        holder_alive = Lease.backend_pid.in_(select(SESSIONS.c.pid))
        statement = (
            insert(Lease)
            .values(values)
            .on_conflict_do_update(
                index_elements=[Lease.role],
                set_={**values, "token": Lease.token + 1},
                where=or_(Lease.expires_at <= func.clock_timestamp(), ~holder_alive),
            )
            .returning(Lease.token)
        )
        async with conn.begin():
            await conn.execute(select(func.set_config("lock_timeout", LOCK_WAIT, True)))
            return await conn.scalar(statement)

    async def _renew(self) -> bool:
        """Extend the lease if it is still this process's (even after it ran out, if nobody
        took it meanwhile: then nobody else has led); give the role up when it is not, or
        when the lease's connection fails."""
        statement = (
            update(Lease)
            .where(
                Lease.role == self.name,
                Lease.holder == self.holder,
                Lease.token == self.token,
                Lease.backend_pid == func.pg_backend_pid(),
            )
            .values(expires_at=_expiry(self.lease))
            .returning(Lease.token)
        )
        async with self._busy:
            conn = self._conn
            if conn is None:  # given up meanwhile
                return False
            sent = time.monotonic()
            try:
                renewed = await asyncio.wait_for(_in_transaction(conn, statement), QUERY_SECONDS)
            except Exception as err:
                if isinstance(err, DBAPIError) and _waited_for_lock(err):
                    return self.valid()  # a long fenced commit: again while the lease lasts
                # The connection is gone or in doubt, and with it the role.
                log.warning("the %s lease's connection failed; role given up: %s", self.name, err)
                await self._drop(broken=True)
                return False
            if renewed is None:
                log.warning("the %s lease was taken over (%s)", self.name, self.holder)
                await self._drop(broken=False)
                return False
            self._valid_from(sent)
            return True

    async def _give_up(self, conn: AsyncConnection) -> None:
        statement = delete(Lease).where(
            and_(Lease.role == self.name, Lease.holder == self.holder, Lease.token == self.token)
        )
        async with conn.begin():
            await conn.execute(statement)

    async def _beat(self) -> None:
        """Renew every RENEW_SECONDS while leading; a lost lease ends it (see _drop)."""
        while self._conn is not None:
            await asyncio.sleep(self.renew_every)
            await self._renew()

    def _valid_from(self, sent: float) -> None:
        """The lease was granted or renewed by a statement sent at `sent` (monotonic): the
        database's expiry, a little later, is at least this far away."""
        self._valid_until = sent + self.lease - min(MARGIN_SECONDS, self.lease / 4)

    def _stop_heartbeat(self) -> None:
        task, self._heartbeat = self._heartbeat, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _drop(self, *, broken: bool) -> None:
        """Give the connection up; a broken one is invalidated, never pooled again."""
        self._stop_heartbeat()
        conn, self._conn, self.token, self._valid_until = self._conn, None, None, 0.0
        if conn is None:
            return
        if broken:
            await _discard(conn)
        else:
            with contextlib.suppress(Exception):
                await conn.close()


async def _in_transaction(conn: AsyncConnection, statement: object) -> object:
    async with conn.begin():
        await conn.execute(select(func.set_config("lock_timeout", LOCK_WAIT, True)))
        return await conn.scalar(statement)  # type: ignore[call-overload]


def _waited_for_lock(err: DBAPIError) -> bool:
    """PostgreSQL gave up waiting for a row lock (lock_timeout): SQLSTATE 55P03."""
    return getattr(err.orig, "sqlstate", None) == "55P03"


async def _discard(conn: AsyncConnection) -> None:
    try:
        await conn.invalidate()
        await conn.close()
    except Exception as err:
        log.debug("closing the lease connection failed: %s", err)
