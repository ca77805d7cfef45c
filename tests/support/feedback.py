"""The feedback tests' cast (two branches' secretaries, a committee member and a member) and
their words, and the receipt code read off a sender's answer."""

from sqlalchemy import select

from storage.enums import Role
from storage.feedback_models import FeedbackItem
from tests.support.chat import Chat, User

OTHER = "化学化工学院第二党支部"
CONCERN = "建议主题党日多安排一些社会实践，少一些照本宣科的读文件。"
ANSWER = "已与学院沟通，下月主题党日安排到社区开展志愿服务。"


async def cast(chat: Chat) -> tuple[User, User, User, User]:
    """A's secretary, committee member and member 张三; B's secretary."""
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    committee = await chat.bound("支委", role=Role.COMMITTEE)
    member = await chat.bound("张三")
    other = await chat.bound("乙书记", role=Role.SECRETARY, branch=OTHER)
    return secretary, committee, member, other


def receipt_in(reply: str) -> str:
    """The receipt code (回执码) a sender was given, as shown (XXXX-XXXX-XXXX)."""
    return reply.split("回执码：")[1][:14]


async def items(chat: Chat) -> list[FeedbackItem]:
    async with chat.services.sessions() as session:
        query = select(FeedbackItem).order_by(FeedbackItem.id)
        return list((await session.scalars(query)).all())
