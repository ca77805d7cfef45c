"""A paper (handlers/core/messages.py Paper: a document handlers describe in Msgs) written as
PDF on the house page in the reader's language, its watermark on every page and in the
document's properties; and the replies of an update with their papers written (the adapters'
Services.answer). The workbook form is in paper_xlsx.py.

PDF needs the `documents` extra (fpdf2), imported when a PDF is first written.
"""

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from handlers.core.extras import MissingExtra, optional_part
from handlers.core.i18n import Renderer
from handlers.core.messages import FileOut, Msg, Paper, PaperPart, Reply

log = logging.getLogger(__name__)
PDF = "application/pdf"


@dataclass(frozen=True)
class Words:
    """A part of a paper in words: its title, its lines, its table (headings first)."""

    title: str
    lines: list[str]
    table: list[list[str | int | float]]  # numbers stay numbers (a workbook sums them)


def _cell(renderer: Renderer, value: object) -> str | int | float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return renderer.value(value)


def words(renderer: Renderer, part: PaperPart) -> Words:
    table = []
    if part.table is not None:
        table = [
            [_cell(renderer, v) for v in row] for row in (part.table.headers, *part.table.rows)
        ]
    return Words(renderer.render(part.title), [renderer.render(m) for m in part.lines], table)


def paper_pdf(renderer: Renderer, paper: Paper) -> bytes:
    """The paper as a PDF: the title, the lines under it, then each part."""
    with optional_part("documents", "PDF"):
        from bot.reports.pdf import HousePdf
    title, mark = renderer.render(paper.title), renderer.render(paper.watermark)
    pdf = HousePdf(title, mark)
    pdf.add_page()
    pdf.line_of(title, "h1", "C", 3)
    for intro in paper.intro:
        pdf.line_of(renderer.render(intro), gap=1.5)
    pdf.line_of(mark, "small", gap=1.5)
    for part in paper.parts:
        shown = words(renderer, part)
        pdf.ln(3)
        pdf.line_of(shown.title, "h3", gap=2)
        for line in shown.lines:
            pdf.line_of(line, gap=1.5)
        if shown.table:
            pdf.ln(1)
            pdf.grid(shown.table)
    return bytes(pdf.output())


async def written(replies: Sequence[Reply], renderer: Renderer) -> list[Reply]:
    """The replies with each paper among them written as its PDF (in a worker thread: a PDF
    takes a moment). Without the documents extra, the reply says so instead of the file."""
    out = []
    for reply in replies:
        file = reply.file
        if file is None or file.paper is None:
            out.append(reply)
            continue
        try:
            content = await asyncio.to_thread(paper_pdf, renderer, file.paper)
        except MissingExtra as err:
            log.warning("a paper was not written: %s", err)
            text = Msg("paper.needs_extra", text=reply.text or "", extra=err.extra)
            out.append(replace(reply, text=text, file=None))
            continue
        out.append(replace(reply, file=FileOut(file.name, content, PDF)))
    return out
