"""What a secretary may do for one group of /segments with one tap (the buttons under it):
`/segment_notice GROUP` a notice to exactly the group (the guided /broadcast with the group
as its audience), `/segment_study GROUP [MATERIAL]` a study material pushed to it, and
`/segment_talk GROUP` the list for 谈心谈话 with the last talk of each and a button to record
the next (/care_note … 谈话). An admin's buttons add the branch (#ID).

The group is worked out again when the button is pressed, so it is who the rule holds for
now. Members are never told which group they were in: the notice is the secretary's words
and the material comes as the branch's recommendation.
"""

from dataclasses import dataclass
from datetime import datetime

from handlers.care.feature import feature
from handlers.care.profile import Profile
from handlers.care.segment_rules import Segment
from handlers.care.segments import (
    branch_groups,
    branch_suffix,
    caveat,
    rules_of,
    segment_named,
)
from handlers.common.lookup import branch_asked
from handlers.core.context import Context
from handlers.core.messages import Button, Msg, Reply, UserError
from handlers.core.parsing import parse_id
from handlers.core.registry import SECRETARY_UP, Replies
from handlers.notices.audience import Audience, Filter
from handlers.notices.broadcast import start_listed
from handlers.study.daily import queue_pushes
from handlers.study.days import day_start
from handlers.study.materials import material_denied, open_buttons
from handlers.study.recommend import Pick
from storage import care, materials
from storage.materials import ReadMark
from storage.models import Branch

MATERIALS_OFFERED = 6  # the newest materials offered for a push
TALK_BUTTONS = 20  # members given a button of their own; the rest by /care_note
TALK = "talk"  # the care note's kind a talk is recorded as (data/rules.toml [notes.kinds])


@dataclass(frozen=True)
class Chosen:
    branch: Branch
    segment: Segment
    members: list[Profile]
    rest: list[str]  # what else was typed (the material's number)


async def _chosen(ctx: Context, args: str, action: str) -> Chosen:
    """The group a button or a typed command names, in the branch (#ID: an admin's), with
    its members now; a group the rule finds nobody in is answered as such."""
    usage = f"cmd.segment_{action}.usage"
    tokens = args.split()
    if not tokens:
        raise UserError("usage", usage=Msg(usage))
    rules = rules_of(ctx)
    segment = segment_named(rules, tokens[0])
    if action not in segment.actions:
        words = Msg(f"care.segments.action.{action}")
        raise UserError("care.segments.no_action", name=segment.name, action=words)
    where = next((t for t in tokens[1:] if t.startswith("#")), "")
    branch = await branch_asked(ctx, where, unknown="care.segments.unknown_branch", usage=usage)
    groups = await branch_groups(ctx, branch, rules)
    members = next(g.members for g in groups if g.segment.id == segment.id)
    if not members:
        raise UserError("care.segments.nobody", name=segment.name, branch=branch.name)
    rest = [t for t in tokens[1:] if not t.startswith("#")]
    return Chosen(branch, segment, members, rest)


@feature.command("segment_notice", roles=SECRETARY_UP, hidden=True, private_only=True)
async def segment_notice(ctx: Context, args: str) -> Replies:
    """A notice to exactly the group: the guided /broadcast with the group as its audience."""
    chosen = await _chosen(ctx, args, "notice")
    audience = Audience(
        (chosen.branch.id,),
        Filter.LISTED,
        members=tuple(p.member.id for p in chosen.members),
        label=chosen.segment.name,
    )
    intro = Msg("care.segments.notice_intro", name=chosen.segment.name, count=len(chosen.members))
    return await start_listed(ctx, audience, intro)


@feature.command("segment_study", roles=SECRETARY_UP, hidden=True, private_only=True)
async def segment_study(ctx: Context, args: str) -> Replies:
    """Without a number: the newest materials to choose from; with one: push it to the group."""
    chosen = await _chosen(ctx, args, "study")
    number = parse_id(chosen.rest[0]) if chosen.rest else None
    if chosen.rest and number is None:
        raise UserError("usage", usage=Msg("cmd.segment_study.usage"))
    return await (_offer(ctx, chosen) if number is None else _push(ctx, chosen, number))


