"""Seeing dues: `/dues` (one's own, or a secretary's look at a member, traced) and
`/dues_owed` (the branch's members who owe, most owed first)."""

from datetime import date

from handlers.common.lookup import find_member
from handlers.core.context import Context
from handlers.core.messages import Msg, Reply, Series, UserError
from handlers.core.registry import EVERYONE, SECRETARY_UP, Replies
from handlers.core.tracer import or_own
from handlers.dues.feature import feature
from handlers.dues.money import month_msg, spans, yuan
from handlers.dues.record import standing_for
from handlers.dues.settings import DuesSettings
from handlers.dues.standing import Standing, month_of, standings
from storage import dues
from storage.models import Member

RECENT_MONTHS = 12
OWED_SHOWN = 100  # members listed by /dues_owed; the rest are counted


def owed_lines(standing: Standing) -> list[Msg]:
    """What a member still has to pay: unpaid months, underpaid months, the total."""
    lines = []
    if standing.owed:
        lines.append(
            Msg(
                "dues.owed_months",
                count=len(standing.owed),
                months=spans(standing.owed),
                rate=yuan(standing.rate_fen),
            )
        )
    if standing.underpaid:
        items = Series(
            Msg("dues.short_item", month=month_msg(m), short=yuan(fen))
            for m, fen in sorted(standing.underpaid.items())
        )
        lines.append(Msg("dues.underpaid_months", items=items))
    lines.append(Msg("dues.owed_total", total=yuan(standing.owed_fen)))
    return lines


def _recent_paid(standing: Standing, today: date) -> list[Msg]:
    """Payments for the last twelve months up to this one, newest first."""
    current = month_of(today)
    since = date(current.year - 1, current.month, 1)
    lines = []
    for month in sorted(standing.paid, reverse=True):
        if not since < month <= current:
            continue
        paid = standing.payments[month]
        short = standing.underpaid.get(month)
        lines.append(
            Msg(
                "dues.paid_line",
                month=month_msg(month),
                amount=yuan(paid.amount_fen),
                paid_on=paid.paid_on,
                short=Msg("dues.paid_short", short=yuan(short)) if short else "",
            )
        )
    return lines or [Msg("dues.paid_none")]


def summary(member: Member, standing: Standing, today: date, own: bool) -> Msg:
    """One member's dues as they (own) or their secretary see it."""
    stage = Msg(f"stage.{member.stage}")
    if not standing.payer:
        key = "dues.not_payer_own" if own else "dues.not_payer_other"
        return Msg(key, name=member.name, stage=stage)
    owed = owed_lines(standing) if standing.owed_fen else [Msg("dues.owed_none")]
    source = "dues.rate_custom" if standing.rate_set else "dues.rate_default"
    books = standing.first_month or month_of(today)
    earliest = standing.earliest_month or books
    return Msg(
        "dues.summary",
        name=member.name,
        stage=stage,
        rate=yuan(standing.rate_fen),
        rate_source=Msg(source),
        first=month_msg(earliest),
        books=Msg("dues.books_since", month=month_msg(books)) if books > earliest else "",
        paid=_recent_paid(standing, today),
        owed=owed,
    )


@feature.command("dues", roles=EVERYONE, aliases=("党费", "我的党费"), private_only=True)
async def dues_view(ctx: Context, args: str) -> Replies:
    """The caller's dues; with a name, a secretary's view of a member's (traced)."""
    caller = ctx.require_caller()
    if not args:
        return Reply(summary(caller, await standing_for(ctx, caller), ctx.today, own=True))
    if caller.role not in SECRETARY_UP:
        raise UserError("dues.others_staff_only")
    member = await find_member(ctx, args.split()[0])
    await ctx.trace_view_of(member, "dues", ref=f"dues:{member.id}")
    standing = await standing_for(ctx, member)
    return Reply(summary(member, standing, ctx.today, own=member.id == caller.id))


@feature.command("dues_owed", roles=SECRETARY_UP, aliases=("欠缴党费",), private_only=True)
async def dues_owed(ctx: Context, args: str) -> Replies:
    """The members of the caller's branch (an admin: of every branch) who owe dues."""
    caller = ctx.require_caller()
    scope = ctx.branch_scope()
    members = await dues.payers(ctx.session, scope)
    found = await standings(
        ctx.session,
        members,
        ctx.today,
        ctx.options.of(DuesSettings).default_fen,
        ctx.options.timezone,
    )
    owing = sorted(
        (m for m in members if found[m.id].owed_fen > 0),
        key=lambda m: (-found[m.id].owed_fen, m.name, m.id),
    )
    await ctx.trace("data.viewed", branch_id=or_own(scope), data={"what": "dues_owed"})
    where = caller.branch.name if scope is not None and caller.branch else Msg("dues.everywhere")
    month = month_msg(ctx.today)
    if not owing:
        return Reply(Msg("dues.owed_nobody", branch=where, month=month))
    rows: list[Msg] = [_owed_row(m, found[m.id]) for m in owing[:OWED_SHOWN]]
    if len(owing) > OWED_SHOWN:
        rows.append(Msg("dues.owed_more", count=len(owing) - OWED_SHOWN))
    total = yuan(sum(found[m.id].owed_fen for m in owing))
    return Reply(
        Msg("dues.owed_list", branch=where, month=month, count=len(owing), total=total, rows=rows)
    )


def _owed_row(member: Member, standing: Standing) -> Msg:
    months = sorted([*standing.owed, *standing.underpaid])
    return Msg(
        "dues.owed_row",
        name=member.name,
        count=len(months),
        total=yuan(standing.owed_fen),
        months=spans(months),
    )
