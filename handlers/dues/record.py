"""Recording dues: the checks a month must pass and the write itself (shared by chat and the
statement import), `/dues_record` for one month or a range, `/dues_set` for a member's rate."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.lookup import find_member
from handlers.core.context import Context
from handlers.core.messages import Msg, Reply, UserError
from handlers.core.notify import queue_to_members
from handlers.core.parsing import parse_date
from handlers.core.registry import SECRETARY_UP, Replies
from handlers.core.tracer import Entry, SessionTracer, or_own
from handlers.dues.feature import feature
from handlers.dues.money import month_msg, parse_amount, parse_months, spans, yuan
from handlers.dues.settings import DuesSettings
from handlers.dues.standing import Standing, month_of, standings
from storage import dues, people
from storage.crypto import SecretBox
from storage.models import Member


@dataclass(frozen=True)
class NewPayment:
    member: Member
    month: date
    amount_fen: int
    paid_on: date


def not_payer(member: Member) -> Msg:
    return Msg("dues.not_payer", name=member.name, stage=Msg(f"stage.{member.stage}"))


def month_problem(member: Member, standing: Standing, month: date, today: date) -> Msg | None:
    """Why dues for `month` cannot be recorded for this member, or None if they can."""
    if not standing.payer:
        return not_payer(member)
    if month > month_of(today):
        return Msg("dues.future_month", month=month_msg(month), current=month_msg(today))
    earliest = standing.earliest_month
    if earliest is not None and month < earliest:
        return _before_earliest(member, standing, month, earliest)
    paid = standing.payments.get(month)
    if paid is not None:
        return Msg(
            "dues.already",
            name=member.name,
            month=month_msg(month),
            amount=yuan(paid.amount_fen),
            paid_on=paid.paid_on,
            source=Msg(f"dues.source.{paid.source}"),
        )
    return None


def _before_earliest(member: Member, standing: Standing, month: date, earliest: date) -> Msg:
    """A month before the member joined; or, with no joining date in the file, before the
    roster's first month, with the /stage form that enters the joining date."""
    if standing.joined_on is not None:
        joined = month_msg(earliest)
        return Msg("dues.before_joining", name=member.name, month=month_msg(month), joined=joined)
    return Msg(
        "dues.before_first",
        name=member.name,
        month=month_msg(month),
        first=month_msg(earliest),
        example=month.isoformat(),
    )


def paid_on_problem(paid_on: date, today: date) -> Msg | None:
    return Msg("dues.future_paid_on", paid_on=paid_on) if paid_on > today else None


async def record_payments(
    session: AsyncSession,
    box: SecretBox,
    payments: Sequence[NewPayment],
    *,
    source: str,
    actor_id: int | None,
    now: datetime,
    also: Sequence[Entry] = (),
) -> None:
    """Write checked payments and a dues.recorded trace for each (plus the traces `also`)."""
    await dues.add_payments(
        session,
        [
            {
                "member_id": p.member.id,
                "month": p.month,
                "amount_fen": p.amount_fen,
                "paid_on": p.paid_on,
                "source": source,
                "recorded_by": actor_id,
                "recorded_at": now,
            }
            for p in payments
        ],
    )
    entries = [
        Entry(
            "dues.recorded",
            member_id=p.member.id,
            branch_id=p.member.branch_id,
            actor_id=actor_id,
            ref=f"dues:{p.member.id}",
            data={
                "month": f"{p.month:%Y-%m}",
                "amount": yuan(p.amount_fen),
                "paid_on": p.paid_on.isoformat(),
                "source": source,
            },
        )
        for p in payments
    ]
    await SessionTracer(session, box, now).trace_many([*entries, *also])


async def standing_for(ctx: Context, member: Member) -> Standing:
    found = await standings(
        ctx.session,
        [member],
        ctx.today,
        ctx.options.of(DuesSettings).default_fen,
        ctx.options.timezone,
    )
    return found[member.id]


def _record_args(ctx: Context, args: str) -> tuple[str, list[date], int, date]:
    tokens = args.split()
    if len(tokens) not in (3, 4):
        raise UserError("usage", usage=Msg("cmd.dues_record.usage"))
    months = parse_months(tokens[1])
    amount = parse_amount(tokens[2])
    paid_on = parse_date(tokens[3]) if len(tokens) == 4 else ctx.today
    problem = paid_on_problem(paid_on, ctx.today)
    if problem is not None:
        raise UserError(problem.key, **problem.params)
    return tokens[0], months, amount, paid_on


@feature.command(
    "dues_record", roles=SECRETARY_UP, aliases=("记党费", "记录党费"), private_only=True
)
async def dues_record(ctx: Context, args: str) -> Replies:
    """Record dues paid for one month or each month of a range, and tell the member."""
    caller = ctx.require_caller()
    name, months, amount, paid_on = _record_args(ctx, args)
    member = await find_member(ctx, name)
    await people.lock_member(ctx.session, member.id)
    standing = await standing_for(ctx, member)
    if not standing.payer:
        raise UserError("dues.not_payer", **not_payer(member).params)
    problems = [p for m in months if (p := month_problem(member, standing, m, ctx.today))]
    if problems:
        raise UserError("dues.refused", problems=[Msg("dues.problem", problem=p) for p in problems])
    payments = [NewPayment(member, m, amount, paid_on) for m in months]
    await record_payments(
        ctx.session, ctx.box, payments, source="chat", actor_id=caller.id, now=ctx.now
    )
    details = {
        "months": spans(months),
        "amount": yuan(amount),
        "paid_on": paid_on,
        "total": yuan(amount * len(months)),
    }
    if member.id != caller.id:
        await queue_to_members(
            ctx.session,
            [member.id],
            Reply(Msg("dues.recorded_notice", by=caller.name, **details)),
            key=f"dues:recorded:{months[0]:%Y-%m}",
            kind="dues.recorded",
            now=ctx.now,
            ref=f"dues:{member.id}",
        )
    short = standing.rate_fen - amount
    note = Msg("dues.recorded_short", rate=yuan(standing.rate_fen), short=yuan(short))
    return Reply(
        Msg(
            "dues.recorded",
            name=member.name,
            count=len(months),
            short=note if short > 0 else "",
            **details,
        )
    )


@feature.command("dues_set", roles=SECRETARY_UP, aliases=("核定党费",), private_only=True)
async def dues_set(ctx: Context, args: str) -> Replies:
    """Set a member's monthly amount (instead of the default); the member is told."""
    caller = ctx.require_caller()
    tokens = args.split()
    if len(tokens) != 2:
        raise UserError("usage", usage=Msg("cmd.dues_set.usage"))
    amount = parse_amount(tokens[1])
    member = await find_member(ctx, tokens[0])
    before = await dues.set_rate(ctx.session, member.id, amount, caller.id, ctx.now)
    old = yuan(ctx.options.of(DuesSettings).default_fen if before is None else before)
    trace = await ctx.trace(
        "dues.rate_set",
        member_id=member.id,
        branch_id=or_own(member.branch_id),
        ref=f"dues:{member.id}",
        data={"amount": yuan(amount), "before": old},
    )
    if member.id != caller.id:
        await queue_to_members(
            ctx.session,
            [member.id],
            Reply(Msg("dues.rate_notice", by=caller.name, amount=yuan(amount))),
            key=f"dues:rate:{trace.id}",
            kind="dues.rate_set",
            now=ctx.now,
            ref=f"dues:{member.id}",
        )
    return Reply(Msg("dues.rate_set", name=member.name, amount=yuan(amount), old=old))
