"""Cells written to CSV and Excel files are data, never formulas (the one rule every writer uses).

A spreadsheet reads a cell that begins with `=` (in a CSV file also `+`, `-`, `@`, a tab or a
carriage return) as a formula, so a member named `=HYPERLINK("http://x","y")` or a meeting
titled `=1+1` would run on the secretary's computer when the export is opened (CSV injection).
Every CSV and XLSX writer of the project goes through here:

- CSV: a text cell starting with one of those characters gets a leading single quote, which
  spreadsheets show as text; `csv_unquoted` drops it again when such a file is imported.
- XLSX: every text cell is stored as a string (openpyxl's data type "s"), never as a formula
  or an error code, and the control characters an XML file cannot hold are dropped.
"""

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
# The characters XML 1.0 cannot carry (openpyxl refuses them with IllegalCharacterError).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def csv_cell(value: Any) -> Any:
    """`value` for a CSV cell: text that a spreadsheet would read as a formula gets a quote, and
    so does text that only looks quoted (`'=1`), so that `csv_unquoted` gives it back whole."""
    if isinstance(value, str) and _formula_behind_quotes(value):
        return QUOTE + value
    return value


def csv_unquoted(text: str) -> str:
    """A CSV cell as it was before `csv_cell` (for imports of files the project wrote)."""
    if text.startswith(QUOTE) and _formula_behind_quotes(text[1:]):
        return text[1:]
    return text


def _formula_behind_quotes(text: str) -> bool:
    """Whether the text, less any leading quotes, starts like a formula."""
    return text.lstrip(QUOTE).startswith(FORMULA_START)


class CsvWriter:
    """`csv.writer` whose text cells can never be read as a formula."""

    def __init__(self, out: IO[str]) -> None:
        self._writer = csv.writer(out)

    def writerow(self, values: Iterable[Any]) -> None:
        self._writer.writerow([csv_cell(v) for v in values])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_bytes(rows: Iterable[Sequence[Any]]) -> bytes:
    """A whole CSV file in UTF-8 with a BOM (so that Excel reads the Chinese right)."""
    text = io.StringIO()
    CsvWriter(text).writerows(rows)
    return ("\ufeff" + text.getvalue()).encode()


def xlsx_value(value: Any) -> Any:
    """`value` for an Excel cell: text without the characters XML cannot hold."""
    return _NOT_XML.sub("", value) if isinstance(value, str) else value


def xlsx_append(sheet: "Worksheet", values: Iterable[Any]) -> None:
    """Append a row to `sheet`, every text cell stored as a string."""
    sheet.append([xlsx_value(v) for v in values])
    for cell in sheet[sheet.max_row]:
        _as_text(cell)


def xlsx_bytes(book: "Workbook") -> bytes:
    """The saved workbook, after making sure that no text cell of any sheet is a formula,
    however it was written (append, sheet.cell or an assignment)."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                _as_text(cell)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _as_text(cell: Any) -> None:
    # openpyxl turns a str starting with "=" into a formula ("f") and "#N/A" and the like
    # into an error ("e"); the data type alone decides how the cell is written.
    if isinstance(cell.value, str):
        cell.data_type = "s"
