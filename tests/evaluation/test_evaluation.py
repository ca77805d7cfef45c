"""The evaluation (考评) on a hand-made history whose figures are worked out below: the
indicators, excused and mid-period members, ranks and trend, a tampered trace, the chat
commands, the CLI report in every format, and bad input."""

import json
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from bot.app.services import Services
from handlers.common.periods import Period, parse_period
from handlers.core.messages import UserError
from handlers.evaluation.indicators import indicator_set
from handlers.evaluation.school import school_report
from handlers.evaluation.scorecard import (
    BranchScorecard,
    branch_scorecard,
    competition_ranks,
    member_scorecard,
)
from storage import traces
from storage.models import Trace
from tests.conftest import Cli, Threaded
from tests.support.chat import Chat, Clock
from tests.support.evaluation import (
    BRANCH,
    OPTIONS,
    TODAY,
    bind_member,
    freeze_export,
    history,
)
from tests.support.fake_telegram import FakeTelegram
from tests.support.telegram_rig import Rig, say

PERIOD = Period(date(2026, 9, 1), date(2026, 11, 1))  # 61 days


async def card_of(chat: Chat, period: Period = PERIOD) -> BranchScorecard:
    async with chat.services.sessions.begin() as session:
        branch = await chat.branch(BRANCH)
        return await branch_scorecard(
            session, chat.services.box, branch.id, period, OPTIONS, today=TODAY
        )


async def test_the_scorecard_matches_the_worked_figures(chat: Chat) -> None:
    ids = await history(chat)
    card = await card_of(chat)
    assert card.chain.ok and card.version == indicator_set().version
    first = card.member(ids["甲"])
    assert first is not None
    s = first.indicators
    # attendance: present at 2 of 2 → 25 × min(1/0.9, 1) = 25
    assert (s["attendance"].raw, s["attendance"].base, s["attendance"].points) == (2, 2, 25)
    # on time: 1 of 2 attended → 10 × 0.5/0.9 = 5.56
    assert (s["on_time"].raw, s["on_time"].base, s["on_time"].points) == (1, 2, 5.56)
    # materials: 8 of 4/month × 61/30 = 8.13 → 15 × 8/8.13 = 14.76
    assert (s["learned"].raw, s["learned"].base, s["learned"].points) == (8, 8.13, 14.76)
    # quiz days: 30 of 61 (the practice round does not count) → 15 × (30/61)/0.6 = 12.30
    assert (s["quiz_days"].raw, s["quiz_days"].base, s["quiz_days"].points) == (30, 61, 12.3)
    # accuracy: 120 of 150 = 0.8 → 10
    assert (s["quiz_accuracy"].raw, s["quiz_accuracy"].base, s["quiz_accuracy"].points) == (
        120,
        150,
        10,
    )
    # notices: 2 of 2, median of 60 s and 120 s = 90 s
    assert (s["notices"].rate, s["notices"].points, s["notices"].median_seconds) == (1, 10, 90)
    # volunteer: 4 h of 2/month × 61/30 = 4.07 → 5 × 4/4.07 = 4.91
    assert (s["volunteer"].raw, s["volunteer"].base, s["volunteer"].points) == (4, 4.07, 4.91)
    # dues: September and October due, none paid → 0; thoughts: a full member → not counted
    assert (s["dues"].raw, s["dues"].base, s["dues"].points) == (0, 2, 0)
    assert s["thoughts"].excluded == "not_in_stage"
    # total: 25 + 5.56 + 14.76 + 12.3 + 10 + 10 + 4.91 + 0 = 82.53 of 100 → 82.5
    assert first.total == 82.5 and first.rank == 1


