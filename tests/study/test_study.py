"""Quizzes as conversations: every kind answered by button and by text, the day's record,
practice, the 错题本, the leaderboard, the evening reminder and bad input."""

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from handlers.study.daily import remind_quiz
from storage import traces
from storage.models import Member, Mistake, Quiz, QuizAnswer
from tests.support.chat import Chat, User
from tests.support.notices import queued
from tests.support.study import (
    BANK,
    RIGHT_BY_BUTTON,
    RIGHT_BY_TEXT,
    WRONG_BY_TEXT,
    codes_of,
    current_round,
    load_bank,
)


async def answer_all(chat: Chat, user: User, *, by_button: bool, right: bool = True) -> str:
    """Answer the current round; returns the last reply's text."""
    round_ = await current_round(chat)
    last = ""
    for position, code in enumerate(await codes_of(chat, round_)):
        prefix = f"/qa {round_.id} {position + 1}"
        if not right:
            last = await user.say(WRONG_BY_TEXT[code])
        elif by_button and code in RIGHT_BY_BUTTON:
            for press in RIGHT_BY_BUTTON[code]:
                last = await user.say(callback=f"{prefix} {press}")
        else:
            last = await user.say(RIGHT_BY_TEXT[code])
    return last


async def test_daily_quiz_every_kind_by_button_and_text(chat: Chat) -> None:
    await load_bank(chat)
    member = await chat.bound("党员甲")
    start = await member.say("/quiz")
    assert "今日答题开始，共 5 题" in start and "第 1/5 题" in start
    done = await answer_all(chat, member, by_button=True)
    assert "今日答题完成：答对 5/5 题" in done and "已连续答题 1 天" in done
    # A second round the same day is practice, answered by text this time.
    again = await member.say("答题")
    assert "练习" in again
    done = await answer_all(chat, member, by_button=False)
    assert "练习完成：答对 5/5 题" in done
    async with chat.services.sessions() as session:
        rounds = (await session.scalars(select(Quiz).order_by(Quiz.id))).all()
        answers = (await session.scalars(select(QuizAnswer))).all()
        started = await traces.count(session, kind="quiz.started")
        answered = await traces.count(session, kind="quiz.answered")
        completed = await traces.count(session, kind="quiz.completed")
    assert [(r.mode, r.counted, r.correct) for r in rounds] == [
        ("daily", True, 5),
        ("practice", False, 5),
    ]
    assert len(answers) == 10 and all(a.correct for a in answers)
    assert (started, answered, completed) == (2, 10, 2)


async def test_a_button_edits_its_question_with_the_verdict(chat: Chat) -> None:
    await load_bank(chat, BANK[:1])
    member = await chat.bound("党员甲")
    await member.say("/quiz")
    round_ = await current_round(chat)
    replies = await member.send(callback=f"/qa {round_.id} 1 C")
    assert replies[0].edit
    text = chat.services.renderer.render(replies[0].text)  # type: ignore[arg-type]
    assert "党的根本组织原则" in text and "您的答案：C" in text
    assert "回答错误。正确答案：A. 民主集中制" in text and "出处：《中国共产党章程》第二章" in text
    # Pressing it again, or an older button, changes nothing.
    assert "已经答过" in await member.say(callback=f"/qa {round_.id} 1 A")


async def test_multiple_choice_toggles_and_needs_a_selection(chat: Chat) -> None:
    await load_bank(chat, BANK[1:2])
    member = await chat.bound("党员甲")
    await member.say("/quiz")
    round_ = await current_round(chat)
    assert "请先点选答案" in await member.say(callback=f"/qa {round_.id} 1 ok")
    replies = await member.send(callback=f"/qa {round_.id} 1 +B")
    assert replies[0].edit
    labels = [chat.services.renderer.render(b.label) for b in replies[0].buttons[0]]
    assert labels == ["A", "☑ B", "C", "D"]
    await member.send(callback=f"/qa {round_.id} 1 +A")
    await member.send(callback=f"/qa {round_.id} 1 +B")  # B off again
    verdict = await member.say(callback=f"/qa {round_.id} 1 ok")
    assert "您的答案：A" in verdict and "回答错误" in verdict


