"""`/segments` (成员分组): a branch's current full and probationary members sorted into the
groups of data/segments.toml by what their records say, for targeted work: each group with
its rule in words and its count; the secretary also sees the names and one tap to act on a
group (segment_actions.py). A member may be in several groups, or in none.

The grouping informs and never labels: nothing is stored, nobody's standing changes, no
member command shows it, and every view says so. Viewing is traced (segments.viewed, with
the counts, never the names).
"""

from dataclasses import dataclass

from handlers.care.feature import feature
from handlers.care.profile import Profile, profiles, window
from handlers.care.segment_rules import Segment, SegmentRules, segment_rules
from handlers.care.settings import CareSettings
from handlers.common.lookup import branch_asked
from handlers.core.context import Context
from handlers.core.messages import Button, Msg, Reply, Series, UserError
from handlers.core.registry import COMMITTEE_UP, SECRETARY_UP, Replies
from storage.models import Branch

NAMES_SHOWN = 40  # names listed per group; the rest are counted


@dataclass(frozen=True)
class Group:
    segment: Segment
    members: list[Profile]


def rules_of(ctx: Context) -> SegmentRules:
    return segment_rules(ctx.options.of(CareSettings).segments_file)


def grouped(rules: SegmentRules, found: list[Profile]) -> list[Group]:
    """Each group with the members its rule holds for, in the file's order."""
    return [Group(s, [p for p in found if s.when.holds(p.values)]) for s in rules.segments]


async def branch_groups(ctx: Context, branch: Branch, rules: SegmentRules) -> list[Group]:
    found = await profiles(ctx.session, branch.id, ctx.options, ctx.now, rules.window_months)
    return grouped(rules, found)


def segment_named(rules: SegmentRules, text: str) -> Segment:
    """A group by its id or its Chinese name; else the answer lists them."""
    found = rules.by_id(text) or next((s for s in rules.segments if s.name == text), None)
    if found is None:
        known = Series(Msg("care.segments.known", id=s.id, name=s.name) for s in rules.segments)
        raise UserError("care.segments.unknown", value=text, known=known)
    return found


def names_of(members: list[Profile]) -> Msg | Series:
    names = Series(p.member.name for p in members[:NAMES_SHOWN])
    if len(members) > NAMES_SHOWN:
        return Msg("care.segments.names_more", names=names, count=len(members))
    return names


def caveat(rules: SegmentRules) -> Msg:
    """Said under every view: the grouping informs, never labels."""
    return Msg("care.segments.caveat", version=rules.version)


def _group_msg(group: Group, names: bool) -> Msg:
    listed: Msg | str = ""
    if names and group.members:
        listed = Msg("care.segments.names", names=names_of(group.members))
    return Msg(
        "care.segments.group",
        name=group.segment.name,
        count=len(group.members),
        explain=group.segment.explain,
        names=listed,
    )


def branch_suffix(ctx: Context, branch: Branch) -> str:
    """What an action's button adds to name the branch: nothing for the caller's own."""
    return "" if branch.id == ctx.require_caller().branch_id else f" #{branch.id}"


def _buttons(groups: list[Group], where: str) -> tuple[tuple[Button, ...], ...]:
    """A row per group with members: its suggested actions (`where`: the branch_suffix)."""
    return tuple(
        tuple(
            Button(
                Msg(f"care.segments.button.{action}", name=g.segment.name),
                f"/segment_{action} {g.segment.id}{where}",
            )
            for action in g.segment.actions
        )
        for g in groups
        if g.members and g.segment.actions
    )


@feature.command("segments", roles=COMMITTEE_UP, aliases=("成员分组",), private_only=True)
async def segments_view(ctx: Context, args: str) -> Replies:
    """The branch's groups (an admin names the branch); names and actions for secretaries."""
    branch = await branch_asked(
        ctx, args.strip(), unknown="care.segments.unknown_branch", usage="cmd.segments.usage"
    )
    rules = rules_of(ctx)
    found = await profiles(ctx.session, branch.id, ctx.options, ctx.now, rules.window_months)
    groups = grouped(rules, found)
    caller = ctx.require_caller()
    secretary = caller.role in SECRETARY_UP
    span = window(ctx.today, rules.window_months)
    await ctx.trace(
        "segments.viewed",
        branch_id=branch.id,
        ref=f"branch:{branch.id}",
        data={
            "members": len(found),
            "groups": {g.segment.id: len(g.members) for g in groups},
            "names": secretary,
            "window": span.label,
            "version": rules.version,
        },
    )
    text = Msg(
        "care.segments.view",
        branch=branch.name,
        months=rules.window_months,
        window=span.label,
        members=len(found),
        groups=[_group_msg(g, secretary) for g in groups],
        staff="" if secretary else Msg("care.segments.secretary_only"),
        caveat=caveat(rules),
    )
    buttons = _buttons(groups, branch_suffix(ctx, branch)) if secretary else ()
    return Reply(text, buttons)
