"""`/stage`: record a person's step in the development file, forward only.

A step moves a person one stage on (with its date and the decision behind it), back-fills the
date a stage was entered from the paper file, extends probation or cancels it. A wrong step is
refused with the reason (the dates it names included: its meeting was held on or before it, the
approval came on or after it); a step that breaks a time rule is recorded (the branch decided it)
and the reply says which rule is not met.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.context import Context
from handlers.core.messages import Msg, Reply, UserError
from handlers.core.parsing import parse_date, parse_id, parse_stage
from handlers.core.registry import SECRETARY_UP, Replies
from handlers.core.tracer import Tracer, or_own
from handlers.moves.settings import MovesSettings
from handlers.pipeline.feature import feature
from handlers.pipeline.files import checks_for, person_named
from handlers.pipeline.rules import Status, stage_index
from storage import meetings, people, pipeline, roster
from storage.enums import STAGE_ORDER, Departure, MeetingStatus, Stage, StepKind
from storage.models import Meeting, Member
from storage.pipeline_models import StageChange

USAGE = "cmd.stage.usage"
EXTEND_WORDS = frozenset({"延长预备期", "延长", "extend"})
CANCEL_WORDS = frozenset({"取消预备党员资格", "取消资格", "取消", "cancel"})
# 党章第七条: an extension of probation is at most a year; the 细则 asks for at least half a year.
EXTENSION_MONTHS = range(6, 13)
_MEETING = re.compile(r"#(\d+)")
_APPROVED = re.compile(
    r"(?:上级)?(?:审批|批准)(?:日期)?[:：\s]*(\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?)"
)
# The approval phrase with what separates it from the rest of the decision's words.
_APPROVED_PART = re.compile(r"[\s，,、;；]*" + _APPROVED.pattern)
_ENTRIES = (StepKind.ADVANCE, StepKind.DATED)
_MONTHS = re.compile(r"^(\d{1,2})\s*(?:个月|月|months?)?(?:\s+|$)(.*)$", re.DOTALL)


@dataclass(frozen=True)
class NewStep:
    kind: StepKind
    stage: Stage
    on: date
    decision: str = ""
    meeting_id: int | None = None
    approved_on: date | None = None
    months: int | None = None


def _decision(text: str) -> tuple[str, int | None, date | None]:
    """The decision in words, the meeting it names (#12) and the approval date (审批 日期)."""
    text = text.strip()
    if len(text) > 200:
        raise UserError("pipeline.decision_too_long", limit=200)
    meeting = _MEETING.search(text)
    meeting_id = parse_id(meeting.group(1)) if meeting else None
    if meeting is not None and meeting_id is None:
        raise UserError("pipeline.no_meeting", id=meeting.group(1))
    approved = _APPROVED.search(text)
    return text, meeting_id, parse_date(approved.group(1)) if approved else None


def decision_words(step: StageChange) -> str:
    """The decision as written, less its approval phrase when the approval date is kept on its
    own (the file shows that date once, as 上级审批)."""
    if step.approved_on is None:
        return step.decision
    return _APPROVED_PART.sub("", step.decision).strip(" ，,、;；。")


def parse_step(member: Member, word: str, on: date, rest: str) -> NewStep:
    """What `/stage NAME WORD DATE REST` asks for, before it is checked against the file."""
    if word.lower() in EXTEND_WORDS:
        found = _MONTHS.match(rest.strip())
        if found is None or int(found.group(1)) not in EXTENSION_MONTHS:
            raise UserError("pipeline.extend_months", usage=Msg(USAGE))
        reason = found.group(2)
        if not reason.strip():
            raise UserError("pipeline.reason_needed", usage=Msg(USAGE))
        text, meeting_id, approved = _decision(reason)
        return NewStep(
            StepKind.EXTEND, Stage.PROBATIONARY, on, text, meeting_id, approved, int(found[1])
        )
    if word.lower() in CANCEL_WORDS:
        if not rest.strip():
            raise UserError("pipeline.reason_needed", usage=Msg(USAGE))
        text, meeting_id, approved = _decision(rest)
        return NewStep(StepKind.CANCEL, Stage.PROBATIONARY, on, text, meeting_id, approved)
    stage = parse_stage(word)
    text, meeting_id, approved = _decision(rest)
    here, there = stage_index(member.stage), stage_index(stage)
    kind = StepKind.ADVANCE if there == here + 1 else StepKind.DATED
    return NewStep(kind, stage, on, text, meeting_id, approved)


async def check_step(ctx: Context, member: Member, step: NewStep) -> None:
    """Refuse a step the file cannot take: skipping or going back, a date out of order, a
    decision whose dates do not fit the step."""
    if step.on > ctx.today:
        raise UserError("pipeline.future_date", on=step.on)
    found = await pipeline.steps(ctx.session, [member.id])
    history = found[member.id]
    here, there = stage_index(member.stage), stage_index(step.stage)
    current = Msg(f"stage.{member.stage}")
    if step.kind in (StepKind.EXTEND, StepKind.CANCEL):
        if member.stage != Stage.PROBATIONARY:
            raise UserError("pipeline.not_probationary", name=member.name, stage=current)
        if step.kind == StepKind.EXTEND and any(s.kind == StepKind.EXTEND for s in history):
            raise UserError("pipeline.extended_once", name=member.name)
    elif step.kind == StepKind.ADVANCE:
        pass
    elif there > here:  # skipping a stage
        raise UserError(
            "pipeline.one_step", name=member.name, stage=current, next=_next(member.stage)
        )
    else:
        dated = [s.on for s in history if s.stage == step.stage and s.kind in _ENTRIES]
        if dated:
            raise UserError(
                "pipeline.already_dated",
                name=member.name,
                stage=Msg(f"stage.{step.stage}"),
                on=max(dated),
                current=current,
            )
    check_order(history, step)
    await _check_decision(ctx, member, step)


async def _check_decision(ctx: Context, member: Member, step: NewStep) -> None:
    """The dates a decision names must fit the step: its meeting (school-wide, or of the
    branch the person belonged to when it was held: their branch now if that was before
    they were on the bot's roster; not cancelled) was held on or before the step, the
    higher committee approved on or after it and not in the future."""
    if step.meeting_id is not None:
        meeting = await meetings.get(ctx.session, step.meeting_id)
        then = meeting and await roster.branch_at(ctx.session, member.id, meeting.starts_at)
        if meeting is None or meeting.branch_id not in (then or member.branch_id, None):
            raise UserError("pipeline.no_meeting", id=step.meeting_id)
        _check_meeting(ctx, member, step, meeting)
    approved = step.approved_on
    if approved is not None and approved > ctx.today:
        raise UserError("pipeline.future_date", on=approved)
    if approved is not None and approved < step.on:
        raise UserError("pipeline.approved_before", approved=approved, on=step.on)


def _check_meeting(ctx: Context, member: Member, step: NewStep, meeting: Meeting) -> None:
    """A decision rests on a meeting that took place by the step's date (a back-dated step
    cannot name a meeting held, or only scheduled, after it)."""
    if meeting.status == MeetingStatus.CANCELLED:
        raise UserError("pipeline.meeting_cancelled", id=meeting.id)
    held = meeting.starts_at.astimezone(ctx.options.timezone).date()
    if held <= step.on:
        return
    example = Msg(
        f"pipeline.example_{step.kind}",
        name=member.name,
        stage=Msg(f"stage.{step.stage}"),
        on=held,
        months=step.months or 0,
        kind=Msg(f"kind.{meeting.kind}"),
        id=meeting.id,
    )
    raise UserError("pipeline.meeting_after", id=meeting.id, held=held, on=step.on, example=example)


def _next(stage: str) -> Msg:
    index = stage_index(stage)
    if index + 1 >= len(STAGE_ORDER):
        return Msg("pipeline.no_next")
    return Msg(f"stage.{STAGE_ORDER[index + 1]}")


def check_order(history: Sequence[StageChange], step: NewStep) -> None:
    """Stage dates must follow the stages' order: an earlier stage was entered no later (a
    UserError naming the stage whose date is out of order)."""
    there = stage_index(step.stage)
    for earlier in history:
        if earlier.kind not in _ENTRIES:
            continue
        other = stage_index(earlier.stage)
        if (other < there and earlier.on > step.on) or (other > there and earlier.on < step.on):
            raise UserError(
                "pipeline.date_order",
                stage=Msg(f"stage.{earlier.stage}"),
                on=earlier.on,
            )
    if step.kind in (StepKind.EXTEND, StepKind.CANCEL):
        entered = [s.on for s in history if s.stage == Stage.PROBATIONARY]
        if entered and step.on < max(entered):
            raise UserError("pipeline.date_order", stage=Msg("stage.probationary"), on=max(entered))


async def record_step(ctx: Context, member: Member, step: NewStep) -> StageChange:
    """Write the step, move the person's stage if it is a move, and trace it. A cancelled
    probation ends the person's membership of the branch from that day (they keep /mydata
    for the configured period, as anyone who leaves)."""
    caller = ctx.require_caller()
    row = await write_step(ctx.session, ctx, member, step, caller.id, ctx.now)
    if step.kind == StepKind.CANCEL:
        zone = ctx.options.timezone
        stretches = await roster.memberships_of(ctx.session, member.id)
        began = max((s.since for s in stretches if s.until is None), default=member.created_at)
        at = max(datetime.combine(step.on, time(0), zone), began)
        branch = member.branch
        await roster.move_membership(ctx.session, member, None, at, "", Departure.CANCELLED)
        member.branch = branch  # the last branch stays on the record
        member.left_on, member.left_reason = step.on, Departure.CANCELLED
        days = ctx.options.of(MovesSettings).former_access_days
        member.access_until = step.on + timedelta(days=days)
    return row


async def write_step(
    session: AsyncSession,
    tracer: Tracer,
    member: Member,
    step: NewStep,
    recorded_by: int | None,
    now: datetime,
) -> StageChange:
    """`record_step` for any caller (a chat command, a roster import): the step written, the
    stage moved if it is a move, traced as stage.changed by `tracer`'s actor."""
    before = member.stage
    row = StageChange(
        member_id=member.id,
        kind=step.kind,
        stage=step.stage,
        on=step.on,
        decision=step.decision,
        meeting_id=step.meeting_id,
        approved_on=step.approved_on,
        months=step.months,
        recorded_by=recorded_by,
        recorded_at=now,
    )
    session.add(row)
    if step.kind == StepKind.ADVANCE:
        member.stage = step.stage
    elif step.kind == StepKind.CANCEL:
        member.active = False  # no longer a (probationary) member; the file stays
    await session.flush()
    await tracer.trace(
        "stage.changed",
        member_id=member.id,
        branch_id=or_own(member.branch_id),
        ref=f"member:{member.id}",
        data={
            "kind": str(step.kind),
            "stage": str(step.stage),
            "from": before,
            "to": member.stage,
            "on": step.on.isoformat(),
            "decision": step.decision,
            "meeting": step.meeting_id,
            "approved_on": step.approved_on.isoformat() if step.approved_on else None,
            "months": step.months,
        },
    )
    return row


@feature.command("stage", roles=SECRETARY_UP, aliases=("发展阶段", "阶段"), private_only=True)
async def stage(ctx: Context, args: str) -> Replies:
    """`/stage NAME STAGE DATE [decision]`, `/stage NAME 延长预备期 DATE 6个月 reason`,
    `/stage NAME 取消预备党员资格 DATE reason`."""
    parts = args.split(maxsplit=3)  # normalised (full-width digits and all)
    if len(parts) < 3:
        raise UserError("usage", usage=Msg(USAGE))
    typed = ctx.typed(args).split(maxsplit=3)  # the decision as written
    member = await person_named(ctx, parts[0], USAGE)
    await people.lock_member(ctx.session, member.id)
    await ctx.session.refresh(member)  # a move made meanwhile by someone else counts
    rest = typed[3] if len(typed) > 3 else ""
    step = parse_step(member, parts[1], parse_date(parts[2]), rest)
    await check_step(ctx, member, step)
    await record_step(ctx, member, step)
    unmet = [
        Msg("pipeline.warn_line", rule=c.rule.name, detail=c.detail)
        for c in await checks_for(ctx.session, member, ctx.today)
        if c.status in (Status.UNMET, Status.OVERDUE)
    ]
    warning = Msg("pipeline.stage_warnings", lines=unmet) if unmet else ""
    return Reply(
        Msg(
            f"pipeline.recorded_{step.kind}",
            name=member.name,
            stage=Msg(f"stage.{step.stage}"),
            on=step.on,
            months=step.months or 0,
            warnings=warning,
        )
    )
