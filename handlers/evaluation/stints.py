"""Who is measured in which branch over a period: each member's stints, the parts of the
period their memberships in a branch cover (a member who moved in mid-term is measured in
the new branch from the move, in the old one up to it; one who left, up to the leaving).

Most stints cover the member's whole part of the period (they belonged to one branch all
along): their figures come from one batch of queries. Only the others (movers, leavers)
need their own bounds, and those sharing bounds (a graduation batch) share their queries.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.periods import Period
from handlers.evaluation.formulas import member_window
from storage import evaluation, roster
from storage.models import Member
from storage.roster import Stretch


class Stint(NamedTuple):
    """A member's time in one branch within a period: the instants [start, end). A tuple
    for the reason formulas.Measure is one (two for each member of a school's report)."""

    member: Member
    branch_id: int
    start: datetime
    end: datetime
    whole: bool  # all of the member's part of the period: counted with the batch

    def window(self, period: Period, zone: ZoneInfo) -> Period | None:
        """The days of the (clipped) period the stint covers, from the day the member was
        added; a day it covers in part counts whole (as the day of joining always has)."""
        joined = self.member.created_at.astimezone(zone).date()
        if self.whole:
            return member_window(period, joined)
        start = max(period.since, joined, self.start.astimezone(zone).date())
        until = min(period.until, _day_after_last(self.end.astimezone(zone)))
        return Period(start, until) if start < until else None


def _day_after_last(end: datetime) -> date:
    """The first day not touched by a stint that ends at the instant `end` (exclusive)."""
    return end.date() if end.time() == time() else end.date() + timedelta(days=1)


def month_ends(period: Period) -> list[tuple[date, date]]:
    """The period's months: each one's first day and its last day within the period."""
    return [(m.since.replace(day=1), m.until - timedelta(days=1)) for m in period.months()]


def months_in(months: Sequence[tuple[date, date]], window: Period | None) -> list[date]:
    """Of the period's `months` (month_ends), those a stint owes dues for: a month counts in
    the branch the member belonged to on its last day within the period, so a mover owes
    the month of the move in the new branch and never twice, and a member added mid-month
    owes that month."""
    if window is None:
        return []
    return [first for first, last in months if window.since <= last < window.until]


@dataclass(frozen=True)
class Roster:
    """Who belonged to the branch (or the school) over a span: the members and their
    memberships' stretches. Read once for a report's two periods."""

    members: dict[int, Member]
    stretches: Sequence[Stretch]
    branch_id: int | None = None  # one branch's roster, or the school's (None)

    def stints(self, since: datetime, until: datetime) -> list[Stint]:
        """Each stretch cut to [since, until), and, for an active member of a branch with no
        stint in it then (added later), an empty one there: listed, not yet a member."""
        found: list[Stint] = []
        placed: set[tuple[int, int]] = set()
        for s in self.stretches:
            member = self.members.get(s.member_id)
            if member is None or s.since >= until or (s.until is not None and s.until <= since):
                continue
            if s.until is None and not member.active:  # see storage.roster.counted
                continue
            start, end = max(since, s.since), min(until, s.until or until)
            whole = s.since <= max(since, member.created_at) and end == until
            found.append(Stint(member, s.branch_id, start, end, whole))
            placed.add((s.member_id, s.branch_id))
        for member in self.members.values():
            branch_id = member.branch_id
            if not member.active or branch_id is None or (member.id, branch_id) in placed:
                continue
            if self.branch_id in (None, branch_id):
                found.append(Stint(member, branch_id, until, until, False))
        return found

    def of(self, member_id: int) -> "Roster":
        """The same roster narrowed to one member."""
        member = self.members[member_id]
        mine = [s for s in self.stretches if s.member_id == member_id]
        return Roster({member_id: member}, mine, self.branch_id)


async def roster_between(
    session: AsyncSession, branch_id: int | None, since: datetime, until: datetime
) -> Roster:
    """The roster of a branch (every branch: None) over [since, until)."""
    members = await evaluation.members_between(session, branch_id, since, until)
    stretches = await roster.stretches_between(session, branch_id, since, until)
    return Roster({m.id: m for m in members}, stretches, branch_id)


def by_bounds(stints: Sequence[Stint]) -> dict[tuple[datetime, datetime], list[Stint]]:
    """The stints that need their own bounds, grouped by them (one set of queries each)."""
    groups: dict[tuple[datetime, datetime], list[Stint]] = defaultdict(list)
    for stint in stints:
        if not stint.whole and stint.start < stint.end:
            groups[(stint.start, stint.end)].append(stint)
    return groups
