"""/survey_results: counts and percentages, charts, hot words and topic groups of open
answers on a hand-made set whose expected words are known, suggestions from the study
materials, the minimum-answers rule of anonymous surveys, permissions, bad input, traces."""

import logging
import warnings
from typing import Any

import pytest

from handlers.common import charts
from handlers.common.charts import Bars, bar_chart, panels_chart, wrap
from handlers.study.materials import NewMaterial, add_material
from handlers.surveys.analysis import (
    MaterialWords,
    Suggestion,
    group_by_topic,
    hot_words,
    key_phrases,
    question_words,
    recurring,
    suggest,
)
from handlers.surveys.results import percent, tally
from storage import surveys, traces
from storage.enums import Role
from storage.surveys import Answer, Ballot
from tests.support.chat import Chat, Clock
from tests.support.fake_telegram import FakeTelegram
from tests.support.people import admin_user, member_id
from tests.support.surveys import (
    CLOSED_ANSWERS,
    OPEN_ANSWERS,
    OPEN_QUESTION,
    QUESTIONS,
    full_ballots,
    new_survey,
)
from tests.support.telegram_rig import Rig, say

PNG = b"\x89PNG\r\n\x1a\n"
OTHER_BRANCH = "化学化工学院第二党支部"
TEXTS = [text for text, _ in OPEN_ANSWERS]
MATERIALS = {
    "社区志愿服务实践指南": "党员积极参加社区志愿服务，是践行全心全意为人民服务宗旨的具体行动。"
    "支部可以组织党员到社区开展关爱老人、垃圾分类宣传、义务讲解等志愿服务，并如实记录服务时长。",
    "党史学习教育读本：百年奋斗历程": "学习党史，了解中国共产党百年奋斗的光辉历程和历史经验。"
    "党史学习教育要做到学史明理、学史增信、学史崇德、学史力行，可以结合红色电影、老党员讲党史故事等形式开展。",
    "党费收缴、使用和管理规定": "党员应当按月交纳党费。党费收缴标准按照本人工资收入的一定比例确定，"
    "学生党员每月交纳党费0.2元。",
}


# --- the analysis, on the hand-made answers -------------------------------------------


def test_hot_words_most_mentioned_first() -> None:
    hot = hot_words(TEXTS, 10, question_words(OPEN_QUESTION))
    assert [(h.word, h.count) for h in hot[:3]] == [("志愿服务", 4), ("党史", 3), ("实习", 2)]
    assert hot[0].answers == frozenset({0, 1, 2, 3})
    assert all(h.count == 1 for h in hot[3:])
    shown = {h.word for h in hot}
    assert not shown & {"希望", "建议", "活动", "学习", "参加"}  # how people talk, not topics
    assert [h.word for h in recurring(hot)] == ["志愿服务", "党史", "实习"]


def test_the_question_s_own_words_are_not_hot() -> None:
    asked = "你希望支部开展哪些志愿服务？"
    assert "志愿服务" not in [h.word for h in hot_words(TEXTS, 10, question_words(asked))]


def test_answers_grouped_under_their_main_topic() -> None:
    groups = group_by_topic(TEXTS, ["志愿服务", "党史", "实习", "线下", "饭菜"])
    assert [(g.word, len(g.answers)) for g in groups] == [
        ("志愿服务", 4),
        ("党史", 3),
        ("实习", 2),
        (None, 1),  # 饭菜 alone is not a topic: 其他, last
    ]
    placed = {i: g.word for g in groups for i in g.answers}
    assert placed == {i: topic for i, (_, topic) in enumerate(OPEN_ANSWERS)}


def test_an_answer_goes_to_the_hottest_topic_it_mentions() -> None:
    texts = ["志愿服务和党史都想要", "志愿服务", "党史", "党史故事", "志愿服务常态化"]
    groups = group_by_topic(texts, ["志愿服务", "党史"])
    assert [(g.word, g.answers) for g in groups] == [("志愿服务", (0, 1, 4)), ("党史", (2, 3))]


def test_a_topic_too_small_gives_its_answers_to_the_next_one() -> None:
    texts = ["志愿服务和党史都想要", "党史", "党史故事", "食堂"]
    groups = group_by_topic(texts, ["志愿服务", "党史"])
    assert [(g.word, g.answers) for g in groups] == [("党史", (0, 1, 2)), (None, (3,))]


def test_key_phrases_recur_across_answers() -> None:
    texts = ["想听老党员讲党史故事", "请老党员讲讲入党故事", "多开展志愿服务"]
    assert [(p.word, p.count) for p in key_phrases(texts)] == [("老党员", 2)]
    assert key_phrases(TEXTS) == []  # nothing recurs there beyond single words


