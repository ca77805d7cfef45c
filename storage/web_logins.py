"""Web sign-in state in the database: open codes (keyed hashes, bound to the asking browser)
and sessions signed out before their time, so every service process sees the same."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import WebLoginCode, WebSignOut


async def add(
    session: AsyncSession,
    member_id: int,
    browser: str,
    code_hash: str,
    now: datetime,
    ttl: timedelta,
) -> None:
    """A new open code; codes already issued stay valid until used or expired."""
    session.add(
        WebLoginCode(
            member_id=member_id,
            browser=browser,
            code_hash=code_hash,
            wrong=0,
            created_at=now,
            expires_at=now + ttl,
        )
    )


async def issued_since(session: AsyncSession, member_id: int, since: datetime) -> int:
    """Codes sent to this person since then (used or not): sends per person are throttled."""
    query = select(func.count()).where(
        WebLoginCode.member_id == member_id, WebLoginCode.created_at >= since
    )
    return int(await session.scalar(query) or 0)


async def open_codes(
    session: AsyncSession, member_ids: Sequence[int], browser: str, now: datetime
) -> Sequence[WebLoginCode]:
    """The unexpired codes these people asked for from this browser, locked until the
    transaction ends (a code is used once, even when two processes check it at once)."""
    query = (
        select(WebLoginCode)
        .where(
            WebLoginCode.member_id.in_(member_ids),
            WebLoginCode.browser == browser,
            WebLoginCode.expires_at > now,
        )
        .order_by(WebLoginCode.id)
        .with_for_update()
    )
    return (await session.scalars(query)).all()


def spend(code: WebLoginCode, now: datetime) -> None:
    """End a code (used, or guessed wrong too often). The row stays until forget_expired,
    so the sends per person still count it."""
    code.expires_at = now


async def forget_expired(session: AsyncSession, now: datetime, keep: timedelta) -> None:
    """Delete codes and sign-outs past use (codes are kept a while after expiry, as the
    per-person send count reads them)."""
    await session.execute(delete(WebLoginCode).where(WebLoginCode.expires_at <= now - keep))
    await session.execute(delete(WebSignOut).where(WebSignOut.expires_at <= now))


async def sign_out(session: AsyncSession, nonce: str, expires_at: datetime) -> None:
    if await session.get(WebSignOut, nonce) is None:
        session.add(WebSignOut(nonce=nonce, expires_at=expires_at))


async def signed_out(session: AsyncSession, nonce: str) -> bool:
    return await session.get(WebSignOut, nonce) is not None
