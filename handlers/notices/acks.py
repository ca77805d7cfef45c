"""收到: a recipient acknowledges a notice, by its button or by typing 收到."""

from dataclasses import replace

from handlers.core.context import Context
from handlers.core.messages import Denied, Msg, Reply, Series, UserError
from handlers.core.parsing import parse_id
from handlers.core.registry import EVERYONE, Replies
from handlers.notices.feature import feature
from handlers.notices.publish import headline, notice_reply
from storage import notices
from storage.models import Notice


async def _record(ctx: Context, notice: Notice) -> bool:
    """Record the caller's first acknowledgement of the notice, with how long it took."""
    member = ctx.require_caller()
    if not await notices.acknowledge(ctx.session, notice.id, member.id, ctx.now):
        return False
    await ctx.trace(
        "notice.acknowledged",
        member_id=member.id,
        ref=notices.notice_ref(notice.id),
        data={"after_seconds": int((ctx.now - notice.created_at).total_seconds())},
    )
    return True


async def _latest(ctx: Context) -> Replies:
    """Typed 收到 (收到了, 收到，谢谢) acknowledges the newest notice still waiting."""
    waiting = await notices.pending_for(ctx.session, ctx.require_caller().id)
    if not waiting:
        return Reply(Msg("ack.nothing"))
    notice, rest = waiting[0], waiting[1:]
    await _record(ctx, notice)
    more = Msg("ack.more", ids=Series(f"#{n.id}" for n in rest)) if rest else ""
    title = headline(notice.text, notice.attachment)
    return Reply(Msg("ack.ok_latest", id=notice.id, excerpt=title, more=more))


@feature.command(
    "ack", aliases=("收到", "已收到", "收到了"), roles=EVERYONE, hidden=True, keeps_flow=True
)
async def ack(ctx: Context, args: str) -> Replies:
    tokens = args.split()
    notice_id = parse_id(tokens[0]) if tokens else None
    if notice_id is None:
        if tokens and ctx.incoming.text.lstrip().startswith("/"):
            raise UserError("usage", usage=Msg("cmd.ack.usage"))
        return await _latest(ctx)  # 收到 with words after it is still 收到
    notice = await notices.get(ctx.session, notice_id)
    member = ctx.require_caller()
    if notice is None or await notices.recipient(ctx.session, notice.id, member.id) is None:
        target, exists = f"notice:{notice_id}", notice is not None
        raise Denied("ack.not_yours", target=target, exists=exists, id=notice_id)
    if not notice.require_ack:
        raise UserError("ack.not_needed", id=notice_id)
    first = await _record(ctx, notice)
    if ctx.incoming.callback_data is not None:
        # The button becomes 已收到 on the very message that was pressed.
        reminder = len(tokens) > 1 and tokens[1] == "r"
        return replace(notice_reply(notice, acked=True, reminder=reminder), forward=None, edit=True)
    return Reply(Msg("ack.ok" if first else "ack.already", id=notice.id))
