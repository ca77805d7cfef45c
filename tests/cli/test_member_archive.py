"""`branchbot member set` for the personal fields, grade and class, and `member archive` /
`member archive-add`: traced with the operator's OS user, personal values never in traces."""

import getpass
import json
from pathlib import Path
from typing import Any

from tests.conftest import BRANCH, Cli


def traced(cli: Cli, kind: str) -> list[dict[str, Any]]:
    lines = cli("export", "traces").output.strip().splitlines()[1:]
    return [row for row in map(json.loads, lines) if row["kind"] == kind]


def test_member_set_personal_fields_grade_and_class(cli: Cli) -> None:
    cli("member", "add", "--branch", BRANCH, "--name", "张三")
    args = ("--gender", "女", "--ethnicity", "回族", "--birth-date", "2003-05-17")
    more = ("--education", "大学本科", "--native-place", "湖南长沙", "--grade", "2023")
    result = cli("member", "set", "张三", *args, *more, "--class", "化学2301班")
    assert result.exit_code == 0, result.output
    assert "已更新 张三 的出生日期（加密保存）" in result.output
    assert "已修改 张三 的年级：无 → 2023级" in result.output
    found = traced(cli, "member.changed")
    secret = [c for c in found if "cleared" in c["data"]]
    assert len(secret) == 5 and "2003-05-17" not in json.dumps(found)
    assert "湖南长沙" not in json.dumps(found, ensure_ascii=False)
    (grade,) = [c for c in found if c["data"]["field"] == "grade"]
    assert grade["data"]["new"] == "2023级" and grade["data"]["by"] == getpass.getuser()
    bad = cli("member", "set", "张三", "--birth-date", "2099-01-01")
    assert bad.exit_code == 1 and "今天以前" in bad.output


def test_member_archive_add_and_print(cli: Cli, tmp_path: Path) -> None:
    cli("member", "add", "--branch", BRANCH, "--name", "张三")
    scan = tmp_path / "证书.pdf"
    scan.write_bytes(b"%PDF-1.4 scan")
    details = ("2024-05-01", "校级", "优秀共产党员", "依据：校党委5号")
    result = cli("member", "archive-add", "张三", "奖励", *details, "--scan", str(scan))
    assert result.exit_code == 0 and "已为 张三 添加档案条目 #1" in result.output, result.output
    shown = cli("member", "archive", "张三")
    assert "优秀共产党员（依据：校党委5号） 📎1" in shown.output and "f1 证书.pdf" in shown.output
    (viewed,) = [t for t in traced(cli, "data.viewed") if t["data"]["what"] == "archive"]
    assert viewed["data"]["by"] == getpass.getuser() and viewed["actor"] is None
    (added,) = traced(cli, "archive.added")
    assert added["data"]["via"] == "cli" and "优秀" not in json.dumps(added, ensure_ascii=False)
    bad = cli("member", "archive-add", "张三", "奖励", "2024-05-01", "宇宙级", "x", "依据：y")
    assert bad.exit_code == 1 and "级别“宇宙级”看不懂" in bad.output
    assert len(traced(cli, "archive.added")) == 1
