"""收到: a recipient acknowledges a notice, by its button (in their private chat or on the
branch group's post) or by typing 收到 (in a group: as a reply to the notice's post)."""

from dataclasses import replace

from handlers.core.context import Context
from handlers.core.messages import Denied, Msg, Reply, Series, UserError
from handlers.core.parsing import parse_id
from handlers.core.registry import EVERYONE, QUIETLY, Replies
from handlers.notices import group_post
from handlers.notices.feature import feature
from handlers.notices.message import headline, notice_reply
from storage import groups, notices
from storage.models import Notice

PRIVATE, GROUP = "private", "group"


async def _record(ctx: Context, notice: Notice) -> bool:
    """Record the caller's first acknowledgement of the notice, with how long it took and
    where it was made; the notice's group posts then show the new count."""
    member = ctx.require_caller()
    via = PRIVATE if ctx.incoming.is_private else GROUP
    if not await notices.acknowledge(ctx.session, notice.id, member.id, ctx.now, via):
        return False
    await ctx.trace(
        "notice.acknowledged",
        member_id=member.id,
        ref=notices.notice_ref(notice.id),
        data={"after_seconds": int((ctx.now - notice.created_at).total_seconds()), "via": via},
    )
    await group_post.refresh(ctx.session, notice.id, member.branch_id, ctx.now)
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


async def _replied_notice(ctx: Context) -> int | None:
    """The notice whose group post 收到 was typed in reply to, if it was."""
    message_id = ctx.incoming.reply_to
    if ctx.group is None or message_id is None:
        return None
    post = await groups.post_by_message(ctx.session, ctx.group, message_id)
    return group_post.notice_id_of(post.ref) if post and post.kind == group_post.KIND else None


# In a group the answer goes to the presser alone (a toast) or privately without a note: the
# group sees only the post's count, never who pressed.
@feature.command(
    "ack",
    aliases=("收到", "已收到", "收到了"),
    roles=EVERYONE,
    hidden=True,
    keeps_flow=True,
    in_group=QUIETLY,
)
async def ack(ctx: Context, args: str) -> Replies:
    tokens = args.split()
    notice_id = parse_id(tokens[0]) if tokens else None
    if notice_id is None and tokens and ctx.incoming.text.lstrip().startswith("/"):
        raise UserError("usage", usage=Msg("cmd.ack.usage"))
    notice_id = notice_id or await _replied_notice(ctx)
    if notice_id is None:
        return await _latest(ctx)  # 收到 with words after it is still 收到
    notice = await notices.get(ctx.session, notice_id)
    member = ctx.require_caller()
    if notice is None or await notices.recipient(ctx.session, notice.id, member.id) is None:
        target, exists = f"notice:{notice_id}", notice is not None
        key = "ack.not_yours" if ctx.incoming.is_private else "ack.not_yours_group"
        raise Denied(key, target=target, exists=exists, id=notice_id)
    if not notice.require_ack:
        raise UserError("ack.not_needed", id=notice_id)
    first = await _record(ctx, notice)
    if ctx.incoming.callback_data is not None and ctx.incoming.is_private:
        # The button becomes 已收到 on the very message that was pressed.
        reminder = len(tokens) > 1 and tokens[1] == "r"
        return replace(notice_reply(notice, acked=True, reminder=reminder), forward=None, edit=True)
    return Reply(Msg("ack.ok" if first else "ack.already", id=notice.id))
