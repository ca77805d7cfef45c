"""Dated steps of cultivation that are not stages: contact persons, talks, the political
review and concentrated training."""

import re
from datetime import date

from handlers.core.context import Context
from handlers.core.messages import Msg, Reply, Series, UserError
from handlers.core.notify import queue_to_members
from handlers.core.parsing import looks_like_date, parse_date
from handlers.core.registry import EVERYONE, SECRETARY_UP, Replies
from handlers.core.tracer import or_own
from handlers.pipeline.feature import feature
from handlers.pipeline.files import person_named
from storage import pipeline
from storage.enums import EventKind, Role, Stage
from storage.models import Member
from storage.pipeline_models import Contact, DevelopmentEvent

MAX_NOTE = 300
# Concentrated training is counted in class hours; a day of training is eight of them.
HOURS_PER_DAY = 8
_HOURS = re.compile(r"^(\d+(?:\.\d)?)\s*(学时|小时|课时|h|天|日)?$", re.IGNORECASE)


def _dated(ctx: Context, text: str, usage: str) -> date:
    on = parse_date(text)
    if on > ctx.today:
        raise UserError("pipeline.future_date", on=on)
    if on.year < ctx.today.year - 30:
        raise UserError("usage", usage=Msg(usage))
    return on


def _note(ctx: Context, text: str) -> str:
    note = ctx.typed(text).strip() if text else ""
    if len(note) > MAX_NOTE:
        raise UserError("pipeline.note_too_long", limit=MAX_NOTE)
    return note


async def _record(
    ctx: Context, member: Member, kind: EventKind, on: date, note: str, hours: float | None = None
) -> DevelopmentEvent:
    event = DevelopmentEvent(
        member_id=member.id,
        kind=kind,
        on=on,
        hours=hours,
        note=note,
        recorded_by=ctx.require_caller().id,
        recorded_at=ctx.now,
    )
    ctx.session.add(event)
    await ctx.session.flush()
    data: dict[str, object] = {"on": on.isoformat(), "note": note}
    if hours is not None:
        data["hours"] = hours
    trace_kind = {
        EventKind.TALK: "talk.recorded",
        EventKind.REVIEW: "review.recorded",
        EventKind.TRAINING: "training.recorded",
    }[kind]
    await ctx.trace(
        trace_kind,
        member_id=member.id,
        branch_id=or_own(member.branch_id),
        ref=f"member:{member.id}",
        data=data,
    )
    return event


def _split(ctx: Context, args: str, usage: str, least: int) -> list[str]:
    parts = args.split(maxsplit=least)
    if len(parts) < least:
        raise UserError("usage", usage=Msg(usage))
    return parts


@feature.command("talk", roles=EVERYONE, aliases=("谈话", "记录谈话"), private_only=True)
async def talk(ctx: Context, args: str) -> Replies:
    """`/talk NAME DATE [note]`: by the secretary or committee, or by the person's contact."""
    usage = "cmd.talk.usage"
    parts = _split(ctx, args, usage, 2)
    caller = ctx.require_caller()
    if caller.role == Role.MEMBER:
        # A plain member records talks only with the people they are a contact person for.
        found = await pipeline.cultivated_by(ctx.session, caller.id)
        member = await person_named(ctx, parts[0], usage)
        if member.id not in found:
            raise UserError("pipeline.not_your_person", name=member.name)
    else:
        member = await person_named(ctx, parts[0], usage)
    if member.stage == Stage.FULL:
        raise UserError("pipeline.not_in_pipeline", name=member.name)
    on = _dated(ctx, parts[1], usage)
    await _record(ctx, member, EventKind.TALK, on, _note(ctx, parts[2] if len(parts) > 2 else ""))
    return Reply(Msg("pipeline.talk_recorded", name=member.name, on=on))


# The political review is of a candidate (发展对象, 细则第十五条); training is recorded for
# activists too, though only a candidate's counts towards admission (第十七条).
EVENT_STAGES = {
    EventKind.REVIEW: (Stage.CANDIDATE,),
    EventKind.TRAINING: (Stage.ACTIVIST, Stage.CANDIDATE),
}


async def _candidate_named(ctx: Context, name: str, usage: str, event: EventKind) -> Member:
    """The person a review or training is recorded for, at a stage it is for."""
    member = await person_named(ctx, name, usage)
    if member.stage not in EVENT_STAGES[event]:
        raise UserError(
            "pipeline.event_stage",
            name=member.name,
            stage=Msg(f"stage.{member.stage}"),
            event=Msg(f"pipeline.event.{event}"),
        )
    return member


@feature.command("review", roles=SECRETARY_UP, aliases=("政审",), private_only=True)
async def review(ctx: Context, args: str) -> Replies:
    """`/review NAME DATE [note]`: the political review (政审) was completed on DATE."""
    usage = "cmd.review.usage"
    parts = _split(ctx, args, usage, 2)
    member = await _candidate_named(ctx, parts[0], usage, EventKind.REVIEW)
    on = _dated(ctx, parts[1], usage)
    await _record(ctx, member, EventKind.REVIEW, on, _note(ctx, parts[2] if len(parts) > 2 else ""))
    return Reply(Msg("pipeline.review_recorded", name=member.name, on=on))


