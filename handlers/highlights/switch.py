"""`/group_highlights 开|关` (每周亮点), sent in a branch's bound group by its secretary (or an
admin): the group gets the week's highlights every Monday, or no longer. Traced
(highlights.switched); a school-wide group has no branch figures to show, so none."""

from handlers.core.context import Context
from handlers.core.messages import Msg, Reply, UserError
from handlers.core.registry import HERE, SECRETARY_UP, Replies
from handlers.groups.managed import managed_group
from handlers.highlights.feature import feature

ON = frozenset({"开", "开启", "打开", "on"})
OFF = frozenset({"关", "关闭", "off"})


@feature.command("group_highlights", roles=SECRETARY_UP, aliases=("每周亮点",), in_group=HERE)
async def group_highlights(ctx: Context, args: str) -> Replies:
    group = await managed_group(ctx, "group_highlights")
    word = args.strip().lower()
    if word not in ON | OFF:
        state = Msg("highlights.state_on" if group.highlights else "highlights.state_off")
        raise UserError("highlights.usage", state=state, usage=Msg("cmd.group_highlights.usage"))
    if group.branch_id is None:
        raise UserError("highlights.branch_only")
    on = word in ON
    if group.highlights == on:
        return Reply(Msg("highlights.already_on" if on else "highlights.already_off"))
    group.highlights = on
    await ctx.trace(
        "highlights.switched",
        branch_id=group.branch_id,
        ref=f"group:{group.id}",
        data={"on": on},
    )
    return Reply(Msg("highlights.turned_on" if on else "highlights.turned_off"))
