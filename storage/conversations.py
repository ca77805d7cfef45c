"""Conversation state for multi-step commands, kept in the database per chat account."""

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation


async def current(session: AsyncSession, platform: str, external_id: str) -> Conversation | None:
    return await session.get(Conversation, (platform, external_id))


async def start(
    session: AsyncSession,
    platform: str,
    external_id: str,
    flow: str,
    step: str,
    data: dict[str, Any],
    now: datetime,
) -> Conversation:
    row = await current(session, platform, external_id)
    if row is None:
        row = Conversation(platform=platform, external_id=external_id)
        session.add(row)
    row.flow, row.step, row.data, row.updated_at = flow, step, dict(data), now
    await session.flush()
    return row


async def prune(session: AsyncSession, older_than: datetime) -> int:
    result = await session.execute(delete(Conversation).where(Conversation.updated_at < older_than))
    return int(getattr(result, "rowcount", 0) or 0)
