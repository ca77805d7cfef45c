"""The roster file (花名册) as it travels: its columns, the Chinese headers a school's sheet
uses for each, and the three forms an export takes (Excel, CSV, JSON) with a watermark.

Export and import share this one list, so a file written here reads back field by field; the
import also knows the other names common in Chinese roster spreadsheets (联系电话, 政治面貌 …).
The headers are part of the file format, Chinese whatever the reader's language.
"""

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from handlers.common.cells import csv_bytes, xlsx_append, xlsx_bytes
from storage.enums import Role, Stage

FORMAT = "branchbot.roster"
VERSION = 1

# The export's columns in order: (field, which is also its JSON key; the header written).
EXPORT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "姓名"),
    ("gender", "性别"),
    ("ethnicity", "民族"),
    ("birth_date", "出生日期"),
    ("native_place", "籍贯"),
    ("education", "学历"),
    ("staff_no", "学号/工号"),
    ("phone", "手机号"),
    ("id_number", "身份证号"),
    ("grade", "年级"),
    ("class_name", "班级"),
    ("stage", "人员类别"),
    ("joined_on", "入党日期"),
    ("full_on", "转正日期"),
    ("role", "角色"),
    ("remote_until", "实习截止"),
    ("branch", "所在党支部"),
    ("interests", "兴趣"),
)
FIELDS = tuple(field for field, _ in EXPORT_COLUMNS)

# Every header the import understands (as written, or lower-cased for English), by field.
_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字"),
    "gender": ("性别",),
    "ethnicity": ("民族",),
    "birth_date": ("出生日期", "出生年月", "出生年月日", "生日"),
    "native_place": ("籍贯",),
    "education": ("学历", "文化程度", "最高学历"),
    "staff_no": ("学号/工号", "学号", "工号", "学工号"),
    "phone": ("手机号", "手机", "手机号码", "联系电话", "联系方式", "电话"),
    "id_number": ("身份证号", "身份证号码", "身份证"),
    "grade": ("年级",),
    "class_name": ("班级",),
    "stage": ("人员类别", "政治面貌", "阶段", "发展阶段"),
    "joined_on": ("入党日期", "入党时间"),
    "full_on": ("转正日期", "转正时间"),
    "role": ("角色", "党内职务"),
    "remote_until": ("实习截止", "实习截止日期"),
    "branch": ("所在党支部", "党支部", "所在支部", "支部"),
    "interests": ("兴趣", "兴趣爱好"),
}
COLUMNS: dict[str, str] = {
    **{alias: field for field, names in _ALIASES.items() for alias in names},
    **{field: field for field in FIELDS},
}

# A stage and a role as the file writes them (人员类别, 角色); the import reads these and the
# usual words (handlers/core/parsing.py), plus what a 政治面貌 column says of a Party member.
STAGE_WORDS: dict[Stage, str] = {
    Stage.FULL: "正式党员",
    Stage.PROBATIONARY: "预备党员",
    Stage.CANDIDATE: "发展对象",
    Stage.ACTIVIST: "入党积极分子",
    Stage.APPLICANT: "入党申请人",
}
POLITICAL_STATUS: dict[str, Stage] = {"中共党员": Stage.FULL, "中共预备党员": Stage.PROBATIONARY}
ROLE_WORDS: dict[Role, str] = {
    Role.MEMBER: "成员",
    Role.COMMITTEE: "支委",
    Role.SECRETARY: "书记",
    Role.ADMIN: "管理员",
}
INTERESTS_SEPARATOR = "、"
# The sheet beside the roster that carries the watermark and says the file is sensitive.
NOTES_SHEET = "说明"
TABLE_SHEET = "花名册"


@dataclass(frozen=True)
class Mark:
    """An export's watermark: who made it (the workbook's author), the line that names who,
    when and the trace, and (from a handler, which renders no text) the same facts as fields."""

    author: str
    line: str
    facts: Mapping[str, Any] | None = None


def cells(record: Mapping[str, Any]) -> list[Any]:
    """One member's record (JSON values, see `roster_export.record_of`) as the sheet's cells."""
    shown: list[Any] = []
    for field in FIELDS:
        value = record.get(field)
        if field == "stage" and value:
            value = STAGE_WORDS[Stage(value)]
        elif field == "role" and value:
            value = ROLE_WORDS[Role(value)]
        elif field == "interests":
            value = INTERESTS_SEPARATOR.join(value or [])
        shown.append("" if value is None else value)
    return shown


def write(
    fmt: str, records: Sequence[Mapping[str, Any]], mark: Mark, meta: Mapping[str, Any]
) -> bytes:
    """The roster in `fmt` (xlsx, csv or json), each form carrying the watermark: the workbook's
    properties and its notes sheet, the CSV's first line (the import skips it), a JSON field."""
    if fmt == "json":
        watermark = dict(mark.facts) if mark.facts is not None else mark.line
        document = {"format": FORMAT, "version": VERSION, "watermark": watermark, **meta}
        document["members"] = list(records)
        return json.dumps(document, ensure_ascii=False, indent=2).encode()
    headers = [header for _, header in EXPORT_COLUMNS]
    rows = [cells(r) for r in records]
    if fmt == "csv":
        return csv_bytes([[mark.line], headers, *rows])
    return _xlsx(headers, rows, mark)


def _xlsx(headers: list[str], rows: list[list[Any]], mark: Mark) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.properties.creator = mark.author
    book.properties.lastModifiedBy = mark.author
    book.properties.description = mark.line
    book.properties.keywords = mark.line
    sheet = book.active
    assert sheet is not None
    sheet.title = TABLE_SHEET
    xlsx_append(sheet, headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        xlsx_append(sheet, row)
    for index, header in enumerate(headers, 1):
        sheet.column_dimensions[get_column_letter(index)].width = max(8, len(header) * 2 + 4)
    sheet.freeze_panes = "A2"
    notes = book.create_sheet(NOTES_SHEET)
    xlsx_append(notes, [mark.line])
    for key, value in (mark.facts or {}).items():
        xlsx_append(notes, [key, "" if value is None else str(value)])
    return xlsx_bytes(book)


def read_json(raw: bytes) -> list[dict[str, str]] | None:
    """The members of a roster JSON file as text cells keyed by field, or None when the file
    is not one (not JSON, or no `members` list of objects)."""
    try:
        document = json.load(io.BytesIO(raw))
    except (ValueError, UnicodeDecodeError):
        return None
    members = document.get("members") if isinstance(document, dict) else None
    if not isinstance(members, list) or not all(isinstance(m, dict) for m in members):
        return None
    return [{COLUMNS[k]: _text(v) for k, v in m.items() if k in COLUMNS} for m in members]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return INTERESTS_SEPARATOR.join(str(v) for v in value)
    return str(value)