async def _offer(ctx: Context, chosen: Chosen) -> Reply:
    """The newest materials the branch may read, each a button that pushes it."""
    found = await materials.newest(ctx.session, chosen.branch.id, MATERIALS_OFFERED)
    if not found:
        raise UserError("care.segments.no_material")
    command = f"/segment_study {chosen.segment.id}{branch_suffix(ctx, chosen.branch)}"
    rows = tuple(
        (Button(Msg("care.segments.pick", id=m.id, title=m.title[:20]), f"{command} {m.id}"),)
        for m in found
    )
    text = Msg("care.segments.study_pick", name=chosen.segment.name, count=len(chosen.members))
    return Reply(text, rows)


async def _push(ctx: Context, chosen: Chosen, number: int) -> Reply:
    """The material to each of the group not sent it today already, as the branch's
    recommendation (material.pushed, the secretary its actor)."""
    branch = chosen.branch
    material = await materials.get_visible(ctx.session, number, branch.id)
    if material is None:
        raise await material_denied(ctx, number)
    since = day_start(ctx.now, ctx.options.timezone)
    reads = await materials.reads_of(ctx.session, [p.member.id for p in chosen.members])
    due = [p.member.id for p in chosen.members if not _pushed(reads, p.member.id, number, since)]
    if not due:
        raise UserError("care.segments.study_again", title=material.title, name=chosen.segment.name)
    why = Msg("care.segments.study_why")
    reached = await queue_pushes(
        ctx.session,
        ctx.box,
        {member_id: Pick(material.id, why) for member_id in due},
        dict.fromkeys(due, branch.id),
        ctx.now,
        key=f"segments:study:{material.id}:{ctx.today}",
        actor_id=ctx.require_caller().id,
    )
    text = Msg(
        "care.segments.study_done",
        title=material.title,
        name=chosen.segment.name,
        count=len(due),
        reached=len(reached),
    )
    return Reply(text, open_buttons([material]))


def _pushed(
    reads: dict[int, dict[int, ReadMark]], member_id: int, material_id: int, since: datetime
) -> bool:
    """Whether the member was sent this material today already (by any push)."""
    read = reads.get(member_id, {}).get(material_id)
    return read is not None and read.pushed_at is not None and read.pushed_at >= since


@feature.command("segment_talk", roles=SECRETARY_UP, hidden=True, private_only=True)
async def segment_talk(ctx: Context, args: str) -> Replies:
    """The group's members for 谈心谈话: each one's last talk recorded and a button to record
    the next (a care note of the kind talk); viewing the names is traced as /segments is."""
    chosen = await _chosen(ctx, args, "talk")
    ids = [p.member.id for p in chosen.members]
    notes = await care.notes_of(ctx.session, ids)
    zone = ctx.options.timezone
    lines = []
    for p in chosen.members:
        talks = [n for n in notes.get(p.member.id, []) if n.kind == TALK]  # newest first
        last = (
            Msg("care.segments.talk_last", on=talks[0].recorded_at.astimezone(zone).date())
            if talks
            else Msg("care.segments.talk_none")
        )
        lines.append(Msg("care.segments.talk_line", name=p.member.name, last=last))
    await ctx.trace(
        "segments.viewed",
        branch_id=chosen.branch.id,
        ref=f"branch:{chosen.branch.id}",
        data={"segment": chosen.segment.id, "members": len(ids), "names": True, "for": "talk"},
    )
    buttons = tuple(
        (
            Button(
                Msg("care.segments.talk_button", name=p.member.name),
                f"/care_note #{p.member.id} {TALK}",
            ),
        )
        for p in chosen.members[:TALK_BUTTONS]
    )
    text = Msg(
        "care.segments.talk_list",
        name=chosen.segment.name,
        explain=chosen.segment.explain,
        lines=lines,
        caveat=caveat(rules_of(ctx)),
    )
    return Reply(text, buttons)
