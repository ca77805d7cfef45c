"""Invite codes: short, unambiguous, single use; the database keeps only their hashes."""

import secrets
from datetime import datetime

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.crypto import SecretBox
from storage.models import InviteCode, Member

# No 0/O, 1/I/L: codes are read off a screen and typed on a phone.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "")


def code_hash(box: SecretBox, code: str) -> str:
    """Keyed with SECRET_KEY: a copy of the database alone cannot brute-force open codes."""
    return box.mac(f"invite:{normalize(code)}".encode())


async def issue(
    session: AsyncSession,
    box: SecretBox,
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
            code_hash=code_hash(box, code),
            created_by=created_by,
            created_at=now,
            expires_at=expires_at,
        )
    )
    await session.flush()
    return code


_FIND = (
    select(InviteCode, Member)
    .join(Member, Member.id == InviteCode.member_id)
    .where(InviteCode.code_hash == bindparam("code_hash"))
)


async def find(
    session: AsyncSession, box: SecretBox, code: str
) -> tuple[InviteCode, Member] | None:
    """The invite and its member (with branch), in one query."""
    row = (await session.execute(_FIND, {"code_hash": code_hash(box, code)})).first()
    return (row[0], row[1]) if row else None


async def consume(session: AsyncSession, invite_id: int, now: datetime) -> bool:
    """Mark the code used if it still can be; False when another chat used it first."""
    result = await session.execute(_CONSUME, {"invite_id": invite_id, "now": now})
    return getattr(result, "rowcount", 0) == 1


_INVITES: Table = InviteCode.__table__  # type: ignore[assignment]
_CONSUME = (
    update(_INVITES)
    .where(
        _INVITES.c.id == bindparam("invite_id"),
        _INVITES.c.used_at.is_(None),
        _INVITES.c.revoked.is_(False),
        _INVITES.c.expires_at > bindparam("now"),
    )
    .values(used_at=bindparam("now"))
)
