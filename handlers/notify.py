"""Messages to members other than the sender: queued in the outbox, in the same transaction.

Every feature that tells someone else something (notices, reminders, leave decisions) goes
through here, so each message is durable, idempotent by key and paced by the one sender.
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.messages import Reply
from handlers.payload import reply_out
from storage import outbox, people
from storage.outbox import Envelope


async def queue_to_members(
    session: AsyncSession,
    member_ids: Sequence[int],
    reply: Reply,
    *,
    key: str,
    kind: str,
    now: datetime,
    ref: str | None = None,
    priority: int = 5,
) -> set[int]:
    """Queue `reply` to each member's private chat; `key` plus the member id is each
    message's idempotency key. Returns the members it can reach: those with a chat that has
    not blocked the bot (a row is still recorded for a blocked one, as undeliverable)."""
    reach = await people.reach(session, member_ids)
    payload = reply_out(reply)
    envelopes = [
        Envelope(
            key=f"{key}:m{member_id}",
            platform=where.platform,
            chat_id=where.chat_id,
            payload=payload,
            kind=kind,
            ref=ref,
            member_id=member_id,
            branch_id=where.branch_id,
            priority=priority,
            blocked=where.blocked,
        )
        for member_id, where in reach.items()
    ]
    await outbox.enqueue(session, envelopes, now)
    return {member_id for member_id, where in reach.items() if not where.blocked}
