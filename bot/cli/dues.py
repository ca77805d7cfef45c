"""CLI commands for party dues (党费): import a statement of payments."""

from pathlib import Path

import click

from bot.app.services import handler_options
from bot.app.settings import Settings
from bot.cli.support import now, on_branch, run_import, say, settings_from
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
    run_import(
        settings,
        _import(settings, file.name, file.read_bytes(), branch_name),
        "dues.import_invalid",
    )


async def _import(settings: Settings, name: str, raw: bytes, branch_name: str) -> None:
    options = handler_options(settings)
    async with on_branch(settings, branch_name) as (services, session, branch):
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
