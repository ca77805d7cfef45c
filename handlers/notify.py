"""Messages to members other than the sender: queued in the outbox, in the same transaction.

Every feature that tells someone else something (notices, reminders, leave decisions) goes
through here, so each message is durable, idempotent by key and paced by the one sender.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.messages import Reply
from handlers.payload import reply_out
from storage import outbox, people
from storage.db import DELIVER_TO
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
    replies = dict.fromkeys(member_ids, reply)
    return await queue_each(
        session,
        replies,
        key=key,
        kind=kind,
        now=now,
        refs=dict.fromkeys(member_ids, ref),
        priority=priority,
    )


async def queue_each(
    session: AsyncSession,
    replies: Mapping[int, Reply],
    *,
    key: str,
    kind: str,
    now: datetime,
    refs: Mapping[int, str | None] | None = None,
    priority: int = 5,
) -> set[int]:
    """Queue a reply of its own to each member (a personal daily push), as queue_to_members.

    A member goes to the chat app they used last, or with DELIVER_TO=all to every chat app
    they have bound (each copy keyed by its platform)."""
    everywhere = session.info.get(DELIVER_TO) == "all"
    places = await people.reach_everywhere(session, list(replies))
    encoded: dict[int, dict[str, Any]] = {}  # one encoding per distinct reply object
    envelopes = []
    targets = [
        (member_id, where, i)
        for member_id, found in places.items()
        for i, where in enumerate(found if everywhere else found[:1])
    ]
    for member_id, where, copy in targets:
        reply = replies[member_id]
        if id(reply) not in encoded:
            encoded[id(reply)] = reply_out(reply)
        payload = encoded[id(reply)]
        envelopes.append(
            Envelope(
                key=f"{key}:m{member_id}" + (f":{where.platform}" if copy else ""),
                platform=where.platform,
                chat_id=where.chat_id,
                payload=payload,
                kind=kind,
                ref=(refs or {}).get(member_id),
                member_id=member_id,
                branch_id=where.branch_id,
                priority=priority,
                blocked=where.blocked,
            )
        )
    await outbox.enqueue(session, envelopes, now)
    return {member_id for member_id, where, _ in targets if not where.blocked}
