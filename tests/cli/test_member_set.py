"""`branchbot member set`: the same changes as /member_set, all given fields or none, traced
with the operator's OS user."""

import getpass
import json
from typing import Any

from tests.conftest import BRANCH, Cli


def changes(cli: Cli) -> list[dict[str, Any]]:
    lines = cli("export", "traces").output.strip().splitlines()[1:]
    return [row for row in map(json.loads, lines) if row["kind"] == "member.changed"]


def listed(cli: Cli) -> str:
    return cli("member", "list", "--branch", BRANCH).output


def test_member_set_changes_each_field_and_hands_over(cli: Cli) -> None:
    cli("member", "add", "--branch", BRANCH, "--name", "老书记", "--role", "secretary")
    cli("member", "add", "--branch", BRANCH, "--name", "张三", "--phone", "13800138000")
    result = cli(
        "member",
        "set",
        "张三",
        "--branch",
        BRANCH,
        "--role",
        "书记",
        "--staff-no",
        "2023001",
        "--phone",
        "13900139000",
        "--remote-until",
        "2099-06-30",
    )
    assert result.exit_code == 0, result.output
    assert "原书记 老书记 已改为党员" in result.output and "已更新 张三 的手机号" in result.output
    assert "老书记\tmember" in listed(cli) and "张三\tsecretary\tfull\t2099-06-30" in listed(cli)
    found = changes(cli)
    assert [c["data"]["field"] for c in found] == [
        "staff_no",
        "phone",
        "remote_until",
        "role",
        "role",
    ]
    assert all(c["actor"] is None and c["data"]["by"] == getpass.getuser() for c in found)
    assert "13900139000" not in json.dumps(found)
    assert found[3]["data"]["because"] == "handover"
    assert cli("member", "set", "#2", "--name", "张叁").exit_code == 0
    assert "张叁\tsecretary" in listed(cli)


def test_member_set_bad_input_changes_nothing(cli: Cli) -> None:
    cli("member", "add", "--branch", BRANCH, "--name", "张三", "--remote-until", "2099-06-30")
    cli("member", "add", "--branch", BRANCH, "--name", "同名")
    cli("member", "add", "--branch", BRANCH, "--name", "同名")
    cases = [
        (("张三",), 2, "请至少指定一项"),
        (("无此人", "--name", "甲"), 1, "无此人"),
        (("同名", "--name", "甲"), 1, "同名"),
        (("张三", "--remote-until", "明年"), 1, "看不懂"),
        (("张三", "--phone", "123"), 1, "无效"),
        (("张三", "--role", "队长"), 1, "不是有效的角色"),
        (("张三", "--name", "张叁", "--remote-until", "2099-06-30"), 1, "已经是这个值"),
    ]
    for args, code, expected in cases:
        result = cli("member", "set", *args)
        assert result.exit_code == code and expected in result.output, (args, result.output)
    assert changes(cli) == [] and "张三\tmember" in listed(cli)
