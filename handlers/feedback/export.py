"""A member's named feedback items with the committee's answers, as plain JSON for their own
export (/mydata). Anonymous items are not there: nothing kept says whose they are."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage import feedback
from storage.crypto import SecretBox
from storage.models import Member


async def feedback_export(
    session: AsyncSession, box: SecretBox, member: Member
) -> list[dict[str, Any]]:
    items = await feedback.sent_by(session, member.id)
    answers = await feedback.answers_of(session, [i.id for i in items])
    return [
        {
            "id": item.id,
            "received_on": item.received_on.isoformat(),
            "text": feedback.text_of(box, item),
            "answers": [
                {"text": feedback.text_of(box, a), "answered_at": a.answered_at.isoformat()}
                for a in answers.get(item.id, [])
            ],
            "closed_at": item.closed_at.isoformat() if item.closed_at else None,
        }
        for item in items
    ]
