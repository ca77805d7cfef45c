"""Meetings as conversations: creating, listing, moving and cancelling; check-in by code,
location and online; attendance; leave; and the jobs' domain functions on an injected clock."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from handlers.core.incoming import Location
from handlers.meetings.domain import current_code, finalize, remind
from handlers.meetings.repeat import occurrences, parse_rule
from storage import meetings
from storage.enums import Presence, Role
from storage.models import Attendance, Meeting
from storage.signals import AfterCommit
from tests.support.chat import Chat, User
from tests.support.meetings import ONE_LINE
from tests.support.notices import queued
from tests.support.people import admin_user

OTHER_BRANCH = "化学化工学院第二党支部"
SHANGHAI = ZoneInfo("Asia/Shanghai")


async def meeting(chat: Chat, meeting_id: int = 1) -> Meeting:
    async with chat.services.sessions() as session:
        found = await meetings.get(session, meeting_id)
    assert found is not None
    return found


async def at_start(chat: Chat, minutes: float = 0) -> Meeting:
    """Move the clock to the meeting's start (plus minutes); returns the meeting."""
    m = await meeting(chat)
    chat.clock.now = m.starts_at + timedelta(minutes=minutes)
    return m


async def opened(chat: Chat, secretary: User) -> str:
    """Open check-in; returns the code shown."""
    reply = await secretary.say("/checkin_open 1")
    assert "签到码" in reply, reply
    return reply.split("签到码：")[1][:6]


