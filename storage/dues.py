"""Queries over party dues (党费): monthly amounts, payments, when probation began.

Money is integer fen throughout; a month is the date of its first day. Each batch query takes
any number of members (in chunks of a thousand); handlers/dues/standing.py works out from them
which months each member has paid, owes or underpaid.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import chunks, core_rows
from storage.enums import Stage, StepKind
from storage.models import Member, Trace
from storage.pipeline_models import DuesPayment, DuesRate, StageChange

# The stages that pay dues: probationary members from the month they were admitted.
PAYING_STAGES = frozenset({Stage.PROBATIONARY, Stage.FULL})
# Bound parameters per IN list stay well under SQLite's and asyncpg's limits.
_PAYMENTS: Table = DuesPayment.__table__  # type: ignore[assignment]


class Paid(NamedTuple):
    """One month's payment as recorded (a tuple: a school's report reads every payment)."""

    month: date
    amount_fen: int
    paid_on: date
    source: str


def _of(query: Select[Any], column: Any, member_ids: Sequence[int] | None) -> list[Select[Any]]:
    """The query for these members, a chunk at a time; None: for everyone, in one query (a
    school's report: thirty IN lists of a thousand cost more than reading every row)."""
    if member_ids is None:
        return [query]
    return [query.where(column.in_(chunk)) for chunk in chunks(member_ids)]


async def rates(session: AsyncSession, member_ids: Sequence[int] | None) -> dict[int, int]:
    """The monthly amounts the secretary set (members on the default are missing)."""
    found: dict[int, int] = {}
    query = select(DuesRate.member_id, DuesRate.amount_fen)
    for each in _of(query, DuesRate.member_id, member_ids):
        found.update({m: int(fen) for m, fen in (await session.execute(each)).all()})
    return found


async def payments(
    session: AsyncSession, member_ids: Sequence[int] | None
) -> dict[int, list[Paid]]:
    """Each member's payments, oldest month first (None: everyone's; a member without any
    maps to an empty list either way)."""
    found: dict[int, list[Paid]] = defaultdict(list)
    query = select(
        DuesPayment.member_id,
        DuesPayment.month,
        DuesPayment.amount_fen,
        DuesPayment.paid_on,
        DuesPayment.source,
    ).order_by(DuesPayment.member_id, DuesPayment.month)
    for each in _of(query, DuesPayment.member_id, member_ids):
        for member_id, month, fen, paid_on, source in await core_rows(session, each):
            found[member_id].append(Paid(month, int(fen), paid_on, source))
    return found


async def probation_starts(
    session: AsyncSession, member_ids: Sequence[int] | None
) -> dict[int, date]:
    """When each member entered probation, as recorded (the latest such record, as
    storage.pipeline.entered_on reads it); members with none are missing."""
    found: dict[int, date] = {}
    query = (
        select(StageChange.member_id, func.max(StageChange.on))
        .where(
            StageChange.stage == Stage.PROBATIONARY,
            StageChange.kind.in_([StepKind.ADVANCE, StepKind.DATED]),
        )
        .group_by(StageChange.member_id)
    )
    for each in _of(query, StageChange.member_id, member_ids):
        found.update({m: on for m, on in (await session.execute(each)).all() if on})
    return found


async def last_paid(session: AsyncSession, member_ids: Sequence[int]) -> dict[int, date]:
    """The latest month each member has a payment for (members with none are missing): what
    the six-month rule needs of the books, in one row per member."""
    found: dict[int, date] = {}
    query = select(DuesPayment.member_id, func.max(DuesPayment.month)).group_by(
        DuesPayment.member_id
    )
    for each in _of(query, DuesPayment.member_id, member_ids):
        found.update({m: month for m, month in await core_rows(session, each) if month})
    return found


async def set_rate(
    session: AsyncSession, member_id: int, amount_fen: int, set_by: int | None, at: datetime
) -> int | None:
    """Set a member's monthly amount; returns the amount set before (None: the default)."""
    rate = await session.get(DuesRate, member_id, with_for_update=True)
    if rate is None:
        session.add(DuesRate(member_id=member_id, amount_fen=amount_fen, set_by=set_by, set_at=at))
        return None
    before = rate.amount_fen
    rate.amount_fen, rate.set_by, rate.set_at = amount_fen, set_by, at
    return before


async def add_payments(session: AsyncSession, rows: Sequence[dict[str, object]]) -> None:
    """Insert payment rows (member_id, month, amount_fen, paid_on, source, recorded_by,
    recorded_at) in one statement; the unique (member, month) refuses a double record."""
    if rows:
        await session.execute(insert(_PAYMENTS), list(rows))


async def payers(session: AsyncSession, branch_id: int | None) -> Sequence[Member]:
    """The active members who pay dues, in a branch or (None) in every branch."""
    query = select(Member).where(Member.active.is_(True), Member.stage.in_(PAYING_STAGES))
    if branch_id is not None:
        query = query.where(Member.branch_id == branch_id)
    return (await session.scalars(query.order_by(Member.branch_id, Member.id))).unique().all()


async def traced_members(session: AsyncSession, kind: str, ref: str) -> set[int]:
    """The members that already have a trace of this kind and ref (a job run twice)."""
    query = select(Trace.member_id).where(Trace.kind == kind, Trace.ref == ref)
    return {m for m in (await session.scalars(query)).all() if m is not None}
