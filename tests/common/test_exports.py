"""Exported spreadsheets hold names and titles as text, never as formulas (CSV injection):
a member named =HYPERLINK(...) or =1+1, a meeting titled =1+1 and a branch named so, sent
through every CSV and XLSX writer (scorecards of one branch and of every branch, the
candidates and awards tables, the trace export, the question bank)."""

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from sqlalchemy import update

from handlers.common.cells import FORMULA_START, csv_bytes, csv_cell, csv_unquoted, xlsx_append
from handlers.study.bank import export_bank, parse_bank
from storage.enums import Stage
from storage.models import Meeting, Member, Question
from tests.conftest import Cli, Threaded
from tests.support.chat import Chat
from tests.support.evaluation import BRANCH, freeze_export, history

LINK = '=HYPERLINK("http://x","y")'
SUM = "=1+1"
OTHER_BRANCH = "=SUM(A1:A9)"
ACTIVIST = "@SUM(1+1)"
EVIL = (LINK, SUM, OTHER_BRANCH, ACTIVIST)


def xlsx_texts(raw: bytes) -> set[str]:
    """Every text cell of every sheet, after checking that no cell is a formula."""
    book = load_workbook(io.BytesIO(raw))
    texts = set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                where = (sheet.title, cell.coordinate, cell.value)
                assert cell.data_type != "f", where
                if isinstance(cell.value, str):
                    assert cell.data_type == "s", where
                    texts.add(cell.value)
    return texts


def csv_texts(raw: bytes) -> set[str]:
    """Every cell of a CSV file, after checking that none but a number starts a formula."""
    rows = csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""))
    cells = {cell for row in rows for cell in row}
    assert not [c for c in cells if c.startswith(FORMULA_START) and not _number(c)]
    return cells


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --- the rule -----------------------------------------------------------------------------


def test_csv_cells_starting_a_formula_get_a_quote() -> None:
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert csv_cell(f"{start}1+1") == f"'{start}1+1"
    assert csv_cell("张三") == "张三" and csv_cell("'quoted") == "'quoted"
    assert csv_cell(-3) == -3 and csv_cell(0.5) == 0.5 and csv_cell(None) is None
    assert csv_texts(csv_bytes([[LINK, -1, "甲"]])) == {"'" + LINK, "-1", "甲"}


@given(st.text())
def test_csv_quote_round_trips(text: str) -> None:
    assert csv_unquoted(csv_cell(text)) == text


def test_xlsx_text_is_a_string_even_when_excel_would_compute_it() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    xlsx_append(sheet, [SUM, "#N/A", "a\x01b", 3])
    assert [c.data_type for c in sheet[1]] == ["s", "s", "s", "n"]
    assert sheet["C1"].value == "ab"  # a control character XML cannot hold is dropped


def test_the_question_bank_exports_text_and_reads_it_back(tmp_path: Path) -> None:
    question = Question(
        code="ZC-001",
        kind="single",
        stem=f"{SUM} 等于几？",
        options=["-2", "+2", "@2"],
        answer="B",
        tags=["算术"],
        difficulty=1,
        explanation=LINK,
        source="-",
    )
    for fmt in ("csv", "xlsx"):
        raw = export_bank([question], fmt)
        texts = csv_texts(raw) if fmt == "csv" else xlsx_texts(raw)
        assert ("'" if fmt == "csv" else "") + LINK in texts
        (spec,) = parse_bank(f"bank.{fmt}", raw)
        assert (spec.stem, spec.options, spec.explanation) == (
            question.stem,
            question.options,
            LINK,
        )


# --- every writer, on a branch's record ---------------------------------------------------


async def _evil_names(chat: Chat) -> None:
    """The hand-made history of test_evaluation, with 乙 named LINK, 丙 named SUM, the
    September meeting titled SUM, an activist named ACTIVIST and a branch named OTHER_BRANCH."""
    await history(chat)
    await chat.enrol(ACTIVIST, stage=Stage.ACTIVIST)
    await chat.enrol(LINK, branch=OTHER_BRANCH)
    async with chat.services.sessions.begin() as session:
        for old, new in (("乙", LINK), ("丙", SUM)):
            await session.execute(update(Member).where(Member.name == old).values(name=new))
        await session.execute(
            update(Meeting).where(Meeting.title == "九月支部党员大会").values(title=SUM)
        )


async def test_every_export_writes_names_as_text(
    chat: Chat, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _evil_names(chat)
    freeze_export(monkeypatch)
    cli = Threaded(Cli(database_url))
    scorecard = ("report", "--period", "2026-09..2026-10", "--branch", BRANCH)
    school = ("report", "--period", "2026-09..2026-10", "--all-branches")
    runs = {
        "card": scorecard,
        "school": school,
        "candidates": ("report", "--view", "candidates", "--branch", BRANCH),
        "awards": ("report", "--view", "awards", "--branch", BRANCH),
    }
    expected = {
        "card": {LINK, SUM},
        "school": {LINK, SUM, OTHER_BRANCH},
        "candidates": {ACTIVIST},
        "awards": {LINK, SUM},
    }
    for name, args in runs.items():
        for fmt in ("xlsx", "csv"):
            out = tmp_path / f"{name}.{fmt}"
            result = await cli(*args, "--out", str(out))
            assert result.exit_code == 0, result.output
            if fmt == "xlsx":
                assert expected[name] <= xlsx_texts(out.read_bytes()), name
            else:
                assert {"'" + n for n in expected[name]} <= csv_texts(out.read_bytes()), name
    log = tmp_path / "traces.csv"
    result = await cli("export", "traces", "--format", "csv", "-o", str(log))
    assert result.exit_code == 0, result.output
    assert "'" + OTHER_BRANCH in csv_texts(log.read_bytes())


async def test_the_meetings_sheet_keeps_a_formula_title_as_text(
    chat: Chat, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _evil_names(chat)
    freeze_export(monkeypatch)
    out = tmp_path / "card.xlsx"
    cli = Threaded(Cli(database_url))
    args = ("report", "--period", "2026-09..2026-10", "--branch", BRANCH, "--out", str(out))
    assert (await cli(*args)).exit_code == 0
    meetings = load_workbook(out)["会议"]
    titles = [meetings.cell(row, 3) for row in range(2, meetings.max_row + 1)]
    assert [(c.value, c.data_type) for c in titles if c.value == SUM] == [(SUM, "s")]
