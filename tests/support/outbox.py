"""A scripted transport and a sender run to completion: the outbox sender's own logic
on the injected clock, without a platform."""

import asyncio

from sqlalchemy import select

from bot.app.services import Services
from bot.channels.outbox import Limits, OutboxSender, Outcome, Sent
from handlers.core.messages import Reply
from storage.leader import Leadership
from storage.models import OutboxMessage
from tests.support.chat import Clock


class ScriptedTransport:
    """A transport whose outcomes per chat are given in advance (the sender's own logic under
    test; the real Telegram transport is exercised in test_outbox_e2e.py)."""

    def __init__(self, script: dict[str, list[Outcome]]) -> None:
        self.script = script
        self.calls: list[str] = []

    async def deliver(self, chat_id: str, reply: Reply, to_group: bool = False) -> Outcome:
        self.calls.append(chat_id)
        planned = self.script.get(chat_id)
        return planned.pop(0) if planned else Sent(str(len(self.calls)))


FAST = Limits(per_second=1000, chat_per_second=1000, retry_base=0.01)


def sender_for(
    services: Services, transport: ScriptedTransport, clock: Clock, limits: Limits = FAST
) -> OutboxSender:
    leadership = Leadership(services.engine, "outbox-test")
    return OutboxSender(
        services.sessions, services.box, leadership, {"telegram": transport}, limits, clock
    )


async def drain(
    services: Services, transport: ScriptedTransport, clock: Clock, limits: Limits = FAST
) -> OutboxSender:
    sender = sender_for(services, transport, clock, limits)
    sender.start()
    for _ in range(200):
        async with services.sessions() as session:
            rows = (await session.scalars(select(OutboxMessage))).all()
        if rows and all(r.status not in ("pending", "sending") for r in rows):
            break
        clock.advance(seconds=5)  # retries fall due on the injected clock
        sender.wake()
        await asyncio.sleep(0.02)
    await sender.stop()
    return sender


async def queued_to(services: Services, member_id: int, kind: str) -> list[str]:
    """The messages of a kind queued for a member, as they read them (default language)."""
    from handlers.core.payload import queued_reply  # only tests that read the queue need it

    async with services.sessions() as session:
        query = select(OutboxMessage).where(
            OutboxMessage.kind == kind, OutboxMessage.member_id == member_id
        )
        rows = list((await session.scalars(query.order_by(OutboxMessage.id))).all())
    texts = [queued_reply(services.box, r.payload, r.sealed).text for r in rows]
    return [services.renderer.render(t) for t in texts if t is not None]
