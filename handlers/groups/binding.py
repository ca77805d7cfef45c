"""Binding a group chat to its branch: `/group_bind` (绑定本群) sent in the group by the
branch's secretary (an admin may name a branch, or 全校 for a school-wide group),
`/group_unbind` (in the group, or privately with the group's number: how a WeCom app chat or
group robot, where the bot reads nothing, is unbound), `/group_info`; `/groups` lists a
branch's groups privately. The bot removed from a group unbinds it and tells the secretary; a
Telegram group upgraded to a supergroup stays bound under its new id."""

from datetime import date

from handlers.branches.domain import branch_called, check_current
from handlers.core.context import Context
from handlers.core.group_answers import private_chat_button
from handlers.core.incoming import BOT_ADDED, BOT_REMOVED, CHAT_MIGRATED
from handlers.core.messages import Denied, Msg, Reply, UserError
from handlers.core.notify import queue_to_chat, queue_to_members
from handlers.core.registry import HERE, SECRETARY_UP, Replies
from handlers.groups.feature import feature
from handlers.groups.managed import may_manage, refuse_other_branch
from storage import groups, people
from storage.enums import Role
from storage.group_models import BranchGroup
from storage.models import Branch

SCHOOL_WORDS = frozenset({"全校", "school"})
TITLE_LIMIT = 200


def _in_a_group(ctx: Context) -> None:
    if ctx.incoming.is_private:
        raise UserError("group.only_in_group")


async def _target_branch(ctx: Context, args: str) -> Branch | None:
    """The branch a group is bound to: the secretary's own; an admin's named one, or None
    (school-wide) for 全校 or no name when they have no branch."""
    caller = ctx.require_caller()
    name = args.strip()
    if caller.role != Role.ADMIN:
        if caller.branch_id is None:
            raise UserError("error.no_branch")
        branch = await ctx.session.get(Branch, caller.branch_id)
        if name and branch is not None and name != branch.name:
            raise UserError("group.own_branch_only", branch=branch.name)
        return branch
    if name in SCHOOL_WORDS or (not name and caller.branch_id is None):
        return None
    if not name:
        return await ctx.session.get(Branch, caller.branch_id)
    return check_current(await branch_called(ctx.session, name))


def _day(ctx: Context, group: BranchGroup) -> date:
    return group.bound_at.astimezone(ctx.options.timezone).date()


def _where(group: BranchGroup, branch: Branch | None) -> Msg:
    return Msg("group.branch_name", name=branch.name) if branch else Msg("group.school")


@feature.command("group_bind", roles=SECRETARY_UP, aliases=("绑定本群",), in_group=HERE)
async def group_bind(ctx: Context, args: str) -> Replies:
    """Bind the group this is sent in to the sender's branch."""
    _in_a_group(ctx)
    inc = ctx.incoming
    branch = await _target_branch(ctx, args)
    branch_id = branch.id if branch is not None else None
    group = await groups.group_of_chat(ctx.session, inc.platform, inc.chat_id)
    if group is not None and group.bound:
        if not may_manage(ctx, group):
            await refuse_other_branch(ctx, group, "group_bind")
        if group.branch_id == branch_id:
            return Reply(Msg("group.already_bound", where=_where(group, branch)))
        raise UserError("group.bound_elsewhere")
    if group is None:
        group = BranchGroup(platform=inc.platform, chat_id=inc.chat_id, kind="chat")
        ctx.session.add(group)
    group.branch_id = branch_id
    group.title = (inc.chat_title or "")[:TITLE_LIMIT]
    group.bound_by = ctx.require_caller().id
    group.bound_at = ctx.now
    group.unbound_at = group.unbound_reason = None
    await ctx.session.flush()
    await ctx.trace(
        "group.bound",
        branch_id=branch_id,
        ref=f"group:{group.id}",
        data={"platform": inc.platform, "title": group.title},
    )
    buttons = private_chat_button(ctx.deep_link, inc.platform)
    return Reply(Msg("group.bound", where=_where(group, branch)), buttons)


@feature.command("group_unbind", roles=SECRETARY_UP, aliases=("解绑本群",), in_group=HERE)
async def group_unbind(ctx: Context, args: str) -> Replies:
    group = await _numbered(ctx, args) if ctx.incoming.is_private else ctx.group
    if group is None:
        raise UserError("group.not_bound")
    if not may_manage(ctx, group):  # (a numbered one was checked already)
        await refuse_other_branch(ctx, group, "group_unbind")
    groups.unbind(group, ctx.now, "command")
    group.robot_url_enc = None  # a robot's address is its key: not kept once unused
    await ctx.trace(
        "group.unbound",
        branch_id=group.branch_id,
        ref=f"group:{group.id}",
        data={"why": "command"},
    )
    if ctx.incoming.is_private:
        return Reply(Msg(f"group.unbound_{group.kind}", id=group.id, title=group.title))
    return Reply(Msg("group.unbound"))


