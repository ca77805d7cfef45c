"""Periods a member is excused from organisational life, recorded by the secretary: `/excuse
NAME SINCE UNTIL KIND [说明]` (病假 sick leave, 其他 another proper reason), `/excuse` to list
the branch's, `/excuse_withdraw ID` to withdraw a wrong one. A meeting on a day inside one
does not count against the member (handlers/care/sixmonth.py). The 说明 is kept encrypted;
traces say the kind and the dates only."""

from datetime import date, timedelta

from handlers.care.feature import feature
from handlers.care.lookup import counted_member
from handlers.care.rules import six_month_rule
from handlers.common.freetext import quoted
from handlers.common.periods import add_months
from handlers.core.context import Context
from handlers.core.messages import Denied, Msg, Reply, Series, UserError
from handlers.core.parsing import parse_date, parse_id
from handlers.core.registry import SECRETARY_UP, Replies
from handlers.core.tracer import or_own
from storage import care, dues, people
from storage.care_models import CareExcusal
from storage.models import Member

MAX_REASON = 300
SHOWN = 30  # excusals listed by /excuse


def _kind(text: str) -> str:
    kinds = six_month_rule().excusal_kinds
    kind = kinds.kind_named(text)
    if kind is None:
        words = Series(Msg(f"care.excusal_kind.{k}") for k in kinds.kinds)
        raise UserError("care.excuse_bad_kind", value=text, kinds=words)
    return kind


def _dates(since_text: str, until_text: str) -> tuple[date, date]:
    since, until = parse_date(since_text), parse_date(until_text)
    if until < since:
        raise UserError("care.excuse_reversed", since=since, until=until)
    longest = six_month_rule().excusal_longest_days
    if (until - since).days + 1 > longest:
        raise UserError("care.excuse_too_long", days=longest)
    return since, until


def _reason(ctx: Context, kind: str, text: str) -> str:
    reason = ctx.typed(text).strip() if text else ""
    if len(reason) > MAX_REASON:
        raise UserError("care.excuse_reason_long", limit=MAX_REASON)
    if kind in six_month_rule().reason_required and len(reason) < 2:
        raise UserError("care.excuse_reason_needed", kind=Msg(f"care.excusal_kind.{kind}"))
    return reason


def excusal_msg(ctx: Context, excusal: CareExcusal, name: str) -> Msg:
    """An excusal as the secretary reads it, with its 说明 on one line."""
    reason = care.excusal_reason(ctx.box, excusal)
    return Msg(
        "care.excusal_line",
        id=excusal.id,
        name=name,
        kind=Msg(f"care.excusal_kind.{excusal.kind}"),
        since=excusal.since,
        until=excusal.until,
        reason=Msg("care.excusal_reason", reason=quoted(reason, inline=True)) if reason else "",
    )


@feature.command("excuse", roles=SECRETARY_UP, aliases=("登记病假", "登记假期"), private_only=True)
async def excuse(ctx: Context, args: str) -> Replies:
    """Record an excused period for a member; without arguments, list the branch's."""
    if not args:
        return await _listing(ctx)
    parts = args.split(maxsplit=4)
    if len(parts) < 4:
        raise UserError("usage", usage=Msg("cmd.excuse.usage"))
    since, until = _dates(parts[1], parts[2])
    kind = _kind(parts[3])
    reason = _reason(ctx, kind, parts[4] if len(parts) == 5 else "")
    member = await counted_member(ctx, parts[0])
    await people.lock_member(ctx.session, member.id)  # two overlapping records line up
    clash = await care.overlapping_excusal(ctx.session, member.id, since, until)
    if clash is not None:
        raise UserError("care.excuse_overlaps", existing=excusal_msg(ctx, clash, member.name))
    caller = ctx.require_caller()
    excusal = await care.add_excusal(
        ctx.session, ctx.box, member.id, kind, since, until, reason, by=caller.id, now=ctx.now
    )
    await _trace(ctx, "care.excused", excusal, member)
    return Reply(Msg("care.excused", line=excusal_msg(ctx, excusal, member.name)))


async def _trace(ctx: Context, kind: str, excusal: CareExcusal, member: Member) -> None:
    await ctx.trace(
        kind,
        member_id=member.id,
        branch_id=or_own(member.branch_id),
        ref=f"care_excusal:{excusal.id}",
        # never the 说明: a trace is never encrypted or erased
        data={
            "kind": excusal.kind,
            "since": excusal.since.isoformat(),
            "until": excusal.until.isoformat(),
        },
    )


async def _listing(ctx: Context) -> Reply:
    """The excusals in force of the branch's members (an admin: every branch's) that still
    bear on the counts, latest first; viewing them is traced."""
    scope = ctx.branch_scope()
    members = {m.id: m for m in await dues.payers(ctx.session, scope)}
    floor = add_months(ctx.today, -six_month_rule().lookback_months) - timedelta(days=1)
    found = await care.excusals_of(ctx.session, list(members), floor)
    rows = sorted((e for each in found.values() for e in each), key=lambda e: (e.since, e.id))
    await ctx.trace("data.viewed", branch_id=or_own(scope), data={"what": "care_excusals"})
    if not rows:
        return Reply(Msg("care.excusals_none", usage=Msg("cmd.excuse.usage")))
    lines = [excusal_msg(ctx, e, members[e.member_id].name) for e in reversed(rows)][:SHOWN]
    return Reply(Msg("care.excusals", count=len(rows), lines=lines))


@feature.command("excuse_withdraw", roles=SECRETARY_UP, aliases=("撤销病假",), private_only=True)
async def excuse_withdraw(ctx: Context, args: str) -> Replies:
    """Withdraw an excusal recorded by mistake (kept, marked withdrawn, traced)."""
    excusal_id = parse_id(args) if args else None
    if excusal_id is None:
        raise UserError("usage", usage=Msg("cmd.excuse_withdraw.usage"))
    excusal = await care.excusal(ctx.session, excusal_id)
    member = await ctx.session.get(Member, excusal.member_id) if excusal else None
    scope = ctx.branch_scope()
    if excusal is None or member is None or scope not in (None, member.branch_id):
        target = f"care_excusal:{excusal_id}"
        raise Denied(
            "care.excusal_not_found", target=target, exists=excusal is not None, id=excusal_id
        )
    if excusal.withdrawn_at is not None:
        raise UserError("care.excusal_withdrawn_before", id=excusal.id)
    excusal.withdrawn_at, excusal.withdrawn_by = ctx.now, ctx.require_caller().id
    await _trace(ctx, "care.excusal_withdrawn", excusal, member)
    return Reply(Msg("care.excusal_withdrawn", line=excusal_msg(ctx, excusal, member.name)))
