"""`branchbot member archive NAME` prints a member's archive (党员档案), traced as a view by
the OS user; `branchbot member archive-add NAME KIND DETAILS… [--scan FILE]` adds an entry
(and a scan with it), as `/archive_add` does in chat."""

import getpass
import mimetypes
from pathlib import Path

import click

from bot.cli.people import member_group
from bot.cli.support import member_named, now, opened, renderer_for, run, settings_from
from handlers.account.changes import Editor
from handlers.archive.domain import Scan, add_entry, check_scan, keep_scan
from handlers.archive.lines import archive_lines, entry_line, file_line
from handlers.archive.parse import parse_entry, parse_kind
from handlers.core.incoming import Attachment
from handlers.core.messages import Msg
from handlers.core.tracer import SessionTracer


@member_group.command("archive")
@click.argument("name")
@click.option("--branch", "branch_name", help="Their branch, when the name is not unique.")
@click.pass_context
def member_archive(ctx: click.Context, name: str, branch_name: str | None) -> None:
    """Print a member's archive: entries and scans (traced as a view)."""
    settings = settings_from(ctx)

    async def go() -> Msg:
        async with opened(settings) as services, services.sessions.begin() as session:
            member = await member_named(session, name, branch_name)
            lines, files = await archive_lines(session, services.box, member)
            data = {"what": "archive", "via": "cli", "by": getpass.getuser()}
            await SessionTracer(session, services.box, now(), None).trace(
                "data.viewed", branch_id=member.branch_id, member_id=member.id, data=data
            )
            return Msg(
                "archive.view",
                name=member.name,
                id=member.id,
                lines=lines or [Msg("archive.empty_line")],
                files=[file_line(f) for f in files] or [Msg("archive.no_files")],
                hint="",
            )

    click.echo(renderer_for(settings).render(run(settings, go())))


@member_group.command("archive-add")
@click.argument("name")
@click.argument("kind")
@click.argument("details", nargs=-1, required=True)
@click.option("--branch", "branch_name", help="Their branch, when the name is not unique.")
@click.option("--scan", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="An image or PDF to keep with the new entry (encrypted).")  # fmt: skip
@click.pass_context
def member_archive_add(
    ctx: click.Context,
    name: str,
    kind: str,
    details: tuple[str, ...],
    branch_name: str | None,
    scan: Path | None,
) -> None:
    """Add an entry, e.g. 张三 奖励 2024-05-01 校级 优秀共产党员 依据：校党委5号."""
    settings = settings_from(ctx)
    editor = Editor(None, getpass.getuser())
    content = scan.read_bytes() if scan is not None else b""

    async def go() -> Msg:
        at = now()
        new = parse_entry(parse_kind(kind), " ".join(details), at.astimezone(settings.zone).date())
        async with opened(settings) as services, services.sessions.begin() as session:
            member = await member_named(session, name, branch_name)
            entry = await add_entry(session, services.box, member, new, at, editor)
            if scan is not None:
                mime = mimetypes.guess_type(scan.name)[0]
                found = Attachment("document", "", scan.name, mime, len(content))
                file_name, mime = check_scan(found)
                kept = Scan(file_name, mime, content)
                await keep_scan(session, services.box, member, kept, entry, at, editor)
            line = entry_line(services.box, entry, 1 if scan else 0)
            return Msg("archive.added", name=member.name, line=line, id=entry.id)

    click.echo(renderer_for(settings).render(run(settings, go())))
