"""A branch's year as it is made public (党务公开): meetings held by kind, the dues collected in
total (never per person), its people by stage now, the feedback box's counts and the
decisions of 支部党员大会 the secretary published.

Dues count in the branch the payer belonged to at the end of the day they paid (a mover's
payments before the move count with the old branch). Anonymous feedback items are counted
only when there are at least as many as the surveys' minimum (SURVEY_MIN_ANSWERS): fewer, and
the count would nearly say who wrote them.
"""

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.periods import Period
from storage import disclosure, feedback, orglife, roster
from storage.feedback_models import PublicDecision
from storage.models import Meeting
from storage.roster import Stretch


@dataclass(frozen=True)
class FeedbackCount:
    received: int
    answered: int
    # Anonymous items were left out of the counts (fewer than the minimum; how many is not said).
    withheld: bool


@dataclass(frozen=True)
class YearFigures:
    year: int
    meetings: Counter[str]  # kind → held so far
    dues_fen: int
    stages: dict[str, int]  # now
    feedback: FeedbackCount
    decisions: Sequence[tuple[PublicDecision, Meeting]]


async def year_figures(
    session: AsyncSession, branch_id: int, year: int, now: datetime, zone: ZoneInfo, minimum: int
) -> YearFigures:
    period = Period(date(year, 1, 1), date(year + 1, 1, 1))
    since, until = period.bounds(zone)
    held = await orglife.meetings_of_branch(session, branch_id, since, until)
    return YearFigures(
        year=year,
        meetings=Counter(m.kind for m in held if m.starts_at <= now),
        dues_fen=await dues_collected(session, branch_id, period, zone),
        stages=await disclosure.stage_counts(session, branch_id),
        feedback=_counted(
            await feedback.received_between(session, branch_id, period.since, period.until),
            minimum,
        ),
        decisions=await disclosure.decisions_of(session, branch_id, since, until),
    )


async def dues_collected(
    session: AsyncSession, branch_id: int, period: Period, zone: ZoneInfo
) -> int:
    """Fen paid on the period's days by those who belonged to the branch that day."""
    since, until = period.bounds(zone)
    stretches: dict[int, list[Stretch]] = defaultdict(list)
    for stretch in await roster.stretches_between(session, branch_id, since, until):
        stretches[stretch.member_id].append(stretch)
    paid = await disclosure.paid_between(session, list(stretches), period.since, period.until)
    return sum(p.amount_fen for p in paid if _belonged(stretches[p.member_id], p.paid_on, zone))


def _belonged(stretches: list[Stretch], day: date, zone: ZoneInfo) -> bool:
    """Whether one of the stretches holds at the end of `day`."""
    end = datetime.combine(day + timedelta(days=1), time(), zone)
    return any(s.since < end and (s.until is None or s.until >= end) for s in stretches)


def _counted(items: list[tuple[bool, bool]], minimum: int) -> FeedbackCount:
    """(anonymous, answered) of each item as counts; anonymous ones below the minimum are
    left out (and said to be)."""
    anonymous = sum(1 for a, _ in items if a)
    withheld = 0 < anonymous < minimum
    kept = [answered for a, answered in items if not (a and withheld)]
    return FeedbackCount(len(kept), sum(kept), withheld)
