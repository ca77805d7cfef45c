"""Merging a branch into another and splitting members off into a new (or another) branch.

Every member moves through the transfer path (handlers/moves/domain.py) from the start of
the day given, so their memberships say where they belonged on each day and records before
it stay counted in the old branch. A merge also moves the meetings not yet held (their
reminders are planned again) and archives the source; past meetings and the whole history
stay with it, so past periods' reports stay true. A branch office does not travel.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.account.changes import Editor
from handlers.account.members import add_branch
from handlers.branches.domain import (
    NAME_LIMIT,
    cancel_pending,
    check_current,
    check_date,
    tell_secretaries,
    trace,
)
from handlers.core.messages import Msg, Series, UserError
from handlers.moves import domain as moves_domain
from handlers.moves.domain import BRANCH_ROLES, Clock, Wholesale
from handlers.moves.graduation import pick
from storage import branches, moves, people, roster
from storage.crypto import SecretBox
from storage.enums import MoveStatus
from storage.models import Branch, Meeting, Member
from storage.signals import AfterCommit

PREVIEW_NAMES = 60


@dataclass(frozen=True)
class MergePlan:
    """What merging `source` into `target` on `on` will do, for the preview."""

    source: Branch
    target: Branch
    on: date
    members: Sequence[Member]
    meetings: Sequence[Meeting]
    pending: int

    def preview(self) -> Msg:
        offices = [m.name for m in self.members if m.role in BRANCH_ROLES]
        return Msg(
            "branches.merge_preview",
            source=self.source.name,
            target=self.target.name,
            on=self.on,
            count=len(self.members),
            names=_names(self.members),
            meetings=len(self.meetings),
            pending=self.pending,
            offices=Msg("branches.offices_end", names=Series(offices), target=self.target.name)
            if offices
            else "",
        )

    def done(self) -> Msg:
        return Msg(
            "branches.merged",
            source=self.source.name,
            target=self.target.name,
            on=self.on,
            count=len(self.members),
            meetings=len(self.meetings),
        )


def _names(members: Sequence[Member]) -> Msg | Series | str:
    shown = Series(m.name for m in members[:PREVIEW_NAMES])
    more = len(members) - len(shown)
    return Msg("branches.names_more", names=shown, more=more) if more > 0 else shown or "-"


async def _members_can_move(
    session: AsyncSession, members: Sequence[Member], on: date, clock: Clock
) -> None:
    """Every member can move on `on` (not before their current stretch began)."""
    for member in members:
        await moves_domain.effective_at(session, member, on, clock)


async def plan_merge(
    session: AsyncSession, source: Branch, target: Branch, on: date, clock: Clock
) -> MergePlan:
    """Check a merge and say what it will do; nothing changes."""
    if source.id == target.id:
        raise UserError("branches.same_branch", branch=source.name)
    check_current(source, "branches.already_archived")
    check_current(target, "branches.archived_target")
    check_date(on, clock)
    if on < source.created_at.astimezone(clock.zone).date():
        since = source.created_at.astimezone(clock.zone).date()
        raise UserError("branches.before_created", branch=source.name, on=on, since=since)
    members = list(await people.branch_members(session, source.id))
    await _members_can_move(session, members, on, clock)
    return MergePlan(
        source=source,
        target=target,
        on=on,
        members=members,
        meetings=list(await branches.meetings_ahead(session, source.id, clock.now)),
        pending=len(await moves.pending_touching(session, source.id)),
    )


async def merge(
    session: AsyncSession, box: SecretBox, plan: MergePlan, editor: Editor, clock: Clock
) -> None:
    """Carry out a merge the preview showed: members (told once each), meetings not yet
    held, the source archived and pointing at the target, the target's secretary told."""
    source, target = plan.source, plan.target
    for branch_id in sorted((source.id, target.id)):
        await roster.lock_branch(session, branch_id)
    cancelled = await cancel_pending(session, source.id)
    told = Msg("branches.told_merged", source=source.name, target=target.name, on=plan.on)
    moved = Wholesale("merge", told, reason="merged")
    for member in plan.members:
        await moves_domain.request_transfer(
            session, box, member, target, plan.on, editor, clock, moved
        )
    for meeting in plan.meetings:
        meeting.branch_id = target.id
        meeting.jobs_synced = False  # the scheduler plans its reminders again
    if plan.meetings:
        AfterCommit.MEETINGS_CHANGED.raise_on(session)
    # From the day's start, or when its last member moved if that was later the same day.
    last = await branches.last_membership_end(session, source.id)
    source.archived_at = max(clock.start_of(plan.on), last or clock.start_of(plan.on))
    source.merged_into_id = target.id
    await session.flush()
    data = {
        "source": source.name,
        "target": target.name,
        "target_id": target.id,
        "on": plan.on.isoformat(),
        "members": len(plan.members),
        "meetings": [m.id for m in plan.meetings],
        "cancelled": cancelled,
    }
    await trace(session, box, clock, editor, "branch.merged", source, data)
    news = Msg(
        "branches.staff_merged",
        source=source.name,
        target=target.name,
        on=plan.on,
        count=len(plan.members),
        meetings=len(plan.meetings),
    )
    skip = {editor.member.id} if editor.member else set()
    await tell_secretaries(session, [target.id], news, f"branch-merged:{source.id}", clock, skip)