async def test_excused_and_mid_period_members(chat: Chat) -> None:
    ids = await history(chat)
    card = await card_of(chat)
    second, third, fourth = (card.member(ids[n]) for n in ("乙", "丙", "丁"))
    assert second is not None and third is not None and fourth is not None
    # 乙 was excused at every meeting: not ranked on attendance or punctuality.
    assert second.indicators["attendance"].excluded == "excused"
    assert second.indicators["on_time"].excluded == "excused"
    # 乙 is ranked on materials 4/8.13 → 7.38, quiz days 0, notices 0/1, volunteer 0, dues 0/2:
    # weights 15 + 15 + 10 + 5 + 10 = 55, so the total is 7.38 × 100/55 = 13.4.
    assert second.indicators["learned"].points == 7.38 and second.total == 13.4
    # 丙 joined on 2026-10-01: a 31-day window. Attendance 0 of 1 (the October meeting only);
    # materials 2 of 4 × 31/30 = 4.13 → 7.26; quiz days 31/31 → 15; accuracy 124/155 = 0.8 → 10;
    # no notice (not counted); volunteer 0 of 2.07; dues October only, 0 of 1.
    t = third.indicators
    assert (t["attendance"].raw, t["attendance"].base) == (0, 1)
    assert t["on_time"].excluded == "not_attended" and t["notices"].excluded == "no_notices"
    assert (t["learned"].base, t["learned"].points) == (4.13, 7.26)
    assert (t["quiz_days"].raw, t["quiz_days"].base, t["quiz_days"].points) == (31, 31, 15)
    assert (t["volunteer"].base, t["dues"].base) == (2.07, 1)
    # ranked weights 25 + 15 + 15 + 10 + 5 + 10 = 80: (0 + 7.26 + 15 + 10) × 100/80 = 40.3
    assert third.total == 40.3
    # 丁 was added after the period: excluded everywhere and not ranked.
    assert all(s.excluded == "not_member" for s in fourth.indicators.values())
    assert fourth.rank is None
    assert [(m.name, m.rank) for m in card.members] == [
        ("甲", 1),
        ("丙", 2),
        ("乙", 3),
        ("丁", None),
    ]
    # Branch attendance: (2 + 0) / (2 + 1), 乙 left out; quiz days (30 + 0 + 31)/(61 + 61 + 31).
    assert card.branch_rates["attendance"] == pytest.approx(2 / 3)
    assert card.branch_rates["quiz_days"] == pytest.approx(61 / 153)
    # Trend: the previous period (2026-07..2026-08) had no activity: 甲 scored 0 on what
    # could be counted (materials, quiz days, volunteer, dues); 丙 was not a member yet.
    assert card.previous is not None and card.previous.period == Period(
        date(2026, 7, 1), date(2026, 9, 1)
    )
    first = card.member(ids["甲"])
    assert first is not None and first.previous_total == 0 and first.trend == 82.5
    assert third.previous_total is None and third.trend is None
    # The branch total is the mean of the ranked: (82.5 + 13.4 + 40.3) / 3 = 45.4
    assert card.total == 45.4
    # The meeting table names who did what.
    assert [(r.title, r.absent, r.excused, r.late) for r in card.meetings] == [
        ("九月支部党员大会", [], ["乙"], ["甲"]),
        ("十月主题党日", ["丙"], ["乙"], []),
    ]


async def test_member_scorecard_and_school_report(chat: Chat) -> None:
    ids = await history(chat)
    await chat.branch("数学学院教工党支部")
    async with chat.services.sessions.begin() as session:
        mine, card = await member_scorecard(
            session, chat.services.box, ids["丙"], PERIOD, OPTIONS, today=TODAY
        )
        cards = await school_report(session, chat.services.box, PERIOD, OPTIONS, today=TODAY)
    assert mine.total == 40.3 and mine.rank == 2 and card.branch_name == BRANCH
    by_name = {c.branch_name: c for c in cards}
    assert by_name[BRANCH].member(ids["甲"]).total == 82.5  # type: ignore[union-attr]
    assert by_name["数学学院教工党支部"].members == []
    # The school report counts meetings instead of naming people.
    assert [r.counts for r in by_name[BRANCH].meetings][1] == {
        "excused": 1,
        "present": 1,
        "absent": 1,
        "late": 0,
    }


