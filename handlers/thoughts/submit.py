"""/thought: an activist, candidate or probationary member hands in a report, as one text
message or a document; it is stored encrypted and the contacts and the secretary are told."""

from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.context import Context
from handlers.core.incoming import Attachment
from handlers.core.messages import Button, Msg, Reply, UserError
from handlers.core.notify import queue_to_members
from handlers.core.registry import EVERYONE, Replies
from handlers.core.tracer import SessionTracer
from handlers.meetings.domain import secretaries_of
from handlers.thoughts.access import hands_in, seal_attachment
from handlers.thoughts.feature import feature
from storage.crypto import SecretBox
from storage.models import Member
from storage.pipeline import contact_ids
from storage.pipeline_models import ThoughtReport
from storage.thoughts import thought_ref

FLOW = "thought"
MIN_TEXT = 20
DOCUMENT_SUFFIXES = (".doc", ".docx", ".pdf", ".txt")
DOCUMENT_TYPES = frozenset(
    {
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/pdf",
        "text/plain",
    }
)


def check_document(attachment: Attachment) -> None:
    """A Word, PDF or plain-text file; anything else (a photo, an archive) is refused."""
    suffix = PurePosixPath(attachment.file_name or "").suffix.lower()
    if attachment.kind != "document" or not (
        suffix in DOCUMENT_SUFFIXES or attachment.mime_type in DOCUMENT_TYPES
    ):
        raise UserError("thought.bad_file", suffixes=" ".join(DOCUMENT_SUFFIXES))


def check_text(text: str, limit: int) -> str:
    text = text.strip()
    if len(text) < MIN_TEXT:
        raise UserError("thought.too_short", length=len(text), least=MIN_TEXT)
    if len(text) > limit:
        raise UserError("thought.too_long", length=len(text), limit=limit)
    return text


async def readers_to_tell(session: AsyncSession, author: Member) -> list[int]:
    """The author's current contacts and their branch's secretaries (never admins)."""
    found = await contact_ids(session, author.id)
    if author.branch_id is not None:
        found += await secretaries_of(session, author.branch_id, committee=False)
    return [r for r in dict.fromkeys(found) if r != author.id]


async def hand_in(
    session: AsyncSession,
    box: SecretBox,
    author: Member,
    *,
    text: str,
    document: tuple[str, Attachment] | None,
    now: datetime,
    limit: int,
) -> tuple[ThoughtReport, int]:
    """Store a report (the text, or a document given as (platform, attachment) with an
    optional note), trace it and queue a note to its readers; returns it and how many were
    told. The note names the author and the number only: outbox rows are plain JSON."""
    if not hands_in(author):
        raise UserError("thought.not_expected", stage=Msg(f"stage.{author.stage}"))
    if document is None:
        text = check_text(text, limit)
    else:
        check_document(document[1])
        text = text.strip()[:limit]
    report = ThoughtReport(
        member_id=author.id,
        branch_id=author.branch_id,
        stage=author.stage,
        body_enc=box.encrypt(text),
        attachment_enc=seal_attachment(box, *document) if document else None,
        submitted_at=now,
    )
    session.add(report)
    await session.flush()
    data = {"stage": author.stage, "document": document is not None}
    await SessionTracer(session, box, now, author.id).trace(
        "thought.submitted",
        branch_id=report.branch_id,
        member_id=report.member_id,
        ref=thought_ref(report.id),
        data=data,
    )
    note = Msg(
        "thought.new_note", name=author.name, stage=Msg(f"stage.{author.stage}"), id=report.id
    )
    read = Button(Msg("thought.read_button"), f"/thought_show {report.id}")
    readers = await readers_to_tell(session, author)
    await queue_to_members(
        session,
        readers,
        Reply(note, ((read,),)),
        key=f"{thought_ref(report.id)}:new",
        kind="thought.new",
        now=now,
        ref=thought_ref(report.id),
    )
    return report, len(readers)


async def _hand_in(ctx: Context, text: str) -> Reply:
    attachments = ctx.incoming.attachments
    document = (ctx.incoming.platform, attachments[0]) if attachments else None
    report, told = await hand_in(
        ctx.session,
        ctx.box,
        ctx.require_caller(),
        text=text,
        document=document,
        now=ctx.now,
        limit=ctx.options.max_text_length,
    )
    await ctx.end_flow()
    whom = Msg("thought.told", count=told) if told else Msg("thought.nobody_told")
    kind = Msg("thought.kind_document") if document else Msg("thought.kind_text")
    return Reply(Msg("thought.submitted", id=report.id, kind=kind, told=whom))


def _cancel_row() -> tuple[Button, ...]:
    return (Button(Msg("broadcast.cancel_button"), "/cancel"),)


# The router checks the whole message against Options.max_text_length; the report's own
# limits are checked in hand_in, with a message that names them.
@feature.command("thought", roles=EVERYONE, aliases=("思想汇报",), private_only=True, max_args=4096)
async def thought(ctx: Context, args: str) -> Replies:
    """`/thought TEXT` (or a document with /thought as its caption) hands in at once;
    bare `/thought` asks for the report."""
    member = ctx.require_caller()
    if not hands_in(member):
        raise UserError("thought.not_expected", stage=Msg(f"stage.{member.stage}"))
    if args or ctx.incoming.attachments:
        return await _hand_in(ctx, ctx.typed(args) if args else "")
    await ctx.start_flow(FLOW, "body")
    return Reply(Msg("thought.ask", least=MIN_TEXT), (_cancel_row(),))


@feature.flow(FLOW, roles=EVERYONE)
async def thought_step(ctx: Context, step: str, data: dict[str, Any], text: str) -> Replies:
    if ctx.incoming.callback_data is not None:  # a button left over from something else
        return Reply(Msg("thought.ask", least=MIN_TEXT), (_cancel_row(),))
    return await _hand_in(ctx, ctx.typed(text) if text else "")
