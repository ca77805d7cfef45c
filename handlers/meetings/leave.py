"""请假: a member asks to be excused from a meeting; the secretary and committee decide."""

from typing import Any

from handlers.common.freetext import quoted
from handlers.core.context import Context
from handlers.core.messages import Button, Denied, Msg, Reply, UserError
from handlers.core.notify import queue_to_members
from handlers.core.parsing import parse_id
from handlers.core.registry import COMMITTEE_UP, EVERYONE, Replies
from handlers.meetings.domain import URGENT, describe, meeting_for, secretaries_of
from handlers.meetings.feature import feature
from storage import meetings
from storage.enums import LeaveStatus, MeetingStatus
from storage.meetings import leave_reason, meeting_ref
from storage.models import LeaveRequest, Meeting

FLOW = "leave"
MAX_REASON = 300
SHOWN = 20  # pending requests listed at once, each a message with its buttons


async def _meeting(ctx: Context, args: str) -> Meeting:
    member = ctx.require_caller()
    no_meeting = Msg("leave.no_meeting", usage=Msg("cmd.leave.usage"))
    meeting = await meeting_for(ctx.session, args, member.branch_id, no_meeting)
    if meeting.status == MeetingStatus.CANCELLED or not meetings.attends(meeting, member.role):
        raise UserError(no_meeting.key, **no_meeting.params)
    if meeting.status == MeetingStatus.FINISHED or ctx.now >= meeting.starts_at:
        raise UserError("leave.started", meeting=describe(meeting))
    return meeting


async def _request(ctx: Context, meeting: Meeting, reason: str) -> Reply:
    member = ctx.require_caller()
    reason = reason.strip()
    if not 2 <= len(reason) <= MAX_REASON:
        raise UserError("leave.bad_reason", limit=MAX_REASON)
    earlier = await meetings.leave_for(ctx.session, meeting.id, member.id)
    if earlier is not None and earlier.status != LeaveStatus.REJECTED:
        raise UserError(f"leave.already_{earlier.status}", meeting=describe(meeting))
    request = await meetings.new_leave(ctx.session, ctx.box, meeting.id, member.id, reason, ctx.now)
    await ctx.trace(
        "leave.requested",
        branch_id=meeting.branch_id,
        ref=meeting_ref(meeting.id),
        member_id=member.id,
        # The reason stays in the request, encrypted: a trace is never encrypted or erased.
        data={"leave": request.id},
    )
    deciders = await secretaries_of(ctx.session, member.branch_id, committee=True)
    ask = _asking(request, member.name, meeting, reason)
    await queue_to_members(
        ctx.session,
        [d for d in deciders if d != member.id],
        ask,
        key=f"leave:{request.id}:ask",
        kind="leave.request",
        now=ctx.now,
        ref=meeting_ref(meeting.id),
        priority=URGENT,
    )
    return Reply(Msg("leave.sent", id=request.id, meeting=describe(meeting)))


@feature.command("leave", roles=EVERYONE, aliases=("请假",), private_only=True)
async def leave(ctx: Context, args: str) -> Replies:
    """`/leave ID REASON` at once; `/leave ID` asks the reason; `/leave` offers meetings."""
    member = ctx.require_caller()
    if args:
        meeting = await _meeting(ctx, args)
        reason = args.split(maxsplit=1)[1] if len(args.split(maxsplit=1)) > 1 else ""
        if reason:
            return await _request(ctx, meeting, ctx.typed(reason))
        await ctx.start_flow(FLOW, "reason", {"meeting": meeting.id})
        return Reply(Msg("leave.ask_reason", meeting=describe(meeting)))
    upcoming = [
        m
        for m in await meetings.upcoming(ctx.session, member.branch_id, ctx.now, role=member.role)
        if m.starts_at > ctx.now
    ]
    if not upcoming:
        return Reply(Msg("leave.nothing_upcoming"))
    rows = tuple((Button(describe(m), f"/leave {m.id}"),) for m in upcoming[:8])
    return Reply(Msg("leave.pick"), rows)


@feature.flow(FLOW, roles=EVERYONE)
async def leave_flow(ctx: Context, step: str, data: dict[str, Any], text: str) -> Replies:
    meeting = await _meeting(ctx, str(data.get("meeting", "")))
    reply = await _request(ctx, meeting, ctx.typed(text))
    await ctx.end_flow()
    return reply


