"""Leases (storage/leader.py): a leader that stops renewing is taken over and fenced out, a
takeover waits for the leader's fenced commit, and PostgreSQL connections keep alive."""

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from scheduler.setup import job_store_engine
from storage import keepalive, leader, outbox
from storage.db import create_engine
from storage.leader import Leadership, LeaseLost
from storage.models import OutboxMessage
from storage.outbox import Envelope
from tests.support.chat import Clock

PG = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
async def engines(database_url: str) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """Two "processes": an engine each on the same database."""
    pair = (create_engine(database_url), create_engine(database_url))
    yield pair
    for engine in pair:
        await engine.dispose()


@asynccontextmanager
async def _rivals(
    engines: tuple[AsyncEngine, AsyncEngine], role: str, lease: float
) -> AsyncIterator[tuple[Leadership, Leadership]]:
    """A leader that renews far less often than its lease lasts (to the database it is
    frozen), and a rival process."""
    first = Leadership(engines[0], role, lease=lease, renew=3600)
    second = Leadership(engines[1], role, lease=lease)
    try:
        assert await first.try_acquire()
        yield first, second
    finally:
        await first.release()
        await second.release()


async def _taken_over(leadership: Leadership) -> bool:
    """Try as a process does, every so often, until it leads (or give up)."""
    for _ in range(100):
        if await leadership.try_acquire():
            return True
        await asyncio.sleep(0.05)
    return False


@PG
async def test_a_leader_that_stops_renewing_is_taken_over_and_fenced_out(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    async with _rivals(engines, "scheduler", 1.0) as (first, second):
        assert not await second.try_acquire()
        assert await _taken_over(second)
        assert second.token == (first.token or 0) + 1
        # Woken up: its own clock says the lease is over, and the database agrees.
        assert not first.held
        async with AsyncSession(engines[0]) as session, session.begin():
            with pytest.raises(LeaseLost):
                await first.fence(session)
        assert not await first.check()
        async with AsyncSession(engines[1]) as session, session.begin():
            await second.fence(session)


@PG
async def test_a_takeover_waits_for_the_leaders_fenced_commit(
    engines: tuple[AsyncEngine, AsyncEngine], clock: Clock
) -> None:
    async with _rivals(engines, "outbox", 0.5) as (first, second):
        async with AsyncSession(engines[0]) as session, session.begin():
            await outbox.enqueue(session, [Envelope("k", "telegram", "1", {}, "test")], clock())
            await first.fence(session)  # the lease is checked and held to the commit
            await asyncio.sleep(1.0)  # the lease runs out before the commit
            assert not await second.try_acquire()
        assert await second.try_acquire()
        async with AsyncSession(engines[1]) as session:  # the new leader sees what it wrote
            assert await session.scalar(select(OutboxMessage.key)) == "k"


@PG
async def test_a_fenced_transaction_left_idle_is_ended_by_the_server(
    engines: tuple[AsyncEngine, AsyncEngine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A leader frozen between its fence and its commit cannot hold a takeover back."""
    monkeypatch.setattr(leader, "FENCED_IDLE_MS", 300)
    async with _rivals(engines, "outbox", 0.5) as (first, second):
        session = AsyncSession(engines[0])
        await session.begin()
        await first.fence(session)
        assert await _taken_over(second)  # once the server has ended the idle transaction
        with pytest.raises(DBAPIError):  # its session is gone
            await session.commit()
        await session.close()


@PG
async def test_postgresql_connections_keep_alive_at_both_ends(
    engines: tuple[AsyncEngine, AsyncEngine], database_url: str
) -> None:
    async with engines[0].connect() as conn:
        idle = await conn.scalar(text("SHOW tcp_keepalives_idle"))
        raw = await conn.get_raw_connection()
        ours = raw.driver_connection._transport.get_extra_info("socket")  # type: ignore[union-attr]
        assert ours.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        assert ours.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == keepalive.IDLE
    assert idle == str(keepalive.IDLE)
    store = job_store_engine(database_url)  # APScheduler's, through libpq
    try:
        with store.connect() as conn:
            assert conn.scalar(text("SHOW tcp_keepalives_count")) == str(keepalive.COUNT)
            fd = conn.connection.dbapi_connection.pgconn.socket  # type: ignore[union-attr]
            with socket.socket(fileno=os.dup(fd)) as sock:
                assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL) == (
                    keepalive.INTERVAL
                )
    finally:
        store.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_only_process_leads_on_sqlite(database_url: str) -> None:
    engine = create_engine(database_url)
    leadership = Leadership(engine, "scheduler")
    try:
        assert await leadership.try_acquire() and leadership.held
        assert leadership.lease_query() is None
        async with AsyncSession(engine) as session, session.begin():
            await leadership.fence(session)  # nothing to check: no other process
        await leadership.release()
        assert await leadership.check()
    finally:
        await engine.dispose()
