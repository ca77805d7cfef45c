"""`branchbot report --view scorecard`: a branch's scorecard (or every branch's, side by side)
as Excel, CSV, JSON or PNG, with the export's watermark; traced as data.exported.

A broken trace chain stops the report (exit 3) unless --force, and then the file says so."""

from pathlib import Path

import click

from bot.app.settings import Settings
from bot.cli.support import branch_named, fail, now, opened, renderer_for, run, say, traced_export
from bot.reports.scorecard import scorecard_file
from handlers.common.periods import parse_period
from handlers.core.context import Options
from handlers.core.messages import Msg
from handlers.evaluation.school import school_report
from handlers.evaluation.scorecard import BranchScorecard, branch_scorecard
from handlers.evaluation.text import chain_warning
from storage.files import write_private

SUFFIXES = {".xlsx": "xlsx", ".csv": "csv", ".json": "json", ".png": "png"}
CHAIN_BROKEN_EXIT = 3


class BrokenChain(Exception):
    def __init__(self, warning: Msg) -> None:
        self.warning = warning


def scorecard_report(
    settings: Settings,
    branch_name: str | None,
    all_branches: bool,
    period_text: str | None,
    fmt: str | None,
    force: bool,
    out: Path,
) -> None:
    if (branch_name is None) == (not all_branches):
        raise click.UsageError(renderer_for(settings).render(Msg("evaluation.cli_branch")))
    fmt = fmt or SUFFIXES.get(out.suffix.lower())
    if fmt is None:
        raise click.UsageError(renderer_for(settings).render(Msg("evaluation.cli_format")))
    try:
        content, cards = run(
            settings, _scorecards(settings, branch_name, period_text or "term", fmt, force, out)
        )
    except BrokenChain as broken:
        fail(settings, Msg("evaluation.cli_refused", warning=broken.warning), CHAIN_BROKEN_EXIT)
    write_private(out, content)
    warning = chain_warning(cards[0].chain) if cards else None
    if warning is not None:
        say(settings, "evaluation.cli_forced", err=True, warning=warning)
    count = sum(len(c.members) for c in cards)
    say(settings, "evaluation.cli_written", branches=len(cards), count=count, path=out)


async def _scorecards(
    settings: Settings,
    branch_name: str | None,
    period_text: str,
    fmt: str,
    force: bool,
    out: Path,
) -> tuple[bytes, list[BranchScorecard]]:
    from bot.app.services import handler_options

    options: Options = handler_options(settings)
    at = now()
    today = at.astimezone(settings.zone).date()
    period = parse_period(period_text, today)
    async with opened(settings) as services, services.sessions.begin() as session:
        if branch_name is not None:
            branch = await branch_named(session, branch_name)
            cards = [
                await branch_scorecard(
                    session, services.box, branch.id, period, options, today=today
                )
            ]
            branch_id: int | None = branch.id
        else:
            cards, branch_id = (
                await school_report(session, services.box, period, options, today=today),
                None,
            )
        warning = chain_warning(cards[0].chain) if cards else None
        if warning is not None and not force:
            raise BrokenChain(warning)
        mark = await traced_export(
            session,
            services,
            at,
            branch_id,
            f"branch:{branch_id}" if branch_id else "branches",
            {
                "what": "report.scorecard",
                "format": fmt,
                "period": period.label,
                "branches": len(cards),
                "file": out.name,
                "chain_ok": warning is None,
            },
        )
        content, _ = scorecard_file(fmt, renderer_for(settings), cards, mark)
    return content, cards
