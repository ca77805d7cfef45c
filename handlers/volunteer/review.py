"""The committee decides on reported service: 认定 or 不予认定 (by button or command), and
/volunteers lists what waits in the branch."""

from handlers.common.freetext import quoted
from handlers.core.context import Context
from handlers.core.messages import Denied, Msg, Reply, UserError
from handlers.core.notify import queue_to_members
from handlers.core.parsing import parse_id
from handlers.core.registry import COMMITTEE_UP, Replies
from handlers.core.tracer import or_own
from handlers.volunteer import domain
from handlers.volunteer.feature import feature
from storage import meetings, volunteer
from storage.enums import DecisionStatus
from storage.pipeline_models import VolunteerRecord
from storage.volunteer import volunteer_ref

MAX_REASON = 200
SHOWN = 20  # pending records listed at once, each a message with its buttons


async def _record(ctx: Context, command: str, args: str) -> tuple[VolunteerRecord, str]:
    """The record named in args, locked, if the caller may decide it; and the rest of args."""
    parts = args.split(maxsplit=1)
    record_id = parse_id(parts[0]) if parts else None
    if record_id is None:
        raise UserError("usage", usage=Msg(f"cmd.{command}.usage"))
    caller = ctx.require_caller()
    scope = ctx.branch_scope()
    record = await volunteer.locked(ctx.session, record_id)
    if record is None or (scope is not None and record.branch_id != scope):
        target, exists = f"volunteer:{record_id}", record is not None
        raise Denied("volunteer.not_found", target=target, exists=exists, id=record_id)
    if record.member_id == caller.id:
        raise UserError("volunteer.self")
    return record, parts[1] if len(parts) > 1 else ""


def _edited(ctx: Context, text: Msg, record: VolunteerRecord) -> Reply:
    """A pressed button's message is replaced; its buttons then show the outcome."""
    if ctx.incoming.callback_data is None:
        return Reply(text)
    return Reply(text, domain.decision_buttons(record), edit=True)


async def _decided_before(ctx: Context, record: VolunteerRecord) -> Reply:
    names = await meetings.names(ctx.session, [record.decided_by] if record.decided_by else [])
    text = Msg(
        "volunteer.decided_before",
        line=domain.line(record),
        status=domain.status_msg(record.status),
        by=names.get(record.decided_by or 0, ""),
        at=record.decided_at or ctx.now,
    )
    return _edited(ctx, text, record)


async def _decide(ctx: Context, args: str, approve: bool) -> Replies:
    command = "volunteer_approve" if approve else "volunteer_reject"
    record, rest = await _record(ctx, command, args)
    if record.status != DecisionStatus.PENDING:
        return await _decided_before(ctx, record)
    reason = " ".join(ctx.typed(rest).split()) if rest and not approve else ""
    if len(reason) > MAX_REASON:
        raise UserError("volunteer.reason_too_long", limit=MAX_REASON)
    caller = ctx.require_caller()
    record.status = DecisionStatus.APPROVED if approve else DecisionStatus.REJECTED
    record.decided_by, record.decided_at = caller.id, ctx.now
    kind = "volunteer.approved" if approve else "volunteer.rejected"
    ref = volunteer_ref(record.id)
    data: dict[str, object] = {"hours": float(record.minutes / 60)}
    if reason:
        data["reason"] = reason
    await ctx.trace(
        kind, member_id=record.member_id, branch_id=or_own(record.branch_id), ref=ref, data=data
    )
    why = Msg("volunteer.reason", reason=quoted(reason)) if reason else ""
    notice = Msg(
        "volunteer.approved_notice" if approve else "volunteer.rejected_notice",
        line=domain.line(record),
        by=caller.name,
        reason=why,
    )
    await queue_to_members(
        ctx.session,
        [record.member_id],
        Reply(notice),
        key=f"{ref}:decision",
        kind=kind,
        now=ctx.now,
        ref=ref,
    )
    done = Msg(
        "volunteer.approved" if approve else "volunteer.rejected",
        name=record.member.name,
        line=domain.line(record),
        reason=why,
    )
    return _edited(ctx, done, record)


@feature.command(
    "volunteer_approve",
    roles=COMMITTEE_UP,
    aliases=("认定志愿服务",),
    hidden=True,
    keeps_flow=True,
)
async def approve(ctx: Context, args: str) -> Replies:
    return await _decide(ctx, args, approve=True)


@feature.command(
    "volunteer_reject",
    roles=COMMITTEE_UP,
    aliases=("驳回志愿服务",),
    hidden=True,
    keeps_flow=True,
)
async def reject(ctx: Context, args: str) -> Replies:
    return await _decide(ctx, args, approve=False)


@feature.command("volunteers", roles=COMMITTEE_UP, aliases=("志愿服务审核",), private_only=True)
async def review(ctx: Context, args: str) -> Replies:
    """The branch's pending records, each with its buttons, and its approved hours this year."""
    scope = ctx.branch_scope()
    mine = ctx.require_caller().id
    this_year = ctx.today.replace(month=1, day=1)
    minutes = await volunteer.branch_approved_minutes(ctx.session, scope, since=this_year)
    year = Msg(
        "volunteer.branch_year" if scope is not None else "volunteer.all_year",
        year=this_year.year,
        hours=domain.hours_text(minutes),
    )
    # One's own report is for others to decide.
    waiting = [r for r in await volunteer.pending(ctx.session, scope) if r.member_id != mine]
    if not waiting:
        return Reply(Msg("volunteer.none_pending", year=year))
    shown = waiting[:SHOWN]
    more = Msg("volunteer.shown", shown=len(shown)) if len(waiting) > len(shown) else ""
    head = Msg("volunteer.pending_head", count=len(waiting), more=more, year=year)
    platform = ctx.incoming.platform
    return [Reply(head)] + [domain.asking(r, r.member.name, platform) for r in shown]
