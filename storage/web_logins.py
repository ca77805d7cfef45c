"""Open web sign-in codes (keyed hashes), one per person: the newest replaces the last."""

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import WebLoginCode


async def put(session: AsyncSession, member_id: int, code_hash: str, expires_at: datetime) -> None:
    found = await session.get(WebLoginCode, member_id, with_for_update=True)
    if found is None:
        session.add(WebLoginCode(member_id=member_id, code_hash=code_hash, expires_at=expires_at))
        return
    found.code_hash, found.expires_at = code_hash, expires_at


async def locked(session: AsyncSession, member_id: int) -> WebLoginCode | None:
    """The person's open code, locked until the transaction ends (a code is used once, even
    when two service processes check it at the same moment)."""
    return await session.get(WebLoginCode, member_id, with_for_update=True)


async def drop(session: AsyncSession, member_id: int) -> None:
    await session.execute(delete(WebLoginCode).where(WebLoginCode.member_id == member_id))
