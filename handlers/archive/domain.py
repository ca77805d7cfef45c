"""Keeping a member's archive: add an entry, keep a scan, withdraw what was wrong. Plain
functions shared by the chat commands and `branchbot member archive-add`.

What an entry says and a scan's bytes are encrypted; the traces keep the kind, the dates and
the scan's size and digest, never the text or the content.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.account.changes import Editor
from handlers.archive.parse import NewEntry
from handlers.core.incoming import Attachment
from handlers.core.messages import UserError
from handlers.core.tracer import SessionTracer
from storage import archive
from storage.crypto import SecretBox
from storage.models import Member
from storage.roster_models import ArchiveEntry, ArchiveFile

MAX_FILE_BYTES = 5 * 1024 * 1024
SCAN_SUFFIXES = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                 ".png": "image/png"}  # fmt: skip
MAX_REASON = 200


@dataclass(frozen=True)
class Scan:
    """A file to keep: its name, type and bytes."""

    name: str
    mime: str
    content: bytes


def body_of(box: SecretBox, entry: ArchiveEntry) -> dict[str, Any]:
    raw = box.decrypt(entry.body_enc)
    return json.loads(raw) if raw else {}


def _tracer(session: AsyncSession, box: SecretBox, now: datetime, editor: Editor) -> SessionTracer:
    return SessionTracer(session, box, now, editor.member.id if editor.member else None)


async def add_entry(
    session: AsyncSession,
    box: SecretBox,
    member: Member,
    new: NewEntry,
    now: datetime,
    editor: Editor,
) -> ArchiveEntry:
    """Record an entry (what it says encrypted), traced without the text."""
    entry = await archive.add_entry(
        session,
        ArchiveEntry(
            member_id=member.id,
            kind=new.kind,
            since=new.since,
            until=new.until,
            body_enc=box.encrypt(json.dumps(new.body, ensure_ascii=False)),
            recorded_by=editor.member.id if editor.member else None,
            recorded_at=now,
        ),
    )
    data: dict[str, Any] = {"kind": new.kind, "since": new.since.isoformat()}
    data["until"] = new.until.isoformat() if new.until else None
    await _tracer(session, box, now, editor).trace(
        "archive.added",
        branch_id=member.branch_id,
        member_id=member.id,
        ref=archive.entry_ref(entry.id),
        data={**data, **editor.trace_data()},
    )
    return entry


def check_scan(attachment: Attachment) -> tuple[str, str]:
    """A photo, an image or a PDF within the size limit: its (name, mime); else a UserError."""
    suffix = PurePosixPath(attachment.file_name or "").suffix.lower()
    mime = attachment.mime_type or SCAN_SUFFIXES.get(suffix, "")
    if attachment.kind == "photo":
        mime = mime or "image/jpeg"
    if not (mime.startswith("image/") or mime == "application/pdf"):
        raise UserError("archive.bad_file")
    if attachment.size is not None and attachment.size > MAX_FILE_BYTES:
        raise UserError("archive.file_too_big", limit=MAX_FILE_BYTES // (1024 * 1024))
    name = (attachment.file_name or f"scan{_suffix_for(mime)}").replace("/", "_")[-200:]
    return name, mime


def _suffix_for(mime: str) -> str:
    return next((s for s, m in SCAN_SUFFIXES.items() if m == mime), "")


async def keep_scan(
    session: AsyncSession,
    box: SecretBox,
    member: Member,
    scan: Scan,
    entry: ArchiveEntry | None,
    now: datetime,
    editor: Editor,
) -> ArchiveFile:
    """Keep a scan with the member (or one of their entries), encrypted; the digest of the
    plain bytes is kept so a copy handed out can be matched to it."""
    if len(scan.content) > MAX_FILE_BYTES:
        raise UserError("archive.file_too_big", limit=MAX_FILE_BYTES // (1024 * 1024))
    if not scan.content:
        raise UserError("archive.bad_file")
    digest = hashlib.sha256(scan.content).hexdigest()
    kept = await archive.add_file(
        session,
        ArchiveFile(
            member_id=member.id,
            entry_id=entry.id if entry else None,
            name=scan.name[:200],
            mime=scan.mime[:100],
            size=len(scan.content),
            sha256=digest,
            content_enc=box.encrypt_bytes(scan.content),
            added_by=editor.member.id if editor.member else None,
            added_at=now,
        ),
    )
    data = {"entry": kept.entry_id, "mime": kept.mime, "size": kept.size, "sha256": digest}
    await _tracer(session, box, now, editor).trace(
        "archive.file_added",
        branch_id=member.branch_id,
        member_id=member.id,
        ref=archive.file_ref(kept.id),
        data={**data, **editor.trace_data()},
    )
    return kept


def check_reason(text: str) -> str:
    reason = text.strip()
    if not reason or len(reason) > MAX_REASON:
        raise UserError("archive.bad_reason", limit=MAX_REASON)
    return reason


async def withdraw(
    session: AsyncSession,
    box: SecretBox,
    target: ArchiveEntry | ArchiveFile,
    member: Member,
    reason: str,
    now: datetime,
    editor: Editor,
) -> list[int]:
    """Withdraw an entry (with the scans kept with it) or a scan: it stays on file, marked
    withdrawn, and the trace says why. Returns the ids of the scans withdrawn with it."""
    reason = check_reason(reason)
    target.removed_at = now
    if isinstance(target, ArchiveEntry):
        ref, files = (
            archive.entry_ref(target.id),
            await archive.withdraw_files_of(session, target.id, now),
        )
    else:
        ref, files = archive.file_ref(target.id), []
    data = {"reason": reason, "files": files}
    await _tracer(session, box, now, editor).trace(
        "archive.withdrawn",
        branch_id=member.branch_id,
        member_id=member.id,
        ref=ref,
        data={**data, **editor.trace_data()},
    )
    return files