def test_suggestions_pick_matching_materials_and_say_why() -> None:
    hot = recurring(hot_words(TEXTS, 10, question_words(OPEN_QUESTION)))
    materials = [
        MaterialWords(7, "党费收缴、使用和管理规定", ("党费", "收缴"), {"党费", "党员"}),
        MaterialWords(8, "党史学习教育读本", ("党史学习教育", "党史", "奋斗"), {"党史"}),
        MaterialWords(9, "社区志愿服务实践指南", ("志愿服务", "社区"), {"志愿服务", "社区"}),
    ]
    assert suggest(hot, materials) == [
        Suggestion(("志愿服务",), 4, 9, "社区志愿服务实践指南"),
        Suggestion(("党史",), 3, 8, "党史学习教育读本"),
        Suggestion(("实习",), 2),  # no material about 实习: the topic itself
    ]


def test_weak_matches_give_the_hot_topics_themselves() -> None:
    hot = recurring(hot_words(TEXTS, 10, question_words(OPEN_QUESTION)))
    # 实习 only somewhere in a text, mentioned twice: too weak to suggest the material.
    materials = [MaterialWords(1, "入党积极分子培养", ("培养", "考察"), {"实习", "培养"})]
    assert suggest(hot, materials) == [
        Suggestion(("志愿服务",), 4),
        Suggestion(("党史",), 3),
        Suggestion(("实习",), 2),
    ]


def test_a_material_answering_several_words_counts_each_answer_once() -> None:
    hot = recurring(hot_words(TEXTS, 10, question_words(OPEN_QUESTION)))
    both = MaterialWords(3, "志愿服务与党史", ("志愿服务", "党史"), {"志愿服务", "党史"})
    first = suggest(hot, [both])[0]
    assert (first.words, first.answers, first.material_id) == (("志愿服务", "党史"), 7, 3)


# --- counting ---------------------------------------------------------------------------


def test_single_choice_counts_and_percentages() -> None:
    counted = tally(1, QUESTIONS[0], [row[0] for row in CLOSED_ANSWERS])
    assert counted.counts == (5, 3, 1) and counted.answered == 9  # one skipped
    assert [percent(n, counted.answered) for n in counted.counts] == ["55.6", "33.3", "11.1"]
    assert counted.labels == ("A. 理论学习", "B. 志愿服务", "C. 组织生活")


def test_multiple_choice_percentages_are_of_respondents() -> None:
    counted = tally(2, QUESTIONS[1], [row[1] for row in CLOSED_ANSWERS])
    assert counted.counts == (4, 3, 5) and counted.answered == 8  # None and [] skipped
    assert [percent(n, 8) for n in counted.counts] == ["50", "37.5", "62.5"]


def test_scale_distribution_and_mean() -> None:
    counted = tally(3, QUESTIONS[2], [row[2] for row in CLOSED_ANSWERS])
    assert counted.counts == (0, 0, 2, 4, 3) and counted.answered == 9
    assert counted.mean == pytest.approx(37 / 9)
    assert tally(3, QUESTIONS[2], [None, 9, "x"]).mean is None  # nothing valid to average


def test_percent_rounding() -> None:
    assert [percent(1, 3), percent(1, 2), percent(2, 2), percent(0, 0)] == [
        "33.3",
        "50",
        "100",
        "0",
    ]


# --- charts -----------------------------------------------------------------------------


def test_charts_are_png_with_chinese_text_drawn() -> None:
    if charts.cjk_font() is None:
        pytest.skip("no Chinese font installed (e.g. apt-get install fonts-wqy-microhei)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        image = panels_chart(
            [
                Bars("1. 本学期你最想加强哪方面？", ["A. 理论学习", "B. 志愿服务"], [5, 3]),
                Bars("2. 满意度", ["1", "2", "3", "4", "5"], [0, 0, 2, 4, 3]),
            ]
        )
        words = bar_chart(Bars("4. " + OPEN_QUESTION, ["志愿服务", "党史", "实习"], [4, 3, 2]))
    glyphs = [str(w.message) for w in caught if "Glyph" in str(w.message)]
    assert not glyphs, glyphs
    assert image.startswith(PNG) and words.startswith(PNG)


def test_without_a_chinese_font_charts_still_render_and_say_so_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(charts, "packaged_font", lambda: ())  # installed with --no-deps
    monkeypatch.setattr(charts, "CJK_FONTS", ("No Such Font SC",))
    monkeypatch.setattr(charts, "_fontconfig_cjk", lambda: ())
    monkeypatch.setattr(charts, "_said", set())
    charts.cjk_fonts.cache_clear()
    try:
        with (
            caplog.at_level(logging.WARNING, logger="handlers.common.charts"),
            warnings.catch_warnings(record=True) as caught,
        ):
            warnings.simplefilter("always")
            first = bar_chart(Bars("标题", ["甲"], [1]))
            bar_chart(Bars("标题", ["乙"], [2]))
    finally:
        charts.cjk_fonts.cache_clear()
    assert first.startswith(PNG)
    assert not any("Glyph" in str(w.message) for w in caught)  # not one warning per glyph
    assert len([r for r in caplog.records if "no Chinese font" in r.message]) == 1
    assert len([r for r in caplog.records if "no glyph" in r.message]) == 1