def parse_class_hours(text: str, usage: str) -> float:
    found = _HOURS.match(text.strip())
    if found is None:
        raise UserError("pipeline.bad_hours", value=text, usage=Msg(usage))
    hours = float(found.group(1))
    if found.group(2) in ("天", "日"):
        hours *= HOURS_PER_DAY
    if not 0 < hours <= 200:
        raise UserError("pipeline.bad_hours", value=text, usage=Msg(usage))
    return hours


@feature.command("training", roles=SECRETARY_UP, aliases=("集中培训", "培训"), private_only=True)
async def training(ctx: Context, args: str) -> Replies:
    """`/training NAME DATE HOURS [note]`: a course of concentrated training, in class hours
    (24学时) or days (3天)."""
    usage = "cmd.training.usage"
    parts = _split(ctx, args, usage, 3)
    member = await _candidate_named(ctx, parts[0], usage, EventKind.TRAINING)
    on = _dated(ctx, parts[1], usage)
    hours = parse_class_hours(parts[2], usage)
    note = _note(ctx, parts[3] if len(parts) > 3 else "")
    await _record(ctx, member, EventKind.TRAINING, on, note, hours)
    total = sum(
        e.hours or 0
        for e in (await pipeline.events(ctx.session, [member.id]))[member.id]
        if e.kind == EventKind.TRAINING
    )
    return Reply(
        Msg(
            "pipeline.training_recorded",
            name=member.name,
            on=on,
            hours=f"{hours:g}",
            total=f"{total:g}",
        )
    )


@feature.command("contact", roles=SECRETARY_UP, aliases=("培养联系人",), private_only=True)
async def contact(ctx: Context, args: str) -> Replies:
    """`/contact NAME CONTACT [CONTACT2] [DATE]`: one or two full members as the person's
    contact persons (培养联系人) from DATE (today if not given), replacing any before."""
    usage = "cmd.contact.usage"
    names = args.split()
    on = ctx.today
    if names and looks_like_date(names[-1]):
        on = _dated(ctx, names.pop(), usage)
    if not 2 <= len(names) <= 3:
        raise UserError("usage", usage=Msg(usage))
    member = await person_named(ctx, names[0], usage)
    if member.stage in (Stage.FULL, Stage.APPLICANT):
        stage = Msg(f"stage.{member.stage}")
        raise UserError("pipeline.contact_stage", name=member.name, stage=stage)
    chosen: list[Member] = []
    for name in names[1:]:
        person = await person_named(ctx, name, usage)
        if person.id == member.id:
            raise UserError("pipeline.contact_self", name=person.name)
        if person.branch_id != member.branch_id:
            raise UserError("pipeline.contact_branch", name=person.name)
        if person.stage != Stage.FULL:
            stage = Msg(f"stage.{person.stage}")
            raise UserError("pipeline.contact_not_full", name=person.name, stage=stage)
        if person not in chosen:
            chosen.append(person)
    await _assign(ctx, member, chosen, on)
    contacts = Series(p.name for p in chosen)
    return Reply(Msg("pipeline.contacts_set", name=member.name, contacts=contacts))


async def _check_assignment_date(
    ctx: Context, member: Member, current: list[Contact], on: date
) -> None:
    """Contacts are assigned to an activist, after any assignment they replace."""
    activist = await pipeline.entered_on(ctx.session, member.id, Stage.ACTIVIST)
    if activist is not None and on < activist:
        raise UserError("pipeline.contact_before", name=member.name, on=activist)
    latest = max((c.assigned_on for c in current), default=None)
    if latest is not None and on < latest:
        raise UserError("pipeline.contact_after", on=latest)


async def _assign(ctx: Context, member: Member, chosen: list[Member], on: date) -> None:
    current = (await pipeline.contacts(ctx.session, [member.id]))[member.id]
    await _check_assignment_date(ctx, member, current, on)
    keep = {c.contact_id for c in current} & {p.id for p in chosen}
    ended = [c for c in current if c.contact_id not in keep]
    for old in ended:
        old.ended_on = on
    added = [p for p in chosen if p.id not in keep]
    caller = ctx.require_caller()
    for person in added:
        ctx.session.add(
            Contact(
                member_id=member.id,
                contact_id=person.id,
                assigned_on=on,
                assigned_by=caller.id,
            )
        )
    await ctx.session.flush()
    await ctx.trace(
        "contact.assigned",
        member_id=member.id,
        branch_id=or_own(member.branch_id),
        ref=f"member:{member.id}",
        data={"contacts": [p.id for p in chosen], "ended": [c.contact_id for c in ended]},
    )
    note = Reply(
        Msg("pipeline.you_are_contact", name=member.name, stage=Msg(f"stage.{member.stage}"))
    )
    await queue_to_members(
        ctx.session,
        [p.id for p in added],
        note,
        key=f"contact:{member.id}:{ctx.today.isoformat()}",
        kind="contact.assigned",
        now=ctx.now,
        ref=f"member:{member.id}",
    )
