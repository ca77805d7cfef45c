"""Making a notice: its message, its recipients and their queued copies, in one transaction."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from handlers.core.context import Context
from handlers.core.messages import UserError
from handlers.core.notify import queue_to_members
from handlers.notices.audience import Audience
from handlers.notices.group_post import post_to_groups
from handlers.notices.message import notice_reply
from handlers.notices.settings import NoticeSettings
from handlers.notices.where import KEY as WHERE_KEY
from handlers.notices.where import Where, notice_groups, resolve
from storage import notices
from storage.models import Notice

KIND = "notice"
MAX_TEXT = 3000
# Telegram shows at most 1024 characters under a document, header and signature included.
MAX_CAPTION_TEXT = 800


@dataclass(frozen=True)
class Draft:
    text: str
    attachment: dict[str, Any] | None
    audience: Audience
    require_ack: bool = True
    where: Where = Where.BOTH


def check_content(text: str, attachment: dict[str, Any] | None) -> None:
    """Refuse an empty notice or one too long to arrive as a single message."""
    if not text and attachment is None:
        raise UserError("notice.empty")
    if attachment is not None and len(text) > MAX_CAPTION_TEXT:
        raise UserError("notice.too_long_caption", length=len(text), limit=MAX_CAPTION_TEXT)
    if len(text) > MAX_TEXT:
        raise UserError("notice.too_long", length=len(text), limit=MAX_TEXT)


def _summary_due(ctx: Context, draft: Draft) -> datetime | None:
    delay = ctx.options.of(NoticeSettings).summary_after
    return ctx.now + delay if delay and draft.require_ack else None


@dataclass(frozen=True)
class Published:
    """A notice made: who it addresses, who can get a private copy, how many groups got it."""

    notice: Notice
    member_ids: list[int]
    reached: set[int]
    groups: int
    where: Where


async def publish(ctx: Context, draft: Draft) -> Published:
    """Create the notice and queue it to every recipient's private chat and the groups, as
    chosen (only the group: the recipients are still those addressed, for 收到 and status)."""
    author = ctx.require_caller()
    member_ids = await draft.audience.member_ids(ctx.session, ctx.today, exclude=author.id)
    if not member_ids:
        raise UserError("notice.nobody")
    found = [] if draft.where == Where.PRIVATE else await notice_groups(ctx.session, draft.audience)
    where = resolve(draft.where, found, has_file=draft.attachment is not None)
    if where == Where.PRIVATE:
        found = []
    notice = await _create(ctx, draft, where)
    ref = notices.notice_ref(notice.id)
    await notices.add_recipients(ctx.session, notice.id, member_ids)
    reached: set[int] = set()
    if where != Where.GROUP:
        reply = notice_reply(notice)
        reached = await queue_to_members(
            ctx.session, member_ids, reply, key=ref, kind=KIND, now=ctx.now, ref=ref
        )
    await post_to_groups(ctx.session, notice.id, found, ctx.now)
    published = Published(notice, member_ids, reached, len(found), where)
    await ctx.trace("notice.created", ref=ref, data=_traced(draft, published))
    return published


async def _create(ctx: Context, draft: Draft, where: Where) -> Notice:
    branches = draft.audience.branches
    notice = Notice(
        # The branch whose secretary may follow it up; a notice to several is the admins'.
        branch_id=branches[0] if len(branches) == 1 else None,
        author=ctx.require_caller(),
        text=draft.text,
        attachment=draft.attachment,
        audience={**draft.audience.to_json(), WHERE_KEY: str(where)},
        require_ack=draft.require_ack,
        created_at=ctx.now,
        summary_due_at=_summary_due(ctx, draft),
        reminders=0,
    )
    ctx.session.add(notice)
    await ctx.session.flush()
    return notice


def _traced(draft: Draft, published: Published) -> dict[str, object]:
    return {
        "recipients": len(published.member_ids),
        "reachable": len(published.reached),
        "require_ack": draft.require_ack,
        "audience": draft.audience.traced(),
        "attachment": bool(draft.attachment),
        "where": str(published.where),
        "groups": published.groups,
    }
