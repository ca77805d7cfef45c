"""A hand-made survey: questions, ten ballots whose open answers have known hot words,
and the survey with its ballots cast."""

from datetime import timedelta
from typing import Any

from storage import surveys
from storage.survey_models import Survey
from storage.surveys import Answer, Ballot
from tests.support.chat import Chat

OPEN_QUESTION = "你希望下一次主题党日开展什么活动？"


# Ten answers written so that 志愿服务 is mentioned 4 times, 党史 3 and 实习 2, with one
# answer about nothing the others are; each with the topic it should be grouped under.
OPEN_ANSWERS: list[tuple[str, str | None]] = [
    ("希望支部多组织志愿服务，到社区去帮助老人", "志愿服务"),
    ("志愿服务很有意义，建议每月开展一次", "志愿服务"),
    ("和街道合作开展志愿服务，比如垃圾分类宣传", "志愿服务"),
    ("想参加更多志愿服务，锻炼自己", "志愿服务"),
    ("建议系统学习党史，了解百年奋斗历程", "党史"),
    ("党史学习可以结合红色电影，更生动", "党史"),
    ("希望请老党员讲党史故事", "党史"),
    ("实习期间没法参加线下活动，希望提供线上学习", "实习"),
    ("在外地实习，开会时希望能远程参加", "实习"),
    ("食堂的饭菜有点贵", None),
]


QUESTIONS: list[dict[str, Any]] = [
    {
        "kind": "single",
        "text": "本学期你最想加强哪方面？",
        "options": ["理论学习", "志愿服务", "组织生活"],
    },
    {"kind": "multi", "text": "你愿意参加哪些活动？", "options": ["参观", "讲座", "志愿服务"]},
    {"kind": "scale", "text": "对本学期党课的满意度", "options": []},
    {"kind": "text", "text": OPEN_QUESTION, "options": []},
]


# Per ballot: single, multi, scale; the open answers come from OPEN_ANSWERS in order.
CLOSED_ANSWERS: list[tuple[Answer, Answer, Answer]] = [
    (0, [0, 2], 5),
    (1, [2], 4),
    (1, [0, 1, 2], 5),
    (1, [2], 4),
    (0, [1], 3),
    (0, [0, 1], 4),
    (0, [0], 5),
    (2, None, 3),
    (0, [2], None),
    (None, [], 4),
]


async def new_survey(
    chat: Chat,
    ballots: list[list[Answer]],
    *,
    anonymous: bool = True,
    questions: list[dict[str, Any]] | None = None,
    members: list[int] | None = None,
    branch: str = "化学化工学院第一党支部",
) -> int:
    """A survey with its ballots cast into the box, as answering would leave it."""
    the_branch = await chat.branch(branch)
    async with chat.services.sessions.begin() as session:
        survey = Survey(
            branch_id=the_branch.id,
            title="下学期党课选题调查",
            questions=questions or QUESTIONS,
            audience={"kind": "branch"},
            anonymous=anonymous,
            deadline=chat.clock() + timedelta(days=3),
            created_by=None,
            created_at=chat.clock(),
        )
        session.add(survey)
        await session.flush()
        for i, answers in enumerate(ballots):
            member = members[i] if members else None
            await surveys.cast(session, chat.services.box, survey, Ballot(answers, member))
        return survey.id


def full_ballots(count: int = len(OPEN_ANSWERS)) -> list[list[Answer]]:
    return [[*CLOSED_ANSWERS[i], OPEN_ANSWERS[i][0]] for i in range(count)]
