"""A member's archive as lines people read: one per entry, then the scans. Used by /archive,
/member and /me."""

from collections import Counter

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.archive.domain import body_of
from handlers.core.messages import Msg
from storage import archive
from storage.crypto import SecretBox
from storage.models import Member
from storage.roster_models import ArchiveEntry, ArchiveFile


def entry_line(box: SecretBox, entry: ArchiveEntry, scans: int = 0) -> Msg:
    body = body_of(box, entry)
    clip = Msg("archive.scans", count=scans) if scans else ""
    if entry.kind in ("award", "punishment"):
        return Msg(
            "archive.honour_line",
            id=entry.id,
            kind=Msg(f"archive.kind.{entry.kind}"),
            day=entry.since,
            level=body.get("level", "-"),
            title=body.get("title", "-"),
            basis=body.get("basis", "-"),
            scans=clip,
        )
    return Msg(
        "archive.stretch_line",
        id=entry.id,
        kind=Msg(f"archive.kind.{entry.kind}"),
        since=entry.since or "-",
        until=entry.until or Msg("archive.still"),
        place=body.get("place", "-"),
        what=f" {body['what']}" if body.get("what") else "",
        scans=clip,
    )


def file_line(kept: ArchiveFile) -> Msg:
    where = Msg("archive.file_of_entry", id=kept.entry_id) if kept.entry_id else ""
    kb = max(1, round(kept.size / 1024))
    return Msg(
        "archive.file_line", id=kept.id, name=kept.name, kb=kb, at=kept.added_at, entry=where
    )


async def archive_lines(
    session: AsyncSession, box: SecretBox, member: Member
) -> tuple[list[Msg], list[ArchiveFile]]:
    """The entries in force as lines, and the scans kept."""
    entries = await archive.entries_of(session, member.id)
    files = await archive.files_of(session, member.id)
    per_entry = Counter(f.entry_id for f in files if f.entry_id)
    return [entry_line(box, e, per_entry[e.id]) for e in entries], files


async def archive_summary(session: AsyncSession, box: SecretBox, member: Member) -> Msg:
    """The entries and how many scans, for /member and /me."""
    lines, files = await archive_lines(session, box, member)
    return Msg(
        "archive.summary",
        lines=lines or [Msg("archive.empty_line")],
        files=len(files),
    )
