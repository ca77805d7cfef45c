"""Messages to members other than the sender: queued in the outbox, in the same transaction.

Every feature that tells someone else something (notices, reminders, leave decisions) goes
through here, so each message is durable, idempotent by key and paced by the one sender.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
    messages = [
        Message(key, [member_id], reply, kind, (refs or {}).get(member_id), priority)
        for member_id, reply in replies.items()
    ]
    reached = await queue_many(session, messages, now)
    return set().union(*reached.values()) if reached else set()


@dataclass(frozen=True)
class Message:
    """One message to some members under its own idempotency key (each member's copy is
    keyed `key:m<id>`), for queue_many."""

    key: str
    member_ids: Sequence[int]
    reply: Reply
    kind: str
    ref: str | None = None
    priority: int = 5


async def queue_many(
    session: AsyncSession, messages: Sequence[Message], now: datetime
) -> dict[str, set[int]]:
    """Queue many different messages at once (a daily job's reminders): one lookup of the
    members' chats and one insert however many there are. Returns, per message key, the
    members it can reach."""
    everywhere = session.info.get(DELIVER_TO) == "all"
    wanted = sorted({m for message in messages for m in message.member_ids})
    places = await people.reach_everywhere(session, wanted)
    encoded: dict[int, dict[str, Any]] = {}  # one encoding per distinct reply object
    envelopes = []
    reached: dict[str, set[int]] = {message.key: set() for message in messages}
    for message in messages:
        if id(message.reply) not in encoded:
            encoded[id(message.reply)] = reply_out(message.reply)
        for member_id in message.member_ids:
            found = places.get(member_id, [])
            for copy, where in enumerate(found if everywhere else found[:1]):
                envelopes.append(
                    Envelope(
                        key=f"{message.key}:m{member_id}" + (f":{where.platform}" if copy else ""),
                        platform=where.platform,
                        chat_id=where.chat_id,
                        payload=encoded[id(message.reply)],
                        kind=message.kind,
                        ref=message.ref,
                        member_id=member_id,
                        branch_id=where.branch_id,
                        priority=message.priority,
                        blocked=where.blocked,
                    )
                )
                if not where.blocked:
                    reached[message.key].add(member_id)
    await outbox.enqueue(session, envelopes, now)
    return reached
