"""The roster file (花名册) out and back in: `branchbot member export` in Excel, CSV and JSON
reads back field by field into a fresh database; a school's own spreadsheet with its Chinese
headers imports; every kind of bad cell is named by line and nothing is written; `--update`
changes members through the traced change path."""

import csv
import io
import json
import os
import stat
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from tests.conftest import BRANCH, Cli
from tests.support.roster import ROWS, archive, exported, fresh, roster_csv


def _traces(cli: Cli, kind: str) -> list[dict]:
    lines = cli("export", "traces").output.strip().splitlines()[1:]
    return [row for row in map(json.loads, lines) if row["kind"] == kind]


def _members(cli: Cli) -> str:
    return cli("member", "list", "--branch", BRANCH).output


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "json"])
def test_an_export_imports_back_field_by_field(cli: Cli, tmp_path: Path, fmt: str) -> None:
    result = cli("member", "import", roster_csv(tmp_path, *ROWS), "--branch", BRANCH)
    assert result.exit_code == 0, result.output
    before = exported(cli, tmp_path)["members"]
    assert before[0] == {
        "name": "张晓红",
        "gender": "女",
        "ethnicity": "汉族",
        "birth_date": "2001-05-01",
        "native_place": "江苏南京",
        "education": "本科",
        "staff_no": "000123",
        "phone": "13800138000",
        "id_number": "320102200105010029",
        "grade": "2023级",
        "class_name": "数学2301班",
        "stage": "full",
        "joined_on": "2023-06-01",
        "full_on": "2024-06-01",
        "role": "committee",
        "remote_until": "2027-06-30",
        "branch": BRANCH,
        "interests": ["党史", "数学"],
        "archive": {"entries": [], "files": []},
    }
    assert before[1]["native_place"] == "=1+1" and before[1]["full_on"] is None
    out = tmp_path / f"roster.{fmt}"
    result = cli("member", "export", "--branch", BRANCH, "-o", str(out))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    again = fresh(cli, tmp_path, fmt)
    result = again("member", "import", str(out))  # the branch from 所在党支部
    assert result.exit_code == 0, result.output
    assert exported(again, tmp_path)["members"] == before
    assert [t["data"]["stage"] for t in _traces(again, "stage.changed")] == [
        "probationary",
        "full",
        "probationary",
    ]


