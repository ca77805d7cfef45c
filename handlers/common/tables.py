"""Reading tabular files (CSV, including Excel's GBK ones, and XLSX) row by row or as a table
under a header, and the all-or-nothing error list an import raises: every bad row with its line
number."""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from handlers.common.cells import csv_unquoted
from handlers.core.messages import Msg, UserError
from handlers.core.parsing import clean, tidy

# How many rows from the top may stand above the header (titles, a watermark line).
HEADER_SEARCH = 5


@dataclass(frozen=True)
class Table:
    """A file's header (its line, and the field each column holds, "" for one not known) and
    its data rows as (line, {field: cell}) for the known columns."""

    header_line: int
    fields: list[str]
    rows: list[tuple[int, dict[str, str]]]


@dataclass(frozen=True)
class RowError:
    line: int
    problem: Msg


class RowsInvalid(Exception):
    """Raised by an import when any row is bad; nothing was written."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} bad rows")
        self.errors = sorted(errors, key=lambda e: e.line)


def cell(value: Any, fold: bool = True) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return clean(str(value)) if fold else tidy(str(value))


def decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UserError("roster.encoding")


def read_rows(name: str, raw: bytes, fold: bool = True) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) for every row of a CSV or XLSX file, header included; `fold`
    NFKC-folds the cells (names, numbers), else prose keeps its full-width punctuation."""
    suffix = Path(name).suffix.lower()
    if suffix == ".csv":
        reader = csv.reader(io.StringIO(decode(raw), newline=""))
        try:
            for row in reader:
                # the quote our own exports put before a formula-like cell
                # (handlers/common/cells.py)
                yield reader.line_num, [cell(csv_unquoted(c), fold) for c in row]
        except csv.Error as err:
            raise UserError("roster.unreadable", name=name) from err
    elif suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(io.BytesIO(raw), read_only=True, data_only=True).active
        except Exception as err:  # openpyxl raises many types for a damaged file
            raise UserError("roster.unreadable", name=name) from err
        if sheet is None:
            raise UserError("roster.unreadable", name=name)
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [cell(c, fold) for c in values]
    else:
        raise UserError("roster.format", name=name)


def read_table(
    name: str, raw: bytes, columns: dict[str, str], empty: str, fold: bool = True
) -> Table:
    """The file's non-blank rows under its header, whose names (as written, or lower-cased for
    English ones) `columns` maps to fields; a UserError `empty` when the file has no row at
    all."""
    rows = [(n, cells) for n, cells in read_rows(name, raw, fold) if any(cells)]
    if not rows:
        raise UserError(empty, name=name)
    return table_of(rows, columns)


def table_of(rows: list[tuple[int, list[str]]], columns: dict[str, str]) -> Table:
    """The table under the header among `rows`: the first of the first few rows that names a
    known column, so a title (“XX学院党员花名册”) or an export's watermark line above the header
    is skipped; with none, the first row (and then no field is known)."""
    start = next(
        (i for i, (_, cells) in enumerate(rows[:HEADER_SEARCH]) if any(_fields(cells, columns))),
        0,
    )
    header_line, header = rows[start]
    fields = _fields(header, columns)
    data = [
        (line, {f: c for f, c in zip(fields, cells, strict=False) if f})
        for line, cells in rows[start + 1 :]
    ]
    return Table(header_line, fields, data)


def _fields(header: list[str], columns: dict[str, str]) -> list[str]:
    return [columns.get(clean(h).lower(), columns.get(clean(h), "")) for h in header]