def test_long_labels_wrap_by_display_width() -> None:
    assert wrap("志愿服务与社会实践活动", 8) == ["志愿服务", "与社会实", "践活动"]
    assert wrap("Party history 党史", 8) == ["Party", "history", "党史"]
    assert wrap("", 8) == [""]


# --- the command --------------------------------------------------------------------------


async def cast(chat: Chat, survey_id: int, answers: list[Answer]) -> None:
    async with chat.services.sessions.begin() as session:
        survey = await surveys.get(session, survey_id)
        assert survey is not None
        await surveys.cast(session, chat.services.box, survey, Ballot(answers))


async def add_materials(chat: Chat) -> dict[str, int]:
    ids = {}
    async with chat.services.sessions.begin() as session:
        for title, body in MATERIALS.items():
            material, _ = await add_material(
                session,
                chat.services.box,
                NewMaterial(title, body),
                branch_id=None,
                actor_id=None,
                now=chat.clock(),
            )
            ids[title] = material.id
    return ids


async def viewed(chat: Chat) -> list[tuple[int | None, str | None, dict[str, Any]]]:
    async with chat.services.sessions() as session:
        return [
            (t.actor_id, t.ref, t.data)
            async for t in traces.iter_traces(session)
            if t.kind == "survey.results_viewed"
        ]


async def test_full_results_with_charts_hot_words_and_suggestions(chat: Chat) -> None:
    ids = await add_materials(chat)
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    survey_id = await new_survey(chat, full_ballots())
    replies = await secretary.send(f"/survey_results {survey_id}")
    render = chat.services.renderer.render
    texts = [render(r.text) for r in replies if r.text is not None]
    overview, choices_caption, open_text, words_caption, advice = texts
    assert f"问卷 #{survey_id}「下学期党课选题调查」" in overview
    assert "匿名问卷，共 10 份答卷" in overview
    assert "1. 本学期你最想加强哪方面？（单选，9 人作答）" in overview
    assert "· A. 理论学习：5 人（55.6%）" in overview
    assert "· C. 志愿服务：5 人（62.5%）" in overview  # multi: of the 8 who answered
    assert "（1–5 分，9 人作答，平均 4.1 分）" in overview
    assert "· 4 分：4 人（44.4%）" in overview
    assert "各题结果图" in choices_caption and "高频词" in words_caption
    assert "高频词（括号内为提到它的回答数）：志愿服务（4）、党史（3）、实习（2）" in open_text
    groups = open_text.split("按主题归类：\n")[1].split("\n【")
    assert [g.splitlines()[0] for g in groups] == [
        "【志愿服务】4 条",
        "党史】3 条",
        "实习】2 条",
        "其他】1 条",
    ]
    for group, count in zip(groups, (3, 3, 2, 1), strict=True):  # up to three examples each
        examples = [line.removeprefix("  · ") for line in group.splitlines()[1:]]
        topic = group.splitlines()[0].lstrip("【").split("】")[0]
        expected = {t for t, about in OPEN_ANSWERS if about == (None if topic == "其他" else topic)}
        assert len(examples) == count and set(examples) <= expected, (topic, examples)
    lines = advice.splitlines()
    volunteer, history = ids["社区志愿服务实践指南"], ids["党史学习教育读本：百年奋斗历程"]
    assert lines[1] == (
        f"1. 学习资料 #{volunteer}「社区志愿服务实践指南」："
        "与高频词 志愿服务 相符（4 条回答提到）。"
    )
    assert lines[2].startswith(f"2. 学习资料 #{history}「党史学习教育读本：百年奋斗历程」")
    assert lines[3] == "3. 以“实习”为主题：2 条回答提到它，资料库中暂无与之相符的学习资料。"
    images = [r.image for r in replies if r.image is not None]
    assert len(images) == 2 and all(i.startswith(PNG) for i in images)
    assert await viewed(chat) == [
        (await member_id(secretary), f"survey:{survey_id}", {"answers": 10, "withheld": False})
    ]


