"""Queries over the member archive (党员档案): entries (education, work, awards, punishments)
and the scans kept with them. What they say stays encrypted here; who may see it is decided
in handlers/archive/access.py, never by a query alone.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.roster_models import ArchiveEntry, ArchiveFile

ENTRY_KINDS = ("education", "work", "award", "punishment")


def entry_ref(entry_id: int) -> str:
    return f"archive:{entry_id}"


def file_ref(file_id: int) -> str:
    return f"archive_file:{file_id}"


async def entry(session: AsyncSession, entry_id: int) -> ArchiveEntry | None:
    return await session.get(ArchiveEntry, entry_id)


async def file(session: AsyncSession, file_id: int) -> ArchiveFile | None:
    return await session.get(ArchiveFile, file_id)


async def entries_of(
    session: AsyncSession, member_id: int, *, withdrawn: bool = False
) -> list[ArchiveEntry]:
    """A member's entries by kind and date (the oldest first); `withdrawn` includes those
    taken back, which stay on file."""
    query = select(ArchiveEntry).where(ArchiveEntry.member_id == member_id)
    if not withdrawn:
        query = query.where(ArchiveEntry.removed_at.is_(None))
    query = query.order_by(ArchiveEntry.since.is_(None), ArchiveEntry.since, ArchiveEntry.id)
    return list((await session.scalars(query)).all())


async def files_of(
    session: AsyncSession, member_id: int, *, withdrawn: bool = False
) -> list[ArchiveFile]:
    """A member's files (the bytes are loaded too: callers list a few dozen at most)."""
    query = select(ArchiveFile).where(ArchiveFile.member_id == member_id)
    if not withdrawn:
        query = query.where(ArchiveFile.removed_at.is_(None))
    return list((await session.scalars(query.order_by(ArchiveFile.id))).all())


async def add_entry(session: AsyncSession, new: ArchiveEntry) -> ArchiveEntry:
    session.add(new)
    await session.flush()
    return new


async def add_file(session: AsyncSession, new: ArchiveFile) -> ArchiveFile:
    session.add(new)
    await session.flush()
    return new


async def withdraw_files_of(session: AsyncSession, entry_id: int, at: datetime) -> list[int]:
    """Withdraw the files kept with an entry being withdrawn; their ids."""
    query = select(ArchiveFile).where(
        ArchiveFile.entry_id == entry_id, ArchiveFile.removed_at.is_(None)
    )
    found = list((await session.scalars(query)).all())
    for kept in found:
        kept.removed_at = at
    return [f.id for f in found]
