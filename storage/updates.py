"""Processed-update records: the at-most-once guard for platform updates."""

from datetime import datetime

from sqlalchemy import Table, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedUpdate

PROCESSED: Table = ProcessedUpdate.__table__  # type: ignore[assignment]


async def claim(session: AsyncSession, platform: str, update_key: str, now: datetime) -> bool:
    """Record the update in the current transaction; False when it was handled before.

    The row commits with the update's effects, so a crash before commit leaves it unclaimed.
    """
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(PROCESSED)  # the Core table: the ORM's bulk-insert path costs more than the SQL
        .values(platform=platform, update_key=update_key, processed_at=now)
        .on_conflict_do_nothing()
    )
    # A concurrent claim of the same update waits on the row lock, then inserts nothing.
    result = await session.execute(statement)
    return bool(getattr(result, "rowcount", 0))


async def prune(session: AsyncSession, older_than: datetime) -> int:
    result = await session.execute(
        delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < older_than)
    )
    return int(getattr(result, "rowcount", 0) or 0)
