"""Making a notice: its message, its recipients and their queued copies, in one transaction."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from handlers.core.context import Context
from handlers.core.messages import Button, Msg, Reply, UserError
from handlers.core.notify import queue_to_members
from handlers.core.payload import attachment_in
from handlers.notices.audience import Audience
from handlers.notices.settings import NoticeSettings
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


def excerpt(text: str, length: int = 30) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= length else line[:length] + "…"


def headline(text: str, attachment: dict[str, Any] | None, length: int = 30) -> str:
    """A notice's first line, or its file's name when it is a file alone: for lists."""
    if text.strip() or attachment is None:
        return excerpt(text, length)
    return f"📎 {attachment.get('file_name') or attachment.get('kind', '')}"


def signature(notice: Notice) -> Msg | str:
    author = notice.author
    if author.branch is None:
        return author.name
    return Msg("notice.signature", name=author.name, branch=author.branch.name)


def notice_text(notice: Notice) -> Msg:
    body: Msg | str = notice.text
    if not notice.text and notice.attachment:
        body = Msg("notice.see_file", name=notice.attachment.get("file_name") or "")
    ack = Msg("notice.ack_hint") if notice.require_ack else ""
    return Msg(
        "notice.message",
        id=notice.id,
        text=body,
        signature=signature(notice),
        at=notice.created_at,
        ack=ack,
    )


def notice_reply(notice: Notice, *, acked: bool = False, reminder: bool = False) -> Reply:
    """The notice as its recipients see it; after 收到 its button shows it was received."""
    text = Msg("notice.reminder", body=notice_text(notice)) if reminder else notice_text(notice)
    buttons: tuple[tuple[Button, ...], ...] = ()
    if notice.require_ack:
        label = Msg("notice.acked_button" if acked else "notice.ack_button")
        data = f"/ack {notice.id}" + (" r" if reminder else "")
        buttons = ((Button(label, data),),)
    forward = attachment_in(notice.attachment) if notice.attachment else None
    return Reply(text, buttons, forward=forward)


async def publish(ctx: Context, draft: Draft) -> tuple[Notice, list[int], set[int]]:
    """Create the notice and queue it to every recipient: (notice, recipients, reachable)."""
    author = ctx.require_caller()
    member_ids = await draft.audience.member_ids(ctx.session, ctx.today, exclude=author.id)
    if not member_ids:
        raise UserError("notice.nobody")
    branches = draft.audience.branches
    notice = Notice(
        # The branch whose secretary may follow it up; a notice to several is the admins'.
        branch_id=branches[0] if len(branches) == 1 else None,
        author=author,
        text=draft.text,
        attachment=draft.attachment,
        audience=draft.audience.to_json(),
        require_ack=draft.require_ack,
        created_at=ctx.now,
        summary_due_at=_summary_due(ctx, draft),
        reminders=0,
    )
    ctx.session.add(notice)
    await ctx.session.flush()
    ref = notices.notice_ref(notice.id)
    await notices.add_recipients(ctx.session, notice.id, member_ids)
    reached = await queue_to_members(
        ctx.session, member_ids, notice_reply(notice), key=ref, kind=KIND, now=ctx.now, ref=ref
    )
    await ctx.trace(
        "notice.created",
        ref=ref,
        data={
            "recipients": len(member_ids),
            "reachable": len(reached),
            "require_ack": draft.require_ack,
            "audience": draft.audience.to_json(),
            "attachment": bool(draft.attachment),
        },
    )
    return notice, member_ids, reached
