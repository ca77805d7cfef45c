"""The bound group a staff command was sent in, when the sender may act on it: a secretary
(or committee member, as the command allows) on their own branch's group, an admin on any.
Binding, group robots, roll-calls and the weekly highlights all ask this; another branch's staff are
refused, and the attempt traced, as any attempt on someone else's record is."""

from typing import NoReturn

from handlers.core.context import Context
from handlers.core.messages import RecordedRefusal, UserError
from storage.enums import Role
from storage.group_models import BranchGroup


def may_manage(ctx: Context, group: BranchGroup) -> bool:
    caller = ctx.require_caller()
    return caller.role == Role.ADMIN or (
        group.branch_id is not None and group.branch_id == caller.branch_id
    )


async def refuse_other_branch(ctx: Context, group: BranchGroup, command: str) -> NoReturn:
    await ctx.trace(
        "access.refused",
        branch_id=ctx.require_caller().branch_id,
        ref=f"group:{group.id}",
        data={"command": command, "reason": "scope", "target": f"group:{group.id}"},
    )
    raise RecordedRefusal("group.not_yours")


async def managed_group(ctx: Context, command: str) -> BranchGroup:
    """The bound group this was sent in, if the sender may act on it."""
    if ctx.incoming.is_private:
        raise UserError("group.send_in_group", command=command)
    group = ctx.group
    if group is None:
        raise UserError("group.not_bound")
    if not may_manage(ctx, group):
        await refuse_other_branch(ctx, group, command)
    return group
