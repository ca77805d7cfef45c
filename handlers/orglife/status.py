"""Where a branch stands with each rule: this period's meetings held and scheduled, and
whether the last period was kept. School-wide meetings (an admin's, open to every branch)
count for every branch."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.periods import Period
from handlers.orglife.rules import Rule, RuleSet, frequency_rules
from storage import orglife


class State(StrEnum):
    DONE = "done"  # held as often as the period needs
    SCHEDULED = "scheduled"  # not yet, but enough are scheduled before the period ends
    DUE = "due"  # still missing, with nothing (enough) scheduled


@dataclass(frozen=True)
class RuleStatus:
    rule: Rule
    period: Period
    held: int
    scheduled: int
    last_period: Period
    last_held: int

    @property
    def state(self) -> State:
        if self.held >= self.rule.at_least:
            return State.DONE
        if self.held + self.scheduled >= self.rule.at_least:
            return State.SCHEDULED
        return State.DUE

    @property
    def last_missed(self) -> bool:
        return self.last_held < self.rule.at_least


async def branch_statuses(
    session: AsyncSession,
    branch_ids: Sequence[int],
    now: datetime,
    zone: ZoneInfo,
    rules: RuleSet | None = None,
) -> dict[int, list[RuleStatus]]:
    """Each branch's status under each rule, for the periods holding today (one read)."""
    rules = rules or frequency_rules()
    today = now.astimezone(zone).date()
    spans = {r.id: (r.period_of(today), _before(r, today)) for r in rules.rules}
    first = min(last.since for _, last in spans.values())
    last_day = max(current.until for current, _ in spans.values())
    since, until = Period(first, last_day).bounds(zone)
    rows = await orglife.meetings_between(session, since, until)
    found: dict[int, list[RuleStatus]] = {}
    for branch_id in branch_ids:
        mine = [
            (k, s.astimezone(zone).date(), s <= now) for b, k, s in rows if b in (branch_id, None)
        ]
        found[branch_id] = [_status(rule, *spans[rule.id], mine) for rule in rules.rules]
    return found


def _before(rule: Rule, today: date) -> Period:
    current = rule.period_of(today)
    return rule.period_of(date.fromordinal(current.since.toordinal() - 1))


def _status(
    rule: Rule, current: Period, last: Period, meetings: list[tuple[str, date, bool]]
) -> RuleStatus:
    of_kind = [(day, begun) for kind, day, begun in meetings if kind == rule.kind]
    return RuleStatus(
        rule=rule,
        period=current,
        held=sum(1 for day, begun in of_kind if begun and current.contains(day)),
        scheduled=sum(1 for day, begun in of_kind if not begun and current.contains(day)),
        last_period=last,
        last_held=sum(1 for day, _ in of_kind if last.contains(day)),
    )
