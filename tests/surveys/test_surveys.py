"""Surveys (问卷) as conversations: the guided /survey_new with bad answers, the import from
JSON and YAML, answering every kind of question by buttons and by typing, stopping and going
on (also with a new router), refusals, reminders and closing on a moved clock, and the
anonymity guarantee checked against the database itself; one run over the fake Bot API."""

import asyncio
import json
import random
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from bot.app.services import build_services
from bot.app.settings import load_settings
from handlers.core.messages import UserError
from handlers.surveys import typed
from handlers.surveys.deadlines import remind_and_close
from handlers.surveys.spec import SpecInvalid, check_options, from_dict, split_options
from storage import ballot_box, people, surveys
from storage.enums import Role, Stage
from storage.models import OutboxMessage, Trace
from storage.survey_models import Survey, SurveyBallotBox, SurveyParticipant, SurveyProgress
from storage.surveys import Ballot
from tests.conftest import BRANCH, SECRET, Cli
from tests.support.chat import Chat, Clock, User
from tests.support.dump import every_value
from tests.support.fake_telegram import FakeTelegram
from tests.support.notices import queued
from tests.support.telegram_rig import Rig, received
from tests.support.traces import traces_of

# The clock fixture starts at 2026-11-24 10:00 in Shanghai.
DEADLINE = "2026-11-30 18:00"
OTHER_BRANCH = "化学化工学院第二党支部"
# (kind button, question, options typed in one message or None)
QUESTIONS = (
    ("kind:single", "您最希望学习哪个专题？", "党史\n党章\n时事政治"),
    ("kind:multi", "您希望采用哪些学习形式？", "专题讲座、小组讨论、实地参观、线上学习"),
    ("kind:scale", "您对上月党课的满意度如何？", None),
    ("kind:text", "您对支部学习还有什么建议？", None),
)


async def make_survey(
    user: User, title: str = "学习需求调查", *, anonymous: bool, audience: str = "aud:branch"
) -> int:
    """A survey of the four kinds of question through the guided /survey_new; its id."""
    await user.say("/survey_new")
    await user.say(title)
    for kind, text, options in QUESTIONS:
        await user.say(callback=kind)
        await user.say(text)
        if options:
            await user.say(options)
    await user.say(callback="done")
    await user.say(callback=audience)
    await user.say(DEADLINE)
    await user.say(callback="anon:yes" if anonymous else "anon:no")
    reply = await user.say(callback="confirm:publish")
    found = re.search(r"已发布问卷 #(\d+)", reply)
    assert found, reply
    return int(found.group(1))


async def stored(chat: Chat, survey_id: int) -> Survey:
    async with chat.services.sessions() as session:
        found = await surveys.get(session, survey_id)
    assert found is not None
    return found


async def ballots(chat: Chat, survey_id: int) -> list[Ballot]:
    async with chat.services.sessions() as session:
        return await surveys.ballots(session, chat.services.box, survey_id)


async def run_job(chat: Chat) -> dict[str, int]:
    services = chat.services
    async with services.sessions.begin() as session:
        return await remind_and_close(session, services.box, services.router.options, chat.clock())