async def test_typed_answers_that_are_not_answers_get_the_hint(chat: Chat) -> None:
    await load_bank(chat, BANK[:1])
    member = await chat.bound("党员甲")
    await member.say("/quiz")
    assert "回复选项字母" in await member.say("我不知道")
    assert "回复选项字母" in await member.say("AB")  # single choice: one letter
    assert "回答正确" in await member.say("Ａ")  # full-width letter


@pytest.mark.parametrize(
    ("given", "right"),
    [
        ("中央委员会", True),
        ("党中央委员会", True),
        ("中央 委员会！", True),
        ("ＣＣ中央委员会", False),
        ("中央委员", False),
        ("不是中央委员会", False),
        ("中央委员会和国务院", False),
        ("党的全国代表大会所产生的中央委员会", True),
    ],
)
async def test_fill_in_the_blank_matching(chat: Chat, given: str, right: bool) -> None:
    await load_bank(chat, BANK[3:4])
    member = await chat.bound("党员甲")
    await member.say("/quiz")
    verdict = await member.say(given)
    assert ("回答正确" in verdict) is right, verdict


async def test_mistakes_are_replayed_until_right(chat: Chat) -> None:
    await load_bank(chat, BANK[:3])
    member = await chat.bound("党员甲")
    assert "错题本是空的" in await member.say("/mistakes")
    await member.say("/quiz")
    done = await answer_all(chat, member, by_button=False, right=False)
    assert "今日答题完成：答对 0/3 题" in done
    async with chat.services.sessions() as session:
        missed = (await session.scalars(select(Mistake))).all()
    assert len(missed) == 3
    start = await member.say("错题本")
    assert "错题本共 3 题" in start
    done = await answer_all(chat, member, by_button=True)
    assert "错题本还剩 0 题" in done
    assert "错题本是空的" in await member.say("/mistakes")


async def test_mistakes_wait_for_the_daily_round(chat: Chat) -> None:
    await load_bank(chat, BANK[:2])
    member = await chat.bound("党员甲")
    await member.say("/quiz")
    assert "先把它完成" in await member.say("/mistakes")
    assert "继续上次未答完的题目，还剩 2 题" in await member.say("/quiz")


async def test_leaderboard_and_streak(chat: Chat) -> None:
    await load_bank(chat, BANK[:3])
    first, second = await chat.bound("党员甲"), await chat.bound("党员乙")
    for _ in range(2):
        await first.say("/quiz")
        await answer_all(chat, first, by_button=True)
        chat.clock.advance(days=1)
    await second.say("/quiz")
    done = await answer_all(chat, second, by_button=False, right=False)
    assert "已连续答题 1 天" in done
    await first.say("/quiz")
    done = await answer_all(chat, first, by_button=True)
    assert "已连续答题 3 天" in done
    board = await second.say("/rank")
    assert "1. 党员甲" in board and "← 我" in board
    assert "本周" in board and "本月" in board


async def test_evening_reminder_skips_those_done(chat: Chat) -> None:
    await load_bank(chat, BANK[:1])
    done, waiting = await chat.bound("党员甲"), await chat.bound("党员乙")
    await done.say("/quiz")
    await done.say("A")
    async with chat.services.sessions.begin() as session:
        count = await remind_quiz(
            session, chat.services.box, chat.clock(), chat.services.settings.zone
        )
    assert count == 1
    rows = [r for r in await queued(chat.services) if r.kind == "quiz.reminder"]
    assert [r.chat_id for r in rows] == [waiting.account_id]
    assert "今天的每日答题还没有完成" in rows[0].text and rows[0].buttons == ["/quiz"]
    async with chat.services.sessions.begin() as session:  # a rerun sends nothing twice
        await remind_quiz(session, chat.services.box, chat.clock(), chat.services.settings.zone)
        assert await traces.count(session, kind="quiz.reminded") == 1
    assert len([r for r in await queued(chat.services) if r.kind == "quiz.reminder"]) == 1


