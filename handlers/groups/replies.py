"""A member's reply, in a bound group, to one of the bot's posts there: handed to what the
post's kind registered (handlers/groups/live.py `replier`); a reply to anything else, or in
a group that is not bound, is group chatter and is left alone."""

from handlers.core.context import Context
from handlers.core.incoming import GROUP_REPLY
from handlers.core.registry import Replies
from handlers.groups import live
from handlers.groups.feature import feature
from storage import groups


@feature.on_event(GROUP_REPLY)
async def group_reply(ctx: Context) -> Replies:
    group, message_id = ctx.group, ctx.incoming.reply_to
    if group is None or message_id is None:
        return []
    post = await groups.post_by_message(ctx.session, group, message_id)
    fn = live.replier_of(post.kind) if post is not None else None
    if post is None or fn is None:
        return []
    return await fn(ctx, post)
