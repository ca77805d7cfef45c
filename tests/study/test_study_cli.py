"""The question bank and the materials from the command line: the starter bank on init,
imports that list every bad row and import nothing, export round trips, folder import of
txt, md, docx and pdf."""

import csv
import io
import json
from pathlib import Path

from docx import Document as Docx
from openpyxl import Workbook, load_workbook

from handlers.study.bank import HEADER
from tests.conftest import Cli

GOOD_ROW = ["Q-1", "单选", "党的根本组织原则是（ ）。", "民主集中制", "集体领导", "", "", "", "",
            "A", "民主集中制", "1", "党章规定。", "《中国共产党章程》第二章"]  # fmt: skip


def write_csv(path: Path, rows: list[list[str]]) -> str:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["编号", "题型", "题干", *"ABCDEF", "答案", "标签", "难度", "解析", "出处"])
        writer.writerows(rows)
    return str(path)


def test_init_seeds_the_starter_bank_once(cli: Cli, tmp_path: Path) -> None:
    first = cli("init")
    assert first.exit_code == 0
    assert "已导入内置题库" in first.output
    count = int(first.output.split("已导入内置题库 ")[1].split(" ")[0])
    assert count >= 100
    assert "内置题库" not in cli("init").output  # the bank is not empty any more
    out = tmp_path / "bank.json"
    assert cli("questions", "export", str(out)).exit_code == 0
    exported = json.loads(out.read_text(encoding="utf-8"))["questions"]
    assert len(exported) == count
    assert all(q["source"] and q["explanation"] for q in exported)
    assert {q["kind"] for q in exported} == {"single", "multi", "judge", "blank"}


def test_bad_rows_are_all_listed_and_nothing_is_imported(cli: Cli, tmp_path: Path) -> None:
    rows = [
        GOOD_ROW,
        ["Q-2", "问答", "题干", "", "", "", "", "", "", "A", "", "1", "", ""],
        ["Q-3", "单选", "题干正常", "甲", "乙", "", "", "", "", "C", "", "5", "", ""],
        ["Q-1", "判断", "预备期为一年。", "", "", "", "", "", "", "也许", "", "", "", ""],
        ["Q-5", "填空", "预备期____年，可延长____。", *[""] * 6, "一", "", "", "", ""],
        ["bad code!", "多选", "题", "甲", "乙", "丙", "", "", "", "A", "", "", "", ""],
    ]  # fmt: skip
    result = cli("questions", "import", write_csv(tmp_path / "bad.csv", rows))
    assert result.exit_code == 1
    out = result.output
    assert "没有导入任何题目" in out
    for line, words in [
        (3, "题型“问答”"),
        (4, "单选题答案“C”"),
        (4, "难度“5”"),
        (5, "编号“Q-1”重复"),
        (5, "判断题答案“也许”"),
        (6, "2 个空"),
        (7, "编号“bad code!”"),
        (7, "题干请写"),
        (7, "多选题答案“A”"),
    ]:
        assert any(f"第 {line} 行" in row and words in row for row in out.splitlines()), (
            line,
            words,
        )
    exported = tmp_path / "after.json"
    cli("questions", "export", str(exported))
    codes = {q["code"] for q in json.loads(exported.read_text(encoding="utf-8"))["questions"]}
    assert "Q-1" not in codes


def test_import_updates_by_code_and_replace_retires(cli: Cli, tmp_path: Path) -> None:
    first = cli("questions", "import", write_csv(tmp_path / "a.csv", [GOOD_ROW]))
    assert first.exit_code == 0 and "新增 1 题" in first.output
    changed = [*GOOD_ROW[:12], "新的解析。", GOOD_ROW[13]]
    other = ["Q-9", "判断", "预备党员的预备期为一年。", "", "", "", "", "", "", "√", "", "", "", ""]
    second = cli("questions", "import", write_csv(tmp_path / "b.csv", [changed, other]))
    assert "新增 1 题，更新 1 题" in second.output
    third = cli("questions", "import", "--replace", write_csv(tmp_path / "c.csv", [other]))
    assert "停用 1 题" in third.output
    out = tmp_path / "bank.csv"
    cli("questions", "export", str(out))
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[0] == HEADER and [r[0] for r in rows[1:]] == ["Q-9"]
    assert rows[1][9] == "对"