async def test_a_member_scorecard_agrees_with_the_branch_card(chat: Chat) -> None:
    """The member's own card is computed apart (the rank from the period's totals only, the
    trend from their own previous period): every figure must be the branch card's."""
    ids = await history(chat)
    async with chat.services.sessions.begin() as session:
        card = await branch_scorecard(session, chat.services.box, 1, PERIOD, OPTIONS, today=TODAY)
        for member_id in ids.values():
            mine, _ = await member_scorecard(
                session, chat.services.box, member_id, PERIOD, OPTIONS, today=TODAY
            )
            theirs = card.member(member_id)
            assert theirs is not None
            assert (mine.total, mine.rank, mine.previous_total, mine.trend) == (
                theirs.total, theirs.rank, theirs.previous_total, theirs.trend
            )  # fmt: skip
            assert mine.indicators == theirs.indicators


def test_competition_ranks() -> None:
    assert competition_ranks({1: 90.0, 2: 80.0, 3: 80.0, 4: 70.0, 5: None}) == {
        1: 1,
        2: 2,
        3: 2,
        4: 4,
        5: None,
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-09..2026-12", Period(date(2026, 9, 1), date(2027, 1, 1))),
        ("2026-09-01..2026-12-31", Period(date(2026, 9, 1), date(2027, 1, 1))),
        ("2026-09", Period(date(2026, 9, 1), date(2026, 10, 1))),
        ("本月", Period(date(2026, 11, 1), date(2026, 12, 1))),
        ("term", Period(date(2026, 9, 1), date(2027, 2, 1))),
        ("本年", Period(date(2026, 1, 1), date(2027, 1, 1))),
    ],
)
def test_parse_period(text: str, expected: Period) -> None:
    assert parse_period(text, TODAY) == expected


@pytest.mark.parametrize(
    "text",
    ["2026-13", "2026-12..2026-09", "昨天", "2026-09..", "2001..2026", "2026-02-30..2026-03-01"],
)
def test_bad_periods(text: str) -> None:
    with pytest.raises(UserError):
        parse_period(text, TODAY)


def test_previous_periods() -> None:
    assert PERIOD.previous() == Period(date(2026, 7, 1), date(2026, 9, 1))
    days = Period(date(2026, 9, 10), date(2026, 9, 20))
    assert days.previous() == Period(date(2026, 8, 31), date(2026, 9, 10))
    assert parse_period("2026-02..2026-07", TODAY).label == "2026-02..2026-07"


async def tamper(services: Services) -> int:
    """Edit one material.learned row's data in place, as someone with database access might."""
    async with services.sessions.begin() as session:
        query = select(Trace.id).where(Trace.kind == "material.learned").order_by(Trace.id)
        row_id = (await session.scalars(query.limit(1))).one()
        await session.execute(update(Trace).where(Trace.id == row_id).values(data={"forged": True}))
        return row_id


