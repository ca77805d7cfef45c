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

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.periods import Period
from handlers.core.collector import without_collector
from handlers.core.context import Options
from handlers.core.messages import UserError
from handlers.dues.settings import DuesSettings
from handlers.dues.standing import DuesRows, counted_months, dues_rows, month_of, months_from
from handlers.evaluation.formulas import Facts, measure, member_window
from handlers.evaluation.indicators import Indicator, IndicatorSet, indicator_set
from handlers.evaluation.settings import EvaluationSettings
from storage import evaluation, evidence, people
from storage.chain import ChainState, chain_state
from storage.crypto import SecretBox
from storage.evaluation import MeetingRow, TraceFigures
from storage.evidence import AttendanceCounts
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


async def _dues_counts(
    session: AsyncSession,
    members: Sequence[Member],
    window: Period,
    options: Options,
    rows: DuesRows | None,
) -> dict[int, tuple[bool, int, int]]:
    """Per member: (payer, months to pay for in the period, months paid in full)."""
    if not members:
        return {}
    last_day = date.fromordinal(window.until.toordinal() - 1)
    rows = rows or await dues_rows(session, members)
    months = months_from(month_of(window.since), month_of(last_day))
    fen, zone = options.of(DuesSettings).default_fen, options.timezone
    return {m.id: counted_months(rows, m, months, fen, zone) for m in members}


async def member_scores(
    session: AsyncSession,
    members: Sequence[Member],
    period: Period,
    options: Options,
    *,
    everyone: bool = False,
    medians_of: Sequence[int] = (),
    dues: DuesRows | None = None,
) -> tuple[dict[int, list[MemberScore]], dict[int, list[TraceFigures]]]:
    """Scores of these members, by branch (unranked, no trend yet), and their trace figures.
    `everyone`: the members are every member of the school (one pass over the traces);
    `medians_of`: whose acknowledgement medians to work out (a row per acknowledgement)."""
    indicators = indicator_set(options.of(EvaluationSettings).indicators_file).indicators
    zone = options.timezone
    since, until = period.bounds(zone)
    ids = [m.id for m in members]
    attendance = await evidence.attendance(session, None if everyone else ids, since, until)
    figures = await evaluation.trace_figures(
        session, since, until, None if everyone else ids, medians_of=medians_of
    )
    owed = await _dues_counts(session, [m for m in members if m.active], period, options, dues)
    by_branch: dict[int, list[MemberScore]] = defaultdict(list)
    traced: dict[int, list[TraceFigures]] = defaultdict(list)
    for m in members:
        joined = m.created_at.astimezone(zone).date()
        payer, months, paid = owed.get(m.id, (False, 0, 0))
        facts = Facts(
            stage=m.stage,
            window=member_window(period, joined),
            attendance=attendance.get(m.id, AttendanceCounts()),
            traces=figures.get(m.id, TraceFigures()),
            dues_owed=months,
            dues_paid=paid,
            payer=payer,
        )
        scores = {i.id: score(i, facts) for i in indicators}
        total = total_of(indicators, scores)
        branch_id = int(m.branch_id or 0)
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
    members = await people.branch_members(session, branch_id)
    ids = [m.id for m in members]
    dues = await dues_rows(session, [m for m in members if m.active])  # for both periods

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
    if member is None or member.branch_id is None:
        raise UserError("error.no_branch")
    branch = await session.get(Branch, member.branch_id)
    if branch is None:
        raise UserError("error.no_branch")
    chain = await chain_state(session, box)
    day = today_in(options, today)
    members = list(await people.branch_members(session, member.branch_id))
    gone = all(m.id != member_id for m in members)  # no longer active: scored, unranked
    scored = [*members, member] if gone else members
    dues = await dues_rows(session, [m for m in scored if m.active])  # for both periods
    scores, _ = await member_scores(
        session, scored, period.clipped(day), options, medians_of=[member_id], dues=dues
    )
    branch_scores = scores.get(branch.id, [])
    alone = next(s for s in branch_scores if s.member_id == member_id)
    ranked = [s for s in branch_scores if not gone or s.member_id != member_id]
    system = indicator_set(options.of(EvaluationSettings).indicators_file)
    card = card_of(branch.id, branch.name, period, ranked, [], chain, None, system=system)
    mine = _unranked(alone) if gone else card.member(member_id) or _unranked(alone)
    earlier_period = period.previous().clipped(day)
    before, _ = await member_scores(session, [member], earlier_period, options, dues=dues)
    earlier = before[branch.id][0]
    previous_total = earlier.total if earlier.rank is not None else None
    return replace(mine, previous_total=previous_total), card


def _unranked(score: MemberScore) -> MemberScore:
    return replace(score, rank=None, previous_total=None)


async def meeting_table(
    session: AsyncSession, branch_id: int, period: Period, options: Options | None = None
) -> list[MeetingRow]:
    """Each finalised meeting in the period with who was present, late, online, excused
    and absent, for the web page."""
    zone = (options or Options()).timezone
    since, until = period.bounds(zone)
    return await evaluation.meeting_rows(session, branch_id, since, until)
