"""`branchbot member transfer | transfer-out | transfer-in | leave | graduate`: an operator's
moves take effect at once, traced with their OS user; bad input changes nothing."""

import getpass
import json
from pathlib import Path
from typing import Any

from tests.conftest import BRANCH, Cli

OTHER = "化学化工学院第二党支部"


def traced(cli: Cli, kind: str) -> list[dict[str, Any]]:
    lines = cli("export", "traces").output.strip().splitlines()[1:]
    return [row for row in map(json.loads, lines) if row["kind"] == kind]


def listed(cli: Cli, branch: str = BRANCH) -> str:
    return cli("member", "list", "--branch", branch).output


def test_transfer_and_transfer_in_at_once(cli: Cli) -> None:
    cli("branch", "add", OTHER)
    cli("member", "add", "--branch", BRANCH, "--name", "张三")
    result = cli("member", "transfer", "张三", "--to", OTHER)
    assert result.exit_code == 0, result.output
    assert "张三" in listed(cli, OTHER) and "张三" not in listed(cli)
    (moved,) = traced(cli, "member.transferred")
    assert moved["data"]["to"] == OTHER and moved["data"]["by"] == getpass.getuser()
    again = cli("member", "transfer", "张三", "--to", OTHER)
    assert again.exit_code != 0 and "已经在" in again.output
    came = cli(
        "member",
        "transfer-in",
        "--branch",
        BRANCH,
        "--name",
        "李四",
        "--from",
        "某大学党委",
        "--letter",
        "ZR-1",
    )
    assert came.exit_code == 0 and "已登记转入：李四" in came.output
    assert "李四" in listed(cli)
    (recorded,) = traced(cli, "member.transferred_in")
    assert recorded["data"]["letter_no"] == "ZR-1"


def test_transfer_out_and_leave_need_what_the_procedure_needs(cli: Cli) -> None:
    cli("member", "add", "--branch", BRANCH, "--name", "张三")
    cli("member", "add", "--branch", BRANCH, "--name", "王五")
    no_letter = cli("member", "transfer-out", "张三", "--to", "某公司党委", "--letter", " ")
    assert no_letter.exit_code != 0 and "介绍信编号" in no_letter.output
    assert "张三" in listed(cli)
    out = cli("member", "transfer-out", "张三", "--to", "某公司党委", "--letter", "JX-9")
    assert out.exit_code == 0 and "张三 转出" in out.output
    assert "张三" not in listed(cli)
    no_basis = cli("member", "leave", "王五", "--reason", "出党")
    assert no_basis.exit_code != 0 and "依据" in no_basis.output
    bad = cli("member", "leave", "王五", "--reason", "放假")
    assert bad.exit_code != 0 and "看不懂" in bad.output
    ok = cli("member", "leave", "王五", "--reason", "出党", "--basis", "上级党委批复 2026-12号")
    assert ok.exit_code == 0 and "王五 出党" in ok.output
    assert [t["data"]["reason"] for t in traced(cli, "member.left")] == [
        "transferred_out",
        "left_party",
    ]


def test_graduate_from_a_file_previews_and_asks(cli: Cli, tmp_path: Path) -> None:
    for name in ("毕业甲", "毕业乙", "在校丙"):
        cli("member", "add", "--branch", BRANCH, "--name", name)
    listing = tmp_path / "毕业生.csv"
    listing.write_text("姓名\n毕业甲\n毕业乙\n查无此人\n", encoding="utf-8")
    declined = cli("member", "graduate", "--file", str(listing))  # no answer: not confirmed
    assert "毕业离校预览：2 人" in declined.output and "名单中未找到：查无此人" in declined.output
    assert declined.exit_code != 0 and "毕业甲" in listed(cli)
    done = cli("member", "graduate", "--file", str(listing), "--yes")
    assert done.exit_code == 0 and "已办理 2 人毕业离校" in done.output
    assert "毕业甲" not in listed(cli) and "在校丙" in listed(cli)
    both = cli("member", "graduate", "--grade", "2022级", "--file", str(listing))
    assert both.exit_code != 0 and "三者之一" in both.output
