"""The development pipeline as conversations: a person carried from application to full
membership with every rule met, others breaking each rule in turn, forward-only steps and
their refusals, contact persons and talks, the file view, the side-by-side table, and the
daily reminders on a frozen clock.

The clock fixture stands at 2026-11-24 10:00 in Shanghai."""

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.app import services as app
from bot.app.settings import ConfigError
from handlers.core.context import Options
from handlers.pipeline import rules
from handlers.pipeline.reminders import remind_contact_talks, remind_deadlines
from handlers.pipeline.rules import parse_rules, rule_set
from handlers.pipeline.settings import PipelineSettings
from storage import pipeline, roster
from storage.enums import MeetingKind, Role, Stage
from storage.models import Member, OutboxMessage, Trace
from tests.conftest import BRANCH, Cli
from tests.support.chat import Chat
from tests.support.pipeline import check_complete_file, journey, meeting, secretary_with_contacts


async def member(chat: Chat, name: str) -> Member:
    async with chat.services.sessions() as session:
        found = await session.scalar(select(Member).where(Member.name == name))
    assert found is not None
    return found


async def test_a_person_carried_from_application_to_full_member(chat: Chat) -> None:
    secretary = await secretary_with_contacts(chat)
    for step in await journey(chat):
        reply = await secretary.say(step)
        assert reply.startswith("已"), (step, reply)
    assert "注意" not in reply, reply  # once the file is complete, nothing is missing
    check_complete_file(await secretary.say("/pipeline 张三"))
    assert (await member(chat, "张三")).stage == Stage.FULL


async def test_each_broken_rule_shows_as_unmet_with_its_reason(chat: Chat) -> None:
    secretary = await secretary_with_contacts(chat)
    lecture = await meeting(chat, MeetingKind.LECTURE, date(2026, 6, 1))
    cases = {
        # No talk within a month of the application.
        "甲": (
            Stage.APPLICANT,
            ["/stage 甲 入党申请人 2026-09-01"],
            "尚未谈话，已超过期限 2026-10-01",
        ),
        # A talk, but late.
        "乙": (
            Stage.APPLICANT,
            ["/stage 乙 入党申请人 2026-08-01", "/talk 乙 2026-09-15"],
            "谈话于 2026-09-15，晚于期限 2026-09-01",
        ),
        # An activist with no contact person.
        "丙": (Stage.ACTIVIST, ["/stage 丙 入党积极分子 2026-03-01"], "尚未确定培养联系人"),
        # A candidate after six months as an activist.
        "丁": (
            Stage.ACTIVIST,
            ["/stage 丁 入党积极分子 2025-12-01", "/stage 丁 发展对象 2026-06-01"],
            "自 2025-12-01 至 2026-06-01，未满期限（最早 2026-12-01）",
        ),
        # Admitted with no political review, no training, and by a 党课 not an assembly.
        "戊": (
            Stage.CANDIDATE,
            [f"/stage 戊 预备党员 2026-06-02 党课#{lecture}"],
            "成为预备党员前没有政治审查记录",
        ),
        # Probation over and conversion not discussed.
        "己": (
            Stage.PROBATIONARY,
            ["/stage 己 预备党员 2025-10-01"],
            "已于 2026-10-01 期满，应及时讨论",
        ),
    }
    for name, (stage, steps, expected) in cases.items():
        await chat.enrol(name, stage=stage)
        for step in steps:
            assert (await secretary.say(step)).startswith("已"), step
        file = await secretary.say(f"/pipeline {name}")
        assert expected in file, (name, file)
    file = await secretary.say("/pipeline 戊")
    assert "已记录 0 学时，要求 24 学时" in file
    assert "记录中未注明支部党员大会" in file
    overview = await secretary.say("/pipeline")
    assert "【入党申请人】2 人" in overview and "【预备党员】2 人" in overview
    assert "甲，自 2026-09-01" in overview and "⚠️ 1 项未满足" in overview


async def test_a_move_that_breaks_a_rule_is_recorded_with_a_warning(chat: Chat) -> None:
    secretary = await secretary_with_contacts(chat)
    await chat.enrol("丁", stage=Stage.ACTIVIST)
    await secretary.say("/stage 丁 入党积极分子 2026-05-01")
    reply = await secretary.say("/stage 丁 发展对象 2026-11-20")
    assert "已记录：丁 于 2026-11-20 成为发展对象" in reply
    assert "注意" in reply and "经过一年以上培养教育和考察" in reply
    assert (await member(chat, "丁")).stage == Stage.CANDIDATE


