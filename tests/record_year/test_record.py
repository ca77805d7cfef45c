"""The annual record (/record) over a built year (tests/support/record_year.py, the hand count
in `built`'s docstring): its figures, the PDF beside the chat answer, who may see whose (a
mover is the new branch's for the whole year; the branch left sees it no more), the traces of
every view and refusal, a broken trace chain said in the record, and bad input."""

from datetime import date

from sqlalchemy import select, update

from handlers.core.context import Options
from handlers.record_year.figures import YearRecord, year_record
from storage.evidence import AttendanceCounts
from storage.models import Member, Trace
from tests.support.chat import Chat
from tests.support.record_year import TODAY, A, B, History, built, pdf_text


async def record_of(history: History, name: str, year: int = 2026) -> YearRecord:
    services = history.chat.services
    async with services.sessions() as session:
        member = await session.get(Member, history.ids[name])
        assert member is not None
        return await year_record(session, services.box, member, year, TODAY, Options())


async def traced(history: History, kind: str) -> list[Trace]:
    async with history.chat.services.sessions() as session:
        query = select(Trace).where(Trace.kind == kind).order_by(Trace.id)
        return list((await session.scalars(query)).all())


def pdf_of(history: History, name: str) -> tuple[str, str]:
    """The file sent with the last answer to `name`: its name and its words."""
    (file,) = [r.file for r in history.users[name].replies if r.file is not None]
    assert file.content.startswith(b"%PDF") and file.mime == "application/pdf"
    return file.name, pdf_text(file.content)


async def test_the_figures_are_the_hand_count(chat: Chat) -> None:
    history = await built(chat)
    record = await record_of(history, "张三")
    assert record.kinds == {
        "assembly": AttendanceCounts(present=1, late=1),
        "group": AttendanceCounts(online=1),
        "lecture": AttendanceCounts(excused=1),
        "theme_day": AttendanceCounts(present=1, absent=1),
        "life": AttendanceCounts(present=1),
    }
    total = record.attendance
    assert (total.held, total.present, total.late, total.online) == (6, 3, 1, 1)
    assert (total.excused, total.absent) == (1, 1)
    assert record.facts is not None
    t = record.facts.traces
    assert (t.learned, t.quiz_days, t.quiz_answered, t.quiz_correct) == (7, 10, 50, 40)
    assert (t.delivered, t.acknowledged, t.volunteer_hours, t.thoughts) == (4, 3, 4.0, 1)
    assert (record.facts.dues_owed, record.facts.dues_paid) == (12, 10)
    assert [(s.stage, s.on) for s in record.steps] == [("full", date(2026, 5, 20))]
    assert [e.since for e in record.honours] == [date(2026, 6, 30)]
    assert [g.grade for g in record.grades] == ["qualified"] and record.moves == []
    assert [(s.first, s.last) for s in record.stays] == [(date(2026, 1, 1), date(2026, 12, 20))]


async def test_a_member_gets_their_own_record_and_its_pdf(chat: Chat) -> None:
    history = await built(chat)
    text = await history.say("张三", "/record")
    for line in (
        "张三 2026 年度党员日常管理记实",
        "统计期间：2026-01-01 至 2026-12-20",
        f"所在支部：{A}（2026-01-01 至 2026-12-20）",
        "留痕链已校验",
        "应参加 6 次：现场出席 3 次（其中迟到 1 次），线上参加 1 次，请假 1 次，缺席 1 次",
        "资料 7 篇；每日答题：10 天，共答 50 题，答对 40 题（积分 40），正确率 80%",
        "通知回执：收到 4 条，已回执 3 条（回执率 75%）",
        "党费：应交 12 个月，已交足 10 个月",
        "志愿服务 4 小时；思想汇报 1 篇",
        "发展阶段变化 1 项；奖惩 1 项；民主评议：组织评定：合格",
    ):
        assert line in text, (line, text)
    name, words = pdf_of(history, "张三")
    assert name == f"record-2026-{history.ids['张三']}.pdf"
    for line in (
        "张三2026年度党员日常管理记实",
        "本记实根据系统留痕和台账记录自动生成",
        "主题党日210001",  # to attend, on site, late, online, on leave, absent
        "支部党员大会111000",
        "党小组会100100",
        "党课100010",
        "组织生活会110000",
        "合计631111",
        "2026-05-20成为正式党员（补录）",
        "校级",
        "优秀共产党员",
        "组织评定：合格",
        f"导出人：张三（#{history.ids['张三']}）",  # the viewer's watermark
    ):
        assert line in words, (line, words)
    assert "优秀学生党员" not in words  # the 2025 award
    (exported,) = await traced(history, "data.exported")
    assert exported.member_id == exported.actor_id == history.ids["张三"]
    assert exported.data == {"what": "record", "year": 2026, "format": "pdf"}
    assert f"#{exported.id}" in text


