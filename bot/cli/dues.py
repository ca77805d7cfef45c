"""CLI commands for party dues (党费): import a statement of payments."""

from pathlib import Path

import click

from bot.app.services import handler_options
from bot.app.settings import Settings
from bot.cli.support import branch_named, now, opened, report_rows, run, say, settings_from
from handlers.common.tables import RowsInvalid
from handlers.dues import import_dues
from handlers.dues.money import yuan
from handlers.dues.settings import DuesSettings


@click.group("dues")
def dues_group() -> None:
    """Party dues (党费): import a statement of payments."""


@dues_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--branch", "branch_name", required=True, help="Branch name.")
@click.pass_context
def dues_import(ctx: click.Context, file: Path, branch_name: str) -> None:
    """Record the payments in a CSV or XLSX statement, all or nothing (every bad row is
    listed by line)."""
    settings = settings_from(ctx)
    try:
        run(settings, _import(settings, file.name, file.read_bytes(), branch_name))
    except RowsInvalid as err:
        report_rows(settings, err, "dues.import_invalid")


async def _import(settings: Settings, name: str, raw: bytes, branch_name: str) -> None:
    options = handler_options(settings)
    async with opened(settings) as services, services.sessions.begin() as session:
        branch = await branch_named(session, branch_name)
        result = await import_dues(
            session,
            services.box,
            branch,
            name,
            raw,
            now(),
            default_fen=options.of(DuesSettings).default_fen,
            zone=options.timezone,
        )
    say(
        settings,
        "dues.imported",
        branch=branch.name,
        name=name,
        rows=result.rows,
        members=result.members,
        total=yuan(result.total_fen),
    )
