"""The evaluation's rules beside its worked figures (tests/evaluation/test_evaluation.py): a
branch's own indicator file (the INDICATORS_FILE setting, checked at start-up with one line per
mistake), rates that never pass 100%, the top and bottom of /report never naming one person
twice, a refused period saying why, and one wording for each reason a member is not ranked."""

import ast
import re
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.app.services import handler_options
from bot.app.settings import load_settings
from handlers.common.periods import Period, parse_period
from handlers.core.i18n import DEFAULT_LANG, load_catalog
from handlers.core.messages import UserError
from handlers.evaluation.chat import top_and_bottom
from handlers.evaluation.indicators import (
    INDICATORS_FILE,
    IndicatorError,
    load_indicators,
    parse_indicators,
)
from handlers.evaluation.scorecard import MemberScore, branch_scorecard
from handlers.evaluation.settings import EvaluationSettings
from tests.conftest import SECRET, Cli
from tests.support.chat import Chat
from tests.support.data_files import refused_at_start
from tests.support.evaluation import BRANCH, OPTIONS, TODAY, bind_member, history

ROOT = Path(__file__).resolve().parents[2]
OWN = """version = "branch-own-1"

[[indicator]]
id = "attendance"
name = "组织生活出勤"
group = "organisational"
formula = "attendance"
weight = 60
target = 0.8

[[indicator]]
id = "volunteer"
name = "志愿服务"
group = "branch"
formula = "volunteer_hours"
weight = 40
target = 1.0
per_month = 1
"""


def _indicator(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "volunteer",
        "name": "志愿服务",
        "group": "branch",
        "formula": "volunteer_hours",
        "weight": 5,
        "target": 1.0,
        "per_month": 2,
    }
    return {"version": "t", "indicator": [{**base, **changes}]}


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"formula": "hours"}, "indicator volunteer: unknown formula 'hours', use one of"),
        ({"weight": "五"}, "indicator volunteer: weight must be a number, not '五'"),
        ({"weight": -1}, "indicator volunteer: weight must be 0 or more"),
        ({"weight": float("nan")}, "indicator volunteer: weight must be a number"),
        ({"weight": True}, "indicator volunteer: weight must be a number, not True"),
        ({"target": 90}, "indicator volunteer: target must be a rate above 0 and at most 1"),
        ({"group": "fun"}, "indicator volunteer: unknown group 'fun'"),
        ({"per_month": 0}, "indicator volunteer: formula volunteer_hours needs per_month > 0"),
        ({"stages": ["member"]}, "indicator volunteer: unknown stage 'member'"),
    ],
)
def test_a_mistake_in_the_indicator_file_is_named(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(IndicatorError) as refused:
        parse_indicators(_indicator(**changes))
    assert str(refused.value).startswith(problem), str(refused.value)
    assert "\n" not in str(refused.value)


def test_the_file_as_a_whole_is_checked(tmp_path: Path) -> None:
    missing = _indicator()
    del missing["indicator"][0]["target"]
    with pytest.raises(IndicatorError, match="indicator volunteer: missing target"):
        parse_indicators(missing)
    twice = _indicator()
    twice["indicator"] *= 2
    with pytest.raises(IndicatorError, match="ids repeat: volunteer"):
        parse_indicators(twice)
    with pytest.raises(IndicatorError, match=r"\[inactive\]: notices_below must be a number"):
        parse_indicators({**_indicator(), "inactive": {"notices_below": "half"}})
    broken = tmp_path / "broken.toml"
    broken.write_text("version = \n", encoding="utf-8")
    with pytest.raises(IndicatorError, match="not valid TOML"):
        load_indicators(broken)
    with pytest.raises(IndicatorError, match="cannot read the file"):
        load_indicators(tmp_path / "absent.toml")
    assert load_indicators(INDICATORS_FILE).version  # the packaged file is sound


def test_a_broken_indicator_file_stops_start_up_with_one_line(cli: Cli, tmp_path: Path) -> None:
    broken = tmp_path / "indicators.toml"
    broken.write_text(OWN.replace('"volunteer_hours"', '"hours"'), encoding="utf-8")
    problem = "indicator volunteer: unknown formula 'hours'"
    refused_at_start(cli, "BRANCHBOT_INDICATORS_FILE", broken, problem)


async def test_a_branch_uses_its_own_indicator_file(chat: Chat, tmp_path: Path) -> None:
    own = tmp_path / "indicators.toml"
    own.write_text(OWN, encoding="utf-8")
    settings = load_settings(database_url="sqlite://", secret_key=SECRET, indicators_file=own)
    options = handler_options(settings)
    assert options.of(EvaluationSettings).indicators_file == own
    ids = await history(chat)
    period = Period(date(2026, 9, 1), date(2026, 11, 1))
    async with chat.services.sessions.begin() as session:
        branch = await chat.branch(BRANCH)
        card = await branch_scorecard(
            session, chat.services.box, branch.id, period, options, today=TODAY
        )
    assert card.version == "branch-own-1"
    assert [i.id for i in card.indicators] == ["attendance", "volunteer"]
    first = card.member(ids["甲"])
    # 甲: attendance 2/2 → 60; volunteer 4 h of 1/month × 61/30 = 2.03, capped → 40
    assert first is not None and first.total == 100


async def test_rates_never_pass_100_percent_and_say_so(chat: Chat) -> None:
    ids = await history(chat)
    # 2026-09-02..2026-09-09: 甲 marked 8 materials where 4 × 8/30 = 1.07 were due (750%);
    # 乙 none of 1.07; 丙 and 丁 were not yet on the roster.
    week = Period(date(2026, 9, 2), date(2026, 9, 10))
    async with chat.services.sessions.begin() as session:
        branch = await chat.branch(BRANCH)
        card = await branch_scorecard(
            session, chat.services.box, branch.id, week, OPTIONS, today=TODAY
        )
    first = card.member(ids["甲"])
    assert first is not None
    learned = first.indicators["learned"]
    assert (learned.raw, learned.base, learned.rate, learned.points) == (8, 1.07, 1.0, 15)
    assert learned.beyond_base
    # The branch counts each member up to their own base: (1.07 + 0) / (1.07 + 1.07).
    assert card.branch_rates["learned"] == pytest.approx(0.5)
    for m in card.members:
        assert all(s.rate is None or s.rate <= 1 for s in m.indicators.values())
    assert all(r is None or r <= 1 for r in card.branch_rates.values())

    secretary = await bind_member(chat, "甲")
    text = await secretary.say("/myreport 2026-09-25..2026-09-25")
    # One day: 2.5 volunteer hours where 2 × 1/30 = 0.07 were due.
    assert "· 志愿服务：2.5/0.07，100%，得分 5/5（超过应有数量，完成率最高记 100%）" in text
    assert "3571%" not in text
    report = await secretary.say("/report 2026-09-02..2026-09-09")
    assert "· 学习资料：50%" in report


def _ranked(count: int) -> list[MemberScore]:
    return [MemberScore(i, f"党员{i}", "full", {}, 100.0 - i, i, None) for i in range(1, count + 1)]


@pytest.mark.parametrize("count", range(0, 9))
def test_top_and_bottom_never_name_one_member_twice(count: int) -> None:
    top, bottom = top_and_bottom(_ranked(count))
    assert len(top) == min(count, 3) and len(bottom) == min(max(count - 3, 0), 3)
    assert not {m.member_id for m in top} & {m.member_id for m in bottom}
    if bottom:
        assert bottom[0].member_id == count  # the lowest first


async def test_report_with_five_ranked_members(chat: Chat) -> None:
    """This month all four of the history's members are ranked; a fifth makes five, where the
    last three used to include two of the first three."""
    await history(chat)
    await chat.enrol("戊")
    secretary = await bind_member(chat, "甲")
    text = await secretary.say("/report")
    assert "参与排名 5 人" in text
    top = re.search("总分靠前：(.*)", text)
    bottom = re.search("总分靠后：(.*)", text)
    assert top is not None and bottom is not None
    named_top = re.findall(r"([^、（）\s]+)（", top.group(1))
    named_bottom = re.findall(r"([^、（）\s]+)（", bottom.group(1))
    assert len(named_top) == 3 and len(named_bottom) == 2, text
    assert not set(named_top) & set(named_bottom), text


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("2026-12..2026-09", "period.reversed"),
        ("2026-09-30..2026-09-01", "period.reversed"),
        ("2019-01..2026-12", "period.too_long"),
        ("2026-13", "period.bad_date"),
        ("2026-02-30..2026-03-01", "period.bad_date"),
        ("9999-12-31", "period.bad_date"),
        ("0001-01", "period.bad_date"),
        ("下学期", "period.bad"),
        ("2026-09..", "period.bad"),
    ],
)
def test_a_refused_period_says_why(text: str, key: str) -> None:
    with pytest.raises(UserError) as refused:
        parse_period(text, TODAY)
    assert refused.value.msg.key == key


