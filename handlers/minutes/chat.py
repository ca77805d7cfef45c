"""`/minutes 会议编号` (会议记录): the topics, the host, the text or a Word/PDF document, then
photos, step by step; again for a correction (a new version, with what was corrected).
`/minutes_show 会议编号 [版本]` reads them; `/recorder 会议编号 姓名` names the recorder."""

from pathlib import PurePosixPath
from typing import Any

from handlers.common.lookup import find_member
from handlers.core.context import Context, FileUnavailable
from handlers.core.incoming import Attachment
from handlers.core.messages import Denied, FileOut, Msg, Reply, Series, UserError
from handlers.core.notify import queue_to_members
from handlers.core.registry import EVERYONE, SECRETARY_UP, Replies
from handlers.minutes.access import may_read, may_write, meeting_of
from handlers.minutes.feature import feature
from storage import access, meetings, minutes
from storage.minutes_models import Minutes
from storage.models import Meeting

FLOW = "minutes"
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_TOPICS = 20
DOCUMENTS = {".doc": "application/msword", ".pdf": "application/pdf", ".txt": "text/plain"}
DOCUMENTS[".docx"] = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SKIP = frozenset({"跳过", "无", "skip", "-"})
DONE = frozenset({"完成", "好了", "结束", "done"})


@feature.command("recorder", roles=SECRETARY_UP, aliases=("记录人",), private_only=True)
async def recorder(ctx: Context, args: str) -> Replies:
    """Name who records a meeting's minutes; they are told and may hand them in."""
    tokens = args.split(maxsplit=1)
    meeting = await meeting_of(ctx, args, "cmd.recorder.usage")
    if len(tokens) < 2:
        raise UserError("usage", usage=Msg("cmd.recorder.usage"))
    person = await find_member(ctx, tokens[1].strip())
    meeting.recorder_id = person.id
    await ctx.trace("minutes.recorder_named", member_id=person.id, ref=f"meeting:{meeting.id}")
    told = Reply(Msg("minutes.told_recorder", id=meeting.id, title=meeting.title))
    key = f"minutes-recorder:{meeting.id}:{person.id}"
    await queue_to_members(ctx.session, [person.id], told, key=key, kind="minutes", now=ctx.now)
    return Reply(Msg("minutes.recorder_named", id=meeting.id, name=person.name))


@feature.command("minutes", roles=EVERYONE, aliases=("会议记录",), private_only=True)
async def minutes_command(ctx: Context, args: str) -> Replies:
    """Hand in (or correct) a meeting's minutes, step by step."""
    meeting = await meeting_of(ctx, args, "cmd.minutes.usage")
    caller = ctx.require_caller()
    if not may_write(caller, meeting):
        raise Denied(
            "minutes.not_writer", target=f"meeting:{meeting.id}", exists=True, id=meeting.id
        )
    if meeting.starts_at > ctx.now:
        raise UserError("minutes.not_begun", id=meeting.id, at=meeting.starts_at)
    current = await minutes.latest(ctx.session, meeting.id)
    data: dict[str, Any] = {"meeting": meeting.id}
    if current is not None:
        await ctx.start_flow(FLOW, "note", data)
        return Reply(Msg("minutes.ask_note", id=meeting.id, version=current.version))
    await ctx.start_flow(FLOW, "topics", data)
    return Reply(Msg("minutes.ask_topics", id=meeting.id, title=meeting.title))


@feature.flow(FLOW, roles=EVERYONE)
async def minutes_flow(ctx: Context, step: str, data: dict[str, Any], text: str) -> Replies:
    meeting = await meetings.get(ctx.session, data["meeting"])
    if meeting is None or not may_write(ctx.require_caller(), meeting):
        await ctx.end_flow()
        raise UserError("minutes.gone")
    if step == "note":
        return await _next(
            ctx,
            data | {"note": _short(ctx, text, 200, "minutes.empty_note")},
            "topics",
            Msg("minutes.ask_topics", id=meeting.id, title=meeting.title),
        )
    if step == "topics":
        topics = [t.strip() for t in ctx.typed(text).replace(";", "；").split("；") if t.strip()]
        if not topics or len(topics) > MAX_TOPICS or any(len(t) > 100 for t in topics):
            return Reply(Msg("minutes.bad_topics", most=MAX_TOPICS))
        return await _next(ctx, data | {"topics": topics}, "host", Msg("minutes.ask_host"))
    if step == "host":
        host = None if text.strip() in SKIP else (await find_member(ctx, text.strip())).id
        return await _next(ctx, data | {"host": host}, "body", Msg("minutes.ask_body"))
    if step == "body":
        saved = await _save(ctx, meeting, data, text)
        await ctx.start_flow(FLOW, "photos", {"meeting": meeting.id})
        return Reply(
            Msg("minutes.saved", id=meeting.id, version=saved.version, topics=len(saved.topics))
        )
    return await _photo(ctx, meeting, text)


async def _next(ctx: Context, data: dict[str, Any], step: str, ask: Msg) -> Reply:
    await ctx.start_flow(FLOW, step, data)
    return Reply(ask)


def _short(ctx: Context, text: str, limit: int, empty: str) -> str:
    typed = ctx.typed(text).strip()
    if not typed:
        raise UserError(empty)
    if len(typed) > limit:
        raise UserError("minutes.too_long", limit=limit)
    return typed


