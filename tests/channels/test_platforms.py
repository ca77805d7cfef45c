"""The main scenarios of every feature, written once and run on Telegram and on WeCom: the
same bot serves both, and handlers never know which one a member uses."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from handlers.account.members import issue_invite
from handlers.meetings.domain import current_code
from storage import meetings
from storage.enums import Role
from storage.models import Meeting, Member, NoticeRecipient
from tests.support.chat import Chat, Clock
from tests.support.platforms import (
    Both,
    TelegramUser,
    WeComUser,
    both_platforms,
    chat_numbers,
    heard,
    person,
)
from tests.support.study import BANK, load_bank


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.now(UTC))


@pytest.fixture(params=["telegram", "wecom"])
def platform(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_binding_and_bad_input(both: Both, clock: Clock, platform: str) -> None:
    member = await person(both, clock, platform, "党员甲")
    since = len(member.texts())
    await member.say("/hlep")
    assert "/help" in await heard(member, "没有", since)
    await member.say("/me")
    assert "党员甲" in await heard(member, "党员甲", since + 1)


async def test_notice_with_its_ack_button(both: Both, clock: Clock, platform: str) -> None:
    secretary = await person(both, clock, platform, "书记", role=Role.SECRETARY)
    member = await person(both, clock, platform, "党员甲")
    await secretary.say("/broadcast 周五下午两点开支部大会")
    await heard(member, "周五下午两点开支部大会")
    await member.press("/ack")
    async with both.services.sessions() as session:
        row = await session.scalar(select(NoticeRecipient))
    await_acked = row  # read again until the press is handled
    for _ in range(200):
        async with both.services.sessions() as session:
            await_acked = await session.scalar(select(NoticeRecipient))
        if await_acked is not None and await_acked.acked_at is not None:
            break
        await both.wecom.wait_until(lambda: True, 0.05)
    assert await_acked is not None and await_acked.acked_at is not None
    if platform == "wecom":
        await both.wecom.wait_until(lambda: bool(both.wecom.updates()))
        assert both.wecom.updates()[-1]["button"]["replace_name"] == "✅ 已收到"


async def test_quiz_by_buttons(both: Both, clock: Clock, platform: str) -> None:
    await load_bank(Chat(both.services, clock), [BANK[0], BANK[2]])  # single, true/false
    member = await person(both, clock, platform, "党员甲")
    await member.say("/quiz")
    for n in (1, 2):
        question = await heard(member, f"第 {n}/2 题")
        await member.press(f" {n} A" if "单选" in question else f" {n} 错")
    assert "答对 2/2 题" in await heard(member, "今日答题完成")


async def test_meeting_check_in_and_leave(both: Both, clock: Clock, platform: str) -> None:
    secretary = await person(both, clock, platform, "书记", role=Role.SECRETARY)
    by_code = await person(both, clock, platform, "党员甲")
    by_place = await person(both, clock, platform, "党员乙")
    asks_leave = await person(both, clock, platform, "党员丙")
    day = (clock() + timedelta(days=1)).astimezone(both.services.settings.zone)
    await secretary.say(f"/meeting_new {day:%Y-%m-%d %H:%M} | 主题党日 | 学习全会精神 | 化工楼301")
    await heard(secretary, "已创建会议 #1")
    await asks_leave.say("/leave 1 在外实习无法到场")
    await heard(asks_leave, "已提交")
    await secretary.press("/leave_approve")
    await heard(asks_leave, "请假已批准")
    async with both.services.sessions.begin() as session:
        meeting = await session.get(Meeting, 1)
        assert meeting is not None
        meeting.latitude, meeting.longitude = 31.03, 121.44
    clock.now = meeting.starts_at - timedelta(minutes=10)
    await secretary.say("/checkin_open 1")
    await heard(secretary, "签到码")
    async with both.services.sessions() as session:
        opened = await meetings.get(session, 1)
    assert opened is not None
    await by_code.say(f"签到 {current_code(opened, clock())}")
    await heard(by_code, "签到成功")
    await by_place.share_location(31.0301, 121.4401)
    await heard(by_place, "签到成功")


@pytest.mark.parametrize("deliver_to", ["last", "all"])
async def test_a_member_on_both_platforms(database_url: str, clock: Clock, deliver_to: str) -> None:
    """Bound on Telegram, then on WeCom: a notice goes to WeCom (used last), or to both."""
    async with both_platforms(database_url, clock, deliver_to=deliver_to) as both:
        secretary = await person(both, clock, "telegram", "书记", role=Role.SECRETARY)
        member_id, code = await Chat(both.services, clock).enrol("党员甲")
        on_telegram = TelegramUser(both.telegram, next(chat_numbers))
        await on_telegram.say(f"/start {code}")
        await heard(on_telegram, "绑定成功")
        async with both.services.sessions.begin() as session:
            member = await session.get(Member, member_id)
            assert member is not None
            second = await issue_invite(session, both.services.box, member, clock(), timedelta(1))
        clock.advance(minutes=1)
        on_wecom = WeComUser(both, "both1")
        await on_wecom.say(f"/start {second}")
        await heard(on_wecom, "绑定成功")
        await secretary.say("/broadcast 两个平台都能收到吗")
        await heard(on_wecom, "两个平台都能收到吗")
        if deliver_to == "all":
            await heard(on_telegram, "两个平台都能收到吗")
        else:
            await both.wecom.wait_until(lambda: True, 0.5)
            assert not any("两个平台" in t for t in on_telegram.texts())
