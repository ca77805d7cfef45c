"""The question bank's files: import (CSV, XLSX, JSON) all or nothing, and export.

One notation everywhere (see answers.py). Spreadsheet headers may be English or Chinese
(编号, 题型, 题干, A–F, 答案, 标签, 难度, 解析, 出处). A question is known by its code: importing
a file again updates its questions in place, so a bank can be kept in a spreadsheet.
"""

import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common.cells import csv_bytes, xlsx_append, xlsx_bytes
from handlers.common.tables import RowError, RowsInvalid, cell, read_table
from handlers.core.messages import Msg, UserError
from handlers.core.parsing import tidy
from handlers.core.tracer import SessionTracer
from handlers.study.answers import BLANK, LETTERS, blanks, judgement
from handlers.study.text import learn, normalize
from storage import quizzes
from storage.crypto import SecretBox
from storage.enums import QuestionKind
from storage.models import Question

KINDS: dict[str, QuestionKind] = {
    **{k.value: k for k in QuestionKind},
    "单选": QuestionKind.SINGLE,
    "单选题": QuestionKind.SINGLE,
    "多选": QuestionKind.MULTI,
    "多选题": QuestionKind.MULTI,
    "判断": QuestionKind.JUDGE,
    "判断题": QuestionKind.JUDGE,
    "填空": QuestionKind.BLANK,
    "填空题": QuestionKind.BLANK,
}
KIND_NAMES = {
    QuestionKind.SINGLE: "单选",
    QuestionKind.MULTI: "多选",
    QuestionKind.JUDGE: "判断",
    QuestionKind.BLANK: "填空",
}
DIFFICULTIES = {"1": 1, "2": 2, "3": 3, "易": 1, "中": 2, "难": 3, "": 1}
COLUMNS: dict[str, str] = {
    "code": "code", "编号": "code", "题号": "code",
    "kind": "kind", "题型": "kind",
    "stem": "stem", "题干": "stem", "题目": "stem",
    "answer": "answer", "答案": "answer",
    "tags": "tags", "标签": "tags", "知识点": "tags",
    "difficulty": "difficulty", "难度": "difficulty",
    "explanation": "explanation", "解析": "explanation",
    "source": "source", "出处": "source", "来源": "source",
    **{c.lower(): c for c in LETTERS}, **{c: c for c in LETTERS},
    **{f"选项{c}": c for c in LETTERS},
}  # fmt: skip
HEADER = ["code", "kind", "stem", *LETTERS, "answer", "tags", "difficulty", "explanation", "source"]
_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")
_BLANKS = re.compile(r"_{2,}")
_TAG_SPLIT = re.compile(r"[,，、;；|\s]+")
STEM_LIMIT, TEXT_LIMIT, SOURCE_LIMIT, TAGS_LIMIT = 500, 1000, 200, 5
OPTION_LIMIT, ANSWER_LIMIT = 200, 500


@dataclass(frozen=True)
class QuestionSpec:
    code: str
    kind: str
    stem: str
    options: list[str]
    answer: str
    tags: list[str]
    difficulty: int
    explanation: str
    source: str


def _prose(value: Any) -> str:
    """A text field as written (full-width punctuation kept); numbers as plain digits."""
    if isinstance(value, str):
        return tidy(value)
    return cell(value)


def _options(values: dict[str, Any]) -> list[str]:
    if isinstance(values.get("options"), list):
        return [_prose(o) for o in values["options"]]
    found = [_prose(values.get(c)) for c in LETTERS]
    while found and not found[-1]:
        found.pop()
    return found


def _answer(kind: QuestionKind, raw: Any, stem: str, options: list[str]) -> tuple[str, Msg | None]:
    if kind == QuestionKind.JUDGE:
        text = {True: "对", False: "错"}.get(raw, cell(raw)) if isinstance(raw, bool) else cell(raw)
        verdict = judgement(text)
        return (verdict or "", None if verdict else Msg("bank.bad_judge", value=text))
    text = _prose(raw)
    if kind == QuestionKind.BLANK:
        wanted = stem.count(BLANK)
        parts = blanks(text)
        # Each form must keep some letters once punctuation is ignored ("——" never matches).
        empty = any(not normalize(alt) for alts in parts for alt in alts)
        if not text or any(not alts for alts in parts) or len(parts) != wanted or empty:
            return text, Msg("bank.bad_blank", blanks=wanted, value=text)
        if len(text) > ANSWER_LIMIT:
            return text, Msg("bank.long_answer", limit=ANSWER_LIMIT)
        return text, None
    letters = "".join(sorted(set(re.sub(r"[\s,，、]", "", text.upper()))))
    valid = LETTERS[: len(options)]
    size_ok = len(letters) == 1 if kind == QuestionKind.SINGLE else len(letters) >= 2
    if not letters or not size_ok or any(c not in valid for c in letters):
        return letters, Msg(f"bank.bad_{kind}", value=text, letters=valid)
    return letters, None


