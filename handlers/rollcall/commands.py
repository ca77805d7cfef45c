"""`/jielong 主题 …` (接龙) in a bound group starts a roll-call; `/jielong_close 编号` (结束接龙)
closes one early. Both are for the branch's committee and secretary (admins: any)."""

from handlers.core.context import Context
from handlers.core.messages import Denied, Msg, Reply, UserError
from handlers.core.parsing import parse_id
from handlers.core.registry import COMMITTEE_UP, HERE, QUIETLY, Replies
from handlers.groups.managed import managed_group
from handlers.meetings.domain import describe, meeting_for
from handlers.rollcall import domain
from handlers.rollcall.feature import feature
from handlers.rollcall.parse import Draft, parse_jielong
from storage import rollcalls
from storage.enums import MeetingStatus, Role
from storage.group_models import BranchGroup, RollCall
from storage.meetings import ends_at, meeting_ref


@feature.command("jielong", roles=COMMITTEE_UP, aliases=("接龙", "发起接龙"), in_group=HERE)
async def jielong(ctx: Context, args: str) -> Replies:
    """Start a roll-call in this group: its post is the answer (queued to the group)."""
    group = await managed_group(ctx, "jielong")
    draft = parse_jielong(ctx.typed(args), ctx.now, ctx.options.timezone)
    attached = await _attachment(ctx, group, draft)
    await domain.create(ctx, group, draft, attached)
    return []


async def _attachment(ctx: Context, group: BranchGroup, draft: Draft) -> str | None:
    """What the roll-call pre-registers for: a coming meeting of the group's branch (or a
    school-wide one), or an activity's name, which is only a label."""
    if draft.meeting_id is None:
        return draft.activity
    usage = Msg("cmd.jielong.usage")
    not_found = Msg("rollcall.no_meeting", id=draft.meeting_id, usage=usage)
    meeting = await meeting_for(ctx.session, str(draft.meeting_id), group.branch_id, not_found)
    if meeting.status != MeetingStatus.SCHEDULED or ends_at(meeting) <= ctx.now:
        raise UserError("rollcall.meeting_over", meeting=describe(meeting))
    return meeting_ref(meeting.id)


async def staff_rollcall(ctx: Context, args: str, command: str) -> RollCall:
    """The roll-call numbered first in args, if it is of the caller's branch (an admin: any);
    another branch's, or none of that number, is "not found" and traced (Denied)."""
    rollcall_id = parse_id(next(iter(args.split()), ""))
    if rollcall_id is None:
        raise UserError("usage", usage=Msg(f"cmd.{command}.usage"))
    found = await rollcalls.get(ctx.session, rollcall_id)
    caller = ctx.require_caller()
    if found is None or (caller.role != Role.ADMIN and found.branch_id != caller.branch_id):
        target, exists = f"rollcall:{rollcall_id}", found is not None
        raise Denied("rollcall.not_found", target=target, exists=exists, id=rollcall_id)
    return found


@feature.command("jielong_close", roles=COMMITTEE_UP, aliases=("结束接龙",), in_group=QUIETLY)
async def jielong_close(ctx: Context, args: str) -> Replies:
    """Close a roll-call before its deadline: the post shows the final list."""
    found = await staff_rollcall(ctx, args, "jielong_close")
    rollcall = await rollcalls.locked(ctx.session, found.id)
    assert rollcall is not None
    said = {"id": rollcall.id, "topic": rollcall.topic}
    if rollcall.closed_at is not None:
        return Reply(Msg("rollcall.closed_already", **said))
    why = "command" if domain.is_open(rollcall, ctx.now) else "deadline"
    count = await domain.close(ctx, ctx.session, rollcall, ctx.now, why=why)
    return Reply(Msg("rollcall.closed_now", count=count, **said))
