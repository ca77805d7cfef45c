"""Branches as they change, shared by the chat commands and the CLI: finding one by its name
(or a name it had), renaming it, archiving one that no longer exists, and the list.

A branch is never deleted: an archived one keeps its history (memberships, meetings,
traces), and school-wide reports list it only for periods before it was archived. Merging
and splitting move members through the transfer path (handlers/branches/reshape.py).
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.account.changes import Editor
from handlers.core.messages import Msg, Reply, Series, UserError
from handlers.core.notify import queue_to_members
from handlers.moves.domain import Clock, tracer_for
from storage import branches, moves, people, roster
from storage.crypto import SecretBox
from storage.enums import MoveStatus
from storage.models import Branch, Trace

NAME_LIMIT = 100  # branches.name's length


async def branch_called(session: AsyncSession, name: str) -> Branch:
    """The branch named `name`; a name it had before a rename says what it is called now."""
    found = await people.branch_by_name(session, name.strip())
    if found is not None:
        return found
    renamed = await branches.renamed_from(session, name.strip())
    if renamed is not None:
        raise UserError("branches.renamed_to", old=name, new=renamed.name)
    names = Series(b.name for b in await branches.current_branches(session)) or "-"
    raise UserError("branches.unknown", name=name, names=names)


def check_date(on: date, clock: Clock) -> date:
    if on > clock.today:
        raise UserError("branches.future_date", on=on, today=clock.today)
    return on


def check_current(branch: Branch, key: str = "branches.archived") -> Branch:
    """`branch`, unless it is archived (then `key`, naming it)."""
    if branch.archived_at is not None:
        raise UserError(key, branch=branch.name)
    return branch


async def trace(
    session: AsyncSession,
    box: SecretBox,
    clock: Clock,
    editor: Editor,
    kind: str,
    branch: Branch,
    data: dict[str, Any],
) -> Trace:
    data = {**data, **editor.trace_data()}
    tracer = tracer_for(session, box, clock, editor)
    return await tracer.trace(kind, branch_id=branch.id, ref=f"branch:{branch.id}", data=data)


async def tell_secretaries(
    session: AsyncSession,
    branch_ids: list[int],
    what: Msg,
    key: str,
    clock: Clock,
    skip: set[int],
) -> None:
    """One message to the secretaries of the branches (through the outbox), but `skip`."""
    ids = {m.id for b in branch_ids for m in await roster.secretaries_of(session, b)} - skip
    if ids:
        await queue_to_members(
            session, sorted(ids), Reply(what), key=key, kind="branch_change", now=clock.now
        )


async def cancel_pending(session: AsyncSession, branch_id: int) -> int:
    """Pending transfers into or out of the branch are cancelled; returns how many."""
    pending = await moves.pending_touching(session, branch_id)
    for move in pending:
        move.status = MoveStatus.CANCELLED
    return len(pending)


async def rename(
    session: AsyncSession,
    box: SecretBox,
    branch: Branch,
    new_name: str,
    editor: Editor,
    clock: Clock,
) -> str:
    """Give the branch a new name (unique); the old one stays in its history. Returns the
    old name."""
    new_name = new_name.strip()
    check_current(branch)
    if not 0 < len(new_name) <= NAME_LIMIT or "\n" in new_name:
        raise UserError("branch.bad_name")
    if new_name == branch.name:
        raise UserError("branches.same_name", name=new_name)
    if await people.branch_by_name(session, new_name) is not None:
        raise UserError("branch.exists", name=new_name)
    old = branch.name
    await roster.lock_branch(session, branch.id)
    branch.name = new_name
    await session.flush()
    await trace(
        session, box, clock, editor, "branch.renamed", branch, {"old": old, "new": new_name}
    )
    return old


async def archive(
    session: AsyncSession,
    box: SecretBox,
    branch: Branch,
    on: date,
    editor: Editor,
    clock: Clock,
) -> datetime:
    """Archive a branch that no longer exists, from the start of `on`: refused while it
    has active members or meetings not yet held. Pending transfers into it are cancelled.
    Returns the instant it was archived."""
    check_current(branch, "branches.already_archived")
    check_date(on, clock)
    count = await people.count_members(session, branch.id)
    if count:
        raise UserError("branches.still_members", branch=branch.name, count=count)
    ahead = await branches.meetings_ahead(session, branch.id, clock.now)
    if ahead:
        raise UserError("branches.meetings_ahead", branch=branch.name, count=len(ahead))
    at = clock.start_of(on)
    last = await branches.last_membership_end(session, branch.id)
    if last is not None and last > at:  # its last member left later: that day, or refused
        if last.astimezone(clock.zone).date() > on:
            day = last.astimezone(clock.zone).date()
            raise UserError("branches.before_last", branch=branch.name, on=on, last=day)
        at = last
    await roster.lock_branch(session, branch.id)
    cancelled = await cancel_pending(session, branch.id)
    branch.archived_at = at
    data = {"on": on.isoformat(), "cancelled": cancelled}
    await trace(session, box, clock, editor, "branch.archived", branch, data)
    return at


@dataclass(frozen=True)
class Listed:
    """A branch as the lists show it: its member count, former names, and (archived) the
    day it was archived and the branch it became part of."""

    branch: Branch
    members: int
    former: list[str]
    archived_on: date | None
    merged_into: str | None

    def line(self) -> Msg:
        former = Msg("branches.former", names=Series(self.former)) if self.former else ""
        if self.archived_on is None:
            return Msg(
                "branches.line",
                id=self.branch.id,
                name=self.branch.name,
                college=self.branch.college or "-",
                count=self.members,
                former=former,
            )
        into = Msg("branches.merged_into", target=self.merged_into) if self.merged_into else ""
        return Msg(
            "branches.archived_line",
            id=self.branch.id,
            name=self.branch.name,
            on=self.archived_on,
            into=into,
            former=former,
        )


async def listing(session: AsyncSession, clock: Clock, everything: bool) -> list[Listed]:
    """The branches (with `everything`, the archived ones too, after the current ones)."""
    every = list(await people.all_branches(session))
    shown = [b for b in every if everything or b.archived_at is None]
    shown.sort(key=lambda b: (b.archived_at is not None, b.id))
    names = {b.id: b.name for b in every}
    former = await branches.former_names(session, [b.id for b in shown])
    return [
        Listed(
            branch=b,
            members=await people.count_members(session, b.id),
            former=former.get(b.id, []),
            archived_on=b.archived_at.astimezone(clock.zone).date() if b.archived_at else None,
            merged_into=names.get(b.merged_into_id) if b.merged_into_id else None,
        )
        for b in shown
    ]
