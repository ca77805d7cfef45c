"""Meetings in the branch group: the announcement, reminders and the check-in code posted
there, the code post redrawn as codes turn, check-in by replying to it with the code
(answered privately), and nothing of who came or who did not in any group message."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from handlers.meetings.domain import current_code, finalize, remind, totp
from handlers.meetings.group_checkin import rotate_codes
from storage import meetings
from storage.enums import Role
from storage.models import Attendance, Meeting
from tests.support.chat import Chat, User
from tests.support.group_posts import edits_queued, group_texts, mark_posted
from tests.support.meetings import ONE_LINE
from tests.support.notices import queued
from tests.support.people import admin_user

GROUP = "-100500"
SHANGHAI = ZoneInfo("Asia/Shanghai")
MEMBERS = ["党员甲", "党员乙"]


async def meeting(chat: Chat, meeting_id: int = 1) -> Meeting:
    async with chat.services.sessions() as session:
        found = await meetings.get(session, meeting_id)
    assert found is not None
    return found


async def code_ref(chat: Chat) -> str:
    found = await meeting(chat)
    assert found.checkin_opened_at is not None
    return f"checkin:{found.id}:{int(found.checkin_opened_at.timestamp())}"


async def code_post(chat: Chat, chat_id: str = GROUP) -> str:
    """The code post as the group reads it now (its latest edit)."""
    rows = await queued(chat.services, await code_ref(chat), chat_id=chat_id)
    assert rows, "no code post"
    return rows[-1].text


def a_wrong_code(found: Meeting, chat: Chat) -> str:
    """A code of no recent window (so neither right nor expired)."""
    generator = totp(found)
    now = chat.clock().timestamp()
    recent = {generator.at(now - k * generator.interval) for k in range(-1, 40)}
    return next(c for c in (f"{n:06d}" for n in range(0, 999999, 7919)) if c not in recent)


async def branch_with_group(chat: Chat) -> tuple[User, list[User]]:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    members = [await chat.bound(name) for name in MEMBERS]
    await secretary.in_group(GROUP).send("/group_bind")
    return secretary, members


async def test_announcement_reminder_and_code_in_the_group(chat: Chat) -> None:
    secretary, (present, absent) = await branch_with_group(chat)
    await secretary.say(ONE_LINE)
    async with chat.services.sessions.begin() as session:
        await remind(session, chat.services.box, 1, 60, chat.clock(), SHANGHAI)
    posted = await queued(chat.services, "meeting:1", chat_id=GROUP)
    assert [r.kind for r in posted] == ["group_meeting.created", "group_meeting.reminder"]
    assert "📅 新会议：#1 主题党日「学习全会精神」" in posted[0].text
    assert "https://meeting.example/123" in posted[0].text and posted[0].buttons == []
    assert "⏰ 会议提醒" in posted[1].text and "/leave" in posted[1].text

    found = await meeting(chat)
    chat.clock.now = found.starts_at - timedelta(minutes=10)
    await secretary.say("/checkin_open 1")
    await secretary.say("/checkin_open 1")  # opened twice: one post
    code = current_code(found, chat.clock())
    [post] = await queued(chat.services, await code_ref(chat), chat_id=GROUP)
    assert f"签到码 {code}（每1分钟更换）" in post.text and "回复本消息" in post.text

    await mark_posted(chat.services, chat.clock, await code_ref(chat), GROUP, "7001")
    chat.clock.advance(seconds=60)
    async with chat.services.sessions.begin() as session:
        assert await rotate_codes(session, chat.clock()) == 1
    assert await edits_queued(chat.services, await code_ref(chat)) == 1
    turned = current_code(found, chat.clock())
    assert turned != code and f"签到码 {turned}" in await code_post(chat)

    in_group = present.in_group(GROUP)
    assert "签到成功" in await in_group.privately(turned, reply_to="7001")
    assert "无需重复签到" in await in_group.privately(turned, reply_to="7001")
    wrong = await absent.in_group(GROUP).privately(a_wrong_code(found, chat), reply_to="7001")
    assert "签到码不正确" in wrong
    async with chat.services.sessions() as session:
        assert len((await session.scalars(select(Attendance))).all()) == 1

    chat.clock.now = found.starts_at + timedelta(minutes=90)
    async with chat.services.sessions.begin() as session:
        assert await finalize(session, chat.services.box, 1, chat.clock())
    assert "签到已结束" in await code_post(chat)
    texts = await group_texts(chat.services, GROUP)
    for name in MEMBERS:
        assert not any(name in text for text in texts), name
    assert not any("缺席" in text or "签到成功" in text for text in texts)


async def test_a_stranger_or_a_plain_reply_in_the_group(chat: Chat) -> None:
    secretary, (member, _) = await branch_with_group(chat)
    await secretary.say(ONE_LINE)
    found = await meeting(chat)
    chat.clock.now = found.starts_at
    await secretary.say("/checkin_open 1")
    await mark_posted(chat.services, chat.clock, await code_ref(chat), GROUP, "7002")
    code = current_code(found, chat.clock())
    assert await chat.user().in_group(GROUP).send(code, reply_to="7002") == []
    assert "请先点下面的按钮私聊机器人" in (await group_texts(chat.services, GROUP))[-1]
    assert "格式不对" in await member.in_group(GROUP).privately("马上到", reply_to="7002")
    assert "签到成功" in await member.in_group(GROUP).privately(f"/checkin {code}")
    assert "已私信回复" not in (await group_texts(chat.services, GROUP))[-1]


async def test_moves_cancellations_and_committee_meetings(chat: Chat) -> None:
    secretary, _ = await branch_with_group(chat)
    await secretary.say(ONE_LINE)
    found = await meeting(chat)
    chat.clock.now = found.starts_at - timedelta(minutes=10)
    await secretary.say("/checkin_open 1")
    opened = await code_ref(chat)
    await mark_posted(chat.services, chat.clock, opened, GROUP, "7003")
    await secretary.say("/meeting_move 1 2026-11-26 14:30")
    rows = await queued(chat.services, opened, chat_id=GROUP)
    assert "签到已结束" in rows[-1].text
    moved = await queued(chat.services, "meeting:1", chat_id=GROUP)
    assert "会议时间调整" in moved[-1].text
    await secretary.say("/meeting_cancel 1")
    assert "会议已取消" in (await queued(chat.services, "meeting:1", chat_id=GROUP))[-1].text

    await secretary.say("/meeting_new 2026-11-30 14:30 | 支委会 | 发展对象讨论")
    assert await queued(chat.services, "meeting:2", chat_id=GROUP) == []


async def test_a_school_wide_meeting_goes_to_the_school_groups(chat: Chat) -> None:
    admin = await admin_user(chat)
    secretary, _ = await branch_with_group(chat)
    await admin.in_group("-1").send("/group_bind 全校")
    await admin.say(ONE_LINE)
    assert len(await queued(chat.services, "meeting:1", chat_id="-1")) == 1
    assert await queued(chat.services, "meeting:1", chat_id=GROUP) == []
    await secretary.say("/meeting_new 2026-11-27 14:30 | 党课 | 支部党课")
    assert len(await queued(chat.services, "meeting:2", chat_id=GROUP)) == 1
    assert await queued(chat.services, "meeting:2", chat_id="-1") == []


async def test_a_group_whose_posts_cannot_be_edited_is_shown_no_code(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY, platform="wecom")
    await secretary.in_group("wr-branch").send("/group_bind")
    await secretary.say(ONE_LINE)
    found = await meeting(chat)
    chat.clock.now = found.starts_at
    await secretary.say("/checkin_open 1")
    text = await code_post(chat, "wr-branch")
    assert "已开放签到" in text and current_code(found, chat.clock()) not in text
    async with chat.services.sessions.begin() as session:
        assert await rotate_codes(session, chat.clock()) == 0  # nothing to edit there