async def test_forward_only_and_every_refusal(chat: Chat) -> None:
    secretary = await secretary_with_contacts(chat)
    await chat.enrol("张三", stage=Stage.APPLICANT)
    refusals = {
        "/stage": "用法",
        "/stage 张三 发展对象": "用法",
        "/stage 李四 入党积极分子 2026-11-01": "没有找到“李四”",
        "/stage 张三 发展对象 2026-11-01": "只能逐级推进：张三现在是入党申请人",
        "/stage 张三 积极 2026-11-01": "不是有效的阶段",
        "/stage 张三 入党积极分子 2026-13-01": "看不懂",
        "/stage 张三 入党积极分子 2026-12-30": "还没到",
        "/stage 张三 延长预备期 2026-11-01 6个月 原因": "只有预备党员",
        "/stage 张三 入党积极分子 2026-11-01 支部大会#99": "找不到本支部的会议 #99",
    }
    for text, expected in refusals.items():
        reply = await secretary.say(text)
        assert expected in reply, (text, reply)
    assert (await member(chat, "张三")).stage == Stage.APPLICANT
    assert "已补录" in await secretary.say("/stage 张三 入党申请人 2026-10-01")
    assert "已记录为 2026-10-01，不能更改或倒退" in await secretary.say(
        "/stage 张三 入党申请人 2026-10-02"
    )
    assert "日期与档案不符" in await secretary.say("/stage 张三 入党积极分子 2026-09-01")
    assert "已记录" in await secretary.say("/stage 张三 入党积极分子 2026-11-01")
    assert "不能更改或倒退" in await secretary.say("/stage 张三 入党积极分子 2026-11-02")
    plain = await chat.bound("党员甲")
    assert "仅限" in await plain.say("/stage 张三 发展对象 2026-11-20")
    async with chat.services.sessions() as session:
        changes = (await session.scalars(select(Trace).where(Trace.kind == "stage.changed"))).all()
    assert [c.data["kind"] for c in changes] == ["dated", "advance"]
    assert changes[1].data["from"] == "applicant" and changes[1].data["to"] == "activist"


async def test_probation_extended_once_then_cancelled(chat: Chat) -> None:
    secretary = await secretary_with_contacts(chat)
    await chat.enrol("预备甲", stage=Stage.PROBATIONARY)
    await secretary.say("/stage 预备甲 预备党员 2025-10-01")
    assert "6 到 12 个月" in await secretary.say("/stage 预备甲 延长预备期 2026-10-02 3个月 原因")
    assert "写明原因" in await secretary.say("/stage 预备甲 延长预备期 2026-10-02 6个月")
    reply = await secretary.say("/stage 预备甲 延长预备期 2026-10-02 6个月 支部大会讨论决定")
    assert "预备期自 2026-10-02 延长 6 个月" in reply
    file = await secretary.say("/pipeline 预备甲")
    assert "最早于 2027-04-01 期满" in file  # a year and six months
    assert "只能延长一次" in await secretary.say("/stage 预备甲 延长预备期 2026-10-03 6个月 再延")
    assert "写明原因" in await secretary.say("/stage 预备甲 取消预备党员资格 2026-11-01")
    reply = await secretary.say("/stage 预备甲 取消预备党员资格 2026-11-01 支部大会讨论决定")
    assert "被取消预备党员资格，已从名册停用" in reply
    gone = await member(chat, "预备甲")
    assert not gone.active and gone.left_reason == "cancelled"
    assert gone.left_on == date(2026, 11, 1) and gone.access_until == date(2027, 4, 30)
    async with chat.services.sessions() as session:
        (stretch,) = await roster.memberships_of(session, gone.id)
    assert stretch.until is not None and stretch.end_reason == "cancelled"


