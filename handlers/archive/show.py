"""/archive (档案): a member's archive, their own without a name; a secretary's, committee
member's or admin's view of someone else's is traced (data.viewed)."""

from handlers.archive.access import archive_member, may_change, may_fetch
from handlers.archive.feature import feature
from handlers.archive.lines import archive_lines, file_line
from handlers.core.context import Context
from handlers.core.messages import Msg, Reply
from handlers.core.registry import EVERYONE, Replies


@feature.command("archive", roles=EVERYONE, aliases=("档案", "党员档案"), private_only=True)
async def archive_command(ctx: Context, args: str) -> Replies:
    """`/archive NAME` shows a member's archive; bare `/archive` the caller's own."""
    caller = ctx.require_caller()
    member = await archive_member(ctx, args.strip())
    await ctx.trace_view_of(member, "archive", ref=f"member:{member.id}")
    lines, files = await archive_lines(ctx.session, ctx.box, member)
    if may_fetch(caller, member):
        shown_files = [file_line(f) for f in files] or [Msg("archive.no_files")]
    else:  # committee members: the scans may show an ID number
        shown_files = [Msg("archive.files_hidden", count=len(files))]
    hint = Msg("archive.keep_hint", name=member.name) if may_change(caller, member) else ""
    return Reply(
        Msg(
            "archive.view",
            name=member.name,
            id=member.id,
            lines=lines or [Msg("archive.empty_line")],
            files=shown_files,
            hint=hint,
        )
    )
