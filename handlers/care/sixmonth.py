"""The six-month rule (《中国共产党章程》第九条): for each member who pays dues, the months in
a row up to now without taking part in organisational life, and those without paying dues.

Worked out from the records every time (finalised attendance, approved leave, the
secretary's excusals, dues payments), never kept as a counter that could drift; the rules
(what counts, what excuses, how far back) are in data/rules.toml and docs/care.md.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.care.rules import SixMonthRule, six_month_rule
from handlers.common.periods import add_months
from handlers.core.context import Options
from handlers.dues.settings import DuesSettings
from handlers.dues.standing import first_month, is_payer, month_of, months_from, next_month
from storage import care, dues
from storage.care import Seen
from storage.care_models import CareExcusal
from storage.models import Member

MEETINGS = "meetings"
DUES = "dues"
MEASURES = (MEETINGS, DUES)


class Month(StrEnum):
    """A month of a member's organisational life (rules.toml [six_month] says which is which)."""

    KEPT = "kept"
    MISSED = "missed"
    NEUTRAL = "neutral"


@dataclass(frozen=True)
class MissedMonth:
    month: date
    meetings: tuple[Seen, ...]  # the meetings missed that month without an excuse


@dataclass(frozen=True)
class Count:
    """One member's runs of months as of a day: the months counted against them."""

    member: Member
    missed: tuple[MissedMonth, ...]  # months without organisational life, oldest first
    unpaid: tuple[date, ...]  # months unpaid, oldest first
    last_attended: date | None  # the day of the last meeting attended, within the months read
    last_paid: date | None  # the latest month paid for

    def months(self, measure: str) -> tuple[date, ...]:
        return tuple(m.month for m in self.missed) if measure == MEETINGS else self.unpaid

    def count(self, measure: str) -> int:
        return len(self.months(measure))

    def since(self, measure: str) -> date | None:
        """The run's first month: what names the run (a notice is given once per run)."""
        months = self.months(measure)
        return months[0] if months else None

    @property
    def most(self) -> int:
        return max(self.count(m) for m in MEASURES)


def day_of(seen: Seen, zone: ZoneInfo) -> date:
    return seen.starts_at.astimezone(zone).date()


def month_state(
    seen: Sequence[Seen], excusals: Sequence[CareExcusal], rule: SixMonthRule, zone: ZoneInfo
) -> tuple[Month, tuple[Seen, ...]]:
    """What one month was for the member, with the meetings missed without an excuse."""
    if any(s.presence in rule.attended for s in seen):
        return Month.KEPT, ()
    missed = tuple(
        s
        for s in seen
        if s.presence not in rule.excused and not _excused(day_of(s, zone), excusals)
    )
    return (Month.MISSED, missed) if missed else (Month.NEUTRAL, ())


def _excused(day: date, excusals: Sequence[CareExcusal]) -> bool:
    return any(e.since <= day <= e.until for e in excusals)


def missed_run(
    seen: Sequence[Seen],
    excusals: Sequence[CareExcusal],
    current: date,
    floor: date,
    rule: SixMonthRule,
    zone: ZoneInfo,
) -> tuple[MissedMonth, ...]:
    """The missed months in a row back from the last whole month to the last month kept
    (neutral ones passed over), none if the member took part in the month in progress;
    `floor` is the first month read."""
    by_month: dict[date, list[Seen]] = defaultdict(list)
    for s in seen:
        by_month[month_of(day_of(s, zone))].append(s)
    if month_state(by_month[current], excusals, rule, zone)[0] is Month.KEPT:
        return ()
    run: list[MissedMonth] = []
    month = add_months(current, -1)
    while month >= floor:
        state, missed = month_state(by_month[month], excusals, rule, zone)
        if state is Month.KEPT:
            break
        if state is Month.MISSED:
            run.append(MissedMonth(month, missed))
        month = add_months(month, -1)
    return tuple(reversed(run))


def unpaid_run(
    start: date | None, last_paid: date | None, current: date, floor: date
) -> tuple[date, ...]:
    """The months owed in a row back from the last whole month: those after the last month
    paid for (a payment below the rate is a payment), from the member's first month in the
    books (`start`; None: they owe nothing) and at most back to `floor`; none if the month
    in progress is paid."""
    if start is None or (last_paid is not None and last_paid >= current):
        return ()
    first = max(start, floor, next_month(last_paid) if last_paid else start)
    return tuple(months_from(first, add_months(current, -1)))


def books_start(member: Member, rate: int, probation: date | None, zone: ZoneInfo) -> date | None:
    """The first month the member owes dues in the bot's books (handlers/dues/standing.py),
    None for one who pays none (not a full or probationary member, or a zero rate)."""
    return first_month(member, probation, zone) if is_payer(member) and rate > 0 else None


async def counts_of(
    session: AsyncSession, members: Sequence[Member], now: datetime, options: Options
) -> dict[int, Count]:
    """Each member's count as of `now`, in a few queries for any number of members."""
    rule, zone = six_month_rule(), options.timezone
    today = now.astimezone(zone).date()
    current = month_of(today)
    floor = add_months(current, -rule.lookback_months)
    ids = [m.id for m in members]
    since = datetime.combine(floor, time(), zone)
    seen = await care.attendance_since(session, ids, since, rule.attended)
    excusals = await care.excusals_of(session, ids, floor)
    fen = options.of(DuesSettings).default_fen
    rates, starts = await dues.rates(session, ids), await dues.probation_starts(session, ids)
    paid = await dues.last_paid(session, ids)
    found = {}
    for m in members:
        mine = seen.get(m.id, [])
        attended = [day_of(s, zone) for s in mine if s.presence in rule.attended]
        start = books_start(m, rates.get(m.id, fen), starts.get(m.id), zone)
        found[m.id] = Count(
            member=m,
            missed=missed_run(mine, excusals.get(m.id, []), current, floor, rule, zone),
            unpaid=unpaid_run(start, paid.get(m.id), current, floor),
            last_attended=max(attended, default=None),
            last_paid=paid.get(m.id),
        )
    return found
