"""Invite codes: short, unambiguous, single use; the database keeps only their hashes."""

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InviteCode, Member

# No 0/O, 1/I/L: codes are read off a screen and typed on a phone.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "")


def code_hash(code: str) -> str:
    return hashlib.sha256(normalize(code).encode()).hexdigest()


async def issue(
    session: AsyncSession,
    member_id: int,
    created_by: int | None,
    now: datetime,
    expires_at: datetime,
) -> str:
    """A fresh code for the member; any earlier unused code of theirs stops working."""
    await session.execute(
        update(InviteCode)
        .where(InviteCode.member_id == member_id, InviteCode.used_at.is_(None))
        .values(revoked=True)
    )
    code = new_code()
    session.add(
        InviteCode(
            member_id=member_id,
            code_hash=code_hash(code),
            created_by=created_by,
            created_at=now,
            expires_at=expires_at,
        )
    )
    await session.flush()
    return code


async def find(session: AsyncSession, code: str) -> tuple[InviteCode, Member] | None:
    """The invite and its member (with branch), in one query."""
    query = (
        select(InviteCode, Member)
        .join(Member, Member.id == InviteCode.member_id)
        .where(InviteCode.code_hash == code_hash(code))
    )
    row = (await session.execute(query)).first()
    return (row[0], row[1]) if row else None
