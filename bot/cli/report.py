"""`branchbot report`: the scorecard (bot/cli/scorecard.py), the members' annual records with
`--view record` (bot/cli/record.py), or with `--view candidates|awards` the side-by-side table
as Excel, CSV or JSON.

The figures come from handlers/pipeline/candidates.py (the same as /candidates in chat); the
headers, the meaning of each column and the checklist wording are rendered here, in the
configured language. Every export is traced (data.exported).
"""

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import click

from bot.app.settings import Settings
from bot.cli.record import record_report
from bot.cli.scorecard import scorecard_report
from bot.cli.support import (
    now,
    on_branch,
    renderer_for,
    run,
    say,
    settings_from,
    traced_export,
    usage_error,
)
from handlers.common.cells import csv_bytes
from handlers.common.periods import YEARS, Period
from handlers.core.context import Options
from handlers.core.i18n import Renderer
from handlers.core.messages import Msg
from handlers.pipeline.candidates import BY_KEY, COLUMNS, SORT_WORDS, Column, sort_rows, table
from handlers.pipeline.evidence import Evidence
from handlers.pipeline.rules import rule_set
from handlers.pipeline.view import check_line
from storage.files import write_private

FORMATS = {".json": "json", ".csv": "csv", ".xlsx": "xlsx"}
SCORECARD_FORMATS = ("xlsx", "csv", "json", "png")


@click.command("report")
@click.option("--branch", "branch_name", default=None, help="The branch to report on.")
@click.option(
    "--all-branches", "all_branches", is_flag=True, help="Scorecards of every branch, side by side."
)
@click.option(
    "--view",
    type=click.Choice(["scorecard", "candidates", "awards", "record"]),
    default=None,
    help="scorecard: the evaluation (考评表); candidates: activists, for proposing 发展对象; "
    "awards: members, for 评优/民主评议; record: each member's annual record (党员日常管理记实). "
    "Without --view: the record when --year is given, the scorecard when --period, "
    "--format or --all-branches is, else candidates (as before).",
)
@click.option("--period", "period_text", default=None, help="2026-09..2026-12, month, term, year.")
@click.option("--year", type=click.IntRange(*YEARS), default=None, help="The record's year.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice((*SCORECARD_FORMATS, "pdf")),
    default=None,
    help="Else from OUT (pdf: the records, one PDF each in a ZIP).",
)
@click.option("--force", is_flag=True, help="Write the scorecard even from a broken trace chain.")
@click.option("--sort", "sort_by", default=None, help="A column key or its Chinese name.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def report(
    ctx: click.Context,
    branch_name: str | None,
    all_branches: bool,
    view: str | None,
    period_text: str | None,
    year: int | None,
    fmt: str | None,
    force: bool,
    sort_by: str | None,
    out: Path,
) -> None:
    """Write a branch's scorecard (the members' annual records, or the side-by-side evidence
    table) to OUT."""
    settings = settings_from(ctx)
    if view is None and year is not None:
        view = "record"
    if view is None:
        asked = period_text is not None or fmt is not None or all_branches
        view = "scorecard" if asked or out.suffix.lower() == ".png" else "candidates"
    if view == "record":
        record_report(settings, branch_name, year, fmt, out)
        return
    if fmt == "pdf":
        raise usage_error(settings, "report.pdf_records_only")
    if view == "scorecard":
        scorecard_report(settings, branch_name, all_branches, period_text, fmt, force, out)
        return
    if branch_name is None:
        raise usage_error(settings, "evaluation.cli_branch")
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise usage_error(settings, "cli.export_format")
    key = SORT_WORDS.get(sort_by or "", "name" if sort_by is None else "")
    if not key:
        raise usage_error(settings, "report.bad_sort", value=sort_by)
    content, count = run(settings, _report(settings, branch_name, view, BY_KEY[key], fmt, out))
    write_private(out, content)
    say(settings, "cli.exported", count=count, path=out)


