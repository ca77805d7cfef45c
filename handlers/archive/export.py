"""A member's archive as plain JSON, for /mydata and the roster export: the entries (the
withdrawn ones too, marked) and the scans' metadata, never their bytes."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.archive.domain import body_of
from storage import archive
from storage.crypto import SecretBox
from storage.models import Member


async def archive_export(session: AsyncSession, box: SecretBox, member: Member) -> dict[str, Any]:
    """{"entries": [...], "files": [...]} for one member, decrypted."""
    entries = await archive.entries_of(session, member.id, withdrawn=True)
    files = await archive.files_of(session, member.id, withdrawn=True)
    return {
        "entries": [
            {
                "id": e.id,
                "kind": e.kind,
                "since": e.since.isoformat() if e.since else None,
                "until": e.until.isoformat() if e.until else None,
                **body_of(box, e),
                "recorded_at": e.recorded_at.isoformat(),
                "withdrawn_at": e.removed_at.isoformat() if e.removed_at else None,
            }
            for e in entries
        ],
        "files": [
            {
                "id": f.id,
                "entry": f.entry_id,
                "name": f.name,
                "mime": f.mime,
                "size": f.size,
                "sha256": f.sha256,
                "added_at": f.added_at.isoformat(),
                "withdrawn_at": f.removed_at.isoformat() if f.removed_at else None,
            }
            for f in files
        ],
    }
