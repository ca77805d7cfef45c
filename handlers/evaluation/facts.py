"""The figures behind each stint of a scorecard: attendance and trace figures from one batch
of queries for the stints that cover their member's whole part of the period, and a set of
queries per bounds for the others (movers, leavers); dues months per stint."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.periods import Period
from handlers.core.context import Options
from handlers.dues.settings import DuesSettings
from handlers.dues.standing import DuesRows, counted_months, dues_rows
from handlers.evaluation.formulas import Facts
from handlers.evaluation.stints import Roster, Stint, by_bounds, month_ends, months_in
from storage import evaluation, evidence
from storage.evaluation import TraceFigures
from storage.evidence import AttendanceCounts
from storage.models import Member


def dues_counts(
    stints: Sequence[Stint],
    windows: Sequence[Period | None],
    period: Period,
    options: Options,
    rows: DuesRows,
) -> list[tuple[bool, int, int]]:
    """Per stint: (payer, months to pay for in its part of the period, months paid in full).
    A member who has left since is a payer for the months they belonged."""
    fen, zone = options.of(DuesSettings).default_fen, options.timezone
    months = month_ends(period)
    return [
        counted_months(rows, s.member, months_in(months, window), fen, zone, even_if_left=True)
        for s, window in zip(stints, windows, strict=True)
    ]


# Attendance and trace figures by member, found over one set of bounds.
Found = tuple[dict[int, AttendanceCounts], dict[int, TraceFigures]]


@dataclass
class Evidence:
    """What the queries found for a set of stints: from the batch (whole stints) or per
    bounds (the others)."""

    batch: Found
    apart: dict[tuple[datetime, datetime], Found]

    def of(self, stint: Stint) -> tuple[AttendanceCounts, TraceFigures]:
        attendance, figures = (
            self.batch if stint.whole else self.apart.get((stint.start, stint.end), ({}, {}))
        )
        member_id = stint.member.id
        return attendance.get(member_id, AttendanceCounts()), figures.get(member_id, TraceFigures())


async def evidence_for(
    session: AsyncSession,
    stints: Sequence[Stint],
    since: datetime,
    until: datetime,
    everyone: bool,
    medians_of: Sequence[int],
) -> Evidence:
    """The batch over [since, until) for the whole stints (`everyone`: one pass over the
    school), and a set of queries for each bounds the other stints have."""
    ids = [s.member.id for s in stints if s.whole]
    wanted = set(medians_of)
    attendance = await evidence.attendance(session, None if everyone else ids, since, until)
    figures = await evaluation.trace_figures(
        session,
        since,
        until,
        None if everyone else ids,
        medians_of=[i for i in ids if i in wanted],
    )
    apart: dict[tuple[datetime, datetime], Found] = {}
    for (start, end), group in by_bounds(stints).items():
        some = [s.member.id for s in group]
        apart[(start, end)] = (
            await evidence.attendance(session, some, start, end),
            await evaluation.trace_figures(
                session, start, end, some, medians_of=[i for i in some if i in wanted]
            ),
        )
    return Evidence((attendance, figures), apart)


async def member_facts(
    session: AsyncSession,
    members: Roster,
    period: Period,
    options: Options,
    *,
    everyone: bool = False,
    medians_of: Sequence[int] = (),
    dues: DuesRows | None = None,
) -> dict[tuple[Member, int], Facts]:
    """What the formulas read about each of the roster's members over `period`, per branch
    as they belonged then (a mover in both, each for their stint there). `everyone`: the
    roster is the whole school (one pass over the traces); `medians_of`: whose
    acknowledgement times to gather; `dues`: the dues records, when already read."""
    zone = options.timezone
    since, until = period.bounds(zone)
    stints = members.stints(since, until)
    found = await evidence_for(session, stints, since, until, everyone, medians_of)
    windows = [s.window(period, zone) for s in stints]
    rows = dues or await dues_rows(session, list(members.members.values()))
    owed = dues_counts(stints, windows, period, options, rows)
    parts: dict[tuple[Member, int], list[Facts]] = defaultdict(list)
    for stint, window, (payer, months, paid) in zip(stints, windows, owed, strict=True):
        attended, figures = found.of(stint)
        facts = Facts(stint.member.stage, window, attended, figures, months, paid, payer)
        parts[(stint.member, stint.branch_id)].append(facts)
    return {key: joined_up(stretches) for key, stretches in parts.items()}


def joined_up(parts: Sequence[Facts]) -> Facts:
    """One member's facts in one branch from their stints there (away and back within the
    period): counts and dues months added (a month counts in one stint only), the window as
    long as the days of theirs put together (the formulas read only its length)."""
    if len(parts) == 1:
        return parts[0]
    windows = [f.window for f in parts if f.window is not None]
    days = timedelta(days=sum(w.days for w in windows))
    return Facts(
        stage=parts[0].stage,
        window=Period(windows[0].since, windows[0].since + days) if windows else None,
        attendance=_added([f.attendance for f in parts]),
        traces=_added([f.traces for f in parts]),
        dues_owed=sum(f.dues_owed for f in parts),
        dues_paid=sum(f.dues_paid for f in parts),
        payer=any(f.payer for f in parts),
    )


def _added(items: Sequence[Any]) -> Any:
    """Attendance counts or trace figures added field by field (the latest quiz: the latest;
    acknowledgement times: all of them)."""
    values: dict[str, Any] = {}
    for f in fields(items[0]):
        found = [getattr(item, f.name) for item in items]
        if f.name == "last_quiz":
            values[f.name] = max((at for at in found if at is not None), default=None)
        elif f.name == "ack_seconds":
            values[f.name] = [seconds for each in found for seconds in each]
        else:
            values[f.name] = sum(found)
    return type(items[0])(**values)
