"""All branches' scorecards side by side (an admin's report): one pass over the traces per
period, with the chain, the roster and the dues records read once for both periods."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.periods import Period
from handlers.core.collector import without_collector
from handlers.core.context import Options
from handlers.dues.standing import DuesRows, dues_rows
from handlers.evaluation.indicators import indicator_set
from handlers.evaluation.scorecard import (
    BranchScorecard,
    card_of,
    member_scores,
    roster_over,
    today_in,
    with_meetings,
)
from handlers.evaluation.settings import EvaluationSettings
from handlers.evaluation.stints import Roster
from storage import branches, evaluation, people
from storage.chain import ChainState, chain_state
from storage.crypto import SecretBox
from storage.evaluation import MeetingRow
from storage.models import Branch


@without_collector
async def school_report(
    session: AsyncSession,
    box: SecretBox,
    period: Period,
    options: Options,
    *,
    with_previous: bool = True,
    today: date | None = None,
) -> list[BranchScorecard]:
    """Every branch's scorecard, side by side, in one pass over the traces per period (the
    chain, the roster and the dues records read once for both periods)."""
    await evaluation.plan_each_query(session)
    day = today_in(options, today)
    members = await roster_over(session, None, period, day, options, with_previous)
    school = _School(
        chain=await chain_state(session, box),
        day=day,
        branches=list(await people.all_branches(session)),
        members=members,
        dues=await dues_rows(session, list(members.members.values()), everyone=True),
    )
    previous: dict[int, BranchScorecard] = {}
    if with_previous:
        before = await _school_cards(session, school, period.previous(), options, {})
        previous = {c.branch_id: c for c in before}
    return await _school_cards(session, school, period, options, previous)


@dataclass
class _School:
    chain: ChainState
    day: date
    branches: list[Branch]
    members: Roster
    dues: DuesRows


async def _school_cards(
    session: AsyncSession,
    school: _School,
    period: Period,
    options: Options,
    previous: dict[int, BranchScorecard],
) -> list[BranchScorecard]:
    clipped = period.clipped(school.day)
    scores, figures = await member_scores(
        session, school.members, clipped, options, everyone=True, dues=school.dues
    )
    since, until = clipped.bounds(options.timezone)
    meetings: dict[int, list[MeetingRow]] = defaultdict(list)
    for row in await evaluation.meeting_rows(session, None, since, until):
        meetings[row.branch_id].append(row)
    return [
        with_meetings(
            card_of(
                b.id,
                b.name,
                period,
                scores.get(b.id, []),
                figures.get(b.id, []),
                school.chain,
                previous.get(b.id),
                system=indicator_set(options.of(EvaluationSettings).indicators_file),
            ),
            meetings.get(b.id, []),
        )
        for b in _existing(school.branches, period, options)
    ]


def _existing(every: list[Branch], period: Period, options: Options) -> list[Branch]:
    """The branches that existed in the period: an archived one only for periods before it
    was archived (and not before it was set up)."""
    since, until = period.bounds(options.timezone)
    return [b for b in every if branches.existed_during(b, since, until)]
