"""What care keeps about a member, as plain JSON for their own export (/mydata): excusals
(withdrawn ones marked), the secretary's notes with their words, and what the bot told whom
about their counts."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage import care
from storage.crypto import SecretBox
from storage.models import Member


async def care_export(session: AsyncSession, box: SecretBox, member: Member) -> dict[str, Any]:
    kept = await care.kept_about(session, member.id)
    return {
        "excusals": [
            {
                "id": e.id,
                "kind": e.kind,
                "since": e.since.isoformat(),
                "until": e.until.isoformat(),
                "reason": care.excusal_reason(box, e) or None,
                "recorded_at": e.recorded_at.isoformat(),
                "withdrawn_at": e.withdrawn_at.isoformat() if e.withdrawn_at else None,
            }
            for e in kept.excusals
        ],
        "notes": [
            {
                "id": n.id,
                "kind": n.kind,
                "text": care.note_text(box, n),
                "recorded_at": n.recorded_at.isoformat(),
            }
            for n in kept.notes
        ],
        "notices": [
            {
                "measure": n.measure,
                "to": n.audience,
                "months": n.count,
                "run_since": n.run_since.isoformat(),
                "threshold": n.threshold,
                "told_at": n.told_at.isoformat(),
            }
            for n in kept.notices
        ],
    }
