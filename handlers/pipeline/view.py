"""`/pipeline`: everyone in the pipeline by stage with what is due, or one person's file."""

from datetime import date
from zoneinfo import ZoneInfo

from handlers.common.periods import Period
from handlers.core.context import Context
from handlers.core.messages import Denied, Msg, Reply, Series
from handlers.core.registry import EVERYONE, Replies
from handlers.dues.settings import DuesSettings
from handlers.pipeline.evidence import Evidence, gather
from handlers.pipeline.feature import feature
from handlers.pipeline.files import load_files, person_named
from handlers.pipeline.rules import Check, Status, checklist, rule_set
from handlers.pipeline.stages import decision_words
from storage import pipeline
from storage.enums import STAGE_ORDER, EventKind, Role
from storage.models import Member
from storage.pipeline_models import StageChange

USAGE = "cmd.pipeline.usage"
MARKS = {
    Status.MET: "✅",
    Status.UNMET: "❌",
    Status.OVERDUE: "⚠️",
    Status.DUE: "⏳",
    Status.UNKNOWN: "❔",
}


def check_line(check: Check) -> Msg:
    return Msg(
        "pipeline.check_line",
        mark=MARKS[check.status],
        rule=check.rule.name,
        detail=check.detail,
        source=check.rule.source,
    )


def _next_due(checks: list[Check]) -> Check | None:
    """What comes next: the first overdue check, else the one due soonest, else any open."""
    overdue = [c for c in checks if c.status in (Status.OVERDUE, Status.UNMET)]
    if overdue:
        return overdue[0]
    dated = sorted((c for c in checks if c.status == Status.DUE and c.deadline), key=_deadline)
    undated = [c for c in checks if c.status in (Status.DUE, Status.UNKNOWN)]
    choices = dated or undated
    return choices[0] if choices else None


def _deadline(check: Check) -> date:
    assert check.deadline is not None
    return check.deadline


async def _overview(ctx: Context) -> Reply:
    people = await pipeline.in_pipeline(ctx.session, ctx.branch_scope())
    if not people:
        return Reply(Msg("pipeline.empty"))
    files = await load_files(ctx.session, people)
    sections = []
    for stage in STAGE_ORDER[:-1]:
        lines = []
        for person in (p for p in people if p.stage == stage):
            file = files[person.id]
            checks = checklist(file, ctx.today)
            late = sum(c.status in (Status.OVERDUE, Status.UNMET) for c in checks)
            upcoming = _next_due(checks)
            lines.append(
                Msg(
                    "pipeline.overview_line",
                    name=person.name,
                    since=_since(file.entered(stage), ctx.today),
                    late=Msg("pipeline.late_count", count=late) if late else "",
                    next=Msg("pipeline.next", rule=upcoming.rule.name, detail=upcoming.detail)
                    if upcoming
                    else Msg("pipeline.all_met"),
                )
            )
        if lines:
            sections.append(
                Msg(
                    "pipeline.overview_stage",
                    stage=Msg(f"stage.{stage}"),
                    count=len(lines),
                    lines=lines,
                )
            )
    return Reply(Msg("pipeline.overview", count=len(people), sections=sections))


def _since(entered: date | None, today: date) -> Msg:
    if entered is None:
        return Msg("pipeline.since_unknown")
    days = (today - entered).days
    return Msg("pipeline.since", on=entered, months=days * 12 // 365)


def step_lines(steps: list[StageChange]) -> list[Msg]:
    """A person's steps as lines of their file (also the annual record's, for its year)."""
    lines = []
    for step in steps:
        words = decision_words(step)  # the approval date is shown once, on its own
        decision = Msg("pipeline.decision", text=words) if words else ""
        approved = Msg("pipeline.approved", on=step.approved_on) if step.approved_on else ""
        lines.append(
            Msg(
                f"pipeline.history_{step.kind}",
                stage=Msg(f"stage.{step.stage}"),
                on=step.on,
                months=step.months or 0,
                decision=decision,
                approved=approved,
            )
        )
    return lines or [Msg("pipeline.no_history")]


def _figures(found: Evidence, period: Period, zone: ZoneInfo) -> Msg:
    quiz = found.quiz
    accuracy = f"{quiz.accuracy:.0%}" if quiz.accuracy is not None else "—"
    thoughts = found.thoughts
    return Msg(
        "pipeline.figures",
        since=period.since,
        attended=found.attendance.attended,
        expected=found.attendance.expected,
        excused=found.attendance.excused,
        late=found.attendance.late,
        learned=found.learned,
        quiz_days=quiz.days,
        accuracy=accuracy,
        reports=thoughts.count,
        last_report=thoughts.last_at.astimezone(zone).date() if thoughts.last_at else "—",
        hours=f"{found.volunteer_minutes / 60:g}",
        dues=dues_summary(found),
    )


def dues_summary(found: Evidence) -> Msg:
    standing = found.dues
    if not standing.payer:
        return Msg("pipeline.dues_none")
    if not standing.owed:
        return Msg("pipeline.dues_paid", months=len(standing.paid))
    return Msg(
        "pipeline.dues_owed", months=len(standing.owed), amount=f"{standing.owed_fen / 100:.2f}"
    )


async def _person_file(ctx: Context, member: Member) -> Reply:
    period = Period.last_year(ctx.today)
    (found,) = await gather(
        ctx.session,
        [member],
        ctx.today,
        period,
        ctx.options.timezone,
        ctx.options.of(DuesSettings).default_fen,
    )
    file = found.file
    contacts = [c.contact.name for c in file.contacts if c.ended_on is None]
    talks = file.events_of(EventKind.TALK)
    reviews = file.events_of(EventKind.REVIEW)
    training = sum(e.hours or 0 for e in file.events_of(EventKind.TRAINING))
    rules = rule_set()
    return Reply(
        Msg(
            "pipeline.file",
            name=member.name,
            stage=Msg(f"stage.{member.stage}"),
            branch=member.branch.name if member.branch else "-",
            history=step_lines(file.steps),
            contacts=Series(contacts) if contacts else Msg("pipeline.no_contact"),
            talks=len(talks),
            last_talk=talks[-1].on if talks else "—",
            review=reviews[-1].on if reviews else "—",
            training=f"{training:g}",
            version=rules.version,
            checks=[check_line(c) for c in found.checks] or [Msg("pipeline.no_checks")],
            figures=_figures(found, period, ctx.options.timezone),
        )
    )


async def _may_view(ctx: Context, member: Member) -> bool:
    caller = ctx.require_caller()
    if caller.id == member.id or caller.role in (Role.SECRETARY, Role.ADMIN):
        return True
    return member.id in await pipeline.cultivated_by(ctx.session, caller.id)


@feature.command("pipeline", roles=EVERYONE, aliases=("发展党员", "培养档案"), private_only=True)
async def pipeline_command(ctx: Context, args: str) -> Replies:
    """Secretaries: `/pipeline` lists everyone, `/pipeline NAME` shows a file. Others: their
    own file, or the file of someone they are a contact person for."""
    caller = ctx.require_caller()
    name = args.strip()
    if not name:
        if caller.role in (Role.SECRETARY, Role.ADMIN):
            return await _overview(ctx)
        return await _person_file(ctx, caller)
    member = await person_named(ctx, name, USAGE)
    if not await _may_view(ctx, member):
        target = f"pipeline:#{member.id}"
        raise Denied("pipeline.not_yours", target=target, exists=True, name=name)
    await ctx.trace_view_of(member, "pipeline", ref=f"member:{member.id}")
    return await _person_file(ctx, member)
