"""storage/driven.py: a whole unit of work in one greenlet, on SQLite and PostgreSQL alike."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine, session_factory
from storage.driven import DrivenSession, drive


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP TABLE IF EXISTS driven_t"))
        await conn.execute(text("CREATE TABLE driven_t (x INTEGER PRIMARY KEY)"))
    yield engine
    async with engine.begin() as conn:
        await conn.execute(text("DROP TABLE driven_t"))
    await engine.dispose()


async def _count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM driven_t"))).scalar_one())


async def test_work_commits_and_waits_on_the_loop_in_between(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    order: list[str] = []

    async def other() -> None:
        order.append("other ran")

    async def work() -> int:
        session = sessions()
        assert isinstance(session, DrivenSession)
        try:
            await session.execute(text("INSERT INTO driven_t VALUES (1)"))
            task = asyncio.create_task(other())
            await asyncio.sleep(0.01)  # a real wait: other tasks run meanwhile
            await task
            order.append("work resumed")
            found = await session.scalar(text("SELECT max(x) FROM driven_t"))
            await session.commit()
            return int(found)
        finally:
            await session.close()

    assert await drive(work) == 1
    assert order == ["other ran", "work resumed"]
    assert await _count(engine) == 1


async def test_an_error_reaches_the_caller_and_nothing_is_kept(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)

    async def work() -> None:
        session = sessions()
        try:
            await session.execute(text("INSERT INTO driven_t VALUES (1)"))
            await session.execute(text("INSERT INTO driven_t VALUES (1)"))  # duplicate key
            await session.commit()
        finally:
            await session.close()

    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        await drive(work)
    assert await _count(engine) == 0


async def test_cancelling_the_task_cancels_the_work_inside(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    started = asyncio.Event()
    cleaned: list[bool] = []

    async def work() -> None:
        session = sessions()
        try:
            await session.execute(text("INSERT INTO driven_t VALUES (1)"))
            started.set()
            await asyncio.sleep(30)
            await session.commit()
        finally:
            await session.close()
            cleaned.append(True)

    task = asyncio.create_task(drive(work))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == [True]
    assert await _count(engine) == 0


async def test_outside_drive_it_is_a_plain_async_session(engine: AsyncEngine) -> None:
    async with session_factory(engine)() as session, session.begin():
        await session.execute(text("INSERT INTO driven_t VALUES (2)"))
        assert (await session.scalars(text("SELECT x FROM driven_t"))).all() == [2]
    assert await _count(engine) == 1
