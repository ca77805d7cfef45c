"""`/open [年份]` (党务公开, any member, also in the branch group): what the branch makes public
for the year; `/open_decision 会议编号 内容` (secretary) publishes a decision of a 支部党员大会
held, in the secretary's words; `/open_decision_remove 编号` withdraws one (kept, marked)."""

import re

from handlers.core.context import Context
from handlers.core.messages import Denied, Msg, Reply, UserError
from handlers.core.parsing import parse_id
from handlers.core.registry import EVERYONE, HERE, SECRETARY_UP, Replies
from handlers.disclosure.feature import feature
from handlers.disclosure.figures import YearFigures, year_figures
from handlers.dues.money import yuan
from handlers.meetings.domain import meeting_for
from handlers.surveys.settings import SurveySettings
from storage import disclosure
from storage.disclosure import decision_ref
from storage.enums import MeetingKind, MeetingStatus, Stage
from storage.feedback_models import PublicDecision
from storage.models import Branch

FIRST_YEAR = 2000
SHORTEST, LONGEST = 4, 500
_YEAR = re.compile(r"(\d{4})\s*年?")


def _year(ctx: Context, args: str) -> int:
    this_year = ctx.today.year
    if not args:
        return this_year
    match = _YEAR.fullmatch(args.strip())
    if match is None or not FIRST_YEAR <= int(match.group(1)) <= this_year:
        raise UserError("disclosure.bad_year", value=args[:20], first=FIRST_YEAR, last=this_year)
    return int(match.group(1))


def _branch(ctx: Context) -> int:
    """The branch of the group it is asked in, else the caller's."""
    if ctx.group is not None and ctx.group.branch_id is not None:
        return ctx.group.branch_id
    branch_id = ctx.require_caller().branch_id
    if branch_id is None:
        raise UserError("error.no_branch")
    return branch_id


@feature.command("open", roles=EVERYONE, aliases=("党务公开",), in_group=HERE)
async def open_affairs(ctx: Context, args: str) -> Replies:
    """The branch's public figures and decisions for a year (this year by default)."""
    year = _year(ctx, args)
    branch_id = _branch(ctx)
    minimum = ctx.options.of(SurveySettings).survey_min_answers
    figures = await year_figures(
        ctx.session, branch_id, year, ctx.now, ctx.options.timezone, minimum
    )
    branch = await ctx.session.get(Branch, branch_id)
    return Reply(_shown(figures, branch.name if branch else "", minimum, ctx))


def _shown(figures: YearFigures, branch: str, minimum: int, ctx: Context) -> Msg:
    meetings = [
        Msg("disclosure.meeting_line", kind=Msg(f"kind.{kind}"), count=figures.meetings[kind])
        for kind in MeetingKind
        if figures.meetings[kind]
    ]
    stages = [
        Msg("disclosure.stage_line", stage=Msg(f"stage.{stage}"), count=figures.stages[stage])
        for stage in Stage
        if figures.stages.get(stage)
    ]
    decisions = [
        Msg(
            "disclosure.decision_line",
            id=d.id,
            on=m.starts_at.astimezone(ctx.options.timezone).date(),
            title=m.title,
            text=d.text,
        )
        for d, m in figures.decisions
    ]
    counted = figures.feedback
    withheld = Msg("disclosure.feedback_withheld", minimum=minimum) if counted.withheld else ""
    return Msg(
        "disclosure.year",
        branch=branch,
        year=figures.year,
        as_of=Msg("disclosure.as_of", today=ctx.today) if figures.year == ctx.today.year else "",
        today=ctx.today,
        meetings=meetings or Msg("disclosure.none"),
        dues=yuan(figures.dues_fen),
        stages=stages or Msg("disclosure.none"),
        received=counted.received,
        answered=counted.answered,
        withheld=withheld,
        decisions=decisions or Msg("disclosure.none"),
    )


@feature.command("open_decision", roles=SECRETARY_UP, aliases=("公开决议",), private_only=True)
async def open_decision(ctx: Context, args: str) -> Replies:
    """Publish a decision of a 支部党员大会 that has been held."""
    parts = args.split(maxsplit=1)
    if len(parts) < 2:
        raise UserError("usage", usage=Msg("cmd.open_decision.usage"))
    scope = ctx.branch_scope()
    not_found = Msg("disclosure.no_meeting", value=parts[0][:20])
    meeting = await meeting_for(ctx.session, parts[0], scope, not_found)
    if meeting.kind != MeetingKind.ASSEMBLY or meeting.branch_id is None:
        raise UserError("disclosure.not_assembly", id=meeting.id, kind=Msg(f"kind.{meeting.kind}"))
    if meeting.status == MeetingStatus.CANCELLED or meeting.starts_at > ctx.now:
        raise UserError("disclosure.not_held", id=meeting.id, at=meeting.starts_at)
    text = ctx.typed(parts[1]).strip()
    if not SHORTEST <= len(text) <= LONGEST or "\n" in text:
        raise UserError("disclosure.length", shortest=SHORTEST, longest=LONGEST)
    caller = ctx.require_caller()
    decision = await disclosure.add_decision(
        ctx.session, meeting.branch_id, meeting.id, text, caller.id, ctx.now
    )
    await _trace(ctx, "disclosure.published", decision)
    return Reply(Msg("disclosure.published", id=decision.id, meeting=meeting.id, text=text))


@feature.command(
    "open_decision_remove", roles=SECRETARY_UP, aliases=("撤回公开",), private_only=True
)
async def open_decision_remove(ctx: Context, args: str) -> Replies:
    """Withdraw a published decision (it is kept, marked withdrawn)."""
    decision_id = parse_id(args) if args else None
    if decision_id is None:
        raise UserError("usage", usage=Msg("cmd.open_decision_remove.usage"))
    scope = ctx.branch_scope()
    decision = await disclosure.decision(ctx.session, decision_id)
    if decision is None or scope not in (None, decision.branch_id):
        target, exists = decision_ref(decision_id), decision is not None
        raise Denied("disclosure.not_found", target=target, exists=exists, id=decision_id)
    if decision.withdrawn_at is not None:
        raise UserError("disclosure.withdrawn_before", id=decision.id)
    decision.withdrawn_at, decision.withdrawn_by = ctx.now, ctx.require_caller().id
    await _trace(ctx, "disclosure.withdrawn", decision)
    return Reply(Msg("disclosure.withdrawn", id=decision.id))


async def _trace(ctx: Context, kind: str, decision: PublicDecision) -> None:
    await ctx.trace(
        kind,
        branch_id=decision.branch_id,
        ref=decision_ref(decision.id),
        data={"meeting": decision.meeting_id},
    )
