"""`branchbot report --view record`: a branch's annual records (党员日常管理记实) of a year, as
an Excel workbook with one sheet per member or (`--format pdf`) a ZIP of one PDF per member,
from handlers/record_year (the same as /record in chat); watermarked, written owner-only and
traced (data.exported, what: report.record, naming the members)."""

import io
import zipfile
from pathlib import Path

from bot.app.settings import Settings
from bot.cli.support import now, on_branch, renderer_for, run, say, traced_export, usage_error
from bot.reports.paper import paper_pdf
from bot.reports.paper_xlsx import papers_workbook
from handlers.core.i18n import Renderer
from handlers.core.messages import Msg, Paper, UserError
from handlers.record_year.figures import YearRecord, branch_records
from handlers.record_year.words import record_paper
from storage.files import write_private

SUFFIXES = {".xlsx": "xlsx", ".zip": "pdf"}


def record_report(
    settings: Settings, branch_name: str | None, year: int | None, fmt: str | None, out: Path
) -> None:
    if branch_name is None:
        raise usage_error(settings, "report.record_branch")
    fmt = fmt or SUFFIXES.get(out.suffix.lower())
    if fmt is None or fmt not in SUFFIXES.values():
        raise usage_error(settings, "report.record_format")
    content, count = run(settings, _records(settings, branch_name, year, fmt, out))
    write_private(out, content)
    say(settings, "report.record_written", count=count, path=out)


async def _records(
    settings: Settings, branch_name: str, year: int | None, fmt: str, out: Path
) -> tuple[bytes, int]:
    from bot.app.services import handler_options

    at = now()
    today = at.astimezone(settings.zone).date()
    year = year or today.year
    if year > today.year:
        raise UserError("report.record_future", year=year, now=today.year)
    async with on_branch(settings, branch_name) as (services, session, branch):
        records = await branch_records(
            session, services.box, branch, year, today, handler_options(settings)
        )
        members = [r.member.id for r in records]
        data = {"what": "report.record", "format": fmt, "branch": branch.name, "year": year,
                "rows": len(records), "members": members, "file": out.name}  # fmt: skip
        mark = await traced_export(session, services, at, branch.id, f"branch:{branch.id}", data)
        papers = [(_name(r), record_paper(services.box, r, mark)) for r in records]
        # Written before the transaction ends: a file that cannot be made leaves no trace.
        content = _written(fmt, renderer_for(settings), papers, mark)
    return content, len(records)


def _name(record: YearRecord) -> str:
    return f"{record.member.name}-{record.member.id}"


def _written(fmt: str, renderer: Renderer, papers: list[tuple[str, Paper]], mark: Msg) -> bytes:
    if fmt == "xlsx":
        who = renderer.render(mark.params["who"])
        return papers_workbook(renderer, papers, (who, renderer.render(mark)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, paper in papers:
            archive.writestr(f"{name}.pdf", paper_pdf(renderer, paper))
    return out.getvalue()
