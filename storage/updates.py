"""Processed-update records: the at-most-once guard for platform updates."""

from datetime import datetime

from sqlalchemy import Table, delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import insert_ignoring_conflicts
from storage.models import ProcessedUpdate

PROCESSED: Table = ProcessedUpdate.__table__  # type: ignore[assignment]

# Every update runs it: see insert_ignoring_conflicts.
_CLAIM = insert_ignoring_conflicts(PROCESSED, ("platform", "update_key", "processed_at"))


async def claim(session: AsyncSession, platform: str, update_key: str, now: datetime) -> bool:
    """Record the update in the current transaction; False when it was handled before.

    The row commits with the update's effects, so a crash before commit leaves it unclaimed.
    """
    # A concurrent claim of the same update waits on the row lock, then inserts nothing.
    params = {"platform": platform, "update_key": update_key, "processed_at": now}
    result = await session.execute(_CLAIM, params)
    return bool(getattr(result, "rowcount", 0))


async def prune(session: AsyncSession, older_than: datetime) -> int:
    result = await session.execute(
        delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < older_than)
    )
    return int(getattr(result, "rowcount", 0) or 0)
