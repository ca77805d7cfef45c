"""The named formulas an indicator may use: each turns one member's figures into a raw
count, the base it is measured against, and why the member is not ranked on it (if so).

How a member who joined mid-period is treated: their window starts the day they were added
to the roster. Attendance, notices and dues only count meetings, notices and months after
that (the records before it do not name them); counts with a monthly target (materials,
volunteer hours, thought reports) and the quiz days are measured against the days in their
window. A member added after the period has no window: every indicator is excluded.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from handlers.common.periods import Period
from handlers.evaluation.indicators import Indicator
from storage.evaluation import TraceFigures
from storage.evidence import AttendanceCounts

DAYS_PER_MONTH = 30


@dataclass(frozen=True)
class Facts:
    """Everything the formulas read about one member over one period."""

    stage: str
    window: Period | None  # the part of the period they were a member; None: not yet
    attendance: AttendanceCounts
    traces: TraceFigures
    dues_owed: int  # months in the window they were to pay for (0: not a payer)
    dues_paid: int
    payer: bool


class Measure(NamedTuple):
    """A tuple, not a frozen dataclass: a school's report makes half a million of these, and a
    frozen dataclass costs several times as much to build."""

    raw: float
    base: float | None
    excluded: str | None = None
    median_seconds: float | None = None


def _expected_count(indicator: Indicator, window: Period) -> float:
    return round(indicator.per_month * window.days / DAYS_PER_MONTH, 2)


def attendance(facts: Facts, _: Indicator) -> Measure:
    a = facts.attendance
    if a.expected == 0:
        return Measure(0, None, "excused" if a.excused else "no_meetings")
    return Measure(a.attended, a.expected)


def on_time(facts: Facts, _: Indicator) -> Measure:
    a = facts.attendance
    if a.attended == 0:
        if a.expected == 0:
            return Measure(0, None, "excused" if a.excused else "no_meetings")
        return Measure(0, None, "not_attended")
    return Measure(max(0, a.attended - a.late), a.attended)


def learned(facts: Facts, indicator: Indicator) -> Measure:
    assert facts.window is not None
    return Measure(facts.traces.learned, _expected_count(indicator, facts.window))


def quiz_days(facts: Facts, _: Indicator) -> Measure:
    assert facts.window is not None
    return Measure(facts.traces.quiz_days, facts.window.days)


def quiz_accuracy(facts: Facts, _: Indicator) -> Measure:
    t = facts.traces
    if t.quiz_answered == 0:
        return Measure(0, None, "no_quiz")
    return Measure(t.quiz_correct, t.quiz_answered)


def notices(facts: Facts, _: Indicator) -> Measure:
    t = facts.traces
    if t.delivered == 0:
        return Measure(0, None, "no_notices")
    # An acknowledgement in the period of a notice delivered just before it still counts,
    # but never beyond the notices delivered.
    return Measure(min(t.acknowledged, t.delivered), t.delivered, None, t.median_ack_seconds)


def volunteer_hours(facts: Facts, indicator: Indicator) -> Measure:
    assert facts.window is not None
    return Measure(round(facts.traces.volunteer_hours, 2), _expected_count(indicator, facts.window))


def dues(facts: Facts, _: Indicator) -> Measure:
    if not facts.payer:
        return Measure(0, None, "not_payer")
    if facts.dues_owed == 0:
        return Measure(0, None, "no_dues_due")
    return Measure(facts.dues_paid, facts.dues_owed)


def thought_reports(facts: Facts, indicator: Indicator) -> Measure:
    if facts.stage not in indicator.stages:
        return Measure(0, None, "not_in_stage")
    assert facts.window is not None
    return Measure(facts.traces.thoughts, _expected_count(indicator, facts.window))


FORMULA_TABLE: dict[str, Callable[[Facts, Indicator], Measure]] = {
    "attendance": attendance,
    "on_time": on_time,
    "learned": learned,
    "quiz_days": quiz_days,
    "quiz_accuracy": quiz_accuracy,
    "notices": notices,
    "volunteer_hours": volunteer_hours,
    "dues": dues,
    "thought_reports": thought_reports,
}


def measure(facts: Facts, indicator: Indicator) -> Measure:
    if facts.window is None or facts.window.days <= 0:
        return Measure(0, None, "not_member")
    return FORMULA_TABLE[indicator.formula](facts, indicator)


def member_window(period: Period, joined: date) -> Period | None:
    """The part of the (already clipped) period after the member was added; None if none."""
    start = max(period.since, joined)
    return Period(start, period.until) if start < period.until else None
