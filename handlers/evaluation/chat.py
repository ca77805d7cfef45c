"""`/report`, `/myreport` and `/inactive`: the scorecards in chat, with a chart.

Every view is traced (data.viewed). A broken trace chain is said first and loudly; the
figures support the branch's judgement and do not replace it, and every answer says so.
"""

from datetime import datetime, time, timedelta

from handlers.common.charts import Bars, chart_or_none, chart_reply, panels_chart
from handlers.common.periods import Period, parse_period
from handlers.core.context import Context
from handlers.core.messages import Msg, Reply, Series, UserError
from handlers.core.registry import EVERYONE, SECRETARY_UP
from handlers.evaluation.feature import feature
from handlers.evaluation.indicators import indicator_set
from handlers.evaluation.scorecard import (
    BranchScorecard,
    IndicatorScore,
    MemberScore,
    branch_scorecard,
    member_scorecard,
)
from handlers.evaluation.settings import EvaluationSettings
from handlers.evaluation.text import chain_note, chain_warning, figure, percent, why
from storage import evaluation, people

SHOWN = 3  # members named at the top and the bottom of /report
INACTIVE_SHOWN = 30


def _period(ctx: Context, args: str, usage: str) -> Period:
    """The period asked for; refused with the reason when parse_period knows it (a reversed
    or too long span, a month that does not exist), else as unreadable, with the usage."""
    try:
        return parse_period(args, ctx.today)
    except UserError as err:
        if err.msg.key == "period.bad":
            raise UserError("evaluation.bad_period", value=args.strip(), usage=Msg(usage)) from err
        raise UserError("evaluation.period_refused", reason=err.msg, usage=Msg(usage)) from err


def _branch_id(ctx: Context) -> int:
    caller = ctx.require_caller()
    if caller.branch_id is None:
        raise UserError("error.no_branch")
    return caller.branch_id


def _warning(card: BranchScorecard) -> Msg | str:
    """The broken-chain warning on a line of its own above the answer, or nothing."""
    warning = chain_warning(card.chain)
    return Msg("evaluation.warning_line", warning=warning) if warning else ""


def _note(card: BranchScorecard) -> Msg | str:
    """Below a sound answer: what the chain check behind it covered."""
    note = chain_note(card.chain)
    return Msg("evaluation.note_line", note=note) if note else ""


def _trend(value: float | None) -> Msg:
    if value is None:
        return Msg("evaluation.trend_none")
    return Msg("evaluation.trend", delta=f"{value:+g}")


def _rate_line(card: BranchScorecard, indicator_id: str) -> Msg:
    indicator = next(i for i in card.indicators if i.id == indicator_id)
    rate = card.branch_rates.get(indicator_id)
    extra: Msg | str = ""
    if indicator.formula == "notices" and card.median_ack_seconds is not None:
        extra = Msg("evaluation.median", minutes=f"{card.median_ack_seconds / 60:.0f}")
    return Msg("evaluation.rate_line", name=indicator.name, rate=percent(rate), extra=extra)


def top_and_bottom(
    ranked: list[MemberScore], shown: int = SHOWN
) -> tuple[list[MemberScore], list[MemberScore]]:
    """The first `shown` ranked members, and the last `shown` (lowest first) of those not
    already named at the top: a small branch never lists one person as both."""
    top = ranked[:shown]
    rest = ranked[len(top) :]
    return top, rest[-shown:][::-1]


def _who(members: list[MemberScore]) -> Series:
    return Series(Msg("evaluation.who", name=m.name, total=f"{m.total:g}") for m in members)


def monthly_chart(card: BranchScorecard, months: list[BranchScorecard]) -> bytes:
    """Attendance and quiz-day rates by month, and each ranked member's total."""
    labels = [m.period.label for m in months]
    names = {i.formula: i for i in card.indicators}
    panels = []
    for formula in ("attendance", "quiz_days", "learned"):
        indicator = names.get(formula)
        if indicator is None:
            continue
        values = [(m.branch_rates.get(indicator.id) or 0.0) * 100 for m in months]
        notes = [f"{v:.0f}%" for v in values]
        panels.append(Bars(f"{indicator.name} (%)", labels, values, notes))
    ranked = card.ranked
    if ranked:
        panels.append(Bars(card.branch_name, [m.name for m in ranked], [m.total for m in ranked]))
    return panels_chart(panels)