@dataclass(frozen=True)
class SplitPlan:
    """What moving `members` of `source` into `target` (made when None) will do."""

    source: Branch
    target_name: str
    target: Branch | None
    on: date
    members: Sequence[Member]
    unknown: Sequence[str]

    def preview(self) -> Msg:
        notes = Msg("branches.split_unknown", names=Series(self.unknown)) if self.unknown else ""
        return Msg(
            "branches.split_preview",
            source=self.source.name,
            target=self.target_name,
            new=Msg("branches.split_new") if self.target is None else "",
            on=self.on,
            count=len(self.members),
            names=_names(self.members),
            notes=notes,
        )

    def done(self, target: Branch) -> Msg:
        return Msg(
            "branches.split_done",
            source=self.source.name,
            target=target.name,
            on=self.on,
            count=len(self.members),
        )


async def plan_split(
    session: AsyncSession,
    source: Branch,
    into: str,
    kind: str,
    values: Sequence[str],
    on: date,
    clock: Clock,
) -> SplitPlan:
    """Check a split (by grade, class, or a list of names or staff numbers) and say what it
    will do; nothing changes."""
    into = into.strip()
    check_current(source)
    check_date(on, clock)
    target = await people.branch_by_name(session, into)
    if target is not None:
        if target.id == source.id:
            raise UserError("branches.same_branch", branch=source.name)
        check_current(target, "branches.archived_target")
    elif not 0 < len(into) <= NAME_LIMIT or "\n" in into:
        raise UserError("branch.bad_name")
    batch = await pick(session, source.id, kind, values)
    if not batch.members:
        raise UserError("branches.nothing_to_split", branch=source.name)
    await _members_can_move(session, batch.members, on, clock)
    return SplitPlan(source, into, target, on, batch.members, batch.unknown)


async def split(
    session: AsyncSession, box: SecretBox, plan: SplitPlan, editor: Editor, clock: Clock
) -> Branch:
    """Carry out a split the preview showed: the target made if needed (the source's college
    copied), each member moved (told once), both branches' secretaries told once."""
    source = plan.source
    target = plan.target
    if target is None:
        target = await add_branch(session, box, plan.target_name, clock.now, source.college)
    told = Msg("branches.told_split", source=source.name, target=target.name, on=plan.on)
    moved = Wholesale("split", told)
    for member in plan.members:
        for pending in await moves.pending_of(session, member.id):
            pending.status = MoveStatus.CANCELLED  # an admin's split decides where they go
        await moves_domain.request_transfer(
            session, box, member, target, plan.on, editor, clock, moved
        )
    data = {
        "source": source.name,
        "target": target.name,
        "target_id": target.id,
        "created": plan.target is None,
        "on": plan.on.isoformat(),
        "members": len(plan.members),
    }
    traced = await trace(session, box, clock, editor, "branch.split", source, data)
    news = Msg(
        "branches.staff_split",
        source=source.name,
        target=target.name,
        on=plan.on,
        count=len(plan.members),
    )
    skip = {m.id for m in plan.members} | ({editor.member.id} if editor.member else set())
    key = f"branch-split:{traced.id}"
    await tell_secretaries(session, [source.id, target.id], news, key, clock, skip)
    return target