def test_xlsx_round_trip(cli: Cli, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    sheet.append(GOOD_ROW)
    stem = "连续____个月不交纳党费，被认为是自行脱党。"
    sheet.append(["Q-2", "填空", stem, *[""] * 6, "六|6", "党费、党章", "易", "", ""])
    source = tmp_path / "bank.xlsx"
    book.save(source)
    assert cli("questions", "import", str(source)).exit_code == 0
    out = tmp_path / "out.xlsx"
    assert cli("questions", "export", str(out)).exit_code == 0
    exported = load_workbook(out).active
    assert exported is not None
    values = [[c.value for c in row] for row in exported.iter_rows(min_row=2)]
    assert values[0][2] == "党的根本组织原则是（ ）。"  # full-width punctuation kept
    assert values[1][9] == "六|6" and values[1][10] == "党费、党章"
    again = cli("questions", "import", str(out))
    assert "更新 2 题" in again.output


def test_import_needs_a_file_or_starter(cli: Cli, tmp_path: Path) -> None:
    assert cli("questions", "import").exit_code == 2
    bad = tmp_path / "x.json"
    bad.write_text("{not json", encoding="utf-8")
    result = cli("questions", "import", str(bad))
    assert result.exit_code == 1 and "无法读取 JSON" in result.output
    assert cli("questions", "export", str(tmp_path / "x.txt")).exit_code == 2


def tiny_pdf(text: str) -> bytes:
    """A one-page PDF with a line of Latin text and a correct cross-reference table."""
    stream = f"BT /F1 12 Tf 20 150 Td ({text}) Tj ET".encode()
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 200]/Contents 4 0 R"
        b"/Resources<</Font<</F1 5 0 R>>>>>>",
        b"<</Length %d>>stream\n" % len(stream) + stream + b"\nendstream",
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_materials_import_folder(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "materials"
    folder.mkdir()
    (folder / "a.md").write_text("# 三会一课\n三会一课是党的组织生活的基本制度。", encoding="utf-8")
    (folder / "b.txt").write_text("主题党日\n每月相对固定一天开展主题党日。", encoding="gb18030")
    doc = Docx()
    doc.add_paragraph("发展党员工作细则学习")
    doc.add_paragraph("入党积极分子经过一年以上培养教育和考察。")
    doc.save(str(folder / "c.docx"))
    (folder / "guide.pdf").write_bytes(tiny_pdf("Party branch study guide"))
    (folder / "e.pdf").write_bytes(b"not a pdf")
    (folder / "f.png").write_bytes(b"ignored")
    result = cli("materials", "import", str(folder), "--branch", "数学学院教工党支部")
    assert result.exit_code == 1  # one file failed; the others are in
    out = result.output
    assert "《三会一课》" in out and "《主题党日》" in out and "《发展党员工作细则学习》" in out
    assert "《guide》" in out and "未能添加 e.pdf" in out
    assert "新增 4 篇，跳过 0 篇，失败 1 篇" in out
    (folder / "e.pdf").unlink()
    again = cli("materials", "import", str(folder))
    assert "新增 4 篇" in again.output  # shared with all branches is another place
    third = cli("materials", "import", str(folder))
    assert "新增 0 篇，跳过 4 篇" in third.output and third.exit_code == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli("materials", "import", str(empty)).exit_code == 1
    unknown = cli("materials", "import", str(folder), "--branch", "不存在")
    assert unknown.exit_code == 1 and "数学学院教工党支部" in unknown.output
