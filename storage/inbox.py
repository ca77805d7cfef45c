"""The durable inbox: accept an update (commit) before the platform is told it arrived, then
claim, handle and delete it; any process finishes what a dead one accepted.

A process claims only the head of a chat (its earliest update still in the inbox) and only
when nobody holds it, or its holder's lease ran out: so one chat's updates are handled one
after another, in order, across every process sharing the database. The router's once-only
claim (storage/updates.py) still keeps an update that is handled twice (its holder died after
the commit, before the delete) from having effects twice.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, Update, and_, bindparam, exists, or_, select, text, true
from sqlalchemy.ext.asyncio import AsyncSession

from storage.crypto import SecretBox
from storage.db import insert_ignoring_conflicts, upsert_for
from storage.inbox_models import InboxUpdate, WebhookState

INBOX: Table = InboxUpdate.__table__  # type: ignore[assignment]
# Every update runs it, with one id or a few: a fixed statement, not an IN list of each size.
_FINISH = text("DELETE FROM inbox WHERE id = :id AND claimed_by = :holder")
_ACCEPT = insert_ignoring_conflicts(
    INBOX,
    ("platform", "update_key", "chat_key", "seq", "body", "received_at", "attempts"),
)


@dataclass(frozen=True)
class Arrival:
    """An update as it came, with what the inbox orders and deduplicates it by."""

    platform: str
    update_key: str
    chat_key: str
    body: str
    seq: int = 0


@dataclass(frozen=True)
class Claimed:
    id: int
    update_key: str
    chat_key: str
    body: str
    attempts: int


async def accept(
    session: AsyncSession, box: SecretBox, arrivals: Sequence[Arrival], now: datetime
) -> None:
    """Store the updates (one already stored, a platform's redelivery, is left as it is)."""
    if not arrivals:
        return
    rows = [
        {
            "platform": a.platform,
            "update_key": a.update_key[:64],
            "chat_key": a.chat_key[:64],
            "seq": a.seq,
            "body": box.encrypt_bytes(a.body.encode()),
            "received_at": now,
            "attempts": 0,
        }
        for a in arrivals
    ]
    await session.execute(_ACCEPT, rows)


def _claim_statement(*, among_keys: bool) -> Update:
    """UPDATE … RETURNING the heads of chats that nobody holds (or whose holder's lease ran
    out), oldest first; `among_keys`: only among the updates with the given keys. Built
    once, as every update runs one. On the table, not the mapped class: the ORM's
    bulk-update machinery cost more than the statement."""
    row, earlier = INBOX.c, INBOX.alias("earlier").c
    free = or_(row.claimed_at.is_(None), row.claimed_at < bindparam("lease_cutoff"))
    first_of_chat = ~exists().where(
        earlier.platform == row.platform,
        earlier.chat_key == row.chat_key,
        or_(earlier.seq < row.seq, and_(earlier.seq == row.seq, earlier.id < row.id)),
    )
    wanted = row.update_key.in_(bindparam("keys", expanding=True)) if among_keys else true()
    heads = (
        select(row.id)
        .where(row.platform == bindparam("of_platform"), wanted, free, first_of_chat)
        .order_by(row.id)
        .limit(bindparam("at_most"))
        # PostgreSQL: another process's round claiming some of them is not waited for (its
        # rows are simply not taken now); SQLite has one writer and no such clause.
        .with_for_update(skip_locked=True)
    )
    # `free` again on the row itself: should the two rounds still meet on a row, the second
    # finds it claimed once the first commits (PostgreSQL re-reads the row it waited for).
    return (
        INBOX.update()
        .where(row.id.in_(heads.scalar_subquery()), free)
        .values(
            claimed_by=bindparam("by_holder"),
            claimed_at=bindparam("at_now"),
            attempts=row.attempts + 1,
        )
        .returning(row.id, row.update_key, row.chat_key, row.body, row.attempts)
    )


_CLAIM = _claim_statement(among_keys=False)
_CLAIM_AMONG = _claim_statement(among_keys=True)


async def claim(
    session: AsyncSession,
    box: SecretBox,
    platform: str,
    holder: str,
    *,
    now: datetime,
    cutoff: datetime,
    limit: int,
    keys: Sequence[str] | None = None,
) -> list[Claimed]:
    """Claim up to `limit` chat heads of `platform` for `holder` (with `keys`: only among
    those updates); claims older than `cutoff` are a dead holder's and are taken over."""
    params: dict[str, object] = {"of_platform": platform, "by_holder": holder, "at_now": now}
    params |= {"lease_cutoff": cutoff, "at_most": limit}
    if keys is not None:
        params["keys"] = [key[:64] for key in keys]
    result = await session.execute(_CLAIM if keys is None else _CLAIM_AMONG, params)
    return [
        Claimed(r.id, r.update_key, r.chat_key, box.decrypt_bytes(r.body).decode(), r.attempts)
        for r in result.all()
    ]


async def renew(session: AsyncSession, holder: str, now: datetime) -> int:
    """The holder is alive: its claims' lease starts again."""
    result = await session.execute(
        INBOX.update().where(INBOX.c.claimed_by == holder).values(claimed_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def finish(session: AsyncSession, holder: str, ids: Sequence[int]) -> None:
    """Forget handled updates; one another process took over (this one's lease ran out)
    is that process's to finish."""
    if ids:
        await session.execute(_FINISH, [{"id": i, "holder": holder} for i in ids])


async def release(session: AsyncSession, holder: str, unstarted: Sequence[int] = ()) -> None:
    """Give back what the holder claimed and did not finish (a clean stop), so another
    process takes it at once instead of after the lease; the `unstarted` ones were never
    tried, so their claim does not count as an attempt."""
    if unstarted:
        await session.execute(
            INBOX.update()
            .where(INBOX.c.id.in_(unstarted), INBOX.c.claimed_by == holder)
            .values(attempts=INBOX.c.attempts - 1)
        )
    await session.execute(
        INBOX.update().where(INBOX.c.claimed_by == holder).values(claimed_by=None, claimed_at=None)
    )


async def prune(session: AsyncSession, older_than: datetime) -> int:
    """Forget updates nobody handled for long (their platform is no longer served)."""
    result = await session.execute(INBOX.delete().where(INBOX.c.received_at < older_than))
    return int(getattr(result, "rowcount", 0) or 0)


async def webhook_fingerprint(session: AsyncSession, platform: str) -> str | None:
    """The fingerprint of the webhook last registered with `platform`, if any."""
    return await session.scalar(
        select(WebhookState.fingerprint).where(WebhookState.platform == platform)
    )


async def webhook_registered(
    session: AsyncSession, platform: str, fingerprint: str, now: datetime
) -> None:
    row = {"platform": platform, "fingerprint": fingerprint, "set_at": now}
    insert = upsert_for(session)(WebhookState).values(row)
    await session.execute(insert.on_conflict_do_update(index_elements=["platform"], set_=row))
