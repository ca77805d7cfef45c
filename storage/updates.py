"""Processed-update records: the at-most-once guard for platform updates."""

from datetime import datetime

from sqlalchemy import bindparam, delete, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedUpdate
from storage.types import UTCDateTime

# Written out once, for SQLite and PostgreSQL alike: this runs for every update, and the
# dialects' insert(...).on_conflict_do_nothing() has no cache key, so SQLAlchemy would
# compile it afresh each time (half a millisecond, more than running it).
_CLAIM = text(
    "INSERT INTO processed_updates (platform, update_key, processed_at)"
    " VALUES (:platform, :update_key, :processed_at) ON CONFLICT DO NOTHING"
).bindparams(bindparam("processed_at", type_=UTCDateTime()))


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
