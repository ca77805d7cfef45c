"""The figures behind each stint of a scorecard: attendance and trace figures from one batch
of queries for the stints that cover their member's whole part of the period, and a set of
queries per bounds for the others (movers, leavers); dues months per stint."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.periods import Period
from handlers.core.context import Options
from handlers.dues.settings import DuesSettings
from handlers.dues.standing import DuesRows, counted_months
from handlers.evaluation.stints import Stint, by_bounds, months_in
from storage import evaluation, evidence
from storage.evaluation import TraceFigures
from storage.evidence import AttendanceCounts


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
    return [
        counted_months(rows, s.member, months_in(period, window), fen, zone, even_if_left=True)
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
