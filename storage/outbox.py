"""The durable outbox: messages queued in the transaction that caused them, sent later.

Rows move pending -> sending -> sent | blocked | failed; a failed attempt goes back to pending
with a later due time. A row is marked `sending` (committed) before its platform call, so after
a crash exactly the rows that were in flight are known, and are sent again (a possible
duplicate, counted in `resent`) rather than lost.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Table, and_, func, not_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from storage import traces
from storage.crypto import SecretBox
from storage.db import upsert_for
from storage.models import OutboxMessage, PlatformAccount
from storage.signals import AfterCommit

OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]
# Row kinds whose delivery is itself part of the record: kind.delivered / kind.failed traces.
TRACED_DELIVERIES = frozenset({"notice"})
ERROR_LENGTH = 500


class Status(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    BLOCKED = "blocked"  # the recipient blocked the bot: not retried
    FAILED = "failed"  # gave up after the allowed attempts; `error` says why


@dataclass(frozen=True)
class Envelope:
    """One message to queue. `key` makes queuing idempotent: a second envelope with the same
    key is ignored, so a job or handler that runs twice sends once."""

    key: str
    platform: str
    chat_id: str
    payload: dict[str, Any]
    kind: str
    ref: str | None = None
    member_id: int | None = None
    branch_id: int | None = None
    to_group: bool = False
    priority: int = 5
    blocked: bool = False  # the account is known to have blocked the bot: record, do not send
    sealed: bytes | None = None  # the payload's secrets, encrypted (handlers/core/payload.py)


def _insert(session: AsyncSession) -> Any:
    return upsert_for(session)(OUTBOX).on_conflict_do_nothing(index_elements=["key"])


async def enqueue(session: AsyncSession, envelopes: Iterable[Envelope], now: datetime) -> int:
    """Queue the messages in the caller's transaction; returns how many were given."""
    rows = [
        {
            "key": e.key,
            "platform": e.platform,
            "chat_id": e.chat_id,
            "to_group": e.to_group,
            "member_id": e.member_id,
            "branch_id": e.branch_id,
            "kind": e.kind,
            "ref": e.ref,
            "payload": e.payload,
            # A message that will never be sent keeps no secret.
            "sealed": None if e.blocked else e.sealed,
            "priority": e.priority,
            "status": Status.BLOCKED if e.blocked else Status.PENDING,
            "error": "blocked the bot earlier" if e.blocked else None,
            "attempts": 0,
            "resent": 0,
            "due_at": now,
            "created_at": now,
        }
        for e in envelopes
    ]
    if rows:
        await session.execute(_insert(session), rows)
        AfterCommit.WAKE_SENDER.raise_on(session)
    return len(rows)


async def has_key(session: AsyncSession, key: str) -> bool:
    """Whether a message with this idempotency key was queued already (a job run twice can
    skip the work of making it again)."""
    return (
        await session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None
    )


async def due(
    session: AsyncSession,
    now: datetime,
    platforms: Sequence[str],
    limit: int,
    skip_chats: Mapping[str, Sequence[str]] | None = None,
) -> Sequence[OutboxMessage]:
    """Pending rows whose time has come, most urgent first, then oldest first; rows for
    `skip_chats` (per platform, chats that must wait) are left out, so they never fill the
    batch."""
    query = (
        select(OutboxMessage)
        .where(
            OutboxMessage.status == Status.PENDING,
            OutboxMessage.due_at <= now,
            OutboxMessage.platform.in_(platforms),
        )
        .order_by(OutboxMessage.priority, OutboxMessage.id)
        .limit(limit)
    )
    for platform, chats in (skip_chats or {}).items():
        if chats:  # a chat id means something only on its own platform
            waiting = and_(OutboxMessage.platform == platform, OutboxMessage.chat_id.in_(chats))
            query = query.where(not_(waiting))
    return (await session.scalars(query)).all()


async def unsent(session: AsyncSession, platforms: Sequence[str]) -> int:
    """Rows still waiting or in flight (due now or later) for these platforms."""
    query = select(func.count()).where(
        OutboxMessage.status.in_((Status.PENDING, Status.SENDING)),
        OutboxMessage.platform.in_(platforms),
    )
    return int(await session.scalar(query) or 0)


@dataclass(frozen=True)
class QueueDepth:
    """The queue at a glance: rows waiting and in flight, how many of those waiting are due
    (the backlog; the rest wait for a retry), and when the oldest due one fell due."""

    pending: int
    sending: int
    due: int
    oldest_due: datetime | None


