"""/thought_show and /thought_read: a permitted reader opens a report (traced) and marks it
read, with an optional comment that the author sees when they open it."""

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.freetext import quoted
from handlers.core.context import Context
from handlers.core.messages import Button, Msg, Reply, UserError
from handlers.core.notify import queue_to_members
from handlers.core.payload import attachment_in
from handlers.core.registry import EVERYONE, Replies
from handlers.core.tracer import SessionTracer
from handlers.thoughts.access import (
    attachment_of,
    body_of,
    readable,
    report_id_of,
)
from handlers.thoughts.feature import feature
from storage import thoughts
from storage.crypto import SecretBox
from storage.models import Member
from storage.pipeline_models import ThoughtReport, ThoughtReview
from storage.thoughts import thought_ref

FLOW = "thought_read"
MAX_COMMENT = 500
SKIP = "skip"


def _review_line(box: SecretBox, review: ThoughtReview) -> Msg:
    comment = box.decrypt(review.comment_enc)
    said = Msg("thought.comment", text=quoted(comment)) if comment else Msg("thought.no_comment")
    return Msg("thought.review_line", name=review.reader.name, at=review.read_at, comment=said)


def _content(ctx: Context, report: ThoughtReport) -> tuple[Msg | str, dict[str, Any] | None]:
    """The text to show, and the document to send on when the reader is on its platform.
    The author's words (text, file name) are quoted: they cannot pose as the bot's lines
    (a forged "批阅：" section, say)."""
    body = quoted(body_of(ctx.box, report))
    document = attachment_of(ctx.box, report)
    if document is None:
        return body, None
    name = quoted(document.get("file_name") or "-", inline=True)
    note = Msg("thought.note", text=body) if body else ""
    if document.get("platform") != ctx.incoming.platform:
        where = Msg(f"platform.{document.get('platform')}")
        return Msg("thought.file_elsewhere", name=name, platform=where, note=note), None
    return Msg("thought.file_below", name=name, note=note), document


async def show(ctx: Context, report: ThoughtReport) -> list[Reply]:
    """The report as its reader sees it; opened by anyone but the author, it is traced."""
    reader = ctx.require_caller()
    author = report.member
    found = (await thoughts.reviews(ctx.session, [report.id]))[report.id]
    lines = [_review_line(ctx.box, r) for r in found]
    content, document = _content(ctx, report)
    text = Msg(
        "thought.show",
        id=report.id,
        name=author.name,
        stage=Msg(f"stage.{report.stage}"),
        at=report.submitted_at,
        body=content,
        reviews=lines or Msg("thought.no_reviews"),
    )
    buttons: tuple[tuple[Button, ...], ...] = ()
    if reader.id != author.id:
        await ctx.trace(
            "thought.viewed",
            branch_id=report.branch_id,
            member_id=report.member_id,
            ref=thought_ref(report.id),
        )
        if all(r.reader_id != reader.id for r in found):
            buttons = ((Button(Msg("thought.mark_button"), f"/thought_read {report.id}"),),)
    if document is None:
        return [Reply(text, buttons)]
    name = quoted(document.get("file_name") or "-", inline=True)
    caption = Msg("thought.file_caption", id=report.id, name=name)
    forward = attachment_in(document)
    return [Reply(text), Reply(caption, buttons, forward=forward)]


@feature.command(
    "thought_show", roles=EVERYONE, aliases=("查看思想汇报",), private_only=True, hidden=True
)
async def thought_show(ctx: Context, args: str) -> Replies:
    report_id, _ = report_id_of(args, "thought_show")
    return await show(ctx, await readable(ctx, report_id))


async def mark_read(
    session: AsyncSession,
    box: SecretBox,
    report: ThoughtReport,
    reader: Member,
    comment: str,
    now: datetime,
) -> ThoughtReview:
    """Record the reading (the comment encrypted), trace it and tell the author, without the
    comment: the outbox keeps its messages as plain JSON."""
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise UserError("thought.long_comment", length=len(comment), limit=MAX_COMMENT)
    review = ThoughtReview(
        report_id=report.id, reader_id=reader.id, read_at=now, comment_enc=box.encrypt(comment)
    )
    session.add(review)
    await session.flush()
    data = {"commented": bool(comment)}
    await SessionTracer(session, box, now, reader.id).trace(
        "thought.read",
        branch_id=report.branch_id,
        member_id=report.member_id,
        ref=thought_ref(report.id),
        data=data,
    )
    note = Msg("thought.read_note", name=reader.name, id=report.id)
    see = Button(Msg("thought.open_button"), f"/thought_show {report.id}")
    await queue_to_members(
        session,
        [report.member_id],
        Reply(note, ((see,),)),
        key=f"{thought_ref(report.id)}:read:{reader.id}",
        kind="thought.read",
        now=now,
        ref=thought_ref(report.id),
    )
    return review


async def _unread(ctx: Context, report_id: int) -> ThoughtReport | Reply:
    """The report the caller may mark, or the kind answer that it is done already."""
    reader = ctx.require_caller()
    report = await readable(ctx, report_id, lock=True)
    if report.member_id == reader.id:
        raise UserError("thought.read_own")
    earlier = await thoughts.review_by(ctx.session, report.id, reader.id)
    if earlier is not None:
        return Reply(Msg("thought.read_before", id=report.id, at=earlier.read_at))
    return report


async def _mark(ctx: Context, report: ThoughtReport, comment: str) -> Reply:
    await mark_read(ctx.session, ctx.box, report, ctx.require_caller(), comment, ctx.now)
    await ctx.end_flow()
    said = Msg("thought.marked_comment") if comment.strip() else ""
    return Reply(Msg("thought.marked", id=report.id, name=report.member.name, comment=said))


def _ask(report: ThoughtReport) -> Reply:
    buttons = (
        Button(Msg("thought.skip_button"), SKIP),
        Button(Msg("broadcast.cancel_button"), "/cancel"),
    )
    text = Msg("thought.ask_comment", id=report.id, name=report.member.name, limit=MAX_COMMENT)
    return Reply(text, (buttons,))


@feature.command(
    "thought_read", roles=EVERYONE, aliases=("批阅思想汇报",), private_only=True, max_args=4096
)
async def thought_read(ctx: Context, args: str) -> Replies:
    """`/thought_read ID COMMENT` at once; bare `/thought_read ID` (the button) asks."""
    report_id, comment = report_id_of(args, "thought_read")
    found = await _unread(ctx, report_id)
    if isinstance(found, Reply):
        return found
    if comment:
        return await _mark(ctx, found, ctx.typed(comment))
    await ctx.start_flow(FLOW, "comment", {"report": found.id})
    return _ask(found)


@feature.flow(FLOW, roles=EVERYONE)
async def comment_step(ctx: Context, step: str, data: dict[str, Any], text: str) -> Replies:
    found = await _unread(ctx, int(data["report"]))
    if isinstance(found, Reply):
        await ctx.end_flow()
        return found
    pressed = ctx.incoming.callback_data is not None
    if pressed and text == SKIP:
        return await _mark(ctx, found, "")
    if pressed or not text:  # a button of something else, or a file: ask again
        return _ask(found)
    return await _mark(ctx, found, ctx.typed(text))
