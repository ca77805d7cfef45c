"""`/care` (secretary): the branch's members at three months or more on either count of the
six-month rule, with their counts and latest note; `/care NAME`: one member in full (months
and meetings missed, months unpaid, excusals, every note). Viewing is traced (data.viewed,
what: care)."""

from datetime import timedelta

from handlers.care.excuse import excusal_msg
from handlers.care.feature import feature
from handlers.care.lookup import counted_member
from handlers.care.rules import note_kinds, six_month_rule
from handlers.care.sixmonth import MEASURES, Count, counts_of
from handlers.care.words import dated_lines, latest_note, missed_lines, note_line, run_lines
from handlers.common.periods import add_months
from handlers.core.context import Context
from handlers.core.messages import Button, Msg, Reply, Series
from handlers.core.registry import SECRETARY_UP, Replies
from handlers.core.tracer import or_own
from handlers.dues.money import month_msg
from storage import branches, care, dues
from storage.models import Member

LISTED = 100  # members listed by /care; the rest are counted
NOTES_SHOWN = 10  # notes shown by /care NAME, newest first


@feature.command("care", roles=SECRETARY_UP, aliases=("组织关怀", "关怀名单"), private_only=True)
async def care_view(ctx: Context, args: str) -> Replies:
    """The branch's members the six-month rule counts against (an admin: every branch's);
    with a name, one member's record in full."""
    if args:
        return await _one(ctx, args.split()[0])
    rule, scope = six_month_rule(), ctx.branch_scope()
    found = await _counted(ctx, scope, rule.list_from)
    await ctx.trace(
        "data.viewed", branch_id=or_own(scope), data={"what": "care", "members": len(found)}
    )
    caller = ctx.require_caller()
    where = caller.branch.name if scope is not None and caller.branch else Msg("care.everywhere")
    if not found:
        return Reply(Msg("care.list_none", branch=where, least=rule.list_from))
    rows = await _rows(ctx, found[:LISTED])
    if len(found) > LISTED:
        rows.append(Msg("care.list_more", count=len(found) - LISTED))
    text = Msg(
        "care.list",
        branch=where,
        least=rule.list_from,
        count=len(found),
        rows=rows,
        source=rule.source,
    )
    return Reply(text)


async def _counted(ctx: Context, scope: int | None, least: int) -> list[Count]:
    """The members of the branch (None: of every branch) at `least` months or more on
    either count, most first; a branch at a time, as the daily job reads them."""
    if scope is None:
        branch_ids = [b.id for b in await branches.current_branches(ctx.session)]
    else:
        branch_ids = [scope]
    found: list[Count] = []
    for branch_id in branch_ids:
        members = await dues.payers(ctx.session, branch_id)
        counts = await counts_of(ctx.session, members, ctx.now, ctx.options)
        found += [c for c in counts.values() if c.most >= least]
    return sorted(found, key=lambda c: (-c.most, c.member.name, c.member.id))


async def _rows(ctx: Context, shown: list[Count]) -> list[Msg]:
    notes = await care.notes_of(ctx.session, [c.member.id for c in shown], latest_only=True)
    return [
        Msg(
            "care.list_row",
            name=c.member.name,
            runs=Series(_short(c, measure) for measure in MEASURES if c.count(measure)),
            note=latest_note(ctx.box, notes.get(c.member.id, []), ctx.options.timezone),
        )
        for c in shown
    ]


def _short(count: Count, measure: str) -> Msg:
    since = count.since(measure)
    assert since is not None  # a run that counts has a first month
    return Msg(f"care.short.{measure}", count=count.count(measure), since=month_msg(since))


async def _one(ctx: Context, name: str) -> Reply:
    member = await counted_member(ctx, name)
    await ctx.trace_view_of(member, "care", ref=f"care:{member.id}")
    count = (await counts_of(ctx.session, [member], ctx.now, ctx.options))[member.id]
    zone = ctx.options.timezone
    floor = add_months(ctx.today, -six_month_rule().lookback_months) - timedelta(days=1)
    excusals = (await care.excusals_of(ctx.session, [member.id], floor)).get(member.id, [])
    notes = (await care.notes_of(ctx.session, [member.id])).get(member.id, [])
    text = Msg(
        "care.one",
        name=member.name,
        runs=run_lines(count) or Msg("care.one_clear"),
        dated=dated_lines(count),
        missed=missed_lines(count, zone) or Msg("care.none"),
        excusals=[excusal_msg(ctx, e, member.name) for e in excusals] or Msg("care.none"),
        notes=[note_line(ctx.box, n, zone, limit=None) for n in notes[:NOTES_SHOWN]]
        or Msg("care.no_note"),
    )
    return Reply(text, (_note_buttons(member),))


def _note_buttons(member: Member) -> tuple[Button, ...]:
    return tuple(
        Button(Msg(f"care.button.{kind}"), f"/care_note #{member.id} {kind}")
        for kind in note_kinds().kinds
    )