def check_question(values: dict[str, Any]) -> tuple[QuestionSpec | None, list[Msg]]:
    """One question (a file row or a JSON object) checked; the spec, or every problem."""
    problems: list[Msg] = []
    code = cell(values.get("code"))
    if not _CODE.fullmatch(code):
        problems.append(Msg("bank.bad_code", value=code))
    kind = KINDS.get(cell(values.get("kind")).lower())
    if kind is None:
        problems.append(Msg("bank.bad_kind", value=cell(values.get("kind"))))
    stem = _BLANKS.sub(BLANK, _prose(values.get("stem")))
    if not 2 <= len(stem) <= STEM_LIMIT:
        problems.append(Msg("bank.bad_stem", limit=STEM_LIMIT))
    options = _options(values)
    answer = ""
    if kind is not None:
        problems += _check_options(kind, stem, options)
        answer, wrong = _answer(kind, values.get("answer"), stem, options)
        problems += [wrong] if wrong is not None else []
    tags, difficulty, notes = _tags(values), _difficulty(values), _notes(values)
    problems += [p for p in (tags[1], difficulty[1], notes[1]) if p is not None]
    if problems or kind is None:
        return None, problems
    choices = options if kind in (QuestionKind.SINGLE, QuestionKind.MULTI) else []
    spec = QuestionSpec(code, kind, stem, choices, answer, tags[0], difficulty[0], *notes[0])
    return spec, []


def _check_options(kind: QuestionKind, stem: str, options: list[str]) -> list[Msg]:
    if kind in (QuestionKind.SINGLE, QuestionKind.MULTI):
        if not 2 <= len(options) <= len(LETTERS) or not all(options):
            return [Msg("bank.bad_options", most=len(LETTERS))]
        if any(len(o) > OPTION_LIMIT for o in options):
            return [Msg("bank.long_option", limit=OPTION_LIMIT)]
        return []
    if any(options):
        return [Msg("bank.no_options")]
    if kind == QuestionKind.BLANK and BLANK not in stem:
        return [Msg("bank.no_blank")]
    return []


def _tags(values: dict[str, Any]) -> tuple[list[str], Msg | None]:
    raw = values.get("tags")
    split = [cell(t) for t in raw] if isinstance(raw, list) else _TAG_SPLIT.split(cell(raw))
    tags = [t for t in split if t]
    if len(tags) > TAGS_LIMIT or any(len(t) > 16 for t in tags):
        return tags, Msg("bank.bad_tags", most=TAGS_LIMIT)
    return tags, None


def _difficulty(values: dict[str, Any]) -> tuple[int, Msg | None]:
    raw = cell(values.get("difficulty"))
    level = DIFFICULTIES.get(raw)
    return (level, None) if level is not None else (1, Msg("bank.bad_difficulty", value=raw))


def _notes(values: dict[str, Any]) -> tuple[tuple[str, str], Msg | None]:
    explanation, source = _prose(values.get("explanation")), _prose(values.get("source"))
    if len(explanation) > TEXT_LIMIT or len(source) > SOURCE_LIMIT:
        return (explanation, source), Msg(
            "bank.too_long", explanation=TEXT_LIMIT, source=SOURCE_LIMIT
        )
    return (explanation, source), None


def _json_rows(name: str, raw: bytes) -> list[tuple[int, dict[str, Any]]]:
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UserError("bank.bad_json", name=name, problem=str(err)[:120]) from err
    items = data.get("questions") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise UserError("bank.not_a_list", name=name)
    return [(n, item if isinstance(item, dict) else {}) for n, item in enumerate(items, start=1)]


