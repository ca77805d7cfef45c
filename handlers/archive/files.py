"""/archive_file (档案附件): keep a scan (a photo, an image or a PDF) with a member or one of
their entries, sent with the command as its caption or after it; /archive_get (查看附件)
sends a kept scan back to whoever may open it (traced as a view of someone else's)."""

from typing import Any

from handlers.account.changes import Editor
from handlers.archive.access import archive_member, changeable_entry, fetchable_file
from handlers.archive.domain import MAX_FILE_BYTES, Scan, check_scan, keep_scan
from handlers.archive.feature import feature
from handlers.core.context import Context, FileUnavailable
from handlers.core.messages import Button, FileOut, Msg, Reply, UserError
from handlers.core.parsing import parse_id
from handlers.core.registry import EVERYONE, SECRETARY_UP, Replies
from storage.archive import file_ref
from storage.models import Member
from storage.roster_models import ArchiveEntry

FLOW = "archive_file"


@feature.command("archive_file", roles=SECRETARY_UP, aliases=("档案附件",), private_only=True)
async def archive_file(ctx: Context, args: str) -> Replies:
    """`/archive_file NAME [ENTRY]` as a file's caption keeps it; without a file, asks."""
    name, _, rest = args.strip().partition(" ")
    if not name:
        raise UserError("usage", usage=Msg("cmd.archive_file.usage"))
    member = await archive_member(ctx, name, change=True)
    entry = await _entry_of(ctx, member, rest.strip())
    if ctx.incoming.attachments:
        return await _keep(ctx, member, entry)
    data = {"member": member.id, "entry": entry.id if entry else None}
    await ctx.start_flow(FLOW, "file", data)
    cancel = (Button(Msg("broadcast.cancel_button"), "/cancel"),)
    limit = MAX_FILE_BYTES // (1024 * 1024)
    return Reply(Msg("archive.ask_file", name=member.name, limit=limit), (cancel,))


@feature.flow(FLOW, roles=SECRETARY_UP)
async def archive_file_flow(ctx: Context, step: str, data: dict[str, Any], text: str) -> Replies:
    """The file itself; anything else is answered with what is expected."""
    member = await archive_member(ctx, f"#{data['member']}", change=True)
    entry = await changeable_entry(ctx, int(data["entry"])) if data.get("entry") else None
    if not ctx.incoming.attachments:
        raise UserError("archive.no_attachment", limit=MAX_FILE_BYTES // (1024 * 1024))
    return await _keep(ctx, member, entry)


async def _entry_of(ctx: Context, member: Member, text: str) -> ArchiveEntry | None:
    """The entry named by number (`12` or `#12`), which must be the member's."""
    if not text:
        return None
    number = parse_id(text.removeprefix("#"))
    if number is None:
        raise UserError("usage", usage=Msg("cmd.archive_file.usage"))
    entry = await changeable_entry(ctx, number)
    if entry.member_id != member.id:
        raise UserError("archive.not_their_entry", id=number, name=member.name)
    return entry


async def _keep(ctx: Context, member: Member, entry: ArchiveEntry | None) -> Reply:
    attachment = ctx.incoming.attachments[0]
    name, mime = check_scan(attachment)
    try:
        content = await ctx.fetch_file(ctx.incoming.platform, attachment, MAX_FILE_BYTES)
    except FileUnavailable:
        raise UserError("archive.fetch_failed", limit=MAX_FILE_BYTES // (1024 * 1024)) from None
    scan = Scan(name, mime, content)
    editor = Editor(ctx.require_caller())
    kept = await keep_scan(ctx.session, ctx.box, member, scan, entry, ctx.now, editor)
    await ctx.end_flow()
    where = Msg("archive.file_of_entry", id=entry.id) if entry else ""
    return Reply(
        Msg("archive.file_kept", name=member.name, id=kept.id, file=kept.name, entry=where)
    )


@feature.command(
    "archive_get", roles=EVERYONE, aliases=("查看附件",), private_only=True, hidden=True
)
async def archive_get(ctx: Context, args: str) -> Replies:
    """`/archive_get f3` (or 3): the scan, as a file."""
    text = args.strip().lower()
    for prefix in ("文件", "附件", "f", "#"):
        text = text.removeprefix(prefix)
    number = parse_id(text)
    if number is None:
        raise UserError("usage", usage=Msg("cmd.archive_get.usage"))
    kept = await fetchable_file(ctx, number)
    member = await ctx.session.get(Member, kept.member_id)
    assert member is not None  # the access check found them
    await ctx.trace_view_of(member, "archive_file", ref=file_ref(kept.id))
    content = ctx.box.decrypt_bytes(kept.content_enc)
    caption = Msg("archive.file_sent", id=kept.id, name=member.name, file=kept.name)
    return Reply(caption, file=FileOut(kept.name, content, kept.mime))
