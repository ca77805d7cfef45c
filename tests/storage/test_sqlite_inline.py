"""The inline SQLite connection behaves like aiosqlite where SQLAlchemy relies on it."""

import asyncio
from pathlib import Path

from sqlalchemy import text

from storage.db import create_engine


async def test_isolation_levels_and_close_do_not_hang(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}")
    async with engine.connect() as conn:
        autocommit = await asyncio.wait_for(
            conn.execution_options(isolation_level="AUTOCOMMIT"), timeout=5
        )
        assert (await autocommit.execute(text("select 41 + 1"))).scalar() == 42
    async with engine.begin() as conn:
        await conn.execute(text("create table t (x int)"))
        await conn.execute(text("insert into t values (1)"))
    async with engine.connect() as conn:
        assert (await conn.execute(text("select count(*) from t"))).scalar() == 1
        mode = (await conn.execute(text("pragma journal_mode"))).scalar()
        assert mode == "wal"
    await asyncio.wait_for(engine.dispose(), timeout=5)
