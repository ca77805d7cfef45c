"""PostgreSQL connections idle a while are pinged before use, and a dead one is replaced
(storage/db.py); connections in steady use are not pinged (a round trip per update)."""

import asyncio
import os

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage.db import _ping_idle_connections, async_url
from tests.conftest import _PG_PROBLEM, PG_URL


@pytest.fixture(autouse=True)
def _postgres() -> None:
    if _PG_PROBLEM:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs PostgreSQL: {_PG_PROBLEM}")
        pytest.skip(_PG_PROBLEM)


async def _killed_while_idle(engine: AsyncEngine) -> tuple[int, int]:
    """Use the pool's one connection, have the server end it, then use the pool again;
    the backend ids before and after."""
    async with engine.connect() as conn:
        before = int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())
    killer = create_async_engine(async_url(PG_URL))
    async with killer.connect() as conn:
        await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": before})
    await killer.dispose()
    await asyncio.sleep(0.2)
    async with engine.connect() as conn:
        after = int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())
    return before, after


async def test_an_idle_connection_the_server_ended_is_replaced() -> None:
    engine = create_async_engine(async_url(PG_URL), pool_size=1, max_overflow=0)
    _ping_idle_connections(engine, idle=0.1)
    before, after = await _killed_while_idle(engine)
    assert after != before
    await engine.dispose()


async def test_without_the_ping_the_dead_connection_fails_its_first_use() -> None:
    # The control: what the ping spares an update that comes after a quiet spell.
    engine = create_async_engine(async_url(PG_URL), pool_size=1, max_overflow=0)
    _ping_idle_connections(engine, idle=60)
    with pytest.raises(Exception, match=r"(?i)connection|closed|terminat"):
        await _killed_while_idle(engine)
    await engine.dispose()
