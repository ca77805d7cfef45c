"""Queries over branches as they change: the ones that exist now, the names a branch had
before a rename, the branches merged into another, and whether one existed in a period."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import MeetingStatus
from storage.models import Branch, Meeting, Trace
from storage.roster_models import Membership


async def current_branches(session: AsyncSession) -> Sequence[Branch]:
    """The branches that exist now (not archived), for lists meant for current work."""
    query = select(Branch).where(Branch.archived_at.is_(None)).order_by(Branch.id)
    return (await session.scalars(query)).all()


def existed_during(branch: Branch, since: datetime, until: datetime) -> bool:
    """Whether an archived branch existed in [since, until): created before the end and
    archived after the start. A branch not archived is always listed: its row may have been
    made after the records it is the home of (the bot came later than the branch)."""
    if branch.archived_at is None:
        return True
    return branch.created_at < until and branch.archived_at > since


async def former_names(session: AsyncSession, branch_ids: Sequence[int]) -> dict[int, list[str]]:
    """The names each branch had before its renames (branch.renamed traces), oldest first."""
    query = select(Trace).where(Trace.kind == "branch.renamed", Trace.branch_id.in_(branch_ids))
    found: dict[int, list[str]] = {}
    for row in (await session.scalars(query.order_by(Trace.id))).all():
        if row.branch_id is not None and row.data.get("old"):
            found.setdefault(row.branch_id, []).append(str(row.data["old"]))
    return found


async def renamed_from(session: AsyncSession, name: str) -> Branch | None:
    """The branch that was once called `name` (the latest rename away from it)."""
    query = select(Trace).where(Trace.kind == "branch.renamed").order_by(Trace.id.desc())
    for row in (await session.scalars(query)).all():
        if row.data.get("old") == name and row.branch_id is not None:
            return await session.get(Branch, row.branch_id)
    return None


async def meetings_ahead(session: AsyncSession, branch_id: int, now: datetime) -> Sequence[Meeting]:
    """The branch's scheduled meetings that have not yet begun."""
    query = select(Meeting).where(
        Meeting.branch_id == branch_id,
        Meeting.status == MeetingStatus.SCHEDULED,
        Meeting.starts_at > now,
    )
    return (await session.scalars(query.order_by(Meeting.starts_at, Meeting.id))).all()


async def last_membership_end(session: AsyncSession, branch_id: int) -> datetime | None:
    """When the branch's last closed membership ended (None: none ended)."""
    query = select(func.max(Membership.until)).where(Membership.branch_id == branch_id)
    return await session.scalar(query)
