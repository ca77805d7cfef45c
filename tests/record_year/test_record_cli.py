"""`branchbot report --view record`: a branch's annual records as a workbook (a sheet per
member, read back with openpyxl) and as a ZIP of PDFs; who is in a branch's file; the export
traced and watermarked; bad input."""

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import Result
from openpyxl import load_workbook
from sqlalchemy import select

from storage.models import Trace
from tests.conftest import BRANCH, Cli, Threaded
from tests.support.chat import Chat
from tests.support.record_year import A, B, History, built, pdf_text

NOW = datetime(2026, 12, 20, 2, tzinfo=UTC)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.cli.record.now", lambda: NOW)
    monkeypatch.setattr("getpass.getuser", lambda: "organiser")


async def written(
    chat: Chat, database_url: str, out: Path, *args: str
) -> tuple[History, Threaded, Result]:
    """The built year, and `report --view record --year 2026 ARGS --out OUT` run on it."""
    history = await built(chat)
    cli = Threaded(Cli(database_url))
    result = await cli("report", "--view", "record", "--year", "2026", *args, "--out", str(out))
    assert result.exit_code == 0, result.output
    return history, cli, result


def cells(sheet: object) -> list[list[object]]:
    return [[c.value for c in row] for row in sheet.iter_rows()]  # type: ignore[attr-defined]


async def test_a_branch_workbook_has_a_sheet_per_member(
    chat: Chat, database_url: str, tmp_path: Path, frozen: None
) -> None:
    out = tmp_path / "records.xlsx"
    history, cli, result = await written(chat, database_url, out, "--branch", A)
    assert "已导出 5 人的年度记实" in result.output
    book = load_workbook(out)
    ids = history.ids
    # Its members now and the one who left from it; 李四 moved to B and is B's.
    expected = sorted(["书记", "支委", "管理员", "张三", "赵六"], key=lambda n: (n, ids[n]))
    assert book.sheetnames == [f"{n}-{ids[n]}" for n in expected]
    rows = cells(book[f"张三-{ids['张三']}"])
    assert rows[0][0] == "张三 2026 年度党员日常管理记实"
    assert str(rows[1][0]).startswith("导出人：organiser（命令行）")
    lines = [r[0] for r in rows]
    assert "党费：应交 12 个月，已交足 10 个月" in lines and "志愿服务：4 小时（已审核）" in lines
    table = {r[0]: r[1:7] for r in rows if r[0] in ("主题党日", "合计", "党课")}
    assert table == {
        "主题党日": [2, 1, 0, 0, 0, 1],
        "党课": [1, 0, 0, 0, 1, 0],
        "合计": [6, 3, 1, 1, 1, 1],
    }
    left = [r[0] for r in cells(book[f"赵六-{ids['赵六']}"])]
    assert "统计期间：2026-01-01 至 2026-08-30" in left
    assert "organiser" in (book.properties.description or "")

    b_out = tmp_path / "b.xlsx"
    assert (
        await cli("report", "--year", "2026", "--branch", B, "--out", str(b_out))
    ).exit_code == 0
    moved = load_workbook(b_out)
    assert f"李四-{ids['李四']}" in moved.sheetnames
    mover = [r[0] for r in cells(moved[f"李四-{ids['李四']}"])]
    assert f"所在支部：{A}（2026-01-01 至 2026-06-30）、{B}（2026-07-01 至 2026-12-20）" in mover
    async with chat.services.sessions() as session:
        query = select(Trace).where(Trace.kind == "data.exported").order_by(Trace.id)
        exported = list((await session.scalars(query)).all())
    assert [e.data["what"] for e in exported] == ["report.record", "report.record"]
    assert exported[0].data["members"] == [ids[n] for n in expected]
    assert exported[0].data["by"] == "organiser" and exported[0].data["year"] == 2026


async def test_the_pdf_form_is_a_zip_of_one_pdf_per_member(
    chat: Chat, database_url: str, tmp_path: Path, frozen: None
) -> None:
    out = tmp_path / "records.zip"
    history, _, _ = await written(chat, database_url, out, "--branch", B, "--format", "pdf")
    ids = history.ids
    with zipfile.ZipFile(io.BytesIO(out.read_bytes())) as archive:
        names = archive.namelist()
        mover = pdf_text(archive.read(f"李四-{ids['李四']}.pdf"))
    assert sorted(names) == sorted(f"{n}-{ids[n]}.pdf" for n in ("乙书记", "李四", "王五"))
    assert "李四2026年度党员日常管理记实" in mover and "导出人：organiser" in mover
    assert "合计210001" in mover and "校内转接" in mover


def test_bad_input_is_refused_with_the_right_form(cli: Cli, tmp_path: Path) -> None:
    text, sheet = str(tmp_path / "x.txt"), str(tmp_path / "x.xlsx")
    branch = ("--branch", BRANCH)
    for args, said in (
        (("--view", "record", *branch, "--out", text), "--format pdf"),
        (("--year", "2026", "--out", sheet), "--branch"),
        (("--year", "2099", *branch, "--out", sheet), "2099 年还没有到"),
        (("--view", "scorecard", *branch, "--format", "pdf", "--out", text), "PDF 只用于年度记实"),
    ):
        refused = cli("report", *args)
        assert refused.exit_code != 0 and said in refused.output, (args, refused.output)
    assert not (tmp_path / "x.xlsx").exists() and not (tmp_path / "x.txt").exists()
