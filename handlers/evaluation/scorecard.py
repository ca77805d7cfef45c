"""Member and branch scorecards (考评表) over a period: each indicator's raw count, base,
rate and points, the weighted total, the rank within the branch and the trend.

Rates: count ÷ base, at most 100%. A count above its base (8 volunteer hours where a short
window expects 0.07) earns no more points than the base, so the rate shown stops at 100% too
and the reader is told the count went beyond it; a branch's rate counts each member up to
their own base, so one member's surplus never hides another's shortfall.

Totals: points = weight × min(rate / target, 1). A member not ranked on an indicator
(excused, not yet a member, not concerned) neither earns nor loses its points: their total is
their points scaled to the whole weight, Σpoints × (all weights / weights they are ranked on),
so an excused member is not pulled down. Ranks are competition ranks (1, 2, 2, 4) on the
total among members ranked on at least one weighted indicator.

The figures support the branch's judgement; they do not replace it.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from statistics import median
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.periods import Period
from handlers.core.collector import without_collector
from handlers.core.context import Options
from handlers.core.messages import UserError
from handlers.dues.standing import DuesRows, dues_rows
from handlers.evaluation.facts import member_facts
from handlers.evaluation.formulas import Facts, measure
from handlers.evaluation.indicators import Indicator, IndicatorSet, indicator_set
from handlers.evaluation.settings import EvaluationSettings
from handlers.evaluation.stints import Roster, roster_between
from storage import evaluation, roster
from storage.chain import ChainState, chain_state
from storage.crypto import SecretBox
from storage.evaluation import MeetingRow, TraceFigures
from storage.models import Branch, Member


class IndicatorScore(NamedTuple):
    """A tuple for the same reason as formulas.Measure (half a million in a school's report)."""

    indicator_id: str
    raw: float
    base: float | None
    rate: float | None
    points: float | None
    excluded: str | None  # why the member is not ranked on it (a catalog key's last part)
    median_seconds: float | None = None  # notices: how long acknowledgements took

    @property
    def beyond_base(self) -> bool:
        """The count went past its base: the rate shown is capped at 100%, and says so."""
        return self.rate is not None and self.base is not None and self.raw > self.base


@dataclass(frozen=True)
class MemberScore:
    member_id: int
    name: str
    stage: str
    indicators: dict[str, IndicatorScore]
    total: float
    rank: int | None
    previous_total: float | None

    @property
    def ranked(self) -> bool:
        return self.rank is not None

    @property
    def trend(self) -> float | None:
        if self.previous_total is None or self.rank is None:
            return None
        return round(self.total - self.previous_total, 1)


@dataclass(frozen=True)
class BranchScorecard:
    branch_id: int
    branch_name: str
    period: Period
    indicators: list[Indicator]
    members: list[MemberScore]
    branch_rates: dict[str, float | None]
    chain: ChainState
    previous: "BranchScorecard | None"
    version: str = ""
    meetings: list[MeetingRow] = field(default_factory=list)
    median_ack_seconds: float | None = None

    @property
    def ranked(self) -> list[MemberScore]:
        return sorted((m for m in self.members if m.rank is not None), key=lambda m: m.rank or 0)

    @property
    def total(self) -> float | None:
        """The branch's total: the mean of its ranked members' totals."""
        ranked = self.ranked
        return round(sum(m.total for m in ranked) / len(ranked), 1) if ranked else None

    @property
    def trend(self) -> float | None:
        before = self.previous.total if self.previous else None
        now = self.total
        return None if before is None or now is None else round(now - before, 1)

    def member(self, member_id: int) -> MemberScore | None:
        return next((m for m in self.members if m.member_id == member_id), None)


def score(indicator: Indicator, facts: Facts) -> IndicatorScore:
    found = measure(facts, indicator)
    if found.excluded is not None or not found.base:
        return IndicatorScore(
            indicator.id, found.raw, found.base, None, None, found.excluded or "no_base"
        )
    rate = min(found.raw / found.base, 1.0)  # see the module docstring: capped, as points are
    points = round(indicator.weight * min(rate / indicator.target, 1.0), 2)
    return IndicatorScore(
        indicator.id, found.raw, found.base, rate, points, None, found.median_seconds
    )


def total_of(indicators: Sequence[Indicator], scores: dict[str, IndicatorScore]) -> float | None:
    """Σpoints scaled to the whole weight; None when ranked on no weighted indicator."""
    weighted = [i for i in indicators if i.weight > 0]
    ranked = [i for i in weighted if scores[i.id].points is not None]
    ranked_weight = sum(i.weight for i in ranked)
    if not ranked_weight:
        return None
    points = sum(scores[i.id].points or 0.0 for i in ranked)
    return round(points * sum(i.weight for i in weighted) / ranked_weight, 1)


def competition_ranks(totals: dict[int, float | None]) -> dict[int, int | None]:
    """1, 2, 2, 4: equal totals share a rank, and the next rank skips."""
    ordered = sorted((t, m) for m, t in totals.items() if t is not None)
    ordered.sort(key=lambda pair: -pair[0])
    ranks: dict[int, int | None] = dict.fromkeys(totals)
    for position, (total, member_id) in enumerate(ordered, start=1):
        earlier = ordered[position - 2] if position > 1 else None
        same = earlier is not None and earlier[0] == total
        ranks[member_id] = ranks[earlier[1]] if same and earlier else position
    return ranks


def today_in(options: Options, today: date | None) -> date:
    return today or datetime.now(options.timezone).date()


async def member_scores(
    session: AsyncSession,
    members: Roster,
    period: Period,
    options: Options,
    *,
    everyone: bool = False,
    medians_of: Sequence[int] = (),
    dues: DuesRows | None = None,
) -> tuple[dict[int, list[MemberScore]], dict[int, list[TraceFigures]]]:
    """Scores of the roster's members over `period`, by branch as they belonged then (a
    mover on both branches' cards, each for their stint there; unranked, no trend yet), and
    their trace figures. `everyone`: the roster is the whole school (one pass over the
    traces); `medians_of`: whose acknowledgement medians to work out (a row per
    acknowledgement)."""
    indicators = indicator_set(options.of(EvaluationSettings).indicators_file).indicators
    facts_of = await member_facts(
        session, members, period, options, everyone=everyone, medians_of=medians_of, dues=dues
    )
    by_branch: dict[int, list[MemberScore]] = defaultdict(list)
    traced: dict[int, list[TraceFigures]] = defaultdict(list)
    for (m, branch_id), facts in facts_of.items():
        scores = {i.id: score(i, facts) for i in indicators}
        total = total_of(indicators, scores)
        by_branch[branch_id].append(
            MemberScore(
                m.id, m.name, m.stage, scores, total or 0.0, 0 if total is not None else None, None
            )
        )
        traced[branch_id].append(facts.traces)
    return by_branch, traced


def _branch_rates(
    indicators: Sequence[Indicator], members: Sequence[MemberScore]
) -> dict[str, float | None]:
    """Per indicator: Σ min(count, base) ÷ Σ base over the members ranked on it (at most 1)."""
    rates: dict[str, float | None] = {}
    for indicator in indicators:
        counted = [m.indicators[indicator.id] for m in members]
        counted = [s for s in counted if s.excluded is None and s.base]
        base = sum(s.base or 0 for s in counted)
        done = sum(min(s.raw, s.base or 0) for s in counted)
        rates[indicator.id] = done / base if base else None
    return rates


def card_of(
    branch_id: int,
    branch_name: str,
    period: Period,
    scores: list[MemberScore],
    figures: Sequence[TraceFigures],
    chain: ChainState,
    previous: "BranchScorecard | None",
    *,
    system: IndicatorSet,
) -> BranchScorecard:
    """One branch's card from its members' scores: ranks, trend against `previous`, branch
    rates and the acknowledgement median, under the indicator `system` the scores used."""
    ranks = competition_ranks(
        {m.member_id: (m.total if m.rank is not None else None) for m in scores}
    )
    before = {m.member_id: m for m in previous.members} if previous else {}
    members = []
    for m in scores:
        earlier = before.get(m.member_id)
        members.append(
            MemberScore(
                m.member_id,
                m.name,
                m.stage,
                m.indicators,
                m.total,
                ranks[m.member_id],
                earlier.total if earlier is not None and earlier.rank is not None else None,
            )
        )
    members.sort(key=lambda m: (m.rank is None, m.rank or 0, m.name))
    seconds = [s for f in figures for s in f.ack_seconds]
    return BranchScorecard(
        branch_id=branch_id,
        branch_name=branch_name,
        period=period,
        indicators=list(system.indicators),
        members=members,
        branch_rates=_branch_rates(system.indicators, scores),
        chain=chain,
        previous=previous,
        version=system.version,
        median_ack_seconds=float(median(seconds)) if seconds else None,
    )


@without_collector
async def branch_scorecard(
    session: AsyncSession,
    box: SecretBox,
    branch_id: int,
    period: Period,
    options: Options,
    *,
    with_previous: bool = True,
    today: date | None = None,
    chain: ChainState | None = None,
) -> BranchScorecard:
    """The branch's scorecard over `period` (cut at today), with the previous period of the
    same length for the trend (its members' totals and the branch rates; no meetings).
    `chain`: a state already checked (a chart's months)."""
    await evaluation.plan_each_query(session)
    branch = await session.get(Branch, branch_id)
    if branch is None:
        raise UserError("error.no_branch")
    chain = chain or await chain_state(session, box)
    day = today_in(options, today)
    members = await roster_over(session, branch_id, period, day, options, with_previous)
    ids = list(members.members)
    dues = await dues_rows(session, list(members.members.values()))  # for both periods

    async def card_over(span: Period, previous: BranchScorecard | None) -> BranchScorecard:
        scores, figures = await member_scores(
            session, members, span.clipped(day), options, medians_of=ids, dues=dues
        )
        return card_of(
            branch_id,
            branch.name,
            span,
            scores.get(branch_id, []),
            figures.get(branch_id, []),
            chain,
            previous,
            system=indicator_set(options.of(EvaluationSettings).indicators_file),
        )

    previous = await card_over(period.previous(), None) if with_previous else None
    card = await card_over(period, previous)
    since, until = period.clipped(day).bounds(options.timezone)
    rows = await evaluation.meeting_rows(session, branch_id, since, until)
    return with_meetings(card, rows)


async def roster_over(
    session: AsyncSession,
    branch_id: int | None,
    period: Period,
    day: date,
    options: Options,
    with_previous: bool,
) -> Roster:
    """Who belonged to the branch (every branch: None) over the period, and over the one
    before it too when the trend is wanted, cut at `day`."""
    first = period.previous() if with_previous else period
    span = Period(first.since, period.clipped(day).until)
    return await roster_between(session, branch_id, *span.bounds(options.timezone))


def with_meetings(card: BranchScorecard, rows: list[MeetingRow]) -> BranchScorecard:
    card.meetings.extend(rows)
    return card


@without_collector
async def member_scorecard(
    session: AsyncSession,
    box: SecretBox,
    member_id: int,
    period: Period,
    options: Options,
    *,
    today: date | None = None,
) -> tuple[MemberScore, BranchScorecard]:
    """A member's own scorecard with their rank and trend, and their branch's card for the
    period (its members' totals for the rank; no previous period, meetings or medians)."""
    await evaluation.plan_each_query(session)
    member = await session.get(Member, member_id)
    if member is None:
        raise UserError("error.no_branch")
    chain = await chain_state(session, box)
    day = today_in(options, today)
    zone = options.timezone
    clipped, earlier_period = period.clipped(day), period.previous().clipped(day)
    branch = await session.get(Branch, await _branch_of(session, member, clipped, zone))
    if branch is None:
        raise UserError("error.no_branch")
    members = await roster_over(session, branch.id, period, day, options, True)
    dues = await dues_rows(session, list(members.members.values()))  # for both periods
    scores, _ = await member_scores(
        session, members, clipped, options, medians_of=[member_id], dues=dues
    )
    system = indicator_set(options.of(EvaluationSettings).indicators_file)
    branch_scores = scores.get(branch.id, [])
    card = card_of(branch.id, branch.name, period, branch_scores, [], chain, None, system=system)
    mine = card.member(member_id)
    if mine is None:  # not on the card: neither a member then nor of this branch now
        raise UserError("error.no_branch")
    before, _ = await member_scores(
        session, members.of(member_id), earlier_period, options, dues=dues
    )
    earlier = next((s for s in before.get(branch.id, []) if s.member_id == member_id), None)
    previous_total = earlier.total if earlier is not None and earlier.rank is not None else None
    return replace(mine, previous_total=previous_total), card


async def _branch_of(session: AsyncSession, member: Member, period: Period, zone: ZoneInfo) -> int:
    """The branch a member's own card is of: the last they belonged to in the period (a
    mover: the new one; a member who has left: the one they left), else their branch now."""
    since, until = period.bounds(zone)
    stretches = [
        s
        for s in await roster.memberships_of(session, member.id)
        if s.since < until and (s.until is None or s.until > since)
    ]
    if stretches:
        return stretches[-1].branch_id
    if member.branch_id is None:
        raise UserError("error.no_branch")
    return member.branch_id


async def meeting_table(
    session: AsyncSession, branch_id: int, period: Period, options: Options | None = None
) -> list[MeetingRow]:
    """Each finalised meeting in the period with who was present, late, online, excused
    and absent, for the web page."""
    zone = (options or Options()).timezone
    since, until = period.bounds(zone)
    return await evaluation.meeting_rows(session, branch_id, since, until)
