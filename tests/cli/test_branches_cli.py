"""`branchbot branch list | rename | merge | split | archive`: previews that ask first,
changes traced with the OS user, archived branches marked, bad input changing nothing."""

import getpass
import json
from pathlib import Path
from typing import Any

from tests.conftest import BRANCH, Cli

OTHER = "化学化工学院第二党支部"


def traced(cli: Cli, kind: str) -> list[dict[str, Any]]:
    lines = cli("export", "traces").output.strip().splitlines()[1:]
    return [row for row in map(json.loads, lines) if row["kind"] == kind]


def members(cli: Cli, branch: str) -> str:
    return cli("member", "list", "--branch", branch).output


def test_merge_previews_asks_then_moves_everyone(cli: Cli) -> None:
    cli("branch", "add", OTHER)
    for name in ("张三", "李四"):
        cli("member", "add", "--branch", BRANCH, "--name", name)
    declined = cli("branch", "merge", BRANCH, "--into", OTHER)  # no answer: not confirmed
    assert declined.exit_code != 0 and "成员 2 人：张三、李四" in declined.output
    assert "张三" in members(cli, BRANCH) and traced(cli, "branch.merged") == []
    done = cli("branch", "merge", BRANCH, "--into", OTHER, "--yes")
    assert done.exit_code == 0, done.output
    assert "转入成员 2 人" in done.output
    assert "张三" in members(cli, OTHER) and "李四" in members(cli, OTHER)
    (merged,) = traced(cli, "branch.merged")
    assert merged["data"]["target"] == OTHER and merged["data"]["by"] == getpass.getuser()
    moved = traced(cli, "member.transferred")
    assert [t["data"]["because"] for t in moved] == ["merge", "merge"]
    assert BRANCH not in cli("branch", "list").output
    everything = cli("branch", "list", "--all").output
    assert f"{BRANCH}\t-\t0\t已撤销（" in everything and f"并入“{OTHER}”" in everything
    again = cli("branch", "merge", BRANCH, "--into", OTHER, "--yes")
    assert again.exit_code != 0 and "已经撤销" in again.output


def test_rename_then_the_old_name_is_shown(cli: Cli) -> None:
    cli("branch", "add", OTHER)
    done = cli("branch", "rename", BRANCH, "化学化工学院学生第一党支部")
    assert done.exit_code == 0 and "原名保留在历史中" in done.output
    assert f"曾用名：{BRANCH}" in cli("branch", "list").output
    taken = cli("branch", "rename", "化学化工学院学生第一党支部", OTHER)
    assert taken.exit_code != 0 and "已存在" in taken.output
    old = cli("branch", "archive", BRANCH)
    assert old.exit_code != 0 and "已更名为" in old.output
    (renamed,) = traced(cli, "branch.renamed")
    assert renamed["data"] == {
        "old": BRANCH,
        "new": "化学化工学院学生第一党支部",
        "via": "cli",
        "by": getpass.getuser(),
    }


def test_split_by_a_list_then_archive(cli: Cli, tmp_path: Path) -> None:
    for name in ("新生甲", "新生乙", "老生丙"):
        cli("member", "add", "--branch", BRANCH, "--name", name)
    listing = tmp_path / "2024级.csv"
    listing.write_text("姓名\n新生甲\n新生乙\n", "utf-8")
    new = "化学化工学院2024级党支部"
    split = cli("branch", "split", BRANCH, "--into", new, "--file", str(listing), "--yes")
    assert split.exit_code == 0, split.output
    assert "（新建）" in split.output and "已拆分：2 人" in split.output
    assert "新生甲" in members(cli, new) and "老生丙" in members(cli, BRANCH)
    (done,) = traced(cli, "branch.split")
    assert done["data"]["created"] is True and done["data"]["members"] == 2
    nobody = cli("branch", "split", BRANCH, "--into", new, "--names", "查无此人，新生甲", "--yes")
    assert nobody.exit_code != 0 and "没有可拆分的人" in nobody.output
    two_ways = cli("branch", "split", BRANCH, "--into", new, "--grade", "2024级", "--names", "甲")
    assert two_ways.exit_code != 0 and "四者之一" in two_ways.output
    refused = cli("branch", "archive", BRANCH)
    assert refused.exit_code != 0 and "还有 1 名成员" in refused.output
    assert traced(cli, "branch.archived") == []
    cli("member", "transfer", "老生丙", "--to", new)
    assert cli("branch", "archive", BRANCH).exit_code == 0
    (archived,) = traced(cli, "branch.archived")
    assert archived["data"]["by"] == getpass.getuser()
    future = cli("branch", "archive", new, "--on", "2099-01-01")
    assert future.exit_code != 0 and "还没到" in future.output


def test_split_by_grade_into_an_existing_branch(cli: Cli) -> None:
    cli("branch", "add", OTHER)
    for name, grade in (("新生甲", "2024级"), ("老生乙", "2022级")):
        cli("member", "add", "--branch", BRANCH, "--name", name)
        assert cli("member", "set", name, "--grade", grade).exit_code == 0
    split = cli("branch", "split", BRANCH, "--into", OTHER, "--grade", "2024级", "--yes")
    assert split.exit_code == 0, split.output
    assert "（新建）" not in split.output and "成员 1 人：新生甲" in split.output
    assert "新生甲" in members(cli, OTHER) and "老生乙" in members(cli, BRANCH)
    (done,) = traced(cli, "branch.split")
    assert done["data"]["created"] is False
    same = cli("branch", "split", BRANCH, "--into", BRANCH, "--grade", "2022级", "--yes")
    assert same.exit_code != 0 and "不能把" in same.output
