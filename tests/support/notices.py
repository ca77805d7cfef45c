"""The outbox rows handlers queued, rendered as their readers will see them."""

from dataclasses import dataclass

from sqlalchemy import select

from bot.app.services import Services
from handlers.core.payload import queued_reply
from handlers.groups import live
from storage.models import OutboxMessage


@dataclass
class Queued:
    member_id: int | None
    chat_id: str
    kind: str
    text: str
    buttons: list[str]


async def queued(
    services: Services, ref: str | None = None, *, chat_id: str | None = None
) -> list[Queued]:
    """Outbox rows (optionally of one notice, or to one chat), rendered as their readers will
    see them; a live group post as it would be drawn now."""
    found = []
    async with services.sessions() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if ref is not None:
            query = query.where(OutboxMessage.ref == ref)
        if chat_id is not None:
            query = query.where(OutboxMessage.chat_id == chat_id)
        for row in (await session.scalars(query)).all():
            if live.LIVE in row.payload:
                drawn = await live.draw(session, services.box, row.payload)
                if drawn.reply is None:
                    continue
                reply = drawn.reply
            else:
                reply = queued_reply(services.box, row.payload, row.sealed)  # codes unsealed
            text = services.renderer.render(reply.text) if reply.text else ""
            data = [b.url or b.data for line in reply.buttons for b in line]
            found.append(Queued(row.member_id, row.chat_id, row.kind, text, data))
    return found