def _asking(request: LeaveRequest, name: str, meeting: Meeting, reason: str) -> Reply:
    """The request as the deciders see it, with 批准 and 驳回; the member's reason quoted,
    so it cannot add lines of its own to the message."""
    buttons = (
        Button(Msg("leave.approve_button"), f"/leave_approve {request.id}"),
        Button(Msg("leave.reject_button"), f"/leave_reject {request.id}"),
    )
    text = Msg("leave.ask", name=name, meeting=describe(meeting), reason=quoted(reason))
    return Reply(text, (buttons,))


async def _decide(ctx: Context, args: str, approve: bool) -> Replies:
    command = "leave_approve" if approve else "leave_reject"
    tokens = args.split()
    leave_id = parse_id(tokens[0]) if tokens else None
    if leave_id is None:
        raise UserError("usage", usage=Msg(f"cmd.{command}.usage"))
    request = await meetings.leave(ctx.session, leave_id)
    caller = ctx.require_caller()
    scope = ctx.branch_scope()
    if request is None or (scope is not None and request.member.branch_id != scope):
        target, exists = f"leave:{leave_id}", request is not None
        raise Denied("leave.not_found", target=target, exists=exists, id=leave_id)
    if request.member_id == caller.id:
        raise UserError("leave.self")
    meeting = await meetings.locked(ctx.session, request.meeting_id)
    assert meeting is not None  # a foreign key
    await ctx.session.refresh(request)  # a decision made meanwhile by someone else counts
    if meeting.status != MeetingStatus.SCHEDULED:  # finalised or cancelled: nothing to excuse
        raise UserError("leave.too_late_to_decide", meeting=describe(meeting))
    if request.status != LeaveStatus.PENDING:
        decided = Msg(f"leave.status_{request.status}")
        return Reply(Msg("leave.decided_before", id=request.id, status=decided))
    request.status = LeaveStatus.APPROVED if approve else LeaveStatus.REJECTED
    request.decided_by, request.decided_at = caller.id, ctx.now
    if approve:
        await meetings.excuse(ctx.session, meeting.id, request.member_id, ctx.now)
    kind = "leave.approved" if approve else "leave.rejected"
    await ctx.trace(
        kind,
        branch_id=meeting.branch_id,
        ref=meeting_ref(meeting.id),
        member_id=request.member_id,
        data={"leave": request.id},
    )
    answer = Reply(Msg(f"{kind}_notice", meeting=describe(meeting), by=caller.name))
    await queue_to_members(
        ctx.session,
        [request.member_id],
        answer,
        key=f"leave:{request.id}:decision",
        kind=kind,
        now=ctx.now,
        ref=meeting_ref(meeting.id),
        priority=URGENT,
    )
    done = Msg(kind, id=request.id, name=request.member.name, meeting=describe(meeting))
    return Reply(done, edit=ctx.incoming.callback_data is not None)


@feature.command("leave_approve", roles=COMMITTEE_UP, aliases=("批准请假",), keeps_flow=True)
async def leave_approve(ctx: Context, args: str) -> Replies:
    return await _decide(ctx, args, approve=True)


@feature.command("leave_reject", roles=COMMITTEE_UP, aliases=("驳回请假",), keeps_flow=True)
async def leave_reject(ctx: Context, args: str) -> Replies:
    return await _decide(ctx, args, approve=False)


@feature.command("leaves", roles=COMMITTEE_UP, aliases=("请假列表",), private_only=True)
async def leaves(ctx: Context, args: str) -> Replies:
    mine = ctx.require_caller().id
    pending = [
        r
        for r in await meetings.pending_leaves(ctx.session, ctx.branch_scope())
        if r.member_id != mine  # one's own request is for others to decide
    ]
    if not pending:
        return Reply(Msg("leave.none_pending"))
    shown = pending[:SHOWN]
    more = Msg("leave.shown", shown=len(shown)) if len(pending) > len(shown) else ""
    replies = [Reply(Msg("leave.pending_head", count=len(pending), more=more))]
    for request in shown:
        meeting = await meetings.get(ctx.session, request.meeting_id)
        assert meeting is not None  # a foreign key
        reason = leave_reason(ctx.box, request)
        replies.append(_asking(request, request.member.name, meeting, reason))
    return replies
