"""Joining and leaving a roll-call: the post's 接龙 / 退出 buttons (answered on the presser's
screen) and replies to the post (接龙, +1 or 1 to join; 退出 or -1 to leave), answered in the
member's private chat without a note in the group. Anyone of the roll-call's branch who has
bound their account may join (anyone at all, in a school-wide group)."""

from collections.abc import Awaitable, Callable

from handlers.core.context import Context
from handlers.core.messages import Denied, Msg, RecordedRefusal, Reply, UserError
from handlers.core.parsing import clean, parse_id
from handlers.core.registry import EVERYONE, QUIETLY, Replies
from handlers.groups import live
from handlers.rollcall import domain
from handlers.rollcall.feature import feature
from handlers.rollcall.post import rollcall_of
from storage import rollcalls
from storage.group_models import GroupPost, RollCall
from storage.models import Member
from storage.rollcalls import rollcall_ref

JOIN_WORDS = frozenset({"接龙", "+1", "1"})
LEAVE_WORDS = frozenset({"退出", "-1"})
Action = Callable[[Context, RollCall, Member], Awaitable[Msg]]


async def _member_rollcall(ctx: Context, rollcall_id: int, command: str) -> RollCall:
    """The roll-call, locked, if the caller may be on it; one of another branch is refused
    and traced, a number that does not exist is "not found" (traced by the router)."""
    member = ctx.require_caller()
    found = await rollcalls.locked(ctx.session, rollcall_id)
    ref = rollcall_ref(rollcall_id)
    if found is None:
        raise Denied("rollcall.not_found", target=ref, exists=False, id=rollcall_id)
    if found.branch_id is not None and found.branch_id != member.branch_id:
        await ctx.trace(
            "access.refused",
            ref=ref,
            data={"command": command, "reason": "scope", "target": ref},
        )
        raise RecordedRefusal("rollcall.branch_only", id=rollcall_id)
    return found


async def _act(ctx: Context, rollcall_id: int | None, command: str, action: Action) -> Reply:
    if rollcall_id is None:
        raise UserError("usage", usage=Msg(f"cmd.{command}.usage"))
    rollcall = await _member_rollcall(ctx, rollcall_id, command)
    member = ctx.require_caller()
    return Reply(await action(ctx, rollcall, member))


@feature.command("jielong_join", roles=EVERYONE, hidden=True, keeps_flow=True, in_group=QUIETLY)
async def jielong_join(ctx: Context, args: str) -> Replies:
    """The post's 接龙 button: put the presser on the list."""
    return await _act(ctx, parse_id(args), "jielong_join", domain.join)


@feature.command("jielong_leave", roles=EVERYONE, hidden=True, keeps_flow=True, in_group=QUIETLY)
async def jielong_leave(ctx: Context, args: str) -> Replies:
    """The post's 退出 button: take the presser off the list."""
    return await _act(ctx, parse_id(args), "jielong_leave", domain.leave)


@live.replier(domain.KIND)
async def replied(ctx: Context, post: GroupPost) -> Replies:
    """A reply to the post: 接龙 / +1 / 1 joins, 退出 / -1 leaves; other words are chatter
    (no answer, so the router reads them as it would any message)."""
    words = clean(ctx.incoming.text).split()
    first = words[0] if words else ""
    if first in JOIN_WORDS:
        command, action = "jielong_join", domain.join
    elif first in LEAVE_WORDS:
        command, action = "jielong_leave", domain.leave
    else:
        return []
    if ctx.caller is None:
        return Reply(Msg("error.not_bound"))
    if ctx.former:
        return Reply(Msg("rollcall.branch_only", id=rollcall_of(post.ref)))
    return await _act(ctx, rollcall_of(post.ref), command, action)