def _exclusion_reasons() -> set[str]:
    """Every reason the formulas and the scorecard give for not ranking a member: the string
    literals passed as Measure's or IndicatorScore's `excluded` (or in an `or` there)."""
    found: set[str] = set()
    for name in ("formulas.py", "scorecard.py"):
        tree = ast.parse((ROOT / "handlers" / "evaluation" / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in (
                "Measure",
                "IndicatorScore",
            ):
                spot = 2 if node.func.id == "Measure" else 5  # type: ignore[attr-defined]
                if len(node.args) > spot:
                    found |= {
                        n.value
                        for n in ast.walk(node.args[spot])
                        if isinstance(n, ast.Constant) and isinstance(n.value, str)
                    }
    return found


@pytest.mark.parametrize("lang", [DEFAULT_LANG, "en"])
def test_every_reason_for_not_ranking_has_one_wording(lang: str) -> None:
    reasons = _exclusion_reasons()
    assert {"no_quiz", "no_notices", "not_member", "no_base", "excused"} <= reasons
    catalog = load_catalog(lang)
    missing = sorted(r for r in reasons if f"evaluation.why.{r}" not in catalog)
    assert not missing, f"reasons without words in {lang}: {missing}"
    # The web page says it in the same words as chat and the files: no second table of them.
    assert not [k for k in catalog if k.startswith("web.excluded.")]
    template = (ROOT / "bot" / "web" / "templates" / "scorecard.html").read_text(encoding="utf-8")
    assert re.findall(r"t\('([\w.]+)' ~ s\.excluded\)", template) == ["evaluation.why."]


async def test_options_default_to_the_packaged_file() -> None:
    assert replace(OPTIONS).of(EvaluationSettings).indicators_file is None
