"""Papers as a workbook, one sheet per paper (a branch's annual records): the title, the
watermark line and the lines under the title, then each part's title, lines and table. The
watermark is also in the workbook's properties."""

from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from bot.reports.paper import Words, words
from bot.reports.xlsx import HEADER_FILL, HEADER_FONT
from handlers.common.cells import xlsx_append, xlsx_bytes
from handlers.core.i18n import Renderer
from handlers.core.messages import Paper

SHEET_NAME_LIMIT = 31  # Excel's
SHEET_NAME_BAD = str.maketrans(dict.fromkeys("[]:*?/\\", "_"))


def sheet_title(name: str, taken: set[str]) -> str:
    """A sheet name Excel takes (no []:*?/\\, at most 31 characters), unique in the book."""
    base = name.translate(SHEET_NAME_BAD)[:SHEET_NAME_LIMIT] or "-"
    title, n = base, 1
    while title in taken:
        n += 1
        suffix = f" ({n})"
        title = base[: SHEET_NAME_LIMIT - len(suffix)] + suffix
    taken.add(title)
    return title


def papers_workbook(
    renderer: Renderer, papers: Sequence[tuple[str, Paper]], watermark: tuple[str, str]
) -> bytes:
    """A workbook of one sheet per paper, named as given; `watermark` (who exported, the
    watermark line) also goes into its properties."""
    book = Workbook()
    author, line = watermark
    book.properties.creator = book.properties.lastModifiedBy = author
    book.properties.description = book.properties.keywords = line
    book.remove(book.worksheets[0])
    taken: set[str] = set()
    for name, paper in papers:
        sheet = book.create_sheet(sheet_title(name, taken))
        sheet.column_dimensions["A"].width = 40
        for column in "BCDEFG":
            sheet.column_dimensions[column].width = 12
        _bold_row(sheet, [renderer.render(paper.title)], size=14)
        xlsx_append(sheet, [line])
        for intro in paper.intro:
            xlsx_append(sheet, [renderer.render(intro)])
        for part in paper.parts:
            _part(sheet, words(renderer, part))
    return xlsx_bytes(book)


def _bold_row(sheet: Any, values: list[str], size: int = 11) -> None:
    xlsx_append(sheet, values)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True, size=size)


def _part(sheet: Any, shown: Words) -> None:
    sheet.append([])
    _bold_row(sheet, [shown.title])
    for line in shown.lines:
        xlsx_append(sheet, [line])
        sheet.cell(sheet.max_row, 1).alignment = Alignment(wrap_text=True, vertical="top")
    for index, row in enumerate(shown.table):
        xlsx_append(sheet, row)
        if index == 0:
            for cell in sheet[sheet.max_row]:
                cell.font, cell.fill = HEADER_FONT, HEADER_FILL