async def test_a_file_is_found_by_staff_number(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    member_id, _ = await chat.enrol("学号甲", stage=Stage.ACTIVIST)
    async with chat.services.sessions() as session, session.begin():
        (await session.get(Member, member_id)).staff_no = "2023001"  # type: ignore[union-attr]
    assert "学号甲 · 入党积极分子" in await secretary.say("/pipeline 2023001")
    assert "学号甲 · 入党积极分子" in await secretary.say(f"/pipeline #{member_id}")


async def test_contacts_talks_and_who_may_see_a_file(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    teacher = await chat.bound("李老师")
    other = await chat.bound("王五")
    await chat.enrol("预备乙", stage=Stage.PROBATIONARY)
    activist = await chat.bound("张三", stage=Stage.ACTIVIST)
    assert "须是正式党员" in await secretary.say("/contact 张三 预备乙")
    assert "用法" in await secretary.say("/contact 张三")
    assert "用法" in await secretary.say("/contact 张三 李老师 王五 书记")
    assert "不能做自己的培养联系人" in await secretary.say("/contact 张三 张三")
    assert "培养联系人：李老师" in await secretary.say("/contact 张三 李老师")
    async with chat.services.sessions() as session:
        told = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "contact.assigned")
            )
        ).all()
    assert [row.member_id for row in told] == [(await member(chat, "李老师")).id]
    assert "已记录：2026-11-20 与 张三 谈话" in await teacher.say("/talk 张三 2026-11-20 谈心")
    assert "不是张三的培养联系人" in await other.say("/talk 张三 2026-11-20")
    assert "张三 · 入党积极分子" in await teacher.say("/pipeline 张三")
    assert "只能查看自己" in await other.say("/pipeline 张三")
    assert "张三 · 入党积极分子" in await activist.say("/pipeline")
    # Replacing the contact ends the old assignment.
    await secretary.say("/contact 张三 王五")
    person, wang = await member(chat, "张三"), await member(chat, "王五")
    async with chat.services.sessions() as session:
        assert await pipeline.contact_ids(session, person.id) == [wang.id]
    assert "不是张三的培养联系人" in await teacher.say("/talk 张三 2026-11-21")
    async with chat.services.sessions() as session:
        viewed = (await session.scalars(select(Trace).where(Trace.kind == "data.viewed"))).all()
    assert [v.data for v in viewed] == [{"what": "pipeline"}]  # the teacher's; not one's own


async def test_training_and_review_input(chat: Chat) -> None:
    secretary = await secretary_with_contacts(chat)
    await chat.enrol("丙", stage=Stage.CANDIDATE)
    assert "看不懂" in await secretary.say("/training 丙 2026-10-01 很久")
    assert "看不懂" in await secretary.say("/training 丙 2026-10-01 0学时")
    assert "用法" in await secretary.say("/training 丙 2026-10-01")
    assert "累计 16 学时" in await secretary.say("/training 丙 2026-10-01 16学时")
    assert "累计 24 学时" in await secretary.say("/training 丙 2026-10-08 1天")
    assert "还没到" in await secretary.say("/review 丙 2027-01-01")
    assert "政治审查于 2026-10-15 完成" in await secretary.say("/review 丙 2026-10-15")
    await chat.enrol("正式", stage=Stage.FULL)
    assert "不能记录" in await secretary.say("/review 正式 2026-10-15")


async def test_candidates_table_sorts_and_says_it_does_not_decide(chat: Chat) -> None:
    secretary = await secretary_with_contacts(chat)
    # Code-point order of the names agrees with their pinyin order here (see the note in
    # candidates.py on sorting names).
    for name, since in (("王一", "2025-09-01"), ("王二", "2025-01-01")):
        await chat.enrol(name, stage=Stage.ACTIVIST)
        await secretary.say(f"/stage {name} 入党积极分子 {since}")
    table = await secretary.say("/candidates")
    assert "不代替组织决定" in table and "不合成总分" in table
    assert table.index("1. 王二") < table.index("2. 王一")  # longer in stage first
    by_name = await secretary.say("/candidates 发展对象 姓名")
    assert by_name.index("1. 王一") < by_name.index("2. 王二")
    assert "按“姓名”排序" in by_name
    assert "看不懂" in await secretary.say("/candidates 身高")
    awards = await secretary.say("/candidates 评优")
    assert "李老师" in awards and "王一（" not in awards
    async with chat.services.sessions() as session:
        views = (
            await session.scalars(select(Trace).where(Trace.kind == "candidates.viewed"))
        ).all()
    assert [v.data["view"] for v in views] == ["candidates", "candidates", "awards"]