async def test_a_tampered_trace_is_named_everywhere(
    chat: Chat, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await history(chat)
    secretary = await bind_member(chat, "甲")
    sound = await secretary.say("/report 2026-09..2026-10")
    assert "留痕链已校验" in sound and "被改动" not in sound
    bad_id = await tamper(chat.services)
    cli = Threaded(Cli(database_url))
    verify = await cli("verify")
    assert verify.exit_code != 0 and str(bad_id) in verify.output
    warning = f"留痕链在第 {bad_id} 条被改动，以下数字不可信"
    shown = await secretary.say("/report 2026-09..2026-10")
    assert warning in shown
    assert len(secretary.replies) == 1  # no chart of untrusted figures
    assert warning in await secretary.say("/myreport 2026-09..2026-10")
    freeze_export(monkeypatch)
    out = tmp_path / "card.xlsx"
    refused = await cli(
        "report", "--branch", BRANCH, "--period", "2026-09..2026-10", "--out", str(out)
    )
    assert refused.exit_code == 3 and warning in refused.output and not out.exists()
    forced = await cli(
        "report", "--branch", BRANCH, "--period", "2026-09..2026-10", "--out", str(out), "--force"
    )
    assert forced.exit_code == 0, forced.output
    summary = load_workbook(out)["汇总"]
    assert any(warning in str(c.value) for row in summary.iter_rows() for c in row)
    data = tmp_path / "card.json"
    await cli(
        "report", "--branch", BRANCH, "--period", "2026-09..2026-10", "--out", str(data), "--force"
    )
    assert warning in json.loads(data.read_text(encoding="utf-8"))["warning"]


async def test_report_in_chat(chat: Chat) -> None:
    await history(chat)
    secretary = await bind_member(chat, "甲")
    text = await secretary.say("/report 2026-09..2026-10")
    assert "化学化工学院第一党支部 考评 2026-09..2026-10" in text
    assert "· 组织生活出勤：67%" in text  # 2 of 3 expected, 乙 excused
    assert "总分靠前：甲（82.5）、丙（40.3）、乙（13.4）" in text
    assert "不代替支部的集体判断" in text
    assert len(secretary.replies) == 2 and secretary.replies[1].image is not None
    assert secretary.replies[1].image.startswith(b"\x89PNG")
    assert "考评 2026-09..2026-10" in await secretary.say("支部考评 2026-09..2026-10")
    async with chat.services.sessions() as session:
        viewed = [t.data async for t in traces.iter_traces(session) if t.kind == "data.viewed"]
    assert {"what": "scorecard", "period": "2026-09..2026-10"} in viewed


async def test_myreport_in_chat(chat: Chat) -> None:
    await history(chat)
    third = await bind_member(chat, "丙")
    text = await third.say("/myreport 2026-09..2026-10")
    assert "丙 的考评 2026-09..2026-10" in text
    assert "· 组织生活出勤：0/1，0%，得分 0/25" in text
    assert "· 按时到会：不计（期间未到会）" in text
    assert "· 每日答题：31/31，100%，得分 15/15" in text
    assert "总分 40.3，支部第 2 名（共 3 人参与排名），无上期可比" in text
    assert third.replies[1].image is not None
    fourth = await bind_member(chat, "丁")
    text = await fourth.say("我的考评 2026-09..2026-10")
    assert "本期不参与排名" in text and "期间尚未加入支部名册" in text


async def test_inactive_in_chat(chat: Chat) -> None:
    await history(chat)
    secretary = await bind_member(chat, "甲")
    text = await secretary.say("/inactive 2026-09..2026-10")
    # 丙 missed 1 of 1 meeting (below 60%) but did quizzes up to 2026-10-31, within the 30
    # days to 2026-11-24; 乙 did no quiz and acknowledged 0 of 1 notice; 甲's last quiz was
    # in September; 丁 did nothing.
    assert "· 丙：缺席会议 1/1 次\n" in text
    assert "· 乙：近 30 天没有每日答题、未回执通知 1/1 条" in text
    assert "· 甲：近 30 天没有每日答题\n" in text and "· 丁：近 30 天没有每日答题" in text
    assert "不代替支部的判断" in text


async def test_chat_commands_refuse_bad_input_and_members(chat: Chat) -> None:
    await history(chat)
    secretary = await bind_member(chat, "甲")
    for command in ("/report", "/myreport", "/inactive"):
        text = await secretary.say(f"{command} 2026-13")
        assert "期间“2026-13”看不懂" not in text and f"{command} [期间]" in text
        assert "“2026-13”不是有效的月份或日期" in text
        assert "期间“下学期”看不懂" in await secretary.say(f"{command} 下学期")
        reversed_ = await secretary.say(f"{command} 2026-12..2026-09")
        assert "结束（2026-09）早于开始（2026-12）" in reversed_ and "看不懂" not in reversed_
        assert f"{command} [期间]" in reversed_
        too_long = await secretary.say(f"{command} 2019-01..2026-12")
        assert "共 2922 天，超过了最长 5 年" in too_long and "看不懂" not in too_long
    member = await bind_member(chat, "乙")
    assert "考评" not in await member.say("/report")
    assert "考评" not in await member.say("/inactive")


async def test_cli_report_formats(
    chat: Chat, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await history(chat)
    freeze_export(monkeypatch)
    cli = Threaded(Cli(database_url))
    args = ("report", "--branch", BRANCH, "--period", "2026-09..2026-10")
    book_path = tmp_path / "card.xlsx"
    result = await cli(*args, "--out", str(book_path))
    assert result.exit_code == 0, result.output
    book = load_workbook(book_path)
    assert book.sheetnames == ["汇总", "党员", "会议", "学习", "通知"]
    members = book["党员"]
    headers = [c.value for c in members[1]]
    assert headers[:7] == ["支部", "姓名", "阶段", "总分", "排名", "上期总分", "变化"]
    assert "组织生活出勤·完成率" in headers
    rate_col = headers.index("组织生活出勤·完成率") + 1
    first = members.cell(2, rate_col)
    assert members.cell(2, 2).value == "甲" and first.value == 1 and first.number_format == "0.0%"
    assert members.cell(4, rate_col).value == "期间会议均已请假"  # 乙, ranked third
    assert members.column_dimensions["B"].width >= 8 and members.cell(1, 1).font.bold
    meetings = book["会议"]
    assert [c.value for c in meetings[3]][2] == "十月主题党日" and meetings.cell(
        3, 11
    ).value == "丙"
    assert meetings.cell(3, 7).number_format == "0.0%"
    summary = [c.value for row in book["汇总"].iter_rows() for c in row if c.value]
    assert any("导出人：secretary（命令行）" in str(v) for v in summary)
    assert any("不代替支部的集体判断" in str(v) for v in summary)
    assert "导出人：secretary" in (book.properties.description or "")

    csv_path = tmp_path / "card.csv"
    assert (await cli(*args, "--format", "csv", "--out", str(csv_path))).exit_code == 0
    lines = csv_path.read_bytes().decode("utf-8-sig").splitlines()
    assert any(line.startswith("导出人：secretary") for line in lines[:4])
    assert any(line.startswith("支部,姓名,阶段,总分") for line in lines)

    json_path = tmp_path / "card.json"
    assert (await cli(*args, "--out", str(json_path))).exit_code == 0
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data["watermark"].startswith("导出人：secretary") and data["warning"] is None
    assert [m["total"] for m in data["branches"][0]["members"]] == [82.5, 40.3, 13.4, None]

    png_path = tmp_path / "card.png"
    assert (await cli(*args, "--format", "png", "--out", str(png_path))).exit_code == 0
    assert png_path.read_bytes().startswith(b"\x89PNG")

    both = tmp_path / "all.json"
    await cli("branch", "add", "数学学院教工党支部")
    result = await cli(
        "report", "--all-branches", "--period", "2026-09..2026-10", "--out", str(both)
    )
    assert result.exit_code == 0, result.output
    names = [b["branch"] for b in json.loads(both.read_text(encoding="utf-8"))["branches"]]
    assert set(names) == {BRANCH, "数学学院教工党支部"}
    async with chat.services.sessions() as session:
        exported = [t.data async for t in traces.iter_traces(session) if t.kind == "data.exported"]
    assert {e["format"] for e in exported} == {"xlsx", "csv", "json", "png"}


def test_cli_report_bad_input(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "x.xlsx"
    bad = cli("report", "--branch", "数学学院教工党支部", "--period", "2026-13", "--out", str(out))
    assert bad.exit_code != 0 and "“2026-13”不是有效的月份或日期" in bad.output
    neither = cli("report", "--period", "2026-09", "--out", str(out))
    assert neither.exit_code != 0 and "--all-branches" in neither.output
    both = cli("report", "--branch", "数学学院教工党支部", "--all-branches", "--out", str(out))
    assert both.exit_code != 0
    pdf = cli(
        "report",
        "--branch",
        "数学学院教工党支部",
        "--period",
        "2026-09",
        "--out",
        str(tmp_path / "x.pdf"),
    )
    assert pdf.exit_code != 0 and ".png" in pdf.output
    unknown = cli("report", "--branch", "没有这个支部", "--period", "2026-09", "--out", str(out))
    assert unknown.exit_code == 1
    assert not out.exists()


async def test_report_over_telegram(fake: FakeTelegram, rig: Rig, clock: Clock) -> None:
    chat = Chat(rig.services, clock)
    await history(chat)
    secretary = await bind_member(chat, "甲")
    text = await say(fake, secretary, "/report 2026-09..2026-10")
    assert "化学化工学院第一党支部 考评 2026-09..2026-10" in text and "甲（82.5）" in text
    chat_id = int(secretary.account_id)
    await fake.wait_until(lambda: any(c.method == "sendPhoto" for c in fake.sent_to(chat_id)), 15)
    photo = next(c for c in fake.sent_to(chat_id) if c.method == "sendPhoto")
    assert "各月出勤率" in photo.params["caption"]
