"""`branchbot member export` and `branchbot member import`: the roster file (花名册) out and
back in, as Excel, CSV or JSON (handlers/account/roster_format.py).

An export carries ID numbers and phones in clear, so it is written owner-only, watermarked
with who ran it and traced (data.exported); an import is all or nothing.
"""

import getpass
from datetime import timedelta
from pathlib import Path

import click

from bot.app.settings import Settings
from bot.cli.people import member_group
from bot.cli.support import (
    branch_named,
    now,
    opened,
    renderer_for,
    run,
    run_import,
    say,
    settings_from,
    traced_export,
    usage_error,
)
from handlers.account.changes import Editor
from handlers.account.roster import import_roster
from handlers.account.roster_export import roster_file, roster_records
from handlers.account.roster_format import Mark
from handlers.core.messages import Msg
from storage import people
from storage.files import write_private

FORMATS = ("xlsx", "csv", "json")


async def _import(
    settings: Settings, name: str, raw: bytes, branch_name: str | None, update: bool
) -> None:
    at = now()
    editor = Editor(None, getpass.getuser())
    async with opened(settings) as services, services.sessions.begin() as session:
        branch = await branch_named(session, branch_name) if branch_name else None
        imported = await import_roster(
            session,
            services.box,
            branch,
            name,
            raw,
            at,
            at.astimezone(settings.zone).date(),
            timedelta(days=settings.invite_ttl_days),
            editor=editor,
            update=update,
        )
    added = [i for i in imported if i.code is not None]
    say(settings, "roster.done", count=len(added), updated=len(imported) - len(added))
    for item in imported:
        if item.code is not None:
            say(
                settings,
                "roster.member_line",
                id=item.member.id,
                name=item.member.name,
                code=item.code,
            )
        else:
            fields = ", ".join(item.changed) or "-"
            say(
                settings,
                "roster.updated_line",
                id=item.member.id,
                name=item.member.name,
                fields=fields,
            )


@member_group.command("import")
@click.argument("roster", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--branch", "branch_name", help="Branch name; else each row's 所在党支部.")
@click.option(
    "--update", is_flag=True, help="Update members already on the roster (same 学号/工号)."
)
@click.pass_context
def member_import(ctx: click.Context, roster: Path, branch_name: str | None, update: bool) -> None:
    """Import a roster (XLSX, CSV or JSON) all or nothing; prints each new member's invite code."""
    settings = settings_from(ctx)
    coro = _import(settings, roster.name, roster.read_bytes(), branch_name, update)
    run_import(settings, coro, "roster.invalid")


@member_group.command("export")
@click.option("--branch", "branch_name", help="The branch whose roster to export.")
@click.option("--all", "all_branches", is_flag=True, help="Every branch that is not archived.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None, help="Else from -o.")
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.pass_context
def member_export(
    ctx: click.Context,
    branch_name: str | None,
    all_branches: bool,
    fmt: str | None,
    out: Path | None,
) -> None:
    """Write the roster with every field (ID numbers in clear: owner-only, traced)."""
    settings = settings_from(ctx)
    if (branch_name is None) == (not all_branches):
        raise usage_error(settings, "roster.export_which")
    fmt = fmt or (out.suffix.lower().lstrip(".") if out else "xlsx")
    if fmt not in FORMATS:
        raise usage_error(settings, "cli.export_format")
    stamp = now().astimezone(settings.zone).date().isoformat()
    out = out or Path(f"roster-{stamp}.{fmt}")
    content, count = run(settings, _export(settings, branch_name, fmt, out))
    write_private(out, content)
    say(settings, "roster.exported", count=count, path=out)


async def _export(
    settings: Settings, branch_name: str | None, fmt: str, out: Path
) -> tuple[bytes, int]:
    at = now()
    async with opened(settings) as services, services.sessions.begin() as session:
        if branch_name is not None:
            branches = [await branch_named(session, branch_name)]
        else:
            branches = [b for b in await people.all_branches(session) if b.archived_at is None]
        records = await roster_records(session, services.box, branches, sections=fmt == "json")
        one = branches[0] if branch_name is not None else None
        data = {
            "what": "roster",
            "format": fmt,
            "branch": one.name if one else None,
            "branches": len(branches),
            "rows": len(records),
            "file": out.name,
        }
        ref = f"branch:{one.id}" if one else "roster:all"
        mark = await traced_export(session, services, at, one.id if one else None, ref, data)
    render = renderer_for(settings).render
    line = f"{render(mark)} {render(Msg('roster.sensitive'))}"
    content = roster_file(
        fmt,
        records,
        Mark(render(mark.params["who"]), line),
        branches,
        at.astimezone(settings.zone).isoformat(),
    )
    return content, len(records)
