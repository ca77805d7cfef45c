"""The segments file: conditions evaluated as data (all/any of indicator op number), a
branch's own file (SEGMENTS_FILE) changing the grouping, and a bad file refused when read
with one line naming the group and the problem, at start-up too."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app.services import build_services
from bot.app.settings import load_settings
from handlers.care.segment_rules import (
    SEGMENTS_FILE,
    SegmentError,
    load_segments,
    parse_segments,
    segment_rules,
)
from tests.conftest import SECRET, Cli
from tests.support.chat import Chat, Clock
from tests.support.data_files import refused_at_start
from tests.support.segments import A, SegmentHistory

SHIPPED = SEGMENTS_FILE.read_text(encoding="utf-8")


def rule(when: str, **extra: str) -> str:
    fields = {"id": '"g"', "name": '"组"', "explain": '"说明"', "when": when} | extra
    return "[[segment]]\n" + "".join(f"{k} = {v}\n" for k, v in fields.items())


def test_a_condition_is_data_evaluated_without_code() -> None:
    rules = parse_segments(
        {
            "segment": [
                {
                    "id": "g",
                    "name": "组",
                    "explain": "说明",
                    "when": {
                        "all": [
                            ["late_rate", ">=", 0.3],
                            {"any": [["remote", "==", 1], ["meetings_expected", ">", 5]]},
                        ]
                    },
                }
            ]
        }
    )
    when = rules.segments[0].when
    assert when.holds({"late_rate": 0.3, "remote": 1.0, "meetings_expected": 2.0})
    assert when.holds({"late_rate": 0.5, "remote": 0.0, "meetings_expected": 6.0})
    assert not when.holds({"late_rate": 0.29, "remote": 1.0, "meetings_expected": 6.0})
    assert not when.holds({"late_rate": None, "remote": 1.0}), "no value: the test fails"
    assert rules.window_months == 6 and rules.segments[0].actions == ()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (rule('{all = [["late", ">=", 0.3]]}'), "segment g: unknown indicator 'late', use one of"),
        (rule('{all = [["late_rate", "=>", 0.3]]}'), "segment g: unknown op '=>', use one of"),
        (rule('{all = [["late_rate", ">=", "0.3"]]}'), "late_rate >= needs a number, not '0.3'"),
        (rule('{all = [["late_rate", ">=", true]]}'), "needs a number, not True"),
        (rule('{all = [["late_rate", ">="]]}'), "a test is [indicator, op, number]"),
        (rule('{both = [["late_rate", ">=", 0.3]]}'), "when must be {all = [...]} or"),
        (rule('"late_rate >= 0.3"'), "when must be {all = [...]} or"),
        (rule("{any = []}"), "segment g: any needs a list of tests"),
        (rule('{all = [{any = [["x", ">", 1]]}]}'), "unknown indicator 'x'"),
        (rule('{all = [["remote", "==", 1]]}', actions='["call"]'), "actions are some of"),
        (rule('{all = [["remote", "==", 1]]}', name='""'), "segment g: name must be a text"),
        (rule('{all = [["remote", "==", 1]]}', id='"Late Ones"'), "id must be a-z"),
        (rule('{all = [["remote", "==", 1]]}') * 2, "segment ids repeat: g"),
        ("window_months = 6\n", "no groups: add [[segment]] tables"),
        ("window_months = 0\n" + rule('{all = [["remote", "==", 1]]}'), "window_months must be"),
        ("[[segment]]\nid = 'g'\nname = '组'\nexplain = '说明'\n", "segment g: when is missing"),
        ("version = \n", "not valid TOML"),
    ],
)
def test_a_bad_file_is_refused_with_one_line(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "segments.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SegmentError) as raised:
        load_segments(path)
    assert problem in str(raised.value) and "\n" not in str(raised.value)


def test_the_shipped_file_is_sound_and_an_absent_one_is_named(tmp_path: Path) -> None:
    assert [s.id for s in load_segments(SEGMENTS_FILE).segments] == [
        "steady",
        "often_late",
        "learns_not_meets",
        "remote_behind",
        "new_this_term",
        "inactive",
        "dues_behind",
    ]
    with pytest.raises(SegmentError, match="cannot read the file"):
        load_segments(tmp_path / "absent.toml")


def test_a_bad_file_stops_start_up_with_one_line(cli: Cli, tmp_path: Path) -> None:
    broken = tmp_path / "segments.toml"
    broken.write_text(SHIPPED.replace('"late_rate", ">="', '"lateness", ">="'), encoding="utf-8")
    refused_at_start(cli, "BRANCHBOT_SEGMENTS_FILE", broken, "unknown indicator 'lateness'")


@pytest.fixture
async def own_rules(database_url: str, tmp_path: Path) -> AsyncIterator[Chat]:
    """Services whose /segments reads a branch's own file: often late from 60% (not 30%),
    and a group of its own (never late)."""
    own = tmp_path / "segments.toml"
    text = SHIPPED.replace('["late_rate", ">=", 0.3]', '["late_rate", ">=", 0.6]')
    text = text.replace('version = "2026.1"', 'version = "branch-own-1"')
    text += rule('{all = [["late_rate", "==", 0], ["meetings_expected", ">=", 3]]}').replace(
        'name = "组"', 'name = "从不迟到"'
    )
    own.write_text(text, encoding="utf-8")
    settings = load_settings(database_url=database_url, secret_key=SECRET, segments_file=own)
    clock = Clock(datetime(2026, 11, 24, 2, 0, tzinfo=UTC))
    services = build_services(settings, clock=clock)
    yield Chat(services, clock)
    await services.close()
    segment_rules.cache_clear()


async def test_a_branch_file_changes_the_grouping(own_rules: Chat) -> None:
    history = await SegmentHistory.built(own_rules)
    text = await history.users["书记"].say("/segments")
    assert "▪ 经常迟到：0 人" in text, "迟到 was late at half: below the branch's 60%"
    # Six expected at 3 meetings or more and never late (新人 and 转入 had 2 in A).
    assert "▪ 从不迟到：6 人" in text and "名单：书记、学霸、实习、支委、欠费、稳定" in text
    assert "（规则版本 branch-own-1）" in text
    assert A in text
