"""`branchbot ledger`: a branch's year as its ledger (台账) in Word, PDF or JSON
(bot/reports/ledger/), written owner-only, watermarked and traced (data.exported)."""

from pathlib import Path

import click

from bot.app.settings import Settings
from bot.cli.support import now, on_branch, renderer_for, run, say, settings_from, traced_export
from bot.reports.ledger import FORMATS, ledger_file
from handlers.common.periods import YEARS
from handlers.orglife.ledger import build_ledger
from storage.files import write_private


@click.command("ledger")
@click.option("--branch", "branch_name", required=True, help="The branch.")
@click.option("--year", type=click.IntRange(*YEARS), required=True, help="The calendar year.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None, help="Else from -o.")
@click.option("-o", "--out", "out", default=None, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def ledger(
    ctx: click.Context, branch_name: str, year: int, fmt: str | None, out: Path | None
) -> None:
    """Write a branch's ledger (台账) for a year: how often each kind of meeting was held, and
    every meeting with its attendance, minutes, photos and votes."""
    settings = settings_from(ctx)
    if fmt is None:
        fmt = out.suffix.lower().lstrip(".") if out is not None else ""
        if fmt not in FORMATS:
            raise click.UsageError(renderer_for(settings).render_key("cli.ledger_format"))
    target = out or Path(f"ledger-{branch_name}-{year}.{fmt}")
    content, count = run(settings, _ledger(settings, branch_name, year, fmt, target))
    write_private(target, content)
    say(settings, "cli.ledger_written", year=year, count=count, path=target)


async def _ledger(
    settings: Settings, branch_name: str, year: int, fmt: str, out: Path
) -> tuple[bytes, int]:
    at = now()
    async with on_branch(settings, branch_name) as (services, session, branch):
        book = await build_ledger(session, services.box, branch, year, at, settings.zone)
        data = {"what": "ledger", "format": fmt, "branch": branch.name, "year": year}
        mark = await traced_export(
            session, services, at, branch.id, f"branch:{branch.id}", {**data, "file": out.name}
        )
        # Written before the transaction ends: a file that cannot be made leaves no trace.
        content, _ = ledger_file(fmt, renderer_for(settings), book, mark)
    return content, len(book.meetings)