async def queue_depth(session: AsyncSession, now: datetime) -> QueueDepth:
    """Two reads of the queue's index (status, due_at): cheap however many rows were sent."""
    query = (
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.status.in_((Status.PENDING, Status.SENDING)))
        .group_by(OutboxMessage.status)
    )
    counts = {str(status): int(n) for status, n in (await session.execute(query)).all()}
    due_query = select(func.count(), func.min(OutboxMessage.due_at)).where(
        OutboxMessage.status == Status.PENDING, OutboxMessage.due_at <= now
    )
    due, oldest = (await session.execute(due_query)).one()
    return QueueDepth(
        counts.get(Status.PENDING, 0), counts.get(Status.SENDING, 0), int(due), oldest
    )


async def start_sending(session: AsyncSession, row: OutboxMessage) -> bool:
    """Claim a pending row (loaded in another session) for its platform call; False if
    another sender took it meanwhile. On True the row belongs to this session."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row.id, OutboxMessage.status == Status.PENDING)
        .values(status=Status.SENDING)
        .execution_options(synchronize_session=False)
    )
    if not getattr(result, "rowcount", 0):
        return False
    # What the database now holds, not a change to flush: a later move back to pending must
    # still count as a change.
    set_committed_value(row, "status", Status.SENDING)
    return True


async def recover_in_flight(session: AsyncSession) -> int:
    """Rows left `sending` by a sender that died mid-call go out again: the platform may or
    may not have delivered them, and a possible duplicate is better than a lost notice."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == Status.SENDING)
        .values(status=Status.PENDING, resent=OutboxMessage.resent + 1)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def retry_later(row: OutboxMessage, due_at: datetime, error: str, *, counts: bool) -> None:
    """Back to pending until `due_at`; `counts` is False for rate limiting, which is not the
    message's fault and must not use up its attempts."""
    row.status = Status.PENDING
    row.due_at = due_at
    row.error = error[:ERROR_LENGTH]
    if counts:
        row.attempts += 1


async def mark_sent(
    session: AsyncSession, box: SecretBox, row: OutboxMessage, now: datetime, message_id: str
) -> None:
    row.status = Status.SENT
    row.sealed = None  # the secret has reached its reader: nothing to keep
    row.sent_at = now
    row.message_id = message_id
    row.error = None
    if row.kind in TRACED_DELIVERIES:
        await _trace(session, box, row, now, f"{row.kind}.delivered", {"platform": row.platform})


async def mark_undeliverable(
    session: AsyncSession,
    box: SecretBox,
    row: OutboxMessage,
    now: datetime,
    error: str,
    *,
    blocked: bool,
) -> None:
    """Give up on a row: the recipient blocked the bot, or the attempts ran out."""
    row.status = Status.BLOCKED if blocked else Status.FAILED
    row.sealed = None  # never to be sent: its secret goes
    row.error = error[:ERROR_LENGTH]
    row.attempts += 1
    data = {"platform": row.platform, "status": str(row.status), "error": row.error}
    if row.kind in TRACED_DELIVERIES:
        await _trace(session, box, row, now, f"{row.kind}.failed", data)
    await _trace(session, box, row, now, "outbox.failed", {**data, "kind": row.kind})
    if blocked and not row.to_group:
        await session.execute(
            update(PlatformAccount)
            .where(PlatformAccount.platform == row.platform, PlatformAccount.chat_id == row.chat_id)
            .values(blocked_at=now)
        )


async def _trace(
    session: AsyncSession,
    box: SecretBox,
    row: OutboxMessage,
    now: datetime,
    kind: str,
    data: dict[str, Any],
) -> None:
    await traces.append(
        session,
        box,
        kind=kind,
        at=now,
        branch_id=row.branch_id,
        member_id=row.member_id,
        actor_id=None,
        ref=row.ref,
        data={**data, "outbox_id": row.id},
    )


# With DELIVER_TO=all a member has a row per chat app; the best of them is theirs.
_STATUS_RANK = {"sent": 4, "sending": 3, "pending": 2, "failed": 1, "blocked": 0}


async def statuses_by_member(session: AsyncSession, ref: str, kind: str) -> dict[int, str]:
    query = select(OutboxMessage.member_id, OutboxMessage.status).where(
        OutboxMessage.ref == ref, OutboxMessage.kind == kind
    )
    best: dict[int, str] = {}
    for member_id, status in (await session.execute(query)).all():
        if member_id is None:
            continue
        current = best.get(int(member_id))
        if current is None or _STATUS_RANK.get(status, 0) > _STATUS_RANK.get(current, 0):
            best[int(member_id)] = str(status)
    return best


async def refused_on(session: AsyncSession, ref: str, kind: str) -> dict[int, set[str]]:
    """The chat apps that refused each member's rows (status blocked), for words true there."""
    query = select(OutboxMessage.member_id, OutboxMessage.platform).where(
        OutboxMessage.ref == ref,
        OutboxMessage.kind == kind,
        OutboxMessage.status == Status.BLOCKED,
        OutboxMessage.member_id.is_not(None),
    )
    found: dict[int, set[str]] = {}
    for member_id, platform in (await session.execute(query)).all():
        found.setdefault(int(member_id), set()).add(str(platform))
    return found
