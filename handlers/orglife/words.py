"""How a rule's status reads: the period's name, and one line per rule."""

from handlers.common.periods import Period
from handlers.core.messages import Msg
from handlers.orglife.rules import Rule
from handlers.orglife.status import RuleStatus, State

MARKS = {State.DONE: "✅", State.SCHEDULED: "⏳", State.DUE: "❗"}


def period_name(rule: Rule, period: Period) -> Msg:
    quarter = (period.since.month - 1) // 3 + 1
    return Msg(
        f"orglife.period.{rule.period}",
        year=period.since.year,
        month=period.since.month,
        quarter=quarter,
    )


def status_line(status: RuleStatus) -> Msg:
    rule = status.rule
    return Msg(
        f"orglife.line.{status.state}",
        mark=MARKS[status.state],
        kind=Msg(f"kind.{rule.kind}"),
        period=period_name(rule, status.period),
        held=status.held,
        scheduled=status.scheduled,
        need=rule.at_least,
        missing=rule.at_least - status.held,
        by=status.period.last_day,
    )


def missed_line(status: RuleStatus) -> Msg:
    rule = status.rule
    return Msg(
        "orglife.missed",
        kind=Msg(f"kind.{rule.kind}"),
        period=period_name(rule, status.last_period),
        held=status.last_held,
        need=rule.at_least,
    )