async def test_one_line_meeting_and_list(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    member = await chat.bound("党员甲")
    reply = await secretary.say(ONE_LINE)
    assert "已创建会议 #1 主题党日「学习全会精神」2026-11-25 14:30，化工楼301" in reply
    assert "https://meeting.example/123" in reply
    listing = await member.say("/meetings")
    assert "#1 主题党日「学习全会精神」" in listing
    m = await meeting(chat)
    assert (m.minutes, m.jobs_synced) == (90, False)


async def test_one_line_bad_input(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    assert "用法" in await secretary.say("/meeting_new 明天开会")
    assert "不是会议类型" in await secretary.say("/meeting_new 2026-12-01 14:30 | 茶话会 | 聊天")
    assert "看不懂" in await secretary.say("/meeting_new 2026-12-01 25:30 | 党课 | 主题")
    assert "已经过去" in await secretary.say("/meeting_new 2026-01-01 14:30 | 党课 | 主题")
    assert "10 到 600" in await secretary.say("/meeting_new 2026-12-01 14:30 | 党课 | 主题 | 5分钟")
    member = await chat.bound("党员甲")
    assert "仅限" in await member.say(ONE_LINE)


async def test_guided_meeting_with_venue_location(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    assert "会议类型" in await secretary.say("/meeting_new")
    assert "会议时间" in await secretary.say(callback="kind:lecture")
    assert "看不懂" in await secretary.say("下周三")
    assert "会议主题" in await secretary.say("2026-11-26 19:00")
    assert "会议地点" in await secretary.say("党的二十大精神专题党课")
    assert "地点名称" in await secretary.say(location=Location(31.0, 121.0))
    assert "线上参会链接" in await secretary.say("图书馆报告厅")
    assert "不是链接" in await secretary.say("腾讯会议")
    assert "多长" in await secretary.say(callback="skip")
    assert "已创建会议 #1 党课" in await secretary.say(callback="120")
    m = await meeting(chat)
    assert (m.place, m.latitude, m.minutes, m.online_link) == ("图书馆报告厅", 31.0, 120, None)


async def test_check_in_by_code_late_again_and_wrong(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    member = await chat.bound("党员甲")
    latecomer = await chat.bound("党员乙")
    await secretary.say(ONE_LINE)
    assert "没有正在签到的会议" in await member.say("签到 123456")
    await at_start(chat, -5)
    code = await opened(chat, secretary)
    assert "签到成功" in await member.say(f"签到 {code}")
    assert member.replies[0].text is not None and member.replies[0].text.key == "checkin.ok"
    assert "无需重复签到" in await member.say(f"/checkin {code}")
    wrong = "000000" if code != "000000" else "111111"
    assert "签到码不正确" in await latecomer.say(f"签到 {wrong}")
    assert "格式不对" in await latecomer.say("签到 12")
    chat.clock.advance(minutes=20)  # 15 minutes after the start: late, and the code has rotated
    assert "已过期" in await latecomer.say(f"签到 {code}")
    fresh = current_code(await meeting(chat), chat.clock())
    assert "迟到" in await latecomer.say(f"签到{fresh}")
    summary = await secretary.say("/attendance 1")
    assert "按时到会（1）：党员甲" in summary and "迟到（1）：党员乙" in summary
    assert "尚未签到（1）：书记" in summary


async def test_intern_checks_in_online_and_location_check_in(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    intern = await chat.bound("实习生", remote_until=date(2027, 6, 30))
    nearby = await chat.bound("党员甲")
    far = await chat.bound("党员乙")
    await secretary.say("/meeting_new")
    await secretary.say(callback="kind:theme_day")
    await secretary.say("2026-11-25 14:30")
    await secretary.say("主题党日活动")
    await secretary.say(location=Location(31.0300, 121.4400))
    await secretary.say("化工楼301")
    await secretary.say("https://meeting.example/1")
    await secretary.say(callback="90")
    assert "没有可以定位签到的会议" in await nearby.say(location=Location(31.0301, 121.4401))
    await at_start(chat)
    code = await opened(chat, secretary)
    assert "线上参会" in await intern.say(f"签到 {code}")
    assert "定位签到" in await nearby.say(location=Location(31.0301, 121.4401))
    assert "超出签到范围" in await far.say(location=Location(31.0500, 121.4400))
    async with chat.services.sessions() as session:
        rows = {a.mode for a in (await session.scalars(select(Attendance))).all()}
    assert rows == {"online", "location"}


async def test_other_branch_code_and_closed_meeting(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    stranger = await chat.bound("他支部党员", branch=OTHER_BRANCH)
    await chat.bound("他支部书记", role=Role.SECRETARY, branch=OTHER_BRANCH)
    await secretary.say(ONE_LINE)
    await at_start(chat)
    code = await opened(chat, secretary)
    assert "其他支部" in await stranger.say(f"签到 {code}")
    chat.clock.advance(minutes=91)
    async with chat.services.sessions.begin() as session:
        assert await finalize(session, chat.services.box, 1, chat.clock())
    member = await chat.bound("党员丙")
    fresh = current_code(await meeting(chat), chat.clock())
    assert "签到已结束" in await member.say(f"签到 {fresh}")
    assert "找不到这个会议" in await stranger.say("/leave 1 有事")


async def test_leave_request_approval_and_excuse(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    committee = await chat.bound("支委", role=Role.COMMITTEE)
    member = await chat.bound("党员甲")
    await secretary.say(ONE_LINE)
    assert "要为哪个会议请假" in await member.say("请假")
    assert [b.data for row in member.replies[0].buttons for b in row] == ["/leave 1"]
    assert "请假事由" in await member.say(callback="/leave 1")
    assert "请写明请假事由" in await member.say("有")
    assert "请假申请 #1 已提交" in await member.say("在外实习，无法到场")
    asks = [r for r in await queued(chat.services) if r.kind == "leave.request"]
    assert sorted(r.chat_id for r in asks) == sorted([secretary.account_id, committee.account_id])
    assert asks[0].buttons == ["/leave_approve 1", "/leave_reject 1"]
    assert "等待审批" in await member.say("/leave 1 再请一次")
    assert "待审批的请假申请共 1 条" in await committee.say("/leaves")
    assert "已批准 党员甲 的请假" in await secretary.say(callback="/leave_approve 1")
    assert "已处理（已批准）" in await committee.say(callback="/leave_reject 1")
    told = [r for r in await queued(chat.services) if r.kind == "leave.approved"]
    assert [r.chat_id for r in told] == [member.account_id] and "已批准" in told[0].text
    assert "请假（1）：党员甲" in await secretary.say("/attendance 1")
    await at_start(chat, 1)
    assert "无法再请假" in await member.say("/leave 1 临时有事")
    assert "仅限" in await member.say("/leaves")  # members may not list requests


async def test_cancel_and_move_tell_members(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    member = await chat.bound("党员甲")
    await secretary.say(ONE_LINE)
    moved = await secretary.say("/meeting_move 1 2026-11-26 15:00")
    assert "2026-11-26 15:00" in moved and "已通知 2 人" in moved
    assert "已经过去" in await secretary.say("/meeting_move 1 2020-01-01 15:00")
    assert "已取消，已通知 2 人" in await secretary.say("/meeting_cancel #1")
    assert "已取消，不能再调整" in await secretary.say("/meeting_cancel 1")
    kinds = [r.kind for r in await queued(chat.services) if r.chat_id == member.account_id]
    assert kinds == ["meeting.created", "meeting.moved", "meeting.cancelled"]
    assert "近期没有安排会议" in await member.say("会议")


async def test_after_commit_signals_reach_their_hooks_by_name(chat: Chat) -> None:
    """A new meeting wakes the sender (members are told) and the scheduler; a listing,
    which changes nothing, and a failed command, which rolls back, wake neither."""
    called: list[str] = []
    router = chat.services.router
    router.on_commit(AfterCommit.WAKE_SENDER, lambda: called.append("sender"))
    router.on_commit(AfterCommit.MEETINGS_CHANGED, lambda: called.append("meetings"))
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await chat.bound("党员甲")
    called.clear()
    await secretary.say(ONE_LINE)
    assert sorted(called) == ["meetings", "sender"]
    called.clear()
    await secretary.say("/meetings")
    assert "已经过去" in await secretary.say("/meeting_move 1 2020-01-01 15:00")
    assert called == []


async def test_reminder_goes_to_all_but_the_excused_with_link_for_interns(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    intern = await chat.bound("实习生", remote_until=date(2027, 6, 30))
    member = await chat.bound("党员甲")
    excused = await chat.bound("请假者")
    await secretary.say(ONE_LINE)
    await excused.say("/leave 1 出差")
    await secretary.say("/leave_approve 1")
    for _ in range(2):  # a job that fires twice queues once
        async with chat.services.sessions.begin() as session:
            await remind(session, chat.services.box, 1, 60, chat.clock(), SHANGHAI)
    rows = [r for r in await queued(chat.services) if r.kind == "meeting.reminder"]
    assert len(rows) == 3
    reminders = {r.chat_id: r for r in rows}
    assert set(reminders) == {secretary.account_id, intern.account_id, member.account_id}
    assert "https://meeting.example/123" in reminders[intern.account_id].text
    assert "https://meeting.example/123" not in reminders[member.account_id].text
    assert reminders[member.account_id].buttons == ["/leave 1"]


async def test_finalize_records_absentees_and_tells_them(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    present = await chat.bound("党员甲")
    absent = await chat.bound("党员乙")
    await secretary.say(ONE_LINE)
    await at_start(chat)
    code = await opened(chat, secretary)
    await present.say(f"签到 {code}")
    async with chat.services.sessions.begin() as session:
        assert not await finalize(session, chat.services.box, 1, chat.clock())  # not over yet
    chat.clock.advance(minutes=90)
    async with chat.services.sessions.begin() as session:
        assert await finalize(session, chat.services.box, 1, chat.clock())
        assert not await finalize(session, chat.services.box, 1, chat.clock())
    rows = await queued(chat.services)
    told = [r.chat_id for r in rows if r.kind == "attendance.absent"]
    assert sorted(told) == sorted([secretary.account_id, absent.account_id])
    final = [r for r in rows if r.kind == "attendance.final"]
    assert [r.chat_id for r in final] == [secretary.account_id]
    assert "缺席（2）" in final[0].text and "按时到会（1）：党员甲" in final[0].text
    async with chat.services.sessions() as session:
        presences = sorted(a.presence for a in (await session.scalars(select(Attendance))).all())
    assert presences == [Presence.ABSENT, Presence.ABSENT, Presence.PRESENT]


async def test_school_wide_meeting_by_an_admin(chat: Chat) -> None:
    admin = await admin_user(chat)
    first = await chat.bound("一支部党员")
    second = await chat.bound("二支部党员", branch=OTHER_BRANCH)
    assert "#1" in await admin.say(ONE_LINE)
    assert "#1" in await second.say("/meetings")
    await at_start(chat)
    code = await opened(chat, admin)
    assert "签到成功" in await first.say(f"签到 {code}")
    assert "签到成功" in await second.say(f"签到 {code}")


async def test_no_check_in_after_the_end_and_moves_reset_check_ins(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    member = await chat.bound("党员甲")
    await secretary.say(ONE_LINE)
    await at_start(chat, -10)
    code = await opened(chat, secretary)
    assert "签到成功" in await member.say(f"签到 {code}")
    assert "已通知" in await secretary.say("/meeting_move 1 2026-11-26 15:00")
    assert "尚未签到（2）" in await secretary.say("/attendance 1")  # the old check-in is gone
    await at_start(chat, 5)
    assert "已经开始，不能再调整" in await secretary.say("/meeting_move 1 2026-11-27 15:00")
    code = await opened(chat, secretary)
    chat.clock.advance(minutes=90)  # over, though not yet finalised
    fresh = current_code(await meeting(chat), chat.clock())
    assert "签到已结束" in await member.say(f"签到 {fresh}")
    assert "签到已结束" in await secretary.say("/checkin_open 1")


async def test_an_old_job_after_a_move_does_nothing(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await chat.bound("党员甲")
    await secretary.say(ONE_LINE)
    old_start = int((await meeting(chat)).starts_at.timestamp())
    await secretary.say("/meeting_move 1 2026-11-28 15:00")
    async with chat.services.sessions.begin() as session:
        box = chat.services.box
        assert await remind(session, box, 1, 60, chat.clock(), SHANGHAI, old_start) == 0
        assert await remind(session, box, 1, 60, chat.clock(), SHANGHAI) == 2


async def test_leave_is_not_self_approved_and_committee_meetings_expect_the_committee(
    chat: Chat,
) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    committee = await chat.bound("支委", role=Role.COMMITTEE)
    await chat.bound("党员甲")
    await secretary.say("/meeting_new 2026-11-25 19:00 | 支委会 | 研究发展党员工作")
    assert "请假申请 #1 已提交" in await committee.say("/leave 1 出差")
    assert "不能审批自己的请假" in await committee.say("/leave_approve 1")
    assert "格式不对" in await committee.say("/leave_approve")
    summary = await secretary.say("/attendance 1")
    assert "应到 2 人" in summary and "党员甲" not in summary


async def test_school_wide_meetings_are_the_admins_and_views_stay_in_the_branch(
    chat: Chat,
) -> None:
    admin = await admin_user(chat)
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await chat.bound("他支部党员", branch=OTHER_BRANCH)
    await admin.say(ONE_LINE)
    await at_start(chat)
    assert "签到由组织员开放" in await secretary.say("/checkin_open 1")
    summary = await secretary.say("/attendance 1")
    assert "书记" in summary and "他支部党员" not in summary
    assert "他支部党员" in await admin.say("/attendance 1")


async def test_full_width_one_line_and_a_location_during_a_flow(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    member = await chat.bound("党员甲")
    reply = await secretary.say("／meeting_new 2026-11-25 14：30 ｜ 党课 ｜ 专题党课 ｜ 301")
    assert "已创建会议 #1 党课「专题党课」" in reply and "，301（90 分钟）" in reply
    assert "请假事由" in await member.say(callback="/leave 1")  # the leave flow asks why
    reply = await member.say(location=Location(31.0, 121.0))
    assert "没有可以定位签到的会议" in reply  # a location is a check-in attempt, not a reason


async def test_recurring_meetings_from_a_rule(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await secretary.say("/meeting_new 2026-11-27 14:30 | 主题党日 | 十一月主题党日 | 化工楼301")
    reply = await secretary.say("/meeting_repeat 1 每月最后一个周五 3")
    assert "已按规则安排 3 次会议" in reply
    for when in ("2026-12-25 14:30", "2027-01-29 14:30", "2027-02-26 14:30"):
        assert f"主题党日「十一月主题党日」{when}，化工楼301" in reply
    assert "#4" in await secretary.say("/meetings")
    assert "看不懂" in await secretary.say("/meeting_repeat 1 每月30日")
    assert "1 到 24" in await secretary.say("/meeting_repeat 1 每周一 99")
    assert "格式不对" in await secretary.say("/meeting_repeat 1")


def test_repeat_rules() -> None:
    start = datetime(2026, 11, 25, 19, 0, tzinfo=SHANGHAI)  # a Wednesday
    second_wed = occurrences(start, parse_rule("每月第2个周三"), 2)
    assert [d.date().isoformat() for d in second_wed] == ["2026-12-09", "2027-01-13"]
    assert [d.day for d in occurrences(start, parse_rule("每月15号"), 2)] == [15, 15]
    mondays = occurrences(start, parse_rule("每周一"), 3)
    assert [d.date().isoformat() for d in mondays] == ["2026-11-30", "2026-12-07", "2026-12-14"]
    assert all((d.hour, d.minute) == (19, 0) for d in mondays)


async def test_after_an_outage_only_the_closest_reminder_goes_out(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await chat.bound("党员甲")
    await secretary.say(ONE_LINE)
    await at_start(chat, -30)  # both the 24-hour and the 1-hour reminder are overdue
    async with chat.services.sessions.begin() as session:
        box = chat.services.box
        both = (1440, 60)
        assert await remind(session, box, 1, 1440, chat.clock(), SHANGHAI, closer=both) == 0
        assert await remind(session, box, 1, 60, chat.clock(), SHANGHAI, closer=both) == 2


async def test_an_intern_online_and_late_is_listed_under_both(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    intern = await chat.bound("实习生", remote_until=date(2027, 6, 30))
    await secretary.say(ONE_LINE)
    await at_start(chat, -5)
    await opened(chat, secretary)
    chat.clock.advance(minutes=20)
    fresh = current_code(await meeting(chat), chat.clock())
    assert "线上参会，迟到" in await intern.say(f"签到 {fresh}")
    summary = await secretary.say("/attendance 1")
    assert "迟到（1）：实习生" in summary and "线上参会（1）：实习生" in summary
    assert "应到 2 人，实到 1 人" in summary


async def test_cancel_after_the_start_repeat_from_an_old_meeting_and_committee_privacy(
    chat: Chat,
) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    member = await chat.bound("党员甲")
    await secretary.say(ONE_LINE)
    await at_start(chat, 10)  # it did not take place after all
    assert "已取消" in await secretary.say("/meeting_cancel 1")
    chat.clock.advance(days=40)  # the first meeting is long past; it still serves as a pattern
    reply = await secretary.say("/meeting_repeat 1 每周一 2次")
    assert "已按规则安排 2 次会议" in reply and "2027-01-11 14:30" in reply
    assert "1 到 24" in await secretary.say("/meeting_repeat 1 每周一 几次")
    await secretary.say("/meeting_new 2027-01-10 19:00 | 支委会 | 研究工作")
    assert "支委会" not in await member.say("/meetings")
    assert "找不到这个会议" in await member.say("/leave 4 有事")
