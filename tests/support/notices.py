"""The outbox rows handlers queued, rendered as their readers will see them."""

from dataclasses import dataclass

from sqlalchemy import select

from bot.app.services import Services
from handlers.core.payload import queued_reply
from storage.models import OutboxMessage


@dataclass
class Queued:
    member_id: int | None
    chat_id: str
    kind: str
    text: str
    buttons: list[str]


async def queued(services: Services, ref: str | None = None) -> list[Queued]:
    """Outbox rows (optionally of one notice), rendered as their readers will see them."""
    async with services.sessions() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if ref is not None:
            query = query.where(OutboxMessage.ref == ref)
        rows = (await session.scalars(query)).all()
    found = []
    for row in rows:
        reply = queued_reply(services.box, row.payload, row.sealed)  # codes unsealed
        text = services.renderer.render(reply.text) if reply.text else ""
        data = [b.data for line in reply.buttons for b in line]
        found.append(Queued(row.member_id, row.chat_id, row.kind, text, data))
    return found
