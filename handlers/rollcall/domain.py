"""What happens to a roll-call: made, joined and left in a member's update (its Context),
closed by a command or by the deadline job (a session and a tracer; the first tap after the
deadline closes it too). Each change writes its trace and queues the edit of the group's post
in the same transaction, so whatever is recorded is also what the post shows next."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.context import Context
from handlers.core.messages import Msg
from handlers.core.tracer import SessionTracer, Tracer
from handlers.groups import live
from handlers.rollcall.parse import Draft
from storage import rollcalls
from storage.crypto import SecretBox
from storage.group_models import BranchGroup, RollCall, RollCallEntry
from storage.models import Member
from storage.rollcalls import rollcall_ref

KIND = "rollcall"  # the live post's kind (handlers/groups/live.py)


def is_open(rollcall: RollCall, now: datetime) -> bool:
    return rollcall.closed_at is None and (rollcall.deadline is None or now < rollcall.deadline)


async def create(
    ctx: Context, group: BranchGroup, draft: Draft, attached_to: str | None
) -> RollCall:
    """A new roll-call in the group, and its live post there."""
    found = RollCall(
        group_id=group.id,
        branch_id=group.branch_id,
        topic=draft.topic,
        created_by=ctx.require_caller().id,
        created_at=ctx.now,
        deadline=draft.deadline,
        capacity=draft.capacity,
        attached_to=attached_to,
    )
    ctx.session.add(found)
    await ctx.session.flush()
    ref = rollcall_ref(found.id)
    await ctx.trace(
        "rollcall.created",
        branch_id=group.branch_id,
        ref=ref,
        data={
            "group": group.id,
            "topic": draft.topic,
            "deadline": draft.deadline.isoformat() if draft.deadline else None,
            "capacity": draft.capacity,
            "attached_to": attached_to,
        },
    )
    await live.post(ctx.session, group, KIND, ref, ctx.now)
    return found


async def join(ctx: Context, rollcall: RollCall, member: Member) -> Msg:
    """Put the member on the list (`rollcall` locked by the caller: joins line up on it), or
    say why not: already on it, full, or closed (a deadline found passed closes it here)."""
    said = {"id": rollcall.id, "topic": rollcall.topic}
    session, now = ctx.session, ctx.now
    if not await _still_open(session, ctx.box, rollcall, now):
        return Msg("rollcall.is_closed", **said)
    entry = await rollcalls.entry(session, rollcall.id, member.id)
    if entry is not None and entry.withdrawn_at is None:
        return Msg("rollcall.already", **said)
    count = await rollcalls.on_list(session, rollcall.id)
    if rollcall.capacity is not None and count >= rollcall.capacity:
        return Msg("rollcall.full", capacity=rollcall.capacity, **said)
    position = await rollcalls.next_position(session, rollcall.id)
    if entry is None:
        entry = RollCallEntry(roll_call_id=rollcall.id, member_id=member.id)
        session.add(entry)
    entry.joined_at, entry.withdrawn_at, entry.position = now, None, position
    await _changed(ctx, rollcall, "rollcall.joined", member, {"position": position})
    return Msg("rollcall.joined", place=count + 1, **said)


async def leave(ctx: Context, rollcall: RollCall, member: Member) -> Msg:
    """Take the member off the list (the row stays, marked withdrawn); not after it closed."""
    said = {"id": rollcall.id, "topic": rollcall.topic}
    session, now = ctx.session, ctx.now
    if not await _still_open(session, ctx.box, rollcall, now):
        return Msg("rollcall.is_closed", **said)
    entry = await rollcalls.entry(session, rollcall.id, member.id)
    if entry is None or entry.withdrawn_at is not None:
        return Msg("rollcall.not_on", **said)
    entry.withdrawn_at = now
    await _changed(ctx, rollcall, "rollcall.left", member, {})
    return Msg("rollcall.left", **said)


async def _changed(
    ctx: Context, rollcall: RollCall, kind: str, member: Member, data: dict[str, object]
) -> None:
    ref = rollcall_ref(rollcall.id)
    await ctx.trace(kind, member_id=member.id, branch_id=rollcall.branch_id, ref=ref, data=data)
    await live.refresh(ctx.session, ref, ctx.now)


async def _still_open(
    session: AsyncSession, box: SecretBox, rollcall: RollCall, now: datetime
) -> bool:
    """Open now; one whose deadline passed before the deadline job came round closes here."""
    if rollcall.closed_at is None and not is_open(rollcall, now):
        await close(SessionTracer(session, box, now), session, rollcall, now, why="deadline")
    return is_open(rollcall, now)


async def close(
    tracer: Tracer, session: AsyncSession, rollcall: RollCall, now: datetime, *, why: str
) -> int:
    """Close the roll-call (at its deadline, or early by a command): no one joins or leaves
    any more, and the post says so. Returns how many are on the list."""
    # Closed at its deadline is closed then, however late the job or the next tap came.
    rollcall.closed_at = rollcall.deadline if why == "deadline" and rollcall.deadline else now
    count = await rollcalls.on_list(session, rollcall.id)
    ref = rollcall_ref(rollcall.id)
    await tracer.trace(
        "rollcall.closed",
        branch_id=rollcall.branch_id,
        ref=ref,
        data={"why": why, "on_list": count},
    )
    await live.refresh(session, ref, now)
    return count


async def close_past_deadline(session: AsyncSession, box: SecretBox, now: datetime) -> int:
    """Close every roll-call whose deadline has passed (the scheduler's job; a second run
    finds them closed). Returns how many it closed."""
    closed = 0
    for rollcall_id in await rollcalls.past_deadline(session, now):
        rollcall = await rollcalls.locked(session, rollcall_id)
        if rollcall is not None and rollcall.closed_at is None:
            await close(SessionTracer(session, box, now), session, rollcall, now, why="deadline")
            closed += 1
    return closed