async def test_a_mover_is_the_new_branchs_for_the_whole_year(chat: Chat) -> None:
    history = await built(chat)
    text = await history.say("乙书记", "/record 李四")
    assert f"所在支部：{A}（2026-01-01 至 2026-06-30）、{B}（2026-07-01 至 2026-12-20）" in text
    assert "应参加 2 次：现场出席 1 次" in text and "缺席 1 次" in text
    assert "党费：应交 12 个月，已交足 0 个月" in text and "组织关系转接 1 项" in text
    _, words = pdf_of(history, "乙书记")
    assert "校内转接" in words and "导出人：乙书记" in words
    before = len(await traced(history, "access.refused"))
    refused = await history.say("书记", "/record 李四")
    assert "没有找到“李四”" in refused and not history.users["书记"].replies[0].file
    refusals = await traced(history, "access.refused")
    assert len(refusals) == before + 1
    assert refusals[-1].actor_id == history.ids["书记"]
    assert refusals[-1].data["target"] == f"member:#{history.ids['李四']}"
    assert refusals[-1].data["reason"] == "scope"


async def test_a_member_who_left_keeps_their_time_with_their_last_branch(chat: Chat) -> None:
    history = await built(chat)
    text = await history.say("支委", "/record 赵六 2026")
    assert "统计期间：2026-01-01 至 2026-08-30" in text
    assert "应参加 1 次：现场出席 1 次" in text and "党费：应交 7 个月" in text
    _, words = pdf_of(history, "支委")
    assert "离开名册" in words
    (exported,) = await traced(history, "data.exported")
    assert exported.member_id == history.ids["赵六"] and exported.actor_id == history.ids["支委"]
    own = await history.say("赵六", "/record")  # during their access period
    assert "赵六 2026 年度党员日常管理记实" in own and "统计期间：2026-01-01 至 2026-08-30" in own
    assert "没有找到“张三”" in await history.say("赵六", "/record 张三")
    assert (await traced(history, "access.refused"))[-1].actor_id == history.ids["赵六"]


async def test_members_see_their_own_only_and_refusals_are_traced(chat: Chat) -> None:
    history = await built(chat)
    before = len(await traced(history, "access.refused"))
    for asked in ("李四", "不存在的人", f"#{history.ids['书记']}"):
        answer = await history.say("张三", f"/record {asked} 2026")
        assert f"没有找到“{asked}”" in answer, answer
    refusals = (await traced(history, "access.refused"))[before:]
    assert [r.data["reason"] for r in refusals] == ["scope", "missing", "scope"]
    assert [r.data["target"] for r in refusals] == [
        f"member:#{history.ids['李四']}",
        "member:不存在的人",
        f"member:#{history.ids['书记']}",
    ]
    assert await traced(history, "data.exported") == []
    own = await history.say("张三", "/record 张三 2026")
    assert "张三 2026 年度党员日常管理记实" in own
    also_own = await history.say("张三", "记实 2026")
    assert "张三 2026 年度党员日常管理记实" in also_own


async def test_empty_years_and_bad_input_get_short_answers(chat: Chat) -> None:
    history = await built(chat)
    for member in ("陈七", "陈七"):
        await chat.enrol(member)
    for who, asked, said in (
        ("书记", "/record 张三 abc", "“abc”不是年份：请写四位数字，如 /record 张三 2026"),
        ("书记", "/record 张三 2030", "2030 年还没有到（今年是 2026 年）"),
        ("书记", "/record 张三 1800", "“1800”不是年份"),
        ("书记", "/record 张三 2024", "张三在 2024 年不在任何支部的名册上"),
        ("乙书记", "/record 王五", "王五在 2026 年没有任何记录"),
        ("书记", "/record 查无此人", "没有找到“查无此人”"),
        ("书记", "/record 陈七", "有 2 位成员叫“陈七”"),
        ("书记", "/record 张三 2026 多余", "/record [姓名] [年份]"),
    ):
        answer = await history.say(who, asked)
        assert said in answer, (asked, answer)
        assert all(r.file is None for r in history.users[who].replies)
    viewed = await traced(history, "data.viewed")
    assert [(v.member_id, v.data["what"]) for v in viewed] == [
        (history.ids["张三"], "record"),
        (history.ids["王五"], "record"),
    ]


async def test_a_broken_chain_is_said_in_the_record(chat: Chat) -> None:
    history = await built(chat)
    async with chat.services.sessions.begin() as session:
        query = select(Trace.id).where(Trace.kind == "material.learned").order_by(Trace.id)
        bad_id = (await session.scalars(query.limit(1))).one()
        await session.execute(update(Trace).where(Trace.id == bad_id).values(data={"x": 1}))
    text = await history.say("张三", "/record")
    warning = f"留痕链在第 {bad_id} 条被改动，以下数字不可信"
    assert warning in text and "留痕链已校验" not in text
    _, words = pdf_of(history, "张三")
    assert "".join(warning.split()) in words


async def test_an_admin_sees_anyone_and_a_committee_member_their_branch(chat: Chat) -> None:
    history = await built(chat)
    assert "李四 2026 年度党员日常管理记实" in await history.say("管理员", "/record 李四")
    assert "王五在 2026 年没有任何记录" in await history.say("管理员", "/record 王五")
    assert "张三 2026 年度党员日常管理记实" in await history.say("支委", "/record 张三")
    assert "没有找到“王五”" in await history.say("支委", "/record 王五")
