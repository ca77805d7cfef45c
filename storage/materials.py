"""Study materials (学习资料) and who was sent or has learned which."""

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import upsert_for
from storage.models import Material, MaterialRead


def material_ref(material_id: int) -> str:
    return f"material:{material_id}"


def visible_to(branch_id: int | None) -> ColumnElement[bool]:
    """Materials a member of the branch may read: the branch's own and the shared ones;
    None (an admin): every branch's."""
    if branch_id is None:
        return true()
    return or_(Material.branch_id.is_(None), Material.branch_id == branch_id)


async def visible_among(
    session: AsyncSession, ids: Sequence[int], branch_id: int | None
) -> dict[int, Material]:
    query = select(Material).where(Material.id.in_(ids), Material.active, visible_to(branch_id))
    return {m.id: m for m in await session.scalars(query)}


async def get_visible(
    session: AsyncSession, material_id: int, branch_id: int | None
) -> Material | None:
    return (await visible_among(session, [material_id], branch_id)).get(material_id)


async def all_active(session: AsyncSession) -> set[int]:
    return set((await session.scalars(select(Material.id).where(Material.active))).all())


async def same_digest(session: AsyncSession, digest: str, branch_id: int | None) -> Material | None:
    query = select(Material).where(
        Material.digest == digest,
        Material.active,
        Material.branch_id.is_(None) if branch_id is None else Material.branch_id == branch_id,
    )
    return await session.scalar(query.limit(1))


async def newest(session: AsyncSession, branch_id: int | None, limit: int) -> Sequence[Material]:
    query = (
        select(Material)
        .where(Material.active, visible_to(branch_id))
        .order_by(Material.id.desc())
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def tally(session: AsyncSession) -> tuple[int, int]:
    """(the newest material's id, how many there are): the search index is current when it
    holds as many, up to that id."""
    row = (await session.execute(select(func.max(Material.id), func.count(Material.id)))).one()
    return int(row[0] or 0), int(row[1] or 0)


async def all_ids(session: AsyncSession) -> set[int]:
    return set((await session.scalars(select(Material.id))).all())


async def index_rows(
    session: AsyncSession, ids: Sequence[int]
) -> list[tuple[int, int | None, dict[str, int]]]:
    found = []
    for start in range(0, len(ids), 1000):  # IN lists stay well under drivers' limits
        chunk = ids[start : start + 1000]
        query = select(Material.id, Material.branch_id, Material.terms).where(
            Material.id.in_(chunk)
        )
        found += [(mid, branch, terms or {}) for mid, branch, terms in await session.execute(query)]
    return found


class ReadMark(NamedTuple):
    material_id: int
    pushed_at: datetime | None
    learned_at: datetime | None


async def reads_of(
    session: AsyncSession, member_ids: Sequence[int] | None
) -> dict[int, dict[int, ReadMark]]:
    """Per member (None: everyone), what they were sent and learned, by material id; plain
    rows, as the daily push reads them for thousands of members."""
    query = select(
        MaterialRead.member_id,
        MaterialRead.material_id,
        MaterialRead.pushed_at,
        MaterialRead.learned_at,
    )
    if member_ids is not None:
        query = query.where(MaterialRead.member_id.in_(member_ids))
    found: dict[int, dict[int, ReadMark]] = {}
    for member_id, material_id, pushed_at, learned_at in await session.execute(query):
        found.setdefault(member_id, {})[material_id] = ReadMark(material_id, pushed_at, learned_at)
    return found


async def mark(
    session: AsyncSession,
    member_id: int,
    material_id: int,
    *,
    pushed_at: datetime | None = None,
    learned_at: datetime | None = None,
) -> bool:
    """Record a push or a 已学习; returns False when it was already learned."""
    read = await session.get(MaterialRead, (member_id, material_id))
    if read is None:
        session.add(
            MaterialRead(
                member_id=member_id,
                material_id=material_id,
                pushed_at=pushed_at,
                learned_at=learned_at,
            )
        )
        return True
    if learned_at is not None and read.learned_at is not None:
        return False
    read.pushed_at = pushed_at or read.pushed_at
    read.learned_at = learned_at or read.learned_at
    return True


async def mark_pushed_many(
    session: AsyncSession, pushes: Sequence[tuple[int, int]], now: datetime
) -> None:
    """Record many pushes at once (the daily push): (member id, material id) pairs."""
    if not pushes:
        return
    insert = upsert_for(session)
    rows = [{"member_id": m, "material_id": mat, "pushed_at": now} for m, mat in pushes]
    for start in range(0, len(rows), 2000):  # 3 parameters a row; drivers allow 32,767
        statement = insert(MaterialRead).values(rows[start : start + 2000])
        statement = statement.on_conflict_do_update(
            index_elements=["member_id", "material_id"], set_={"pushed_at": now}
        )
        await session.execute(statement)


async def learned_since(session: AsyncSession, member_id: int, since: datetime) -> int:
    query = select(func.count()).where(
        MaterialRead.member_id == member_id, MaterialRead.learned_at >= since
    )
    return int(await session.scalar(query) or 0)