async def _months(ctx: Context, card: BranchScorecard) -> list[BranchScorecard]:
    shown = card.period.clipped(ctx.today)
    return [
        await branch_scorecard(
            ctx.session,
            ctx.box,
            card.branch_id,
            month,
            ctx.options,
            with_previous=False,
            today=ctx.today,
            chain=card.chain,
        )
        for month in shown.months()
    ]


@feature.command("report", roles=SECRETARY_UP, aliases=("支部考评",), private_only=True)
async def report(ctx: Context, args: str) -> list[Reply]:
    """`/report [month|term|year|2026-09..2026-12]`: the branch scorecard, with a chart."""
    period = _period(ctx, args, "cmd.report.usage")
    branch_id = _branch_id(ctx)
    card = await branch_scorecard(
        ctx.session, ctx.box, branch_id, period, ctx.options, today=ctx.today
    )
    await ctx.trace(
        "data.viewed",
        branch_id=branch_id,
        ref=f"branch:{branch_id}",
        data={"what": "scorecard", "period": period.label},
    )
    ranked = card.ranked
    top, bottom = top_and_bottom(ranked)
    text = Msg(
        "evaluation.branch_summary",
        warning=_warning(card),
        branch=card.branch_name,
        period=period.label,
        version=card.version,
        members=len(card.members),
        ranked=len(ranked),
        total=f"{card.total:g}" if card.total is not None else "—",
        trend=_trend(card.trend),
        rates=[_rate_line(card, i.id) for i in card.indicators],
        top=_who(top) or "—",
        bottom=_who(bottom) or "—",
        note=_note(card),
    )
    if not card.chain.ok:
        return [Reply(text)]  # no chart of figures that cannot be trusted
    months = await _months(ctx, card)
    about = f"/report branch {branch_id} {period.label}"
    chart = chart_or_none(about, monthly_chart, card, months)
    return [Reply(text), chart_reply(chart, Msg("evaluation.chart_caption", period=period.label))]


def _indicator_line(card: BranchScorecard, score: IndicatorScore) -> Msg:
    indicator = next(i for i in card.indicators if i.id == score.indicator_id)
    if score.excluded is not None:
        return Msg("evaluation.line_excluded", name=indicator.name, why=why(score.excluded))
    extra: Msg | str = ""
    if score.median_seconds is not None:
        extra = Msg("evaluation.median", minutes=f"{score.median_seconds / 60:.0f}")
    elif score.beyond_base:
        extra = Msg("evaluation.capped")
    return Msg(
        "evaluation.line",
        name=indicator.name,
        raw=figure(score.raw),
        base=figure(score.base or 0),
        rate=percent(score.rate),
        points=f"{score.points or 0:g}",
        weight=f"{indicator.weight:g}",
        extra=extra,
    )


@feature.command("myreport", roles=EVERYONE, aliases=("我的考评",), private_only=True)
async def myreport(ctx: Context, args: str) -> list[Reply]:
    """`/myreport [period]`: the member's own scorecard, with a chart."""
    period = _period(ctx, args, "cmd.myreport.usage")
    member = ctx.require_caller()
    _branch_id(ctx)
    mine, card = await member_scorecard(
        ctx.session, ctx.box, member.id, period, ctx.options, today=ctx.today
    )
    await ctx.trace(
        "data.viewed", member_id=member.id, data={"what": "scorecard", "period": period.label}
    )
    rank = (
        Msg("evaluation.rank", rank=mine.rank, of=len(card.ranked))
        if mine.rank is not None
        else Msg("evaluation.unranked")
    )
    text = Msg(
        "evaluation.member_summary",
        warning=_warning(card),
        name=mine.name,
        period=period.label,
        lines=[_indicator_line(card, s) for s in mine.indicators.values()],
        total=f"{mine.total:g}" if mine.rank is not None else "—",
        rank=rank,
        trend=_trend(mine.trend),
        note=_note(card),
    )
    if not card.chain.ok:
        return [Reply(text)]
    names = [i.name for i in card.indicators]
    rates = [(s.rate or 0.0) * 100 for s in mine.indicators.values()]
    notes = [percent(s.rate) if s.excluded is None else "—" for s in mine.indicators.values()]
    bars = [Bars(f"{mine.name} {period.label} (%)", names, rates, notes)]
    chart = chart_or_none(f"/myreport member {member.id}", panels_chart, bars)
    return [Reply(text), chart_reply(chart, Msg("evaluation.my_chart_caption"))]