async def _report(
    settings: Settings, branch_name: str, view: str, column: Column, fmt: str, out: Path
) -> tuple[bytes, int]:
    from bot.app.services import handler_options

    options: Options = handler_options(settings)
    at = now()
    today = at.astimezone(settings.zone).date()
    async with on_branch(settings, branch_name) as (services, session, branch):
        period, rows = await table(session, branch.id, view, today, options)
        ordered = sort_rows(rows, column, today)
        renderer = renderer_for(settings)
        mark = await traced_export(
            session,
            services,
            at,
            branch.id,
            f"branch:{branch.id}",
            {"what": f"report.{view}", "format": fmt, "rows": len(rows), "file": out.name},
        )
        content = _write(fmt, renderer, ordered, today, period, view, branch.name, mark)
    return content, len(ordered)


def _cells(row: Evidence, today: date) -> list[Any]:
    return [column.value(row, today) for column in COLUMNS]


def _shown(renderer: Renderer, column: Column, value: Any) -> Any:
    if column.key == "stage":
        return renderer.render(Msg(f"stage.{value}"))
    return value


@dataclass(frozen=True)
class Report:
    """What one report file holds, whatever its format."""

    renderer: Renderer
    rows: list[Evidence]
    today: date
    period: Period
    view: str
    branch: str
    mark: Msg

    def render(self, msg: Msg) -> str:
        return self.renderer.render(msg)

    @property
    def headers(self) -> list[str]:
        return [self.render(Msg(f"candidates.col.{c.key}")) for c in COLUMNS]

    @property
    def values(self) -> list[list[Any]]:
        return [
            [
                _shown(self.renderer, c, v)
                for c, v in zip(COLUMNS, _cells(r, self.today), strict=True)
            ]
            for r in self.rows
        ]


def _write(
    fmt: str,
    renderer: Renderer,
    rows: list[Evidence],
    today: date,
    period: Period,
    view: str,
    branch: str,
    mark: Msg,
) -> bytes:
    """The report in its format, each carrying the watermark: a field of the JSON, the first
    line of the CSV, a line of the workbook's notes and its properties."""
    report = Report(renderer, rows, today, period, view, branch, mark)
    return {"json": _json, "csv": _csv, "xlsx": _xlsx}[fmt](report)


def _json(report: Report) -> bytes:
    records = [
        {
            **{c.key: v for c, v in zip(COLUMNS, _cells(r, report.today), strict=True)},
            "checks": [
                {"rule": c.rule.id, "status": str(c.status), "detail": report.render(c.detail)}
                for c in r.checks
            ],
        }
        for r in report.rows
    ]
    meta = {
        "watermark": report.render(report.mark),
        "branch": report.branch,
        "view": report.view,
        "since": report.period.since.isoformat(),
        "until": report.today.isoformat(),
    }
    return json.dumps({**meta, "rows": records}, ensure_ascii=False, indent=2).encode()


def _csv(report: Report) -> bytes:
    return csv_bytes([[report.render(report.mark)], report.headers, *report.values])


def _xlsx(report: Report) -> bytes:
    from bot.reports.xlsx import workbook

    line = report.render(report.mark)
    period = Msg(
        "report.period",
        branch=report.branch,
        view=Msg(f"candidates.view_{report.view}"),
        since=report.period.since,
        until=report.today,
    )
    rules = rule_set()
    notes = [
        report.render(Msg("report.disclaimer")),
        report.render(period),
        report.render(Msg("report.rules", version=rules.version, basis=rules.basis)),
        line,
    ]
    meanings = [
        (
            report.render(Msg(f"candidates.col.{c.key}")),
            report.render(Msg(f"candidates.meaning.{c.key}")),
        )
        for c in COLUMNS
    ]
    checks = [(r.member.name, report.render(check_line(c))) for r in report.rows for c in r.checks]
    labels = {
        name: report.render(Msg(f"report.sheet_{name}")) for name in ("table", "checks", "notes")
    }
    percent = [i for i, c in enumerate(COLUMNS) if c.percent]
    author = report.render(report.mark.params["who"])
    return workbook(
        labels, report.headers, report.values, percent, checks, notes, meanings, (author, line)
    )