async def _numbered(ctx: Context, args: str) -> BranchGroup:
    """The bound group `/group_unbind 编号` names, sent privately: one of the caller's branch
    (an admin: any); another branch's, or none, is "not found" alike, and traced."""
    number = args.strip().lstrip("#")
    if not number.isdigit():
        raise UserError("group.unbind_number")
    group = await ctx.session.get(BranchGroup, int(number))
    if group is None or not may_manage(ctx, group):
        raise Denied("group.no_such", target=f"group:{number}", exists=group is not None)
    if not group.bound:
        raise UserError("group.no_such")
    return group


@feature.command("group_info", roles=None, aliases=("本群",), in_group=HERE)
async def group_info(ctx: Context, args: str) -> Replies:
    """What this group is bound to: anyone in it may ask (it names only the branch)."""
    _in_a_group(ctx)
    group = ctx.group
    if group is None:
        return Reply(Msg("group.info_unbound"))
    branch = await ctx.session.get(Branch, group.branch_id) if group.branch_id else None
    return Reply(Msg("group.info", where=_where(group, branch), since=_day(ctx, group)))


@feature.command("groups", roles=SECRETARY_UP, aliases=("支部群",))
async def list_groups(ctx: Context, args: str) -> Replies:
    """The groups bound to the caller's branch (an admin: all)."""
    scope = ctx.branch_scope()
    found = await groups.bound_groups(ctx.session, None if scope is None else [scope])
    if not found:
        return Reply(Msg("group.none"))
    lines = [
        Msg(
            "group.line",
            id=g.id,
            title=g.title or g.chat_id,
            platform=Msg(f"platform.{g.platform}"),
            since=_day(ctx, g),
        )
        for g in found
    ]
    return Reply(Msg("group.list", lines=lines))


@feature.on_event(BOT_ADDED)
async def bot_added(ctx: Context) -> Replies:
    """Added to a group: say how to bind it (only when it is not bound already)."""
    if ctx.group is None:
        await _post(ctx, Reply(Msg("group.hello")), "hello")
    return []


@feature.on_event(BOT_REMOVED)
async def bot_removed(ctx: Context) -> Replies:
    """Removed from a bound group: unbind it and tell the branch's secretaries."""
    group = ctx.group
    if group is None:
        return []
    groups.unbind(group, ctx.now, "removed")
    await ctx.trace(
        "group.unbound",
        branch_id=group.branch_id,
        ref=f"group:{group.id}",
        data={"why": "removed"},
    )
    if group.branch_id is not None:
        found = await people.secretaries(ctx.session, [group.branch_id])
        told = [member_id for member_id, _ in found.get(group.branch_id, [])]
        await queue_to_members(
            ctx.session,
            told,
            Reply(Msg("group.removed_note", title=group.title or group.chat_id)),
            key=f"group-removed:{group.id}:{ctx.now.isoformat()}",
            kind="group_note",
            now=ctx.now,
        )
    return []


@feature.on_event(CHAT_MIGRATED)
async def chat_migrated(ctx: Context) -> Replies:
    """A Telegram group upgraded to a supergroup: the binding follows it to the new id."""
    group = ctx.group
    new_id = ctx.incoming.new_chat_id
    if group is None or new_id is None:
        return []
    if await groups.group_of_chat(ctx.session, group.platform, new_id) is not None:
        return []  # seen already (both the old and the new chat report the move)
    old_id, group.chat_id = group.chat_id, new_id
    await ctx.trace(
        "group.moved",
        branch_id=group.branch_id,
        ref=f"group:{group.id}",
        data={"from": old_id, "to": new_id},
    )
    return []


async def _post(ctx: Context, reply: Reply, what: str) -> None:
    inc = ctx.incoming
    await queue_to_chat(
        ctx.session,
        inc.platform,
        inc.chat_id,
        reply,
        key=f"group-{what}:{inc.platform}:{inc.chat_id}:{inc.update_key}",
        kind="group_note",
        now=ctx.now,
        branch_id=ctx.group.branch_id if ctx.group else None,
        priority=1,
    )