async def test_bad_input(chat: Chat) -> None:
    member = await chat.bound("党员甲")
    assert "题库还是空的" in await member.say("/quiz")
    await load_bank(chat, BANK[:1])
    assert "直接发送 /quiz" in await member.say("/quiz 5")
    assert "直接发送 /rank" in await member.say("/rank 本周")
    assert "直接发送 /mistakes" in await member.say("/mistakes 全部")
    assert "已学习" in await member.say("/learned")
    assert "用法" in await member.say("/study 第一篇")
    assert "按钮已失效" in await member.say("/qa 99 1 A")
    assert "按钮已失效" in await member.say("/qa x")
    other = await chat.bound("党员乙")
    await other.say("/quiz")
    round_ = await current_round(chat)
    assert "按钮已失效" in await member.say(f"/qa {round_.id} 1 A")  # not theirs
    chat.clock.advance(minutes=45)  # the flow is forgotten, the round is not
    assert "继续上次未答完的题目" in await other.say("/quiz")
    assert "第 1/1 题" in await member.in_group("-100777").privately("/quiz")


async def test_answers_record_time_taken(chat: Chat) -> None:
    await load_bank(chat, BANK[:1])
    member = await chat.bound("党员甲")
    await member.say("/quiz")
    chat.clock.advance(seconds=12)
    await member.say("A")
    async with chat.services.sessions() as session:
        answer = await session.scalar(select(QuizAnswer))
    assert answer is not None and answer.seconds == pytest.approx(12.0)


async def test_a_round_left_from_yesterday_does_not_count(chat: Chat) -> None:
    await load_bank(chat, BANK[:2])
    member = await chat.bound("党员甲")
    await member.say("/quiz")
    round_ = await current_round(chat)
    chat.clock.advance(days=1)
    late = await member.say(callback=f"/qa {round_.id} 1 A")
    assert "已经过期" in late
    async with chat.services.sessions() as session:
        old = await session.get(Quiz, round_.id)
        assert old is not None and old.finished_at is not None and not old.counted
    assert "今日答题开始" in await member.say("/quiz")  # today's round still counts


async def test_one_counted_round_a_day_even_in_a_race(chat: Chat) -> None:
    await load_bank(chat, BANK[:1])
    member_id, _ = await chat.enrol("党员甲")
    day = chat.clock().date()
    async with chat.services.sessions() as session:
        for _ in range(2):
            session.add(
                Quiz(member_id=member_id, day=day, mode="daily", counted=True, question_ids=[1],
                     asked_at=chat.clock(), started_at=chat.clock())
            )  # fmt: skip
        with pytest.raises(IntegrityError):
            await session.flush()


async def test_choice_answers_typed_in_other_ways(chat: Chat) -> None:
    await load_bank(chat, BANK[:1] + BANK[2:3])
    member = await chat.bound("党员甲")
    await member.say("/quiz")
    round_ = await current_round(chat)
    first = (await codes_of(chat, round_))[0]
    if first == "T-1":
        assert "请先点选答案" in await member.say(callback=f"/qa {round_.id} 1 AB")
        assert "回答正确" in await member.say("我选A")
        assert "回答正确" in await member.say("错的")
    else:
        assert "回答正确" in await member.say("答案是错")
        assert "回答正确" in await member.say("选A")


async def test_leaderboard_leaves_out_members_who_left(chat: Chat) -> None:
    await load_bank(chat, BANK[:1])
    stays, leaves = await chat.bound("党员甲"), await chat.bound("党员乙")
    for user in (stays, leaves):
        await user.say("/quiz")
        await user.say("A")
    async with chat.services.sessions.begin() as session:
        gone = await session.scalar(select(Member).where(Member.name == "党员乙"))
        assert gone is not None
        gone.active = False
    board = await stays.say("/rank")
    assert "党员甲" in board and "党员乙" not in board
