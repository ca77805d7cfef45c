"""The Excel form of a report: a formatted table sheet, the checklist per person, and notes
(what the table is for, the period, each column's meaning, the export's watermark)."""

from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from handlers.common.cells import xlsx_append, xlsx_bytes

HEADER_FILL = PatternFill("solid", fgColor="C00000")
HEADER_FONT = Font(bold=True, color="FFFFFF")


def header_row(sheet: Worksheet, titles: Sequence[str], widths: Sequence[int]) -> None:
    """The house header row of every report sheet: bold white on red, wrapped, frozen, with
    the given column widths."""
    xlsx_append(sheet, titles)
    for cell in sheet[1]:
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for i, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A2"


def workbook(
    labels: dict[str, str],
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    percent_columns: Sequence[int],
    checks: Sequence[tuple[str, str]],
    notes: Sequence[str],
    meanings: Sequence[tuple[str, str]],
    watermark: tuple[str, str],
) -> bytes:
    """The workbook; `watermark` (who exported, the watermark line) also goes into its
    properties, so the file names its exporter wherever it travels."""
    book = Workbook()
    author, line = watermark
    book.properties.creator = author
    book.properties.lastModifiedBy = author
    book.properties.description = line
    book.properties.keywords = line
    table = book.active
    assert table is not None
    table.title = labels["table"]
    header_row(table, headers, [max(8, min(16, len(h) * 2 + 2)) for h in headers])
    for row in rows:
        xlsx_append(table, row)
    for index in percent_columns:
        letter = get_column_letter(index + 1)
        for cell in table[letter][1:]:
            cell.number_format = "0%"
    table.auto_filter.ref = table.dimensions  # sortable and filterable in Excel

    sheet = book.create_sheet(labels["checks"])
    header_row(sheet, [headers[0], labels["checks"]], [12, 100])
    for name, line in checks:
        xlsx_append(sheet, [name, line])
        sheet.cell(sheet.max_row, 2).alignment = Alignment(wrap_text=True, vertical="top")

    about = book.create_sheet(labels["notes"])
    about.column_dimensions["A"].width = 18
    about.column_dimensions["B"].width = 90
    for line in notes:
        xlsx_append(about, [line])
        about.cell(about.max_row, 1).font = Font(bold=True)
    about.append([])
    for title, meaning in meanings:
        xlsx_append(about, [title, meaning])
    return xlsx_bytes(book)
