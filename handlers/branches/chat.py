"""Branches in chat, for admins: `/branches` (with former names and archived branches),
`/branch_rename`, `/branch_merge` and `/branch_split` (a preview, then a confirm button) and
`/branch_archive`. Secretaries are refused by the router (traced)."""

from datetime import date
from typing import Any

from handlers.account.changes import Editor
from handlers.branches import domain, reshape
from handlers.branches.feature import feature
from handlers.core.context import Context
from handlers.core.messages import Button, Msg, Reply, UserError
from handlers.core.registry import ADMIN_ONLY, Replies
from handlers.moves.chat import clock_of, dated
from handlers.moves.graduation import LIST_WORDS, SELECTORS
from storage.models import Branch

MERGE_FLOW = "branch_merge"
SPLIT_FLOW = "branch_split"
CONFIRM_WORDS = frozenset({"确认", "confirm", "是"})
# Words a merge may be written with between its two branches: 甲 并入 乙.
INTO_WORDS = frozenset({"并入", "合并到", "into", "->", "→"})


def confirm_buttons(command: str) -> tuple[tuple[Button, ...], ...]:
    return ((Button(Msg("branches.confirm"), command), Button(Msg("branches.cancel"), "/cancel")),)


@feature.command("branches", roles=ADMIN_ONLY, aliases=("支部列表",), private_only=True)
async def list_branches(ctx: Context, args: str) -> Replies:
    """Every branch with its member count and former names; the archived ones last."""
    listed = await domain.listing(ctx.session, clock_of(ctx), everything=True)
    if not listed:
        return Reply(Msg("branches.none"))
    return Reply(Msg("branches.list", lines=[b.line() for b in listed]))


@feature.command("branch_rename", roles=ADMIN_ONLY, aliases=("支部更名",), private_only=True)
async def branch_rename(ctx: Context, args: str) -> Replies:
    """Give a branch a new name; the old one stays in its history."""
    tokens = args.split()
    if len(tokens) != 2:
        raise UserError("usage", usage=Msg("cmd.branch_rename.usage"))
    branch = await domain.branch_called(ctx.session, tokens[0])
    editor = Editor(ctx.require_caller())
    old = await domain.rename(ctx.session, ctx.box, branch, tokens[1], editor, clock_of(ctx))
    return Reply(Msg("branches.renamed", old=old, new=branch.name))


@feature.command("branch_archive", roles=ADMIN_ONLY, aliases=("撤销支部",), private_only=True)
async def branch_archive(ctx: Context, args: str) -> Replies:
    """Archive a branch that no longer exists (refused while it has members)."""
    tokens, on = dated(args.split(), ctx.today)
    if len(tokens) != 1:
        raise UserError("usage", usage=Msg("cmd.branch_archive.usage"))
    branch = await domain.branch_called(ctx.session, tokens[0])
    editor = Editor(ctx.require_caller())
    await domain.archive(ctx.session, ctx.box, branch, on, editor, clock_of(ctx))
    return Reply(Msg("branches.archived_done", branch=branch.name, on=on))


async def _merge_plan(ctx: Context, source: str, target: str, on: date) -> reshape.MergePlan:
    return await reshape.plan_merge(
        ctx.session,
        await domain.branch_called(ctx.session, source),
        await domain.branch_called(ctx.session, target),
        on,
        clock_of(ctx),
    )


@feature.command("branch_merge", roles=ADMIN_ONLY, aliases=("合并支部",), private_only=True)
async def branch_merge(ctx: Context, args: str) -> Replies:
    """Preview merging one branch into another; nothing changes until it is confirmed."""
    tokens, on = dated([t for t in args.split() if t not in INTO_WORDS], ctx.today)
    if len(tokens) != 2:
        raise UserError("usage", usage=Msg("cmd.branch_merge.usage"))
    plan = await _merge_plan(ctx, tokens[0], tokens[1], on)
    data = {"source": plan.source.id, "target": plan.target.id, "on": on.isoformat()}
    await ctx.start_flow(MERGE_FLOW, "confirm", data | {"ids": [m.id for m in plan.members]})
    return Reply(plan.preview(), buttons=confirm_buttons("/branch_merge_confirm"))


async def _branch(ctx: Context, branch_id: int) -> Branch:
    branch = await ctx.session.get(Branch, branch_id)
    if branch is None:
        raise UserError("branches.changed")
    return branch