async def test_guided_survey_new_with_bad_answers(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    member = await chat.bound("党员甲")
    assert "仅限" in await member.say("/survey_new")
    assert "格式不对" in await secretary.say("/survey_new 学习需求调查")
    assert "问卷标题" in await secretary.say("/survey_new")
    assert "太长" in await secretary.say("很长的标题" * 30)
    assert "第 1 题是什么题型" in await secretary.say("学习需求调查")
    assert "不是题型" in await secretary.say("判断题")
    assert "还没有添加题目" in await secretary.say(callback="done")
    assert "第 1 题（单选）" in await secretary.say(callback="kind:single")
    assert "直接输入文字" in await secretary.say(callback="kind:multi")
    assert "各个选项" in await secretary.say("您最希望学习哪个专题？")
    assert "需要 2–8 个" in await secretary.say("党史")
    assert "重复" in await secretary.say("党史、党史")
    assert "已添加 1 题" in await secretary.say("党史\n党章\n时事政治")
    assert "第 2 题（多选）" in await secretary.say("多选")  # a kind may be typed too
    await secretary.say("您希望采用哪些学习形式？")
    assert "已添加 2 题" in await secretary.say("专题讲座；小组讨论；实地参观；线上学习")
    await secretary.say(callback="kind:scale")
    assert "已添加 3 题" in await secretary.say("您对上月党课的满意度如何？")
    await secretary.say(callback="kind:text")
    await secretary.say("您对支部学习还有什么建议？")
    assert "发给谁" in await secretary.say(callback="done")
    assert "不是问卷对象" in await secretary.say("全体老师")
    assert "没有成员" in await secretary.say(callback="aud:candidate")
    assert "截止时间" in await secretary.say(callback="aud:branch")
    assert "看不懂" in await secretary.say("下周五")
    assert "已经过去" in await secretary.say("2026-11-01 18:00")
    assert "90 天" in await secretary.say("2027-06-01")
    assert "实名还是匿名" in await secretary.say(DEADLINE)
    assert "请选择实名或匿名" in await secretary.say("随便")
    preview = await secretary.say(callback="anon:yes")
    assert "对象：全支部（目前 2 人）" in preview and "B. 小组讨论" in preview, preview
    assert "请点“发布”" in await secretary.say("好的")
    reply = await secretary.say(callback="confirm:publish")
    assert "已发布问卷 #1「学习需求调查」：4 题，对象 2 人，已通知 1 人" in reply
    assert secretary.replies[0].buttons[0][0].data == "/survey 1"  # the secretary may answer

    survey = await stored(chat, 1)
    assert survey.anonymous and survey.audience == {"kind": "branch"}
    assert survey.questions[1] == {
        "kind": "multi",
        "text": "您希望采用哪些学习形式？",
        "options": ["专题讲座", "小组讨论", "实地参观", "线上学习"],
    }
    assert [q["kind"] for q in survey.questions] == ["single", "multi", "scale", "text"]
    assert survey.deadline == datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    (created,) = await traces_of(chat.services, "survey.created")
    assert created.ref == "survey:1" and created.data["questions"] == 4
    assert created.data["anonymous"] is True and created.data["via"] == "chat"
    assert created.data["deadline"].startswith("2026-11-30T18:00")
    (invite,) = await queued(chat.services, "survey:1")
    assert invite.kind == "survey.invite" and invite.buttons == ["/survey 1"]
    assert "新问卷 #1「学习需求调查」" in invite.text and "匿名问卷" in invite.text


async def test_twenty_questions_at_most_and_typed_steps(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await secretary.say("/survey_new")
    await secretary.say("二十问")
    for n in range(1, 21):
        await secretary.say("问答")
        reply = await secretary.say(f"第{n}个问题")
    assert "20 题的上限" in reply and "发给谁" in reply
    assert "没有成员" in await secretary.say("实习党员")
    await secretary.say("全支部")
    await secretary.say("2026-12-01")
    await secretary.say("实名")
    assert "已发布问卷 #1" in await secretary.say("发布")
    survey = await stored(chat, 1)
    assert len(survey.questions) == 20 and not survey.anonymous
    assert survey.deadline == datetime(2026, 12, 1, 15, 59, tzinfo=UTC)  # 23:59 in Shanghai


# Import from a file.


def _future(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).date().isoformat()


def _stored_after_cli(database_url: str) -> tuple[list[Survey], list[Trace], int]:
    """The surveys, survey.created traces and queued messages in the CLI's database."""

    async def go() -> tuple[list[Survey], list[Trace], int]:
        services = build_services(load_settings(database_url=database_url, secret_key=SECRET))
        try:
            async with services.sessions() as session:
                found = list((await session.scalars(select(Survey).order_by(Survey.id))).all())
                rows = len((await session.scalars(select(OutboxMessage))).all())
            return found, await traces_of(services, "survey.created"), rows
        finally:
            await services.close()

    return asyncio.run(go())


def test_import_json_and_yaml(cli: Cli, database_url: str, tmp_path: Path) -> None:
    for name, stage in (("张三", "activist"), ("李四", "full")):
        added = cli("member", "add", "--branch", BRANCH, "--name", name, "--stage", stage)
        assert added.exit_code == 0, added.output
    definition = {
        "title": "党课选题调查",
        "anonymous": True,
        "deadline": f"{_future(10)} 18:00",
        "audience": "branch",
        "questions": [
            {"kind": "single", "text": "最想学的专题？", "options": ["党史", "党章"]},
            {"kind": "多选", "text": "学习形式？", "options": "讲座、讨论、参观"},
            {"kind": "scale", "text": "满意度？"},
            {"kind": "问答", "text": "建议？"},
        ],
    }
    path = tmp_path / "survey.json"
    path.write_text(json.dumps(definition, ensure_ascii=False), encoding="utf-8")
    result = cli("surveys", "import", str(path), "--branch", BRANCH)
    assert result.exit_code == 0, result.output
    assert "已导入并发布问卷 #1「党课选题调查」" in result.output
    assert "4 题，匿名，对象 全支部（2 人）" in result.output
    yaml_path = tmp_path / "activists.yml"
    yaml_path.write_text(
        f"title: 积极分子培养需求\nanonymous: 实名\ndeadline: {_future(20)}\n"
        "audience: 入党积极分子\nquestions:\n"
        "  - kind: 单选\n    text: 希望的培养联系人谈话频率？\n    options:\n"
        "      - 每月\n      - 每季度\n"
        "  - {kind: 打分, text: 对培养工作的满意度}\n",
        encoding="utf-8",
    )
    result = cli("surveys", "import", str(yaml_path), "--branch", BRANCH)
    assert result.exit_code == 0, result.output
    assert "#2「积极分子培养需求」" in result.output and "入党积极分子（1 人）" in result.output
    found, traces, _ = _stored_after_cli(database_url)
    assert [s.title for s in found] == ["党课选题调查", "积极分子培养需求"]
    assert found[1].audience == {"kind": "stage", "stage": "activist"}
    assert not found[1].anonymous and found[1].questions[1]["kind"] == "scale"
    assert found[1].deadline.astimezone().hour in range(24)  # aware
    assert [t.data["via"] for t in traces] == ["import", "import"]
    assert all(t.actor_id is None for t in traces)


def test_import_lists_every_problem_and_stores_nothing(
    cli: Cli, database_url: str, tmp_path: Path
) -> None:
    definition = {
        "titel": "拼错了字段",
        "anonymous": "也许",
        "deadline": "2020-01-01 18:00",
        "audience": "外星人",
        "questions": [
            {"kind": "判断", "text": "党章是根本大法？"},
            {"kind": "single", "text": "只有一个选项", "options": ["唯一"]},
            {"kind": "scale", "text": "满意度", "options": ["高", "低"]},
            "不是一道题",
            {"kind": "text", "answer": "多余的字段"},
        ],
    }
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(definition, ensure_ascii=False), encoding="utf-8")
    result = cli("surveys", "import", str(path), "--branch", BRANCH)
    assert result.exit_code == 1
    out = result.output
    assert "问卷文件有 11 处问题，没有导入" in out, out
    for where in (
        "“titel”：不认识",
        "“title”：问卷标题不能为空",
        "“anonymous”：“也许”看不懂",
        "“deadline”：截止时间",
        "“audience”：“外星人”不是问卷对象",
        "第 1 题“kind”：“判断”不是题型",
        "第 2 题“options”：现在有 1 个选项",
        "第 3 题“options”：1–5分题不需要选项",
        "第 4 题：每道题",
        "第 5 题“answer”：不认识",
        "第 5 题“text”：题目内容不能为空",
    ):
        assert where in out, (where, out)
    assert _stored_after_cli(database_url) == ([], [], 0)


def test_import_bad_files(cli: Cli, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    result = cli("surveys", "import", str(broken), "--branch", BRANCH)
    assert result.exit_code == 1 and "无法读取文件 broken.json" in result.output
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("title: [unclosed\n", encoding="utf-8")
    assert (
        "无法读取文件 bad.yaml"
        in cli("surveys", "import", str(bad_yaml), "--branch", BRANCH).output
    )
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n", encoding="utf-8")
    assert "应是一张表" in cli("surveys", "import", str(listed), "--branch", BRANCH).output
    text = tmp_path / "survey.txt"
    text.write_text("title: x", encoding="utf-8")
    assert "不支持的文件格式" in cli("surveys", "import", str(text), "--branch", BRANCH).output
    good = tmp_path / "ok.json"
    good.write_text(json.dumps({"title": "t"}), encoding="utf-8")
    result = cli("surveys", "import", str(good), "--branch", "不存在的支部")
    assert result.exit_code == 1 and "不存在的支部" in result.output


# Answering.

# Per member: the steps of answering (`=` a button press, else typed) and the ballot made.
STEPS: dict[str, tuple[list[str], list[Any]]] = {
    "党员甲": (
        ["=1 2", "=2 +1", "=2 +3", "=2 ok", "=3 4", "建议甲：多去红色教育基地"],
        [1, [0, 2], 4, "建议甲：多去红色教育基地"],
    ),
    "党员乙": (["A", "2 4", "5分", "=4 skip"], [0, [1, 3], 5, None]),
    "党员丙": (
        ["时事政治", "选ABCD", "3", "建议丙：讲讲身边的榜样"],
        [2, [0, 1, 2, 3], 3, "建议丙：讲讲身边的榜样"],
    ),
}


async def answer(user: User, survey_id: int, steps: list[str], *, start: bool = True) -> str:
    """Give these answers (after /survey ID); returns the last reply."""
    reply = await user.say(f"/survey {survey_id}") if start else ""
    for step in steps:
        if step.startswith("="):
            reply = await user.say(callback=f"/sv {survey_id} {step[1:]}")
        else:
            reply = await user.say(step)
    return reply


async def member_id(chat: Chat, name: str) -> int:
    async with chat.services.sessions() as session:
        (member,) = await people.members_named(session, name, None)
    return member.id


@asynccontextmanager
async def restarted(chat: Chat, user: User) -> AsyncIterator[User]:
    """The same chat account on a bot built afresh on the same database (a restart)."""
    fresh = build_services(chat.services.settings, clock=chat.clock)
    try:
        yield User(Chat(fresh, chat.clock), user.account_id)
    finally:
        await fresh.close()


async def test_named_and_anonymous_surveys_with_every_kind(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    members = {name: await chat.bound(name) for name in STEPS}
    named = await make_survey(secretary, "实名调查", anonymous=False)
    anonymous = await make_survey(secretary, "匿名调查", anonymous=True)
    for name, (steps, _) in STEPS.items():
        assert "谢谢参与" in await answer(members[name], named, steps), name
    ids = {name: await member_id(chat, name) for name in STEPS}
    got = {b.member_id: b.answers for b in await ballots(chat, named)}
    assert got == {ids[name]: ballot for name, (_, ballot) in STEPS.items()}

    # 党员甲 stops after two questions and goes on later, after a restart of the bot.
    first, steps = members["党员甲"], STEPS["党员甲"][0]
    reply = await answer(first, anonymous, steps[:4])
    assert "第 3/4 题" in reply and "满意度" in reply
    assert "填写中（已答 2/4 题）" in await first.say("/surveys")
    for name in ("党员乙", "党员丙"):
        assert "匿名放入投票箱" in await answer(members[name], anonymous, STEPS[name][0])
    chat.clock.advance(hours=2)  # the chat's flow has long expired; the progress has not
    async with restarted(chat, first) as later:
        assert "从第 3 题开始" in await later.say(f"/survey {anonymous}")
        assert "第 4/4 题" in await later.say(callback=f"/sv {anonymous} 3 4")
        assert "匿名放入投票箱" in await later.say(steps[-1])
    box = await ballots(chat, anonymous)
    assert all(b.member_id is None for b in box)
    assert sorted(json.dumps(b.answers) for b in box) == sorted(
        json.dumps(ballot) for _, ballot in STEPS.values()
    )
    async with chat.services.sessions() as session:
        assert await surveys.answer_count(session, anonymous) == 3
        assert await surveys.took_part(session, anonymous) == set(ids.values())
        assert (await session.scalars(select(SurveyProgress))).all() == []
    assert "已填" in await first.say("/surveys")
    managed = await secretary.say("/surveys")
    assert "#2「匿名调查」（匿名）：进行中" in managed and "已收 3/4 份" in managed


async def test_answer_refusals_and_bad_input(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    member = await chat.bound("党员甲")
    activist = await chat.bound("积极分子", stage=Stage.ACTIVIST)
    stranger = await chat.bound("外支部党员", branch=OTHER_BRANCH)
    survey = await make_survey(secretary, anonymous=True)
    for_activists = await make_survey(
        secretary, "积极分子调查", anonymous=False, audience="aud:activist"
    )
    assert "格式不对" in await member.say("/survey")
    assert "格式不对" in await member.say("/survey 第一份")
    assert "找不到问卷 #99" in await member.say("/survey 99")
    assert "找不到问卷 #1" in await stranger.say("/survey 1")
    assert "不在对象范围内" in await member.say(f"/survey {for_activists}")
    assert "第 1/4 题" in await activist.say(f"/survey {for_activists}")
    assert "第 1/4 题" in await member.in_group("-100777").privately("/survey 1")
    await member.say("/cancel")

    assert "第 1/4 题" in await member.say(f"填问卷 {survey}")
    assert "不是选项" in await member.say("Z")
    assert "按钮已失效" in await member.say(callback=f"/sv {survey} 1 skip")
    assert "按钮已失效" in await member.say(callback=f"/sv {survey} 1 9")
    assert "第 2/4 题" in await member.say(callback=f"/sv {survey} 1 1")
    again = await member.say(callback=f"/sv {survey} 1 2")
    assert "已经答过了，请接着回答第 2 题" in again and "第 2/4 题" in again
    assert "至少一个选项" in await member.say(callback=f"/sv {survey} 2 ok")
    assert "按钮已失效" in await member.say(callback=f"/sv {survey} 2 +9")
    assert "按钮已失效" in await member.say(callback="/sv 1")
    assert "看不懂" in await member.say("E")
    toggled = await member.send(callback=f"/sv {survey} 2 +2")
    assert toggled[0].edit and toggled[0].buttons[1][0].label.key == "survey.option_on"
    assert "第 3/4 题" in await member.say("BC")
    assert "不是 1–5 的分数" in await member.say("6")
    assert "按钮已失效" in await member.say(callback=f"/sv {survey} 3 6")
    assert "第 4/4 题" in await member.say(callback=f"/sv {survey} 3 5")
    assert "失效" in await member.say(callback="kind:single")  # a button of another flow
    assert "太长" in await member.say("长" * 501)
    assert "谢谢参与" in await member.say("长" * 500)
    assert "已经填过" in await member.say(f"/survey {survey}")
    assert "已经填过" in await member.say(callback=f"/sv {survey} 4 skip")
    assert "格式不对" in await member.say("/surveys 1")
    assert "没有需要您填写的问卷" in await stranger.say("/surveys")


async def test_close_by_hand(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    member = await chat.bound("党员甲")
    other = await chat.bound("另一书记", role=Role.SECRETARY, branch=OTHER_BRANCH)
    survey = await make_survey(secretary, anonymous=True)
    await answer(secretary, survey, ["A", "A", "3", "=4 skip"])
    await answer(member, survey, ["B"])  # stops half way
    assert "仅限" in await member.say(f"/survey_close {survey}")
    assert "格式不对" in await secretary.say("/survey_close")
    assert "找不到问卷 #99" in await secretary.say("/survey_close 99")
    assert "找不到问卷" in await other.say(f"/survey_close {survey}")
    reply = await secretary.say(f"结束问卷 {survey}")
    assert "已结束问卷 #1「学习需求调查」：收到 1 份答卷（对象 2 人）" in reply
    assert secretary.replies[0].buttons[0][0].data == "/survey_results 1"
    assert "已于 2026-11-24 10:00 结束" in await secretary.say(f"/survey_close {survey}")
    assert "已经结束" in await member.say("C")  # the flow ends with the survey
    assert "已经结束" in await member.say(f"/survey {survey}")
    admin = await chat.bound("组织员", role=Role.ADMIN)
    everything = await admin.say("/surveys")  # the audience as it is now: the admin joined
    assert "全部问卷" in everything and "已于 2026-11-24 10:00 结束，已收 1/3 份" in everything
    (closed,) = await traces_of(chat.services, "survey.closed")
    assert closed.data == {"answers": 1, "audience": 2, "early": True}
    async with chat.services.sessions() as session:
        assert (await session.scalars(select(SurveyProgress))).all() == []


async def test_reminder_once_and_closing_on_a_moved_clock(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    done, halfway, _ = [await chat.bound(n) for n in ("党员甲", "党员乙", "党员丙")]
    survey = await make_survey(secretary, anonymous=True)
    await answer(done, survey, ["A", "A", "3", "=4 skip"])
    await answer(halfway, survey, ["B"])
    chat.clock.now = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)  # 25 hours before the deadline
    assert await run_job(chat) == {"reminded": 0, "closed": 0}
    chat.clock.advance(hours=2)
    # A survey published within its last day gets no reminder: the invitation is new.
    await secretary.say("/survey_new")
    for text in ("临时调查", "问答", "有什么想法？", "完成", "全支部", DEADLINE, "实名", "发布"):
        await secretary.say(text)
    assert await run_job(chat) == {"reminded": 3, "closed": 0}
    assert await run_job(chat) == {"reminded": 0, "closed": 0}
    reminders = [q for q in await queued(chat.services, "survey:1") if q.kind == "survey.reminder"]
    by_member = {q.member_id: q.text for q in reminders}
    assert await member_id(chat, "党员甲") not in by_member
    assert "没有填完" in by_member[await member_id(chat, "党员乙")]
    assert "还没有填写" in by_member[await member_id(chat, "党员丙")]
    assert all(q.buttons == ["/survey 1"] for q in reminders)
    (reminded,) = await traces_of(chat.services, "survey.reminded")
    assert reminded.ref == "survey:1" and reminded.data == {"count": 3}
    assert "将于 2026-11-30 18:00 截止" in by_member[await member_id(chat, "党员丙")]

    chat.clock.now = datetime(2026, 11, 30, 10, 1, tzinfo=UTC)  # 18:01 in Shanghai
    assert await run_job(chat) == {"reminded": 0, "closed": 2}
    assert await run_job(chat) == {"reminded": 0, "closed": 0}
    closed = [t for t in await traces_of(chat.services, "survey.closed") if t.ref == "survey:1"]
    assert [t.data for t in closed] == [{"answers": 1, "audience": 4, "early": False}]
    (notice,) = [q for q in await queued(chat.services, "survey:1") if q.kind == "survey.closed"]
    assert notice.member_id == await member_id(chat, "书记")
    assert "已截止：收到 1 份答卷（对象 4 人）" in notice.text
    assert notice.buttons == ["/survey_results 1"]
    assert "已经结束" in await halfway.say(f"/survey {survey}")
    assert "已于 2026-11-30 18:01 结束" in await secretary.say("/surveys")


# The anonymity guarantee, checked against the database itself.

SECRETS = ["秘密甲：第一份建议", "秘密乙：第二份建议", "秘密丙：第三份建议", "秘密丁：第四份建议"]


async def test_anonymous_answers_cannot_be_tied_to_members(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    places: list[int] = []

    def at_front(n: int) -> int:  # every ballot goes in at the front: never the answer order
        places.append(n)
        return 0

    monkeypatch.setattr(ballot_box.secrets, "randbelow", at_front)
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    people_ = [await chat.bound(n) for n in ("党员甲", "党员乙", "党员丙", "党员丁")]
    survey = await make_survey(secretary, anonymous=True)
    last = people_[3]
    await answer(last, survey, ["A", "=2 +1", "=2 +2"])  # half way, options toggled
    async with chat.services.sessions() as session:
        (progress,) = (await session.scalars(select(SurveyProgress))).all()
        assert progress.position == 1  # the toggles are inside the sealed token
        assert b"\xe7" not in (progress.answers_enc or b"")  # no UTF-8 text in the clear
    for user, secret in zip(people_[:3], SECRETS, strict=False):
        await answer(user, survey, ["B", "AC", "4", secret])
    await answer(last, survey, ["=2 ok", "2", SECRETS[3]], start=False)
    assert places == [1, 2, 3, 4]  # each ballot's place is drawn among all places
    box = await ballots(chat, survey)
    assert [b.answers[3] for b in box] == SECRETS[::-1]
    assert all(b.member_id is None for b in box)

    tables = await every_value(chat.services)
    for secret in SECRETS:  # an answer is only ever inside the ballot box
        holders = [name for name, rows in tables.items() for r in rows if secret in r]
        assert holders == ["survey_ballot_boxes"], (secret, holders)
    assert set(SurveyBallotBox.__table__.columns.keys()) == {"survey_id", "ballots_enc", "count"}
    assert set(SurveyParticipant.__table__.columns.keys()) == {"survey_id", "member_id"}
    assert tables.get("survey_progress", []) == []
    answered = await traces_of(chat.services, "survey.answered")
    assert len(answered) == 4 and all(t.data == {} for t in answered)
    async with chat.services.sessions() as session:
        row = await session.get(SurveyBallotBox, survey)
        assert row is not None
        raw = json.loads(chat.services.box.decrypt(row.ballots_enc) or "[]")
    assert all(set(entry) == {"answers"} for entry in raw)
    outbox = [q.text for q in await queued(chat.services)]
    assert not any(s in text for s in SECRETS for text in outbox)


async def test_ballot_order_never_follows_the_answers(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seeded draws (deterministic): each box holds every ballot, and the orders differ."""
    orders = []
    async with chat.services.sessions.begin() as session:
        for seed in range(4):
            draw = random.Random(seed)
            monkeypatch.setattr(ballot_box.secrets, "randbelow", lambda n, d=draw: d.randrange(n))
            survey = Survey(
                branch_id=None,
                title=f"s{seed}",
                questions=[{"kind": "scale", "text": "q", "options": []}],
                audience={"kind": "branch"},
                anonymous=True,
                deadline=chat.clock() + timedelta(days=1),
                created_at=chat.clock(),
            )
            session.add(survey)
            await session.flush()
            for n in range(1, 6):
                await surveys.cast(session, chat.services.box, survey, Ballot([n], member_id=n))
            box = await surveys.ballots(session, chat.services.box, survey.id)
            orders.append([int(str(b.answers[0])) for b in box])
    assert all(sorted(order) == [1, 2, 3, 4, 5] for order in orders)
    assert [1, 2, 3, 4, 5] not in orders and len({tuple(o) for o in orders}) > 1


# Parsers of typed input, property-based.


@given(st.text(max_size=40))
def test_typed_choices_are_options_or_nothing(text: str) -> None:
    options = ("党史", "党章", "时事")
    picked = typed.choices(text, options)
    assert picked is None or (picked == sorted(set(picked)) and all(0 <= i < 3 for i in picked))
    value = typed.score(text)
    assert value is None or 1 <= value <= 5


@given(st.lists(st.text(min_size=1, max_size=10), max_size=10))
def test_options_split_and_check(options: list[str]) -> None:
    text = "\n".join(options)
    try:
        checked = check_options(split_options(text))
    except UserError:
        return
    assert 2 <= len(checked) <= 8 and len(set(checked)) == len(checked)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
FIELD_NAMES = st.sampled_from(["title", "anonymous", "deadline", "audience", "questions", "kind"])


@given(st.dictionaries(FIELD_NAMES, JSON_VALUES) | JSON_VALUES)
def test_any_file_content_is_a_survey_or_a_list_of_problems(data: object) -> None:
    now = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    try:
        spec = from_dict(data, ZoneInfo("Asia/Shanghai"), now)
    except SpecInvalid as err:
        assert err.problems
        return
    assert spec.questions and spec.deadline > now


def test_typed_answers() -> None:
    options = ("党史", "党章", "时事政治")
    assert typed.choices("B", options) == [1]
    assert typed.choices("1 3", options) == [0, 2]
    assert typed.choices("我选 a、c", options) == [0, 2]
    assert typed.choices("时事政治", options) == [2]
    assert typed.choices("D", options) is None and typed.choices("4", options) is None
    assert typed.score("4分") == 4 and typed.score("４") == 4
    assert typed.score("6") is None and typed.score("0") is None


# Over the fake Telegram Bot API.


async def press(fake: FakeTelegram, user: User, wanted: str, marker: str) -> str:
    """Press the button whose data ends with `wanted` on the newest keyboard; wait for a
    message (or edit) containing `marker` and return it."""
    chat_id = int(user.account_id)
    await fake.wait_until(
        lambda: any(b.endswith(wanted) for b in fake.buttons_on_latest(chat_id)[1])
    )
    message_id, buttons = fake.buttons_on_latest(chat_id)
    before = len(fake.texts_to(chat_id))
    fake.push_callback(
        chat_id, next(b for b in buttons if b.endswith(wanted)), message_id=message_id
    )
    await fake.wait_until(lambda: any(marker in t for t in fake.texts_to(chat_id)[before:]))
    return next(t for t in fake.texts_to(chat_id)[before:] if marker in t)


class TestOverHttp:
    @pytest.fixture
    def clock(self) -> Clock:
        """The outbox sender works on the real clock, so the bot does too."""
        return Clock(datetime.now(UTC))

    async def test_a_member_answers_with_buttons(
        self, fake: FakeTelegram, rig: Rig, clock: Clock
    ) -> None:
        await answer_over_http(fake, rig, clock)


async def answer_over_http(fake: FakeTelegram, rig: Rig, clock: Clock) -> None:
    chat = Chat(rig.services, clock)
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    member = await chat.bound("党员甲")
    chat_id = int(member.account_id)
    deadline = (clock() + timedelta(days=3)).astimezone(rig.services.settings.zone).date()
    await secretary.say("/survey_new")
    for text in (
        "学习形式调查",
        "单选",
        "最想学的专题？",
        "党史、党章",
        "多选",
        "学习形式？",
        "讲座、讨论、参观",
        "打分",
        "满意度？",
        "问答",
        "建议？",
        "完成",
        "全支部",
        f"{deadline} 18:00",
        "匿名",
    ):
        await secretary.say(text)
    assert "已发布问卷 #1" in await secretary.say("发布")
    rig.sender.wake()
    assert "匿名问卷" in await received(fake, member, "新问卷 #1")
    assert "第 1/4 题" in await press(fake, member, "/survey 1", "第 1/4 题")
    assert "第 2/4 题" in await press(fake, member, " 1 2", "第 2/4 题")
    await press(fake, member, " +1", "第 2/4 题")
    assert fake.buttons_on_latest(chat_id)[1][0].endswith("+1")
    await press(fake, member, " +3", "第 2/4 题")
    edits = [c for c in fake.sent_to(chat_id) if c.method == "editMessageText"]
    labels = [b["text"] for row in edits[-1].params["reply_markup"]["inline_keyboard"] for b in row]
    assert labels[0].startswith("☑ A") and labels[2].startswith("☑ C") and labels[1].startswith("B")
    marked = await press(fake, member, " 2 ok", "您的回答")
    assert "A. 讲座、C. 参观" in marked
    await press(fake, member, " 3 5", "第 4/4 题")
    before = len(fake.texts_to(chat_id))
    fake.push_message(chat_id, "多安排实地参观")
    await fake.wait_until(lambda: any("谢谢参与" in t for t in fake.texts_to(chat_id)[before:]))
    async with rig.services.sessions() as session:
        (ballot,) = await surveys.ballots(session, rig.services.box, 1)
    assert ballot == Ballot([1, [0, 2], 5, "多安排实地参观"], None)