def _table_rows(name: str, raw: bytes) -> list[tuple[int, dict[str, Any]]]:
    table = read_table(name, raw, COLUMNS, "roster.empty", fold=False)
    missing = [f for f in ("code", "kind", "stem", "answer") if f not in table.fields]
    if missing:
        raise RowsInvalid(
            [RowError(table.header_line, Msg("bank.no_columns", columns=", ".join(missing)))]
        )
    return table.rows


def parse_bank(name: str, raw: bytes) -> list[QuestionSpec]:
    """Every question of a file checked; raises RowsInvalid listing every bad one.
    JSON "lines" are the questions' numbers in the list."""
    read = _json_rows if Path(name).suffix.lower() == ".json" else _table_rows
    rows = read(name, raw)
    good: list[QuestionSpec] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for line, values in rows:
        spec, problems = check_question(values)
        code = cell(values.get("code"))
        if code in seen:
            problems.append(Msg("bank.duplicate_code", value=code, other=seen[code]))
        seen.setdefault(code, line)
        errors.extend(RowError(line, p) for p in problems)
        if spec is not None and not problems:
            good.append(spec)
    if errors:
        raise RowsInvalid(errors)
    if not good:
        raise UserError("roster.empty", name=name)
    return good


@dataclass(frozen=True)
class BankImported:
    added: int
    updated: int
    retired: int


async def import_bank(
    session: AsyncSession,
    box: SecretBox,
    name: str,
    raw: bytes,
    now: datetime,
    *,
    replace: bool = False,
    actor_id: int | None = None,
) -> BankImported:
    """Add new codes, update known ones; with `replace`, retire the codes not in the file."""
    specs = parse_bank(name, raw)
    known = await quizzes.by_codes(session, [s.code for s in specs])
    added = 0
    for spec in specs:
        question = known.get(spec.code)
        if question is None:
            question = Question(code=spec.code)
            session.add(question)
            added += 1
        for field, value in asdict(spec).items():
            setattr(question, field, value)
        question.active = True
        question.updated_at = now
    await session.flush()
    retired = (
        await quizzes.deactivate_missing(session, {s.code for s in specs}, now) if replace else 0
    )
    learn(tag for spec in specs for tag in spec.tags)  # materials added later keep them whole
    result = BankImported(added, len(specs) - added, retired)
    data = {"file": Path(name).name, **asdict(result)}
    await SessionTracer(session, box, now, actor_id).trace("question.imported", data=data)
    return result


def starter_bank() -> tuple[str, bytes]:
    """The bank shipped with branchbot: Party basics, each question with its source."""
    resource = files("handlers.study") / "data" / "starter_questions.json"
    return "starter_questions.json", resource.read_bytes()


def _record(question: Question) -> dict[str, Any]:
    return {
        "code": question.code,
        "kind": question.kind,
        "stem": question.stem,
        **({"options": question.options} if question.options else {}),
        "answer": question.answer,
        "tags": question.tags,
        "difficulty": question.difficulty,
        "explanation": question.explanation,
        "source": question.source,
    }


def export_bank(questions: list[Question], fmt: str) -> bytes:
    """The questions in the import notation: json, csv (UTF-8 with BOM, for Excel) or xlsx."""
    records = [_record(q) for q in questions]
    if fmt == "json":
        text = json.dumps({"version": 1, "questions": records}, ensure_ascii=False, indent=2)
        return text.encode()
    rows = [_row(r) for r in records]
    if fmt == "csv":
        return csv_bytes([HEADER, *rows])
    return _xlsx(rows)


def _row(record: dict[str, Any]) -> list[Any]:
    options = record.get("options", [])
    padded = [*options, *[""] * (len(LETTERS) - len(options))]
    kind = KIND_NAMES[QuestionKind(record["kind"])]
    return [
        record["code"],
        kind,
        record["stem"],
        *padded,
        record["answer"],
        "、".join(record["tags"]),
        record["difficulty"],
        record["explanation"],
        record["source"],
    ]


def _xlsx(rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "题库"
    for row in [HEADER, *rows]:
        xlsx_append(sheet, row)
    for c in sheet[1]:
        c.font = Font(bold=True, color="FFFFFF")
        c.fill = PatternFill("solid", fgColor="C00000")
    widths = {"A": 10, "B": 6, "C": 50, "J": 18, "K": 16, "L": 6, "M": 40, "N": 30}
    for column, width in widths.items():
        sheet.column_dimensions[column].width = width
    for row in sheet.iter_rows(min_row=2):
        for c in row:
            c.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    return xlsx_bytes(book)
