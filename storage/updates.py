"""Processed-update records: the at-most-once guard for platform updates."""

from datetime import datetime

from sqlalchemy import Table, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedUpdate

PROCESSED: Table = ProcessedUpdate.__table__  # type: ignore[assignment]
# Built once: this runs for every update, and building and compiling it each time costs more
# than executing it. The Core table skips the ORM's bulk-insert path.
_CLAIM = {
    "sqlite": sqlite_insert(PROCESSED).on_conflict_do_nothing(),
    "postgresql": pg_insert(PROCESSED).on_conflict_do_nothing(),
}


async def claim(session: AsyncSession, platform: str, update_key: str, now: datetime) -> bool:
    """Record the update in the current transaction; False when it was handled before.

    The row commits with the update's effects, so a crash before commit leaves it unclaimed.
    """
    statement = _CLAIM[session.get_bind().dialect.name]
    # A concurrent claim of the same update waits on the row lock, then inserts nothing.
    params = {"platform": platform, "update_key": update_key, "processed_at": now}
    result = await session.execute(statement, params)
    return bool(getattr(result, "rowcount", 0))


async def prune(session: AsyncSession, older_than: datetime) -> int:
    result = await session.execute(
        delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < older_than)
    )
    return int(getattr(result, "rowcount", 0) or 0)