async def test_deadline_reminders_go_to_the_secretary_once(chat: Chat) -> None:
    secretary = await secretary_with_contacts(chat)
    await chat.enrol("申请甲", stage=Stage.APPLICANT)
    await chat.enrol("申请乙", stage=Stage.APPLICANT)
    await chat.enrol("预备丙", stage=Stage.PROBATIONARY)
    await secretary.say("/stage 申请甲 入党申请人 2026-11-10")  # talk due 2026-12-10
    await secretary.say("/stage 申请乙 入党申请人 2026-05-10")  # due long ago: overdue
    await secretary.say("/stage 预备丙 预备党员 2025-12-20")  # probation ends 2026-12-20
    options = Options().having(PipelineSettings(deadline_notice_days=30))
    services = chat.services
    for _ in range(2):  # a rerun queues nothing more
        async with services.sessions.begin() as session:
            await remind_deadlines(session, services.box, options, chat.clock())
    async with services.sessions() as session:
        rows = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "pipeline.reminded")
            )
        ).all()
        traced = (
            await session.scalars(select(Trace).where(Trace.kind == "pipeline.reminded"))
        ).all()
    assert len(rows) == 3 and len(traced) == 3
    assert sorted(t.data["rule"] for t in traced) == [
        "application_talk",
        "application_talk",
        "probation_year",
    ]
    # A month on, the probation's deadline has passed; it was already reminded: nothing new.
    chat.clock.advance(days=31)
    async with services.sessions.begin() as session:
        assert await remind_deadlines(session, services.box, options, chat.clock()) == 0


async def test_contact_reminded_when_no_talk_for_months(chat: Chat) -> None:
    secretary = await secretary_with_contacts(chat)
    await chat.enrol("积极甲", stage=Stage.ACTIVIST)
    await secretary.say("/contact 积极甲 李老师 2026-07-01")
    await secretary.say("/talk 积极甲 2026-09-01")
    options = Options().having(PipelineSettings(contact_talk_months=3))
    services = chat.services
    async with services.sessions.begin() as session:
        assert await remind_contact_talks(session, services.box, options, chat.clock()) == 0
    chat.clock.now = datetime(2026, 12, 1, 2, tzinfo=UTC)  # three months after the talk
    for expected in (1, 0):
        async with services.sessions.begin() as session:
            assert (
                await remind_contact_talks(session, services.box, options, chat.clock()) == expected
            )


def test_the_rule_file_is_checked_when_read() -> None:
    assert rule_set().version
    rule: dict[str, object] = {"id": "x", "name": "n", "source": "s", "check": "guess"}
    base = {"version": "t", "rule": [rule]}
    with pytest.raises(ValueError, match="unknown check"):
        parse_rules(base)
    rule.update(check="min_time", to="full", months=12)
    with pytest.raises(ValueError, match="min_time needs from"):
        parse_rules(base)
    rule["from"] = "member"
    with pytest.raises(ValueError, match="not a stage"):
        parse_rules(base)
    rule.update({"from": "probationary", "months": "twelve"})
    with pytest.raises(ValueError, match="months must be a number"):
        parse_rules(base)
    rule["months"] = 12
    assert parse_rules(base).rules[0].params["months"] == 12


def test_a_broken_rules_file_stops_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "rules.toml"
    broken.write_text(
        'version = "x"\n[[rule]]\nid = "a"\nname = "n"\nsource = "s"\ncheck = "contacts"\n'
    )
    monkeypatch.setattr(app, "rule_set", lambda: rules.rule_set(broken))
    with pytest.raises(ConfigError, match="contacts needs from, min, max"):
        app.check_rules()


def test_report_candidates_as_excel_csv_and_json(cli: Cli, tmp_path: Path) -> None:
    for name, stage in (("甲", "activist"), ("乙", "activist"), ("丙", "full")):
        added = cli("member", "add", "--branch", BRANCH, "--name", name, "--stage", stage)
        assert added.exit_code == 0, added.output
    out = tmp_path / "candidates.xlsx"
    result = cli("report", "--branch", BRANCH, "--view", "candidates", "--out", str(out))
    assert result.exit_code == 0, result.output
    book = load_workbook(out)
    assert book.sheetnames == ["比较表", "规定对照", "说明"]
    table = book["比较表"]
    assert [c.value for c in table[1]][:4] == ["姓名", "阶段", "本阶段天数", "到会次数"]
    assert sorted(row[0].value for row in table.iter_rows(min_row=2)) == ["乙", "甲"]
    assert table["B2"].value == "入党积极分子"
    assert table.auto_filter.ref is not None and table.freeze_panes == "A2"
    assert "不代替组织决定" in book["说明"]["A1"].value
    checks = [row[1].value for row in book["规定对照"].iter_rows(min_row=2)]
    assert any("未记录进入“入党积极分子”的日期" in line for line in checks)

    awards = tmp_path / "awards.json"
    assert (
        cli("report", "--branch", BRANCH, "--view", "awards", "--out", str(awards)).exit_code == 0
    )
    data = json.loads(awards.read_text(encoding="utf-8"))
    assert [row["name"] for row in data["rows"]] == ["丙"] and data["view"] == "awards"
    table_csv = tmp_path / "t.csv"
    sorted_out = cli("report", "--branch", BRANCH, "--sort", "时长", "--out", str(table_csv))
    assert sorted_out.exit_code == 0
    assert table_csv.read_bytes().decode("utf-8-sig").splitlines()[1].startswith("姓名")

    assert cli("report", "--branch", BRANCH, "--out", str(tmp_path / "x.pdf")).exit_code != 0
    assert "看不懂" in cli("report", "--branch", BRANCH, "--sort", "身高", "--out", str(out)).output
    unknown = cli("report", "--branch", "没有这个支部", "--out", str(out))
    assert unknown.exit_code == 1
    verified = cli("verify")
    assert verified.exit_code == 0, verified.output
    exported = cli("export", "traces", "--format", "jsonl")
    kinds = [
        json.loads(line)["data"].get("what")
        for line in exported.output.splitlines()
        if '"data.exported"' in line
    ]
    assert kinds[:3] == ["report.candidates", "report.awards", "report.candidates"]