async def _confirmed(ctx: Context, flow: str) -> dict[str, Any]:
    """The previewed change's data (the flow ends here either way)."""
    state = ctx.conversation
    if state is None or state.flow != flow:
        raise UserError("branches.no_preview")
    data: dict[str, Any] = dict(state.data)
    await ctx.end_flow()
    return data


@feature.command(
    "branch_merge_confirm", roles=ADMIN_ONLY, private_only=True, hidden=True, keeps_flow=True
)
async def branch_merge_confirm(ctx: Context, args: str) -> Replies:
    """Carry out the merge the preview showed (refused if its members changed meanwhile)."""
    data = await _confirmed(ctx, MERGE_FLOW)
    source, target = await _branch(ctx, data["source"]), await _branch(ctx, data["target"])
    plan = await reshape.plan_merge(
        ctx.session, source, target, date.fromisoformat(data["on"]), clock_of(ctx)
    )
    if [m.id for m in plan.members] != data["ids"]:
        raise UserError("branches.changed")
    await reshape.merge(ctx.session, ctx.box, plan, Editor(ctx.require_caller()), clock_of(ctx))
    return Reply(plan.done())


def _selection(tokens: list[str]) -> tuple[str, list[str]]:
    """`年级 2022级`, `班级 化学2201` or `名单 张三 李四 …` (after the two branches)."""
    if len(tokens) < 2:
        raise UserError("usage", usage=Msg("cmd.branch_split.usage"))
    word, values = tokens[0].lower(), tokens[1:]
    if word in LIST_WORDS:
        return "list", values
    kind = SELECTORS.get(word)
    if kind is None or len(values) != 1:
        raise UserError("usage", usage=Msg("cmd.branch_split.usage"))
    return kind, values


@feature.command("branch_split", roles=ADMIN_ONLY, aliases=("拆分支部",), private_only=True)
async def branch_split(ctx: Context, args: str) -> Replies:
    """Preview moving a grade, a class or named members into a new (or another) branch."""
    tokens, on = dated(args.split(), ctx.today)
    if len(tokens) < 4:
        raise UserError("usage", usage=Msg("cmd.branch_split.usage"))
    kind, values = _selection(tokens[2:])
    source = await domain.branch_called(ctx.session, tokens[0])
    plan = await reshape.plan_split(ctx.session, source, tokens[1], kind, values, on, clock_of(ctx))
    data = {"source": source.id, "into": plan.target_name, "on": on.isoformat()}
    data |= {"kind": kind, "values": values, "ids": [m.id for m in plan.members]}
    await ctx.start_flow(SPLIT_FLOW, "confirm", data)
    return Reply(plan.preview(), buttons=confirm_buttons("/branch_split_confirm"))


@feature.command(
    "branch_split_confirm", roles=ADMIN_ONLY, private_only=True, hidden=True, keeps_flow=True
)
async def branch_split_confirm(ctx: Context, args: str) -> Replies:
    """Carry out the split the preview showed (refused if its members changed meanwhile)."""
    data = await _confirmed(ctx, SPLIT_FLOW)
    source = await _branch(ctx, data["source"])
    on = date.fromisoformat(data["on"])
    plan = await reshape.plan_split(
        ctx.session, source, data["into"], data["kind"], data["values"], on, clock_of(ctx)
    )
    if [m.id for m in plan.members] != data["ids"]:
        raise UserError("branches.changed")
    target = await reshape.split(
        ctx.session, ctx.box, plan, Editor(ctx.require_caller()), clock_of(ctx)
    )
    return Reply(plan.done(target))


@feature.flow(MERGE_FLOW, roles=ADMIN_ONLY)
async def merge_flow(ctx: Context, step: str, data: dict[str, Any], text: str) -> Replies:
    """Typing 确认 confirms the previewed merge, anything else asks again."""
    if text.strip() in CONFIRM_WORDS:
        return await branch_merge_confirm(ctx, "")
    return Reply(Msg("branches.ask_confirm"))


@feature.flow(SPLIT_FLOW, roles=ADMIN_ONLY)
async def split_flow(ctx: Context, step: str, data: dict[str, Any], text: str) -> Replies:
    """Typing 确认 confirms the previewed split, anything else asks again."""
    if text.strip() in CONFIRM_WORDS:
        return await branch_split_confirm(ctx, "")
    return Reply(Msg("branches.ask_confirm"))