async def test_anonymous_results_need_the_minimum_of_answers(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    survey_id = await new_survey(chat, full_ballots(4))
    replies = await secretary.send(f"/survey_results {survey_id}")
    shown = chat.services.renderer.render(replies[0].text)  # type: ignore[arg-type]
    assert len(replies) == 1 and replies[0].image is None
    assert "共 4 份答卷" in shown
    assert "答卷达到 5 份后才显示各题结果（还差 1 份）" in shown
    for secret in ("理论学习", "志愿服务（", "%", "帮助老人"):
        assert secret not in shown
    await cast(chat, survey_id, full_ballots(5)[4])
    shown = await secretary.say(f"问卷结果 {survey_id}")
    assert "共 5 份答卷" in shown and "· B. 志愿服务：3 人（60%）" in shown
    assert [data for _, _, data in await viewed(chat)] == [
        {"answers": 4, "withheld": True},
        {"answers": 5, "withheld": False},
    ]


async def test_a_named_survey_shows_results_and_who_wrote_what_with_two_answers(
    chat: Chat,
) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    first, _ = await chat.enrol("党员甲")
    second, _ = await chat.enrol("党员乙")
    ballots: list[list[Answer]] = [
        [0, [1], 4, "想多参加志愿服务"],
        [1, [0, 1], 2, "志愿服务要常态化"],
    ]
    survey_id = await new_survey(chat, ballots, anonymous=False, members=[first, second])
    replies = await secretary.send(f"/survey_results {survey_id}")
    shown = "\n".join(chat.services.renderer.render(r.text) for r in replies if r.text)
    assert "实名问卷，共 2 份答卷" in shown
    assert "· A. 理论学习：1 人（50%）" in shown and "· B. 讲座：2 人（100%）" in shown
    assert "平均 3.0 分" in shown
    assert "【志愿服务】2 条" in shown
    assert "想多参加志愿服务（党员甲）" in shown and "志愿服务要常态化（党员乙）" in shown
    assert sum(r.image is not None for r in replies) == 2


async def test_open_questions_without_answers_and_surveys_without_open_questions(
    chat: Chat,
) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    ballots: list[list[Answer]] = [[0, [0], 3, None] for _ in range(5)]
    survey_id = await new_survey(chat, ballots)
    shown = await secretary.say(f"/survey_results {survey_id}")
    assert "（开放题）：还没有人作答" in shown and "选题建议" not in shown
    only_text = [{"kind": "text", "text": "有什么建议？", "options": []}]
    survey_id = await new_survey(chat, [["食堂太贵"], ["宿舍太吵"]], questions=only_text)
    await cast(chat, survey_id, ["图书馆人多"])
    for answer in ("实验室忙", "交通不便"):
        await cast(chat, survey_id, [answer])
    replies = await secretary.send(f"/survey_results {survey_id}")
    shown = "\n".join(chat.services.renderer.render(r.text) for r in replies if r.text)
    assert "共 5 份答卷" in shown and "（开放题，5 人作答）" in shown
    assert "暂时给不出选题建议" in shown  # five answers, five different things


async def test_who_may_see_results(chat: Chat) -> None:
    survey_id = await new_survey(chat, full_ballots())
    member = await chat.bound("党员甲")
    assert "仅限" in await member.say(f"/survey_results {survey_id}")
    stranger = await chat.bound("他支部书记", role=Role.SECRETARY, branch=OTHER_BRANCH)
    other = await stranger.say(f"/survey_results {survey_id}")
    unknown = await stranger.say("/survey_results 999")
    assert "找不到问卷" in other
    assert other == unknown.replace("#999", f"#{survey_id}")
    organiser = await admin_user(chat)
    assert "共 10 份答卷" in await organiser.say(f"/survey_results {survey_id}")
    assert len(await viewed(chat)) == 1  # refusals and not-found views leave no view trace


async def test_bad_input(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    for text in ("/survey_results", "/survey_results abc", "/survey_results 1 2", "问卷结果 第一"):
        reply = await secretary.say(text)
        assert "用法" in reply and "/survey_results 问卷编号" in reply, (text, reply)
    reply = await secretary.say("/survey_results 42")
    assert "找不到问卷 #42" in reply and "/survey_results 问卷编号" in reply
    assert await viewed(chat) == []


async def test_results_over_telegram_with_a_photo(
    fake: FakeTelegram, rig: Rig, clock: Clock
) -> None:
    chat = Chat(rig.services, clock)
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    survey_id = await new_survey(chat, full_ballots())
    chat_id = int(secretary.account_id)
    await say(fake, secretary, f"/survey_results {survey_id}")

    def photos() -> list[Any]:
        return [c for c in fake.sent_to(chat_id) if c.method == "sendPhoto"]

    await fake.wait_until(lambda: len(photos()) == 2 and "选题建议" in fake.texts_to(chat_id)[-1])
    assert all(c.files["photo"][1].startswith(PNG) for c in photos())
    texts = fake.texts_to(chat_id)
    assert any("志愿服务（4）、党史（3）、实习（2）" in t for t in texts)
    assert any("各题结果图" in str(c.params.get("caption")) for c in photos())
