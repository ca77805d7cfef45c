"""A whole meeting cycle over HTTP through the fake Bot API: the guided /meeting_new with a
venue location, the reminder (with the online link for the intern), leave and its approval,
check-in by code, by location, online and late, and the finalised attendance.

The scheduler's jobs are called as the scheduler would call them, on the rig's clock; when
they fire is tested in test_scheduler.py, and across a restart in test_service_process.py.
"""

from datetime import UTC, date, datetime, timedelta

import pytest

from handlers.meetings.domain import current_code
from scheduler import meeting_jobs
from storage import meetings
from storage.enums import Role
from tests.support.chat import Chat, Clock
from tests.support.fake_telegram import FakeTelegram
from tests.support.telegram_rig import Rig, received, say


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.now(UTC))


async def test_a_whole_meeting_cycle(fake: FakeTelegram, rig: Rig, clock: Clock) -> None:
    chat = Chat(rig.services, clock)
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    intern = await chat.bound("实习生", remote_until=date(2099, 6, 30))
    on_time, nearby, late, on_leave = [
        await chat.bound(name) for name in ("准时", "附近", "迟到者", "请假者")
    ]
    day = (clock() + timedelta(days=2)).astimezone(rig.services.settings.zone).date()
    assert "会议类型" in await say(fake, secretary, "/meeting_new")
    assert "会议时间" in await say(fake, secretary, callback="kind:theme_day")
    assert "会议主题" in await say(fake, secretary, f"{day} 14:30")
    assert "会议地点" in await say(fake, secretary, "学习全会精神")
    fake.push_location(int(secretary.account_id), 31.0300, 121.4400)
    await fake.wait_until(lambda: "已记录会场位置" in fake.texts_to(int(secretary.account_id))[-1])
    reply = await say(fake, secretary, "化工楼301")
    assert "线上参会链接" in reply, fake.texts_to(int(secretary.account_id))
    assert "多长" in await say(fake, secretary, "https://meeting.example/9")
    assert "已创建会议 #1" in await say(fake, secretary, callback="90")

    assert await meeting_jobs.meeting_reminder(1, 60) == 6
    assert "https://meeting.example/9" in await received(fake, intern, "会议提醒")
    assert "https://meeting.example/9" not in await received(fake, on_time, "会议提醒")
    # The member about to ask for leave has had the reminder too, so that it cannot arrive
    # in the middle of the leave dialogue and be taken for the bot's answer.
    await received(fake, on_leave, "会议提醒")

    assert "请假事由" in await say(fake, on_leave, callback="/leave 1")
    assert "已提交" in await say(fake, on_leave, "家中有事")
    assert "家中有事" in await received(fake, secretary, "请假申请")
    assert "已批准" in await say(fake, secretary, callback="/leave_approve 1")
    assert "请假已批准" in (await received(fake, on_leave, "已批准"))

    async with rig.services.sessions() as session:
        meeting = await meetings.get(session, 1)
    assert meeting is not None and meeting.latitude == 31.03
    clock.now = meeting.starts_at - timedelta(minutes=10)
    code = (await say(fake, secretary, "/checkin_open 1")).split("签到码：")[1][:6]
    assert "现场签到" in await say(fake, on_time, f"签到 {code}")
    assert "线上参会" in await say(fake, intern, f"签到 {code}")
    fake.push_location(int(nearby.account_id), 31.0301, 121.4401)
    await received(fake, nearby, "定位签到")
    clock.now = meeting.starts_at + timedelta(minutes=15)
    assert "迟到" in await say(fake, late, f"签到 {current_code(meeting, clock())}")

    clock.now = meeting.starts_at + timedelta(minutes=91)
    assert await meeting_jobs.meeting_finish(1)
    final = await received(fake, secretary, "出勤情况")
    assert "按时到会（2）：准时、附近" in final and "迟到（1）：迟到者" in final
    assert "线上参会（1）：实习生" in final and "请假（1）：请假者" in final
    assert "缺席（1）：书记" in final
    assert "已记为缺席" in await received(fake, secretary, "已记为缺席")