async def test_a_deadline_is_first_reminded_exactly_its_notice_days_before(chat: Chat) -> None:
    secretary = await secretary_with_contacts(chat)
    await chat.enrol("预备丁", stage=Stage.PROBATIONARY)
    await secretary.say("/stage 预备丁 预备党员 2026-01-20")  # probation ends 2027-01-20
    options = Options().having(PipelineSettings(deadline_notice_days=30))
    services = chat.services
    found = []
    for day in (date(2026, 12, 20), date(2026, 12, 21), date(2026, 12, 22)):
        chat.clock.now = datetime(day.year, day.month, day.day, 1, tzinfo=UTC)  # 09:00 Shanghai
        async with services.sessions.begin() as session:
            found.append(await remind_deadlines(session, services.box, options, chat.clock()))
    assert found == [0, 1, 0]


async def test_review_fixes_windows_dates_and_odd_input(chat: Chat) -> None:
    secretary = await secretary_with_contacts(chat)
    await chat.enrol("积极乙", stage=Stage.ACTIVIST)
    await secretary.say("/stage 积极乙 入党申请人 2024-01-01")
    await secretary.say("/stage 积极乙 入党积极分子 2024-06-01")
    # Training as an activist is recorded but does not count towards admission.
    assert "累计 24 学时" in await secretary.say("/training 积极乙 2024-09-01 24学时")
    assert "不能记录政治审查" in await secretary.say("/review 积极乙 2024-09-01")
    await secretary.say("/stage 积极乙 发展对象 2025-07-01")
    file = await secretary.say("/pipeline 积极乙")
    assert "已记录 0 学时，要求 24 学时" in file
    # Moved on without a recorded talk, but that move was back-filled from the paper file
    # (which may hold the talk): not checkable rather than not met; no deadline to remind of.
    assert "❔ 收到入党申请书后一个月内派人谈话：没有谈话记录（期限 2024-02-01）" in file, file
    async with chat.services.sessions.begin() as session:
        assert await remind_deadlines(session, chat.services.box, Options(), chat.clock()) == 0
    # Contact persons: not before the activist date, not before the current ones.
    assert "不能早于此日确定" in await secretary.say("/contact 积极乙 李老师 2024-05-01")
    assert "已确定" in await secretary.say("/contact 积极乙 李老师 2024-06-05")
    assert "新的确定日期不能早于此日" in await secretary.say("/contact 积极乙 王五 2024-06-01")
    await chat.enrol("外支部", branch="化学化工学院第二党支部")
    assert "没有找到“外支部”" in await secretary.say("/contact 积极乙 外支部")
    # Odd input to /stage.
    await chat.enrol("预备戊", stage=Stage.PROBATIONARY)
    await secretary.say("/stage 预备戊 预备党员 2025-10-01")
    assert "找不到本支部的会议 #12345678901" in await secretary.say(
        "/stage 预备戊 延长预备期 2026-10-02 6 个月 见支部大会#12345678901"
    )
    reply = await secretary.say(
        "/stage 预备戊 延长预备期 ２０２６－１０－０２ 6 个月 支部大会讨论决定"
    )
    assert "延长 6 个月" in reply
    person = await member(chat, "预备戊")
    async with chat.services.sessions() as session:
        step = await pipeline.steps(session, [person.id])
    extension = next(s for s in step[person.id] if s.kind == "extend")
    assert extension.decision == "支部大会讨论决定" and extension.months == 6
