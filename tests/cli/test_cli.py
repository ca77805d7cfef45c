"""The branchbot command line, run in-process with click's runner on a real database."""

import json
import sqlite3
from pathlib import Path

from click.testing import Result
from openpyxl import Workbook

from tests.conftest import BRANCH, Cli


def add_member(cli: Cli, name: str, *options: str) -> Result:
    return cli("member", "add", "--branch", BRANCH, "--name", name, *options)


def test_init_is_repeatable(cli: Cli) -> None:
    result = cli("init")
    assert result.exit_code == 0 and "数据库已就绪" in result.output


def test_member_add_json(cli: Cli) -> None:
    result = add_member(
        cli, "张三", "--stage", "预备党员", "--remote-until", "2027-01-31", "--json"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"member_id", "invite_code"} and len(data["invite_code"]) == 8
    listed = cli("member", "list", "--branch", BRANCH).output
    assert "张三\tmember\tprobationary\t2027-01-31" in listed


def test_member_add_bad_values_explain(cli: Cli) -> None:
    result = add_member(cli, "李四", "--stage", "党委书记")
    assert result.exit_code == 1 and "不是有效的阶段" in result.output
    result = add_member(cli, "李四", "--phone", "abc", "--staff-no", "9" * 40)
    assert result.exit_code == 1 and "手机号“abc”无效" in result.output and "太长" in result.output
    result = cli("member", "add", "--branch", "不存在的支部", "--name", "李四")
    assert result.exit_code == 1 and BRANCH in result.output


def _csv(tmp_path: Path, text: str, encoding: str = "utf-8") -> str:
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding=encoding)
    return str(path)


def test_roster_import_all_good(cli: Cli, tmp_path: Path) -> None:
    roster = _csv(
        tmp_path,
        "姓名,学号,阶段,手机,身份证号,实习截止,兴趣\n"
        "王一,2023001,入党积极分子,13800138000,11010519491231002X,,党史、志愿服务\n"
        "王二,2023002,预备党员,,,2027-06-30,\n",
        encoding="gb18030",  # the way Excel saves CSV on a Chinese Windows
    )
    result = cli("member", "import", roster, "--branch", BRANCH)
    assert result.exit_code == 0, result.output
    assert "已导入 2 人" in result.output and "王一" in result.output
    assert (
        "王二\tmember\tprobationary\t2027-06-30" in cli("member", "list", "--branch", BRANCH).output
    )


def test_roster_import_reports_every_bad_row_and_imports_nothing(cli: Cli, tmp_path: Path) -> None:
    roster = _csv(
        tmp_path,
        "姓名,学号,阶段,手机,身份证号\n"
        "好人,1,正式党员,,\n"
        ",2,正式党员,,\n"
        "坏手机,3,正式党员,12345,\n"
        "坏阶段,4,党委,,\n"
        "重复学号,1,,,110105194912310021\n",
    )
    result = cli("member", "import", roster, "--branch", BRANCH)
    assert result.exit_code == 1
    for line in ("第 3 行", "第 4 行", "第 5 行", "第 6 行"):
        assert line in result.output
    assert "第 2 行：" not in result.output
    assert "身份证号无效" in result.output and "与第 2 行重复" in result.output
    assert "好人" not in cli("member", "list", "--branch", BRANCH).output


def test_roster_import_xlsx(cli: Cli, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["name", "staff_no", "role", "stage"])
    sheet.append(["赵一", 2024001, "支委", "正式党员"])
    sheet.append(["赵二", 2024002, None, "积极分子"])
    path = tmp_path / "roster.xlsx"
    book.save(path)
    result = cli("member", "import", str(path), "--branch", BRANCH)
    assert result.exit_code == 0, result.output
    listed = cli("member", "list", "--branch", BRANCH).output
    assert "赵一\tcommittee\tfull" in listed and "赵二\tmember\tactivist" in listed


def test_export_traces_jsonl_and_csv(cli: Cli, tmp_path: Path) -> None:
    cli("member", "add", "--branch", BRANCH, "--name", "钱一")
    mark, *lines = cli("export", "traces").output.strip().splitlines()
    assert "导出人" in json.loads(mark)["watermark"]  # the first line names the exporter
    rows = [json.loads(line) for line in lines]
    assert [r["kind"] for r in rows] == ["branch.created", "member.created", "invite.issued"]
    assert list(rows[0]) == ["id", "at", "kind", "branch", "member", "actor", "ref", "data", "hash"]
    assert rows[0]["branch"] == BRANCH and rows[0]["at"].endswith("+08:00")
    out = tmp_path / "traces.csv"
    result = cli("export", "traces", "--format", "csv", "--branch", BRANCH, "-o", str(out))
    assert result.exit_code == 0
    assert out.read_text(encoding="utf-8").splitlines()[1] == (
        "id,at,kind,branch,member,actor,ref,data,hash"
    )
    # the first export was itself traced
    kinds = [json.loads(x)["kind"] for x in cli("export", "traces").output.splitlines()[1:]]
    assert kinds.count("data.exported") == 2
    assert len(cli("export", "traces", "--since", "2099-01-01").output.splitlines()) == 1
    assert "2026-12-01" in cli("export", "traces", "--since", "0001-01-01").output


def test_config_errors_name_the_variable(cli: Cli) -> None:
    result = cli("branch", "list", BRANCHBOT_TIMEZONE="Mars/Olympus")
    assert result.exit_code == 2
    assert "BRANCHBOT_TIMEZONE" in result.output and "Mars/Olympus" in result.output
    result = cli("branch", "list", BRANCHBOT_SECRET_KEY="short")
    assert result.exit_code == 2 and "BRANCHBOT_SECRET_KEY" in result.output
    result = cli("run", BRANCHBOT_WEBHOOK_URL="https://bot.example.edu/tg")
    assert result.exit_code == 2 and "BRANCHBOT_WEBHOOK_SECRET" in result.output


def test_missing_token_and_missing_secret(cli: Cli) -> None:
    result = cli("run", BRANCHBOT_TELEGRAM_TOKEN="")
    assert result.exit_code == 2 and "BRANCHBOT_TELEGRAM_TOKEN" in result.output


def test_uninitialised_database_says_run_init(tmp_path: Path) -> None:
    cli = Cli(f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}")
    result = cli("branch", "list")
    assert result.exit_code == 1 and "branchbot init" in result.output


def test_verify_detects_a_sqlite_edit(tmp_path: Path) -> None:
    db = tmp_path / "v.sqlite3"
    cli = Cli(f"sqlite+aiosqlite:///{db}")
    cli("init")
    cli("branch", "add", BRANCH)
    cli("member", "add", "--branch", BRANCH, "--name", "孙一")
    assert cli("verify").exit_code == 0
    with sqlite3.connect(db) as conn:
        conn.execute('UPDATE traces SET data = \'{"name": "孙二"}\' WHERE id = 2')
    result = cli("verify")
    assert result.exit_code == 1 and "第 2 条" in result.output and "内容被改动" in result.output
