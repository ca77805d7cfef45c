"""Each member's named indicators over a window (the last months to today), which the groups
of /segments test and /clusters compares: the evaluation's figures (handlers/evaluation, by
the membership each member had on each day) and the six-month rule's counts now.

Who is profiled: the current full and probationary members of a branch (those care and the
six-month rule follow), each in the branch they belong to now, for their days in it.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.care.sixmonth import DUES, MEETINGS, Count, counts_of
from handlers.common.periods import Period, add_months, term_of
from handlers.core.context import Options
from handlers.dues.standing import dues_rows, is_payer
from handlers.evaluation.facts import member_facts
from handlers.evaluation.formulas import DAYS_PER_MONTH, Facts
from handlers.evaluation.stints import Roster, roster_between
from storage.models import Member

# The indicators a group's rule may name (data/segments.toml describes each).
INDICATORS = (
    "meetings_expected",
    "attendance_rate",
    "late_rate",
    "online_rate",
    "learned_per_month",
    "quiz_day_rate",
    "quiz_accuracy",
    "ack_rate",
    "dues_months_behind",
    "months_without_life",
    "months_unpaid",
    "remote",
    "new_this_term",
    "days_in_window",
)
Values = dict[str, float | None]


@dataclass(frozen=True)
class Profile:
    member: Member
    branch_id: int
    values: Values


def window(today: date, months: int) -> Period:
    """The last `months` months up to and including today."""
    return Period(add_months(today, -months) + timedelta(days=1), today + timedelta(days=1))


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def values_of(facts: Facts, count: Count | None, remote: bool, new: bool) -> Values:
    """One member's indicators from their facts over the window and their counts now; None
    where there is nothing to measure (no meeting attended: no late rate)."""
    a, t = facts.attendance, facts.traces
    days = facts.window.days if facts.window is not None else 0
    return {
        "meetings_expected": float(a.expected),
        "attendance_rate": _ratio(a.attended, a.expected),
        "late_rate": _ratio(a.late, a.attended),
        "online_rate": _ratio(a.online, a.attended),
        "learned_per_month": _ratio(t.learned * DAYS_PER_MONTH, days),
        "quiz_day_rate": _ratio(t.quiz_days, days),
        "quiz_accuracy": _ratio(t.quiz_correct, t.quiz_answered),
        "ack_rate": _ratio(min(t.acknowledged, t.delivered), t.delivered),
        "dues_months_behind": float(facts.dues_owed - facts.dues_paid) if facts.payer else None,
        "months_without_life": float(count.count(MEETINGS)) if count else None,
        "months_unpaid": float(count.count(DUES)) if count else None,
        "remote": float(remote),
        "new_this_term": float(new),
        "days_in_window": float(days),
    }


def _present_since(roster: Roster, options: Options) -> dict[tuple[int, int], date]:
    """The day each present membership began (added or moved in), by member and branch."""
    zone = options.timezone
    return {
        (s.member_id, s.branch_id): s.since.astimezone(zone).date()
        for s in roster.stretches
        if s.until is None
    }


async def profiles(
    session: AsyncSession, branch_id: int | None, options: Options, now: datetime, months: int
) -> list[Profile]:
    """The indicators of a branch's current full and probationary members (None: every
    branch's) over the last `months` months, by name."""
    today = now.astimezone(options.timezone).date()
    period = window(today, months)
    roster = await roster_between(session, branch_id, *period.bounds(options.timezone))
    everyone = branch_id is None
    dues = await dues_rows(session, list(roster.members.values()), everyone=everyone)
    facts = await member_facts(session, roster, period, options, everyone=everyone, dues=dues)
    current = {m: (b, f) for (m, b), f in facts.items() if is_payer(m) and m.branch_id == b}
    counts = await counts_of(session, list(current), now, options)
    term, since = term_of(today), _present_since(roster, options)
    zone = options.timezone
    found = [
        Profile(
            member,
            branch,
            values_of(
                f,
                counts.get(member.id),
                member.is_remote_on(today),
                since.get((member.id, branch), member.created_at.astimezone(zone).date())
                >= term.since,
            ),
        )
        for member, (branch, f) in current.items()
    ]
    return sorted(found, key=lambda p: (p.member.name, p.member.id))
