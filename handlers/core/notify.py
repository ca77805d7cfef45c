"""Messages to members other than the sender: queued in the outbox, in the same transaction.

Every feature that tells someone else something (notices, reminders, leave decisions) goes
through here, so each message is durable, idempotent by key and paced by the one sender.

A message carrying a secret (a code: `Secret` in its Msg) is queued with `box=`: the secret
is sealed with the SecretBox into the row's `sealed` column, never in the JSON payload, and
erased from the row once it is sent or given up (storage/outbox.py).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.messages import Msg, Reply
from handlers.core.payload import reply_out, seal
from storage import outbox, people
from storage.crypto import SecretBox
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
    box: SecretBox | None = None,
) -> set[int]:
    """Queue `reply` to each member's private chat; `key` plus the member id is each
    message's idempotency key. Returns the members it can reach: those with a chat that has
    not blocked the bot (a row is still recorded for a blocked one, as undeliverable).
    `box` is needed when the reply carries a Secret (a TypeError without it)."""
    replies = dict.fromkeys(member_ids, reply)
    return await queue_each(
        session,
        replies,
        key=key,
        kind=kind,
        now=now,
        refs=dict.fromkeys(member_ids, ref),
        priority=priority,
        box=box,
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
    box: SecretBox | None = None,
) -> set[int]:
    """Queue a reply of its own to each member (a personal daily push), as queue_to_members.

    A member goes to the chat app they used last, or with DELIVER_TO=all to every chat app
    they have bound (each copy keyed by its platform)."""
    messages = [
        Message(key, [member_id], reply, kind, (refs or {}).get(member_id), priority)
        for member_id, reply in replies.items()
    ]
    reached = await queue_many(session, messages, now, box=box)
    return set().union(*reached.values()) if reached else set()


async def queue_elsewhere(
    session: AsyncSession,
    member_id: int,
    reply: Reply,
    *,
    besides: str,
    key: str,
    kind: str,
    now: datetime,
    ref: str | None = None,
) -> int:
    """Queue `reply` to every chat account of the member except those on `besides`, whatever
    DELIVER_TO says (a warning about one account must reach the others). Returns how many."""
    places = (await people.reach_everywhere(session, [member_id])).get(member_id, [])
    payload, _ = _encode(reply, None)
    envelopes = [
        _envelope(f"{key}:m{member_id}:{where.platform}", where, member_id, kind, payload, ref=ref)
        for where in places
        if where.platform != besides
    ]
    return await outbox.enqueue(session, envelopes, now)


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


def _encode(reply: Reply, box: SecretBox | None) -> tuple[dict[str, Any], bytes | None]:
    """The payload, and its secrets sealed apart (a TypeError for a secret without `box`)."""
    secrets: dict[str, str] | None = {} if box is not None else None
    payload = reply_out(reply, secrets)
    return payload, seal(box, secrets) if box is not None and secrets else None


async def queue_many(
    session: AsyncSession,
    messages: Sequence[Message],
    now: datetime,
    box: SecretBox | None = None,
) -> dict[str, set[int]]:
    """Queue many different messages at once (a daily job's reminders): one lookup of the
    members' chats and one insert however many there are. Returns, per message key, the
    members it can reach."""
    everywhere = session.info.get(DELIVER_TO) == "all"
    wanted = sorted({m for message in messages for m in message.member_ids})
    places = await people.reach_everywhere(session, wanted)
    # One encoding per distinct reply object.
    encoded: dict[int, tuple[dict[str, Any], bytes | None]] = {}
    envelopes = []
    reached: dict[str, set[int]] = {message.key: set() for message in messages}
    for message in messages:
        if id(message.reply) not in encoded:
            encoded[id(message.reply)] = _encode(message.reply, box)
        payload, sealed = encoded[id(message.reply)]
        for member_id in message.member_ids:
            found = places.get(member_id, [])
            for copy, where in enumerate(found if everywhere else found[:1]):
                copy_key = f"{message.key}:m{member_id}" + (f":{where.platform}" if copy else "")
                envelopes.append(
                    _envelope(
                        copy_key,
                        where,
                        member_id,
                        message.kind,
                        payload,
                        sealed=sealed,
                        ref=message.ref,
                        priority=message.priority,
                    )
                )
                if not where.blocked:
                    reached[message.key].add(member_id)
    await outbox.enqueue(session, envelopes, now)
    return reached


def _envelope(
    key: str,
    where: people.Reach,
    member_id: int,
    kind: str,
    payload: dict[str, Any],
    *,
    sealed: bytes | None = None,
    ref: str | None = None,
    priority: int = 5,
) -> Envelope:
    """One member's copy of a message, to one of their chats (recorded, not sent, if that
    chat blocked the bot)."""
    return Envelope(
        key=key,
        platform=where.platform,
        chat_id=where.chat_id,
        payload=payload,
        sealed=sealed,
        kind=kind,
        ref=ref,
        member_id=member_id,
        branch_id=where.branch_id,
        priority=priority,
        blocked=where.blocked,
    )


# Chat apps whose refusal has words of their own in the catalogs (blocked.<app> and
# unreached.<app>): Telegram's means the member blocked the bot; WeCom's (60111, 81013) that
# they are outside the application's visible range. Any other, or several, get neutral words.
WORDED_PLATFORMS = frozenset({"telegram", "wecom"})


def _worded(platforms: Iterable[str]) -> str | None:
    """The one chat app among these that has words of its own, if they are one such app."""
    found = set(platforms)
    return found.pop() if len(found) == 1 and found <= WORDED_PLATFORMS else None


def blocked_why(platforms: Iterable[str]) -> Msg:
    """Why messages to one member on these chat apps were refused, in words true there."""
    platform = _worded(platforms)
    return Msg(f"blocked.{platform}") if platform else Msg("blocked.any")


async def why_unreached(session: AsyncSession, member_ids: Sequence[int]) -> Msg:
    """Why these members cannot be reached, for a count of them: no account bound, or the
    refusal of the one chat app they are refused on (neutral words when several)."""
    places = await people.reach_everywhere(session, member_ids)
    refused = {w.platform for found in places.values() for w in found if w.blocked}
    if not refused:
        return Msg("unreached.unbound")
    platform = _worded(refused)
    return Msg(f"unreached.{platform}") if platform else Msg("unreached.any")


async def queue_to_chat(
    session: AsyncSession,
    platform: str,
    chat_id: str,
    reply: Reply,
    *,
    key: str,
    kind: str,
    now: datetime,
    branch_id: int | None = None,
    ref: str | None = None,
    priority: int = 5,
) -> None:
    """Queue `reply` to a group chat: paced by the group's own limit (20 a minute on
    Telegram) with everything else the bot sends there."""
    payload, _ = _encode(reply, None)
    envelope = Envelope(
        key=key,
        platform=platform,
        chat_id=chat_id,
        payload=payload,
        kind=kind,
        ref=ref,
        branch_id=branch_id,
        to_group=True,
        priority=priority,
    )
    await outbox.enqueue(session, [envelope], now)
