"""Queries for data-access monitoring (泄露监测) over the traces.

A read is a trace of one of READ_KINDS by an account about someone else (or about no one
member: a branch's table, a survey's results). The rules count reads per account with one
aggregate per rule (GROUP BY actor over a range of the indexed `at` column), never a loop over
traces: the table may hold millions of rows.
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from storage.db import chunks
from storage.enums import Role
from storage.models import Branch, Member, Trace

READ_KINDS = (
    "data.viewed",
    "data.exported",
    "thought.viewed",
    "candidates.viewed",
    "survey.results_viewed",
    "segments.viewed",
    "clusters.viewed",
)
REFUSED = "access.refused"
ALERT = "access.alert"


def _of_others() -> ColumnElement[bool]:
    """A read whose actor is not the member it is about (a member's own export is not)."""
    return and_(
        Trace.kind.in_(READ_KINDS),
        or_(Trace.member_id.is_(None), Trace.actor_id.is_(None), Trace.member_id != Trace.actor_id),
    )


def _within(since: datetime, until: datetime) -> ColumnElement[bool]:
    return and_(Trace.at > since, Trace.at <= until)


async def _per_actor(
    session: AsyncSession, query: Select[tuple[int | None, int]]
) -> dict[int, int]:
    rows = (await session.execute(query.group_by(Trace.actor_id))).all()
    return {int(actor): int(n) for actor, n in rows if actor is not None}


async def reads_by_actor(
    session: AsyncSession,
    since: datetime,
    until: datetime,
    actors: Sequence[int] | None = None,
) -> dict[int, int]:
    """How many reads of others' data each account made in (since, until]; with `actors`,
    only theirs."""
    query = select(Trace.actor_id, func.count()).where(
        _within(since, until), _of_others(), Trace.actor_id.is_not(None)
    )
    if actors is None:
        return await _per_actor(session, query)
    found: dict[int, int] = {}
    for chunk in chunks(actors):
        found.update(await _per_actor(session, query.where(Trace.actor_id.in_(chunk))))
    return found


async def outside_reads_by_actor(
    session: AsyncSession, since: datetime, until: datetime
) -> dict[int, int]:
    """Reads in (since, until] by a non-admin of data belonging to another branch than
    theirs: the member's branch now, or for a read about no one member (a branch's table),
    the branch the trace names."""
    actor = aliased(Member)
    target = aliased(Member)
    whose = case((Trace.member_id.is_not(None), target.branch_id), else_=Trace.branch_id)
    query = (
        select(Trace.actor_id, func.count())
        .join(actor, actor.id == Trace.actor_id)
        .outerjoin(target, target.id == Trace.member_id)
        .where(
            _within(since, until),
            _of_others(),
            actor.role != Role.ADMIN,
            whose.is_not(None),
            or_(actor.branch_id.is_(None), whose != actor.branch_id),
        )
    )
    return await _per_actor(session, query)


async def refusals_by_actor(
    session: AsyncSession, since: datetime, until: datetime
) -> dict[int, int]:
    """Refused commands per account in (since, until]."""
    query = select(Trace.actor_id, func.count()).where(
        Trace.kind == REFUSED, _within(since, until), Trace.actor_id.is_not(None)
    )
    return await _per_actor(session, query)


async def alert_refs_since(session: AsyncSession, since: datetime) -> list[str]:
    """The incident keys of the alerts raised after `since`."""
    query = select(Trace.ref).where(Trace.kind == ALERT, Trace.at > since)
    return [ref for ref in (await session.scalars(query)).all() if ref is not None]


async def members(session: AsyncSession, ids: Sequence[int]) -> dict[int, Member]:
    found: dict[int, Member] = {}
    for chunk in chunks(ids):
        rows = (await session.scalars(select(Member).where(Member.id.in_(chunk)))).unique()
        found.update((m.id, m) for m in rows)
    return found


async def alert_recipients(session: AsyncSession, branch_id: int | None) -> dict[int, str]:
    """Who hears of unusual access by a member of this branch, with their roles: its
    secretaries and every admin (all active)."""
    who = Member.role == Role.ADMIN
    if branch_id is not None:
        who = or_(who, and_(Member.role == Role.SECRETARY, Member.branch_id == branch_id))
    query = select(Member.id, Member.role).where(Member.active.is_(True), who)
    rows = await session.execute(query.order_by(Member.id))
    return {int(member_id): str(role) for member_id, role in rows.all()}


async def recent_reads(
    session: AsyncSession, limit: int, member_id: int | None = None
) -> Sequence[Trace]:
    """The latest reads of others' data, newest first; with `member_id`, those where that
    member is the reader or the one read about."""
    query = select(Trace).where(_of_others())
    if member_id is not None:
        query = query.where(or_(Trace.actor_id == member_id, Trace.member_id == member_id))
    return (await session.scalars(query.order_by(Trace.id.desc()).limit(limit))).all()


async def recent_alerts(
    session: AsyncSession, limit: int, member_id: int | None = None
) -> Sequence[Trace]:
    """The latest alerts, newest first; with `member_id`, those about that account."""
    query = select(Trace).where(Trace.kind == ALERT)
    if member_id is not None:
        query = query.where(Trace.member_id == member_id)
    return (await session.scalars(query.order_by(Trace.id.desc()).limit(limit))).all()


async def recent_refusals(session: AsyncSession, limit: int, actor_id: int) -> Sequence[Trace]:
    """An account's latest refused commands, newest first."""
    query = select(Trace).where(Trace.kind == REFUSED, Trace.actor_id == actor_id)
    return (await session.scalars(query.order_by(Trace.id.desc()).limit(limit))).all()


async def names(session: AsyncSession, member_ids: Sequence[int]) -> dict[int, str]:
    return await _labels(session, Member.id, Member.name, member_ids)


async def branch_names(session: AsyncSession, branch_ids: Sequence[int]) -> dict[int, str]:
    return await _labels(session, Branch.id, Branch.name, branch_ids)


async def _labels(
    session: AsyncSession,
    id_column: InstrumentedAttribute[int],
    name_column: InstrumentedAttribute[str],
    ids: Sequence[int],
) -> dict[int, str]:
    found: dict[int, str] = {}
    for chunk in chunks(ids):
        rows = await session.execute(select(id_column, name_column).where(id_column.in_(chunk)))
        found.update((int(i), str(n)) for i, n in rows.all())
    return found
