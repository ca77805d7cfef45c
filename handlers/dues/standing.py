"""Where each member stands with their dues on a day: the monthly amount, and the months paid,
owed and underpaid. Batched: a constant number of queries for any number of members."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from storage import dues
from storage.dues import PAYING_STAGES, Paid
from storage.models import Member

SHANGHAI = ZoneInfo("Asia/Shanghai")


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months_from(first: date, last: date) -> list[date]:
    """Every month from `first` through `last` (both month starts), in order."""
    found = []
    month = month_of(first)
    while month <= last:
        found.append(month)
        month = next_month(month)
    return found


def is_payer(member: Member) -> bool:
    """Active full and probationary members pay dues."""
    return member.active and member.stage in PAYING_STAGES


@dataclass(frozen=True)
class Standing:
    """A member's dues as of a day: the rate, and the months paid, owed and underpaid."""

    rate_fen: int
    rate_set: bool  # set by the secretary (else the default)
    payer: bool
    first_month: date | None  # the first month of the bot's books: owed from then (payers only)
    paid: list[date] = field(default_factory=list)  # months with a payment, oldest first
    owed: list[date] = field(default_factory=list)  # months with no payment
    underpaid: dict[date, int] = field(default_factory=dict)  # month: shortfall in fen
    payments: dict[date, Paid] = field(default_factory=dict)
    joined_on: date | None = None  # admitted as probationary, as recorded in the file

    @property
    def owed_fen(self) -> int:
        return len(self.owed) * self.rate_fen + sum(self.underpaid.values())

    @property
    def earliest_month(self) -> date | None:
        """The first month dues may be recorded for: the month they joined (were admitted as
        probationary) when the file has the date, so arrears and payments from before the
        branch used the bot can be entered; else the first month of the bot's books."""
        if self.joined_on is not None and self.first_month is not None:
            return min(month_of(self.joined_on), self.first_month)
        return self.first_month


def first_month(member: Member, probation: date | None, zone: ZoneInfo) -> date:
    """The month a member starts owing in the bot's books: the month they were admitted as
    probationary, but never before they were added to the roster (a date back-filled from
    the paper file must not make years of dues owed that were paid on paper). Payments for
    earlier months, back to the joining month, may still be recorded (Standing.earliest_month)."""
    added = month_of(member.created_at.astimezone(zone).date())
    return max(month_of(probation), added) if probation is not None else added


def standing_of(
    member: Member,
    rate: int | None,
    paid: Sequence[Paid],
    probation: date | None,
    *,
    today: date,
    default_fen: int,
    zone: ZoneInfo,
) -> Standing:
    rate_fen = default_fen if rate is None else rate
    payer = is_payer(member)
    by_month = {p.month: p for p in paid}
    start = first_month(member, probation, zone) if payer else None
    owed: list[date] = []
    underpaid: dict[date, int] = {}
    if start is not None and rate_fen > 0:  # a zero rate (exempt) owes nothing
        for month in months_from(start, month_of(today)):
            payment = by_month.get(month)
            if payment is None:
                owed.append(month)
            elif payment.amount_fen < rate_fen:
                underpaid[month] = rate_fen - payment.amount_fen
    return Standing(
        rate_fen=rate_fen,
        rate_set=rate is not None,
        payer=payer,
        first_month=start,
        paid=sorted(by_month),
        owed=owed,
        underpaid=underpaid,
        payments=by_month,
        joined_on=probation,
    )


def counted_months(
    rows: "DuesRows",
    member: Member,
    months: Sequence[date],
    default_fen: int,
    zone: ZoneInfo,
    *,
    even_if_left: bool = False,
) -> tuple[bool, int, int]:
    """(pays dues, how many of `months` they were to pay for, how many of those were paid in
    full): what standing_of says of those months, without working out the member's whole
    history (a school's report asks this of 30,000 members, twice). `even_if_left`: the
    months are ones the member belonged (a report's past period), so one who has left since
    is a payer by their stage."""
    rate_fen = rows.rates.get(member.id, default_fen)
    payer = member.stage in PAYING_STAGES if even_if_left else is_payer(member)
    if not payer or rate_fen <= 0:
        return False, 0, 0
    start = first_month(member, rows.starts.get(member.id), zone)
    amounts = {p.month: p.amount_fen for p in rows.paid.get(member.id, ())}
    due = [month for month in months if month >= start]
    return True, len(due), sum(1 for month in due if amounts.get(month, -1) >= rate_fen)


async def standings(
    session: AsyncSession,
    members: Sequence[Member],
    today: date,
    default_fen: int,
    zone: ZoneInfo = SHANGHAI,
) -> dict[int, Standing]:
    """Every member's standing on `today` (the day in `zone`, which also places the month a
    member joined), in three queries per thousand members."""
    rows = await dues_rows(session, members)
    return standings_from(rows, members, today, default_fen, zone)


@dataclass(frozen=True)
class DuesRows:
    """What standings are worked out from, read once for several days (a report's periods)."""

    rates: dict[int, int]
    paid: dict[int, list[Paid]]
    starts: dict[int, date]


async def dues_rows(
    session: AsyncSession, members: Sequence[Member], *, everyone: bool = False
) -> DuesRows:
    """The rows for these members; `everyone`: they are the whole school (read all rows)."""
    ids = None if everyone else [m.id for m in members]
    return DuesRows(
        await dues.rates(session, ids),
        await dues.payments(session, ids),
        await dues.probation_starts(session, ids),
    )


def standings_from(
    rows: DuesRows,
    members: Sequence[Member],
    today: date,
    default_fen: int,
    zone: ZoneInfo = SHANGHAI,
) -> dict[int, Standing]:
    set_rates, paid, starts = rows.rates, rows.paid, rows.starts
    return {
        m.id: standing_of(
            m,
            set_rates.get(m.id),
            paid[m.id],
            starts.get(m.id),
            today=today,
            default_fen=default_fen,
            zone=zone,
        )
        for m in members
    }