async def _save(ctx: Context, meeting: Meeting, data: dict[str, Any], text: str) -> Minutes:
    """The next version, from the text typed or the document sent."""
    attachments = ctx.incoming.attachments
    body = ctx.typed(text).strip()
    name = mime = None
    content: bytes | None = None
    if attachments:
        name, mime = _document(attachments[0])
        content = await _fetch(ctx, attachments[0])
    elif not body:
        raise UserError("minutes.empty_body")
    versions = await minutes.versions(ctx.session, meeting.id)
    row = Minutes(
        meeting_id=meeting.id,
        version=len(versions) + 1,
        body_enc=ctx.box.encrypt(body) if body else None,
        document_name=name,
        document_mime=mime,
        document_enc=ctx.box.encrypt_bytes(content) if content is not None else None,
        topics=list(data["topics"]),
        host_id=data.get("host"),
        recorder_id=meeting.recorder_id or ctx.require_caller().id,
        note=data.get("note", ""),
        submitted_by=ctx.require_caller().id,
        submitted_at=ctx.now,
    )
    ctx.session.add(row)
    await ctx.session.flush()
    trace_data: dict[str, Any] = {
        "version": row.version,
        "topics": len(row.topics),
        "document": name is not None,
    }
    if row.version > 1:
        trace_data["note"] = row.note
    await ctx.trace("minutes.submitted", ref=f"meeting:{meeting.id}", data=trace_data)
    return row


def _document(attachment: Attachment) -> tuple[str, str]:
    suffix = PurePosixPath(attachment.file_name or "").suffix.lower()
    if attachment.kind != "document" or suffix not in DOCUMENTS:
        raise UserError("minutes.bad_document", suffixes=" ".join(DOCUMENTS))
    return (attachment.file_name or f"minutes{suffix}")[-200:], DOCUMENTS[suffix]


async def _fetch(ctx: Context, attachment: Attachment) -> bytes:
    if attachment.size is not None and attachment.size > MAX_FILE_BYTES:
        raise UserError("minutes.too_big", limit=MAX_FILE_BYTES // (1024 * 1024))
    try:
        return await ctx.fetch_file(ctx.incoming.platform, attachment, MAX_FILE_BYTES)
    except FileUnavailable:
        raise UserError("minutes.fetch_failed", limit=MAX_FILE_BYTES // (1024 * 1024)) from None


async def _photo(ctx: Context, meeting: Meeting, text: str) -> Reply:
    """A photo of the meeting kept; 完成 ends the step."""
    attachments = ctx.incoming.attachments
    if not attachments:
        if text.strip() in DONE:
            await ctx.end_flow()
            count = len(await minutes.photos(ctx.session, meeting.id))
            return Reply(Msg("minutes.done", id=meeting.id, photos=count))
        return Reply(Msg("minutes.ask_photos"))
    attachment = attachments[0]
    if attachment.kind != "photo" and not (attachment.mime_type or "").startswith("image/"):
        return Reply(Msg("minutes.not_a_photo"))
    content = await _fetch(ctx, attachment)
    mime = attachment.mime_type or "image/jpeg"
    name = (attachment.file_name or f"photo-{meeting.id}.jpg")[-200:]
    caller = ctx.require_caller()
    photo = await minutes.add_photo(
        ctx.session, ctx.box, meeting.id, name, mime, content, caller.id, ctx.now
    )
    await ctx.trace(
        "minutes.photo_added",
        ref=f"meeting:{meeting.id}",
        data={"photo": photo.id, "size": photo.size, "sha256": photo.sha256},
    )
    count = len(await minutes.photos(ctx.session, meeting.id))
    return Reply(Msg("minutes.photo_kept", count=count))


@feature.command("minutes_show", roles=EVERYONE, aliases=("查看会议记录",), private_only=True)
async def minutes_show(ctx: Context, args: str) -> Replies:
    """A meeting's minutes (the current version, or the one asked for), with the photos."""
    meeting = await meeting_of(ctx, args, "cmd.minutes_show.usage")
    if not may_read(ctx.require_caller(), meeting):
        raise Denied(
            "minutes.not_reader", target=f"meeting:{meeting.id}", exists=True, id=meeting.id
        )
    found = await minutes.versions(ctx.session, meeting.id)
    if not found:
        return Reply(Msg("minutes.none", id=meeting.id))
    tokens = args.split()
    wanted = found[-1]
    if len(tokens) > 1:
        number = tokens[1].lstrip("vV第").rstrip("版")
        chosen = [v for v in found if str(v.version) == number]
        if not chosen:
            raise UserError("minutes.no_version", id=meeting.id, versions=len(found))
        wanted = chosen[0]
    photos = await minutes.photos(ctx.session, meeting.id)
    names = await access.names(ctx.session, [i for i in (wanted.host_id, wanted.recorder_id) if i])
    body = ctx.box.decrypt(wanted.body_enc) or ""
    reply = Reply(
        Msg(
            "minutes.view",
            id=meeting.id,
            title=meeting.title,
            kind=Msg(f"kind.{meeting.kind}"),
            at=meeting.starts_at,
            version=wanted.version,
            versions=len(found),
            note=Msg("minutes.correction", note=wanted.note) if wanted.note else "",
            host=names.get(wanted.host_id or 0, "-"),
            recorder=names.get(wanted.recorder_id or 0, "-"),
            topics=Series(wanted.topics),
            body=body or Msg("minutes.in_document", name=wanted.document_name or "-"),
            photos=len(photos),
        )
    )
    if wanted.document_enc is not None and wanted.document_name:
        content = ctx.box.decrypt_bytes(wanted.document_enc)
        document = FileOut(wanted.document_name, content, wanted.document_mime or FileOut.mime)
        return [reply, Reply(file=document)]
    return reply
