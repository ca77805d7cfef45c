"""A general assembly begun with its voters checked in, for the vote and election tests."""

from datetime import timedelta

from storage.models import Meeting
from tests.support.chat import Chat, User

ASSEMBLY = "/meeting_new 2026-11-25 14:30 | 支部党员大会 | 讨论接收预备党员"


async def assembly(chat: Chat, secretary: User, voters: list[User]) -> None:
    """Meeting #1, a general assembly, begun, with these voters checked in."""
    assert "已创建会议 #1" in await secretary.say(ASSEMBLY)
    async with chat.services.sessions() as session:
        meeting = await session.get(Meeting, 1)
        assert meeting is not None
    chat.clock.now = meeting.starts_at + timedelta(minutes=1)
    code = (await secretary.say("/checkin_open 1")).split("签到码：")[1][:6]
    for voter in voters:
        assert "签到成功" in await voter.say(f"签到 {code}")
