"""Processed-update records: the at-most-once guard for platform updates."""

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedUpdate


async def claim(session: AsyncSession, platform: str, update_key: str, now: datetime) -> bool:
    """Record the update in the current transaction; False when it was handled before.

    The row commits with the update's effects, so a crash before commit leaves it unclaimed.
    """
    seen = await session.scalar(
        select(ProcessedUpdate.update_key).where(
            ProcessedUpdate.platform == platform, ProcessedUpdate.update_key == update_key
        )
    )
    if seen is not None:
        return False
    try:
        async with session.begin_nested():
            session.add(ProcessedUpdate(platform=platform, update_key=update_key, processed_at=now))
    except IntegrityError:
        # Another process claimed it between our check and our insert.
        return False
    return True


async def prune(session: AsyncSession, older_than: datetime) -> int:
    result = await session.execute(
        delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < older_than)
    )
    return int(getattr(result, "rowcount", 0) or 0)