def test_each_form_carries_the_watermark_and_the_export_is_traced(cli: Cli, tmp_path: Path) -> None:
    cli("member", "import", roster_csv(tmp_path, *ROWS), "--branch", BRANCH)
    for fmt in ("xlsx", "csv", "json"):
        assert (
            cli("member", "export", "--branch", BRANCH, "-o", str(tmp_path / f"r.{fmt}")).exit_code
            == 0
        )
    found = _traces(cli, "data.exported")
    assert [t["data"]["format"] for t in found] == ["xlsx", "csv", "json"]
    assert {t["data"]["rows"] for t in found} == {3} and found[0]["data"]["branch"] == BRANCH
    book = load_workbook(tmp_path / "r.xlsx")
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]][:3] == ["姓名", "性别", "民族"]
    assert sheet.cell(3, 5).value == "=1+1" and sheet.cell(3, 5).data_type == "s"
    assert sheet.cell(2, 7).value == "000123"
    assert f"留痕编号：{found[0]['id']}" in book.properties.description
    assert "敏感" in book.worksheets[1].cell(1, 1).value
    first = (tmp_path / "r.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert f"留痕编号：{found[1]['id']}" in first and "敏感" in first
    assert (
        f"留痕编号：{found[2]['id']}" in json.loads((tmp_path / "r.json").read_text())["watermark"]
    )


def test_export_of_every_branch_and_the_options(cli: Cli, tmp_path: Path) -> None:
    cli("branch", "add", "物理学院学生党支部")
    cli("member", "add", "--branch", "物理学院学生党支部", "--name", "王五")
    cli("member", "import", roster_csv(tmp_path, *ROWS), "--branch", BRANCH)
    names = [m["name"] for m in exported(cli, tmp_path, "--all")["members"]]
    assert names == ["张晓红", "欧阳明", "李四", "王五"]
    assert cli("member", "export", "-o", str(tmp_path / "x.csv")).exit_code == 2
    bad = cli("member", "export", "--branch", BRANCH, "-o", str(tmp_path / "x.txt"))
    assert bad.exit_code == 2 and ".xlsx" in bad.output


def test_a_schools_spreadsheet_with_a_title_row_imports(cli: Cli, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["数学学院教工党支部党员花名册（2026年12月）"])
    sheet.merge_cells("A1:P1")
    sheet.append(["填表人：张老师", None, None, "填表日期：2026-12-01"])
    sheet.append(
        [
            "序号", "姓名", "性别", "民族", "出生年月", "文化程度", "学工号", "联系电话",
            "身份证号码", "政治面貌", "入党时间", "转正时间", "党支部", "年级", "班级", "籍贯",
        ]
    )  # fmt: skip
    sheet.append(
        [
            1, "陈静", "女", "汉族", "2001.05", "大学本科", "0012345", "138-0013-8000",
            "320102200105010029", "中共党员", datetime(2022, 5, 4), "2023年5月4日",
            BRANCH, "2021级", "数学2101班", "浙江杭州",
        ]
    )  # fmt: skip
    sheet.append(
        [
            2, "刘洋", "男", "壮族", "2003年9月", "硕士", "0012346", "13912345678", None,
            "中共预备党员", "2025/11/20", None, BRANCH, "2024级", "数学2401班", "广西南宁",
        ]
    )  # fmt: skip
    sheet.append(
        [
            3,
            "周敏",
            "女",
            "汉族",
            None,
            None,
            "0012347",
            None,
            None,
            "入党积极分子",
            None,
            None,
            BRANCH,
        ]
    )
    path = tmp_path / "花名册.xlsx"
    book.save(path)
    result = cli("member", "import", str(path))
    assert result.exit_code == 0, result.output
    members = exported(cli, tmp_path)["members"]
    assert [(m["name"], m["stage"]) for m in members] == [
        ("陈静", "full"),
        ("刘洋", "probationary"),
        ("周敏", "activist"),
    ]
    first, second = members[0], members[1]
    assert (first["birth_date"], first["joined_on"], first["full_on"]) == (
        "2001-05-01",
        "2022-05-04",
        "2023-05-04",
    )
    assert first["staff_no"] == "0012345" and first["phone"] == "13800138000"
    assert first["education"] == "大学本科" and first["native_place"] == "浙江杭州"
    assert (second["birth_date"], second["joined_on"]) == ("2003-09-01", "2025-11-20")


BAD_ROWS = [  # (row, what the message says)
    (",女,汉族,,,,001,,,,,,,,,,,", "姓名“”无效"),
    ("张一,,,,,,00 2,,,,,,,,,,,", "学号“00 2”太长或含空格"),
    ("张二,,,,,,,,,,,,,,党委,,,", "不是有效的角色"),
    ("张三,,,,,,,,,,,共青团员,,,,,,", "不是有效的阶段"),
    ("张四,,,,,,,,,,,,,,,明年,,", "实习截止“明年”看不懂"),
    ("张五,,,,,,,1380013800,,,,,,,,,,", "手机号“1380013800”无效"),
    ("张六,,,,,,,,320102200105010028,,,,,,,,,", "身份证号无效"),
    ("张七,未知,,,,,,,,,,,,,,,,", "性别“未知”无效"),
    ("张八,," + "汉" * 21 + ",,,,,,,,,,,,,,,", "民族“" + "汉" * 21 + "”太长"),
    ("张九,,,2001-13-01,,,,,,,,,,,,,,", "出生日期“2001-13-01”看不懂"),
    ("李一,,,,,,,,,,,,2024-02-30,,,,,", "入党日期“2024-02-30”看不懂"),
    ("李二,,,,,,,,,,,入党积极分子,2024-05-01,,,,,", "有入党日期的应是预备党员或正式党员"),
    ("李三,,,,,,,,,,,预备党员,2024-05-01,2025-05-01,,,,", "有转正日期的应是正式党员"),
    ("李四,,,,,,,,,,,正式党员,2024-05-01,2023-05-01,,,,", "转正日期 2023-05-01 早于入党日期"),
    ("李五,,,,,,,,,,,正式党员,2020-05-01,2099-05-01,,,,", "转正日期 2099-05-01 还没到"),
    ("李六,,,,,,,,,,,,,,,,不存在的支部,", "所在党支部“不存在的支部”不存在"),
    ("李七,,,,,,,,,,,,,,,,,", "没有写所在党支部"),
    ("李八,,,,,,,,,,,,,,,,已撤销支部,", "支部“已撤销支部”已撤销"),
    ("王一,,,,,,900,,,,,,,,,," + BRANCH + ",", ""),
    ("王二,,,,,,900,,,,,,,,,," + BRANCH + ",", "学号 900 与第 20 行重复"),
]


def test_every_kind_of_bad_cell_is_named_and_nothing_is_written(cli: Cli, tmp_path: Path) -> None:
    cli("branch", "add", "已撤销支部")
    archive(cli, "已撤销支部")
    path = roster_csv(tmp_path, *(row for row, _ in BAD_ROWS))
    result = cli("member", "import", path)
    assert result.exit_code == 1
    told: dict[int, str] = {}
    for said in result.output.splitlines()[1:]:
        told[int(said.split()[1])] = told.get(int(said.split()[1]), "") + said
    for line, (_, said) in enumerate(BAD_ROWS, start=2):
        if said:
            assert said in told[line], (line, said, told.get(line))
    assert 20 not in told  # 王一 is good: its duplicate is the bad row
    assert f"花名册有 {len(BAD_ROWS) - 1} 处问题" in result.output
    assert "#" not in _members(cli) and not _traces(cli, "member.created")


def test_a_row_for_another_branch_with_branch_given_is_bad(cli: Cli, tmp_path: Path) -> None:
    cli("branch", "add", "物理学院学生党支部")
    path = roster_csv(tmp_path, "王五,,,,,,,,,,,,,,,,物理学院学生党支部,", ROWS[2])
    result = cli("member", "import", path, "--branch", BRANCH)
    assert result.exit_code == 1
    assert (
        f"第 2 行：所在党支部“物理学院学生党支部”与 --branch 指定的“{BRANCH}”不同" in result.output
    )
    assert "第 3 行" not in result.output and "#" not in _members(cli)


def test_three_bad_rows_of_twenty_change_nothing(cli: Cli, tmp_path: Path) -> None:
    rows = [f"成员{i},,,,,,2026{i:03d},,,,,,,,,,{BRANCH}," for i in range(20)]
    rows[4] = f"成员4,不详,,,,,2026004,,,,,,,,,,{BRANCH},"
    rows[11] = f"成员11,,,,,,2026011,12345,,,,,,,,,{BRANCH},"
    rows[17] = f"成员17,,,,,,2026017,,,,,,,,,2026-02-30,{BRANCH},"
    result = cli("member", "import", roster_csv(tmp_path, *rows), "--branch", BRANCH)
    assert result.exit_code == 1
    assert "花名册有 3 处问题，未导入任何人" in result.output
    assert "第 6 行：性别" in result.output and "第 13 行：手机号" in result.output
    assert "第 19 行：实习截止" in result.output
    assert "#" not in _members(cli)
    assert not _traces(cli, "member.created") and not _traces(cli, "member.imported")


def test_json_that_is_not_a_roster_is_refused(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text('{"people": []}', encoding="utf-8")
    result = cli("member", "import", str(path), "--branch", BRANCH)
    assert result.exit_code == 1 and "不是花名册 JSON 文件" in result.output


def _edited(path: Path, edit: dict[str, dict[str, str]], *extra: list[str]) -> str:
    """The exported CSV with some cells changed (by staff number) and rows added."""
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    rows = list(csv.reader(io.StringIO("\n".join(lines[1:]))))
    header = rows[0]
    for row in rows[1:]:
        for field, value in edit.get(row[header.index("学号/工号")], {}).items():
            row[header.index(field)] = value
    out = io.StringIO()
    csv.writer(out).writerows([[lines[0]], *rows, *extra])
    edited = path.with_name("edited.csv")
    edited.write_text(out.getvalue(), encoding="utf-8")
    return str(edited)


def test_update_changes_members_through_the_traced_path(cli: Cli, tmp_path: Path) -> None:
    cli("member", "import", roster_csv(tmp_path, *ROWS), "--branch", BRANCH)
    out = tmp_path / "roster.csv"
    cli("member", "export", "--branch", BRANCH, "-o", str(out))
    new_row = ["赵六", "男", "汉族", "", "", "", "0999", "", "", "", "", "发展对象"]
    edited = _edited(
        out,
        {
            "000123": {
                "手机号": "13700137000",
                "班级": "数学2302班",
                "角色": "书记",
                "民族": "满族",
            },
            "0789": {"身份证号": "110108200309150014", "兴趣": "摄影"},
            "0456": {"实习截止": "2027-01-31"},
        },
        new_row + [""] * 4 + [BRANCH, ""],
    )
    refused = cli("member", "import", edited)
    assert (
        refused.exit_code == 1
        and "学号 000123 已在名册中（要用这份文件更新已有成员，请加 --update）" in refused.output
    )
    result = cli("member", "import", edited, "--update")
    assert result.exit_code == 0, result.output
    assert "已导入 1 人，更新 3 人" in result.output
    imported = _traces(cli, "member.imported")[-1]["data"]
    assert imported == {"file": "edited.csv", "rows": 4, "added": 1}
    after = {m["staff_no"]: m for m in exported(cli, tmp_path)["members"]}
    assert after["000123"]["phone"] == "13700137000" and after["000123"]["role"] == "secretary"
    assert after["000123"]["class_name"] == "数学2302班" and after["000123"]["ethnicity"] == "满族"
    assert after["0789"]["id_number"] == "110108200309150014" and after["0789"]["interests"] == [
        "摄影"
    ]
    assert after["0456"]["remote_until"] == "2027-01-31" and after["0999"]["stage"] == "candidate"
    changes = _traces(cli, "member.changed")
    fields = sorted(c["data"]["field"] for c in changes)
    assert fields == sorted(
        ["phone", "class_name", "ethnicity", "role", "id_number", "interests", "remote_until"]
    )
    text = json.dumps(changes, ensure_ascii=False)
    assert "13700137000" not in text and "110108200309150014" not in text and "满族" not in text
    assert all(c["data"]["via"] == "cli" for c in changes)
    again = cli("member", "import", edited, "--update")  # nothing differs now
    assert again.exit_code == 0 and len(_traces(cli, "member.changed")) == len(changes)


def test_update_never_moves_a_stage_or_rewrites_a_date(cli: Cli, tmp_path: Path) -> None:
    cli("member", "import", roster_csv(tmp_path, *ROWS), "--branch", BRANCH)
    out = tmp_path / "roster.csv"
    cli("member", "export", "--branch", BRANCH, "-o", str(out))
    edited = _edited(
        out,
        {
            "000123": {"入党日期": "2023-07-01"},
            "0456": {"人员类别": "正式党员", "转正日期": "2026-11-20"},
            "0789": {"人员类别": "发展对象"},
        },
    )
    result = cli("member", "import", edited, "--update")
    assert result.exit_code == 1
    assert "第 3 行：发展档案中入党日期已记为 2023-06-01，文件写的是 2023-07-01" in result.output
    assert "第 4 行：欧阳明 现在是预备党员，文件写的是正式党员" in result.output
    assert "第 5 行：李四 现在是入党积极分子，文件写的是发展对象" in result.output
    assert not _traces(cli, "member.changed")


def test_the_json_form_carries_each_members_archive(cli: Cli, tmp_path: Path) -> None:
    cli("member", "import", roster_csv(tmp_path, *ROWS), "--branch", BRANCH)
    added = cli(
        "member",
        "archive-add",
        "张晓红",
        "奖励",
        "2024-05-01",
        "校级",
        "优秀共产党员",
        "依据：校党委5号",
    )
    assert added.exit_code == 0, added.output
    members = {m["name"]: m for m in exported(cli, tmp_path)["members"]}
    (entry,) = members["张晓红"]["archive"]["entries"]
    assert entry["kind"] == "award" and "优秀共产党员" in json.dumps(entry, ensure_ascii=False)
    assert members["欧阳明"]["archive"] == {"entries": [], "files": []}