@feature.command("inactive", roles=SECRETARY_UP, aliases=("不活跃",), private_only=True)
async def inactive(ctx: Context, args: str) -> list[Reply]:
    """`/inactive [period]`: members below the configured thresholds, and what they missed."""
    period = _period(ctx, args, "cmd.inactive.usage")
    branch_id = _branch_id(ctx)
    card = await branch_scorecard(
        ctx.session, ctx.box, branch_id, period, ctx.options, with_previous=False, today=ctx.today
    )
    await ctx.trace(
        "data.viewed",
        branch_id=branch_id,
        ref=f"branch:{branch_id}",
        data={"what": "inactive", "period": period.label},
    )
    # Those who have since moved away or left are on the card for their days, but are no
    # longer the branch's to remind.
    current = {m.id for m in await people.branch_members(ctx.session, branch_id)}
    lines = await _inactive_lines(ctx, card, current)
    limits = indicator_set(ctx.options.of(EvaluationSettings).indicators_file).inactive
    head = Msg(
        "evaluation.inactive_head",
        warning=_warning(card),
        period=period.label,
        attendance=f"{limits.attendance_below:.0%}",
        days=limits.quiz_days_without,
        notices=f"{limits.notices_below:.0%}",
    )
    if not lines:
        return [Reply(Msg("evaluation.inactive_none", head=head))]
    more = (
        Msg("evaluation.more", shown=INACTIVE_SHOWN, count=len(lines))
        if len(lines) > INACTIVE_SHOWN
        else ""
    )
    return [
        Reply(Msg("evaluation.inactive_list", head=head, lines=lines[:INACTIVE_SHOWN], more=more))
    ]


async def _inactive_lines(ctx: Context, card: BranchScorecard, current: set[int]) -> list[Msg]:
    limits = indicator_set(ctx.options.of(EvaluationSettings).indicators_file).inactive
    since_day = ctx.today - timedelta(days=limits.quiz_days_without - 1)
    since = datetime.combine(since_day, time(), ctx.options.timezone)
    members = [m for m in card.members if m.member_id in current]
    ids = [m.member_id for m in members]
    quizzed = await evaluation.last_counted_quiz(ctx.session, ids, since)
    formulas = {i.formula: i.id for i in card.indicators}
    lines = []
    for m in members:
        missed: list[Msg] = []
        attendance = m.indicators.get(formulas.get("attendance", ""))
        if attendance and attendance.rate is not None and attendance.rate < limits.attendance_below:
            missed.append(
                Msg(
                    "evaluation.missed_meetings",
                    absent=figure((attendance.base or 0) - attendance.raw),
                    expected=figure(attendance.base or 0),
                )
            )
        if m.member_id not in quizzed:
            missed.append(Msg("evaluation.missed_quiz", days=limits.quiz_days_without))
        notices = m.indicators.get(formulas.get("notices", ""))
        if notices and notices.rate is not None and notices.rate < limits.notices_below:
            missed.append(
                Msg(
                    "evaluation.missed_notices",
                    missing=figure((notices.base or 0) - notices.raw),
                    delivered=figure(notices.base or 0),
                )
            )
        if missed:
            lines.append(Msg("evaluation.inactive_line", name=m.name, missed=Series(missed)))
    return lines
