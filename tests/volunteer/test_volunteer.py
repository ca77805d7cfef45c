"""Volunteer service (志愿服务) as conversations: reporting with and without a photo, bad
input, decisions by button and command with their notifications, /volunteers, the member's
own record, approved_minutes, and the whole flow over the fake Telegram Bot API."""

import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from bot.app.services import Services
from handlers.core.incoming import Attachment
from handlers.volunteer.domain import hours_text, parse_hours, year_before
from storage import traces, volunteer
from storage.enums import DecisionStatus, Role
from storage.models import OutboxMessage
from storage.pipeline_models import VolunteerRecord
from tests.support.chat import Chat, Clock, User
from tests.support.fake_telegram import FakeTelegram
from tests.support.notices import Queued, queued
from tests.support.people import admin_user, member_id
from tests.support.telegram_rig import Rig, received

# The clock fixture stands at 2026-11-24 10:00 in Shanghai.
REPORT = "/volunteer 2026-11-20 3 社区义诊"
USAGE = "/volunteer 日期 时长 活动内容"
OTHER_BRANCH = "化学化工学院第二党支部"
PHOTO = Attachment("photo", "photo-handle-1", None, "image/jpeg", 5000)


async def outbox(services: Services, kind: str) -> list[Queued]:
    """Queued messages of one kind, rendered as their readers will see them."""
    return [q for q in await queued(services) if q.kind == kind]


async def forwards(services: Services, kind: str) -> dict[int | None, str | None]:
    """The handle of the file each queued message of a kind forwards, by member."""
    async with services.sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.kind == kind)
        rows = (await session.scalars(query)).all()
    return {row.member_id: row.payload.get("forward", {}).get("file_id") for row in rows}


async def record(chat: Chat, record_id: int = 1) -> VolunteerRecord:
    async with chat.services.sessions() as session:
        found = await volunteer.get(session, record_id)
    assert found is not None
    return found


async def trace_rows(chat: Chat, kind: str) -> list[tuple[int | None, str | None, dict]]:
    async with chat.services.sessions() as session:
        return [
            (t.member_id, t.ref, t.data)
            async for t in traces.iter_traces(session)
            if t.kind == kind
        ]


async def test_report_without_photo_asks_the_committee(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    committee = await chat.bound("支委", role=Role.COMMITTEE)
    member = await chat.bound("党员甲")
    await chat.bound("党员乙")
    await chat.bound("外支部书记", role=Role.SECRETARY, branch=OTHER_BRANCH)
    reply = await member.say(REPORT)
    assert "#1 2026-11-20 社区义诊 3 小时" in reply and "附照片" not in reply
    saved = await record(chat)
    assert (saved.day, saved.minutes, saved.status, saved.photo) == (
        date(2026, 11, 20),
        180,
        DecisionStatus.PENDING,
        None,
    )
    asks = await outbox(chat.services, "volunteer.request")
    assert {a.member_id for a in asks} == {
        await member_id(secretary),
        await member_id(committee),
    }
    assert all(a.buttons == ["/volunteer_approve 1", "/volunteer_reject 1"] for a in asks)
    assert "党员甲" in asks[0].text and "社区义诊" in asks[0].text
    assert set((await forwards(chat.services, "volunteer.request")).values()) == {None}
    [(who, ref, data)] = await trace_rows(chat, "volunteer.reported")
    assert (who, ref) == (saved.member_id, "volunteer:1")
    assert data == {"day": "2026-11-20", "hours": 3.0, "activity": "社区义诊", "photo": False}
    assert "已申报过" in await member.say(REPORT)  # the same service twice is refused


async def test_report_with_photo_forwards_it_where_it_can_be_shown(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    _, on_wecom = await chat.enrolled("企业微信支委", role=Role.COMMITTEE, platform="wecom")
    member = await chat.bound("党员甲")
    reply = await member.say("/volunteer 2026-11-20 2.5小时 敬老院陪伴老人", attachments=(PHOTO,))
    assert "#1" in reply and "附照片" in reply
    saved = await record(chat)
    assert saved.photo == {
        "platform": "telegram",
        "kind": "photo",
        "file_id": "photo-handle-1",
        "file_name": None,
    }
    assert saved.minutes == 150
    asks = {a.member_id: a.text for a in await outbox(chat.services, "volunteer.request")}
    photos = await forwards(chat.services, "volunteer.request")
    on_telegram, elsewhere = await member_id(secretary), await member_id(on_wecom)
    assert photos == {on_telegram: "photo-handle-1", elsewhere: None}
    assert "附照片" in asks[on_telegram] and "这里无法显示" in asks[elsewhere]
    listing = await secretary.send("/volunteers")
    assert listing[1].forward is not None and listing[1].forward.file_id == "photo-handle-1"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/volunteer 2026-11-25 3 社区义诊", "还没到"),
        ("/volunteer 2025-11-23 3 社区义诊", "一年以前"),
        ("/volunteer 2026-13-01 3 社区义诊", "看不懂"),
        ("/volunteer 2026-11-20 0 社区义诊", "时长“0”不对"),
        ("/volunteer 2026-11-20 25 社区义诊", "时长“25”不对"),
        ("/volunteer 2026-11-20 2.3 社区义诊", "时长“2.3”不对"),
        ("/volunteer 2026-11-20 三小时 社区义诊", "时长“三小时”不对"),
        ("/volunteer 2026-11-20 -1 社区义诊", "不对"),
        ("/volunteer 2026-11-20 3", "请写明活动内容"),
        ("/volunteer 2026-11-20 3 义", "请写明活动内容"),
        ("/volunteer 2026-11-20 3 " + "长" * 101, "请写明活动内容"),
        ("/volunteer 2026-11-20", "格式不对"),
    ],
)
async def test_bad_input_is_answered_with_the_usage(chat: Chat, line: str, expected: str) -> None:
    member = await chat.bound("党员甲")
    reply = await member.say(line)
    assert expected in reply and USAGE in reply, reply
    async with chat.services.sessions() as session:
        assert await volunteer.get(session, 1) is None


async def test_accepted_forms(chat: Chat) -> None:
    member = await chat.bound("党员甲")
    await chat.bound("书记", role=Role.SECRETARY)
    assert "3 小时" in await member.say("/volunteer 2026-11-20 3h 社区义诊")
    assert "1.5 小时" in await member.say("志愿服务 2026/11/21 1.5H 图书馆整理")
    assert "#3 2026-11-23 防汛值守 24 小时" in await member.say("/volunteer 昨天 24 小时 防汛值守")
    assert "#4 2025-11-24" in await member.say("/volunteer 2025-11-24 2 一年前的今天")  # the limit
    long = "长" * 100
    assert long in await member.say(f"/volunteer 2026-11-20 0.5 {long}")
    assert "，" in await member.say("/volunteer 2026-11-20 1 义诊，测血压")  # typed punctuation


@given(st.integers(min_value=1, max_value=48))
def test_half_hours_parse_to_minutes(halves: int) -> None:
    text = format(Decimal(halves) / 2, "f")
    assert parse_hours(text) == halves * 30
    assert parse_hours(f"{text}小时") == parse_hours(f"{text}h") == halves * 30
    assert hours_text(halves * 30) == format((Decimal(halves) / 2).normalize(), "f")


@given(st.decimals(min_value=-100, max_value=100, places=2))
def test_other_numbers_are_refused(value: Decimal) -> None:
    if Decimal(0) < value <= 24 and value % Decimal("0.5") == 0:
        assert parse_hours(str(value)) == int(value * 60)
    else:
        assert parse_hours(str(value)) is None


def test_a_year_before_a_leap_day() -> None:
    assert year_before(date(2028, 2, 29)) == date(2027, 2, 28)


async def test_approval_and_rejection_tell_the_member(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    member = await chat.bound("党员甲")
    await member.say(REPORT)
    await member.say("/volunteer 2026-11-21 2 图书馆整理")
    done = await secretary.send(callback="/volunteer_approve 1")
    assert done[0].edit and [b.data for row in done[0].buttons for b in row] == [
        "/volunteer_approve 1"
    ]
    assert done[0].text is not None
    assert "已认定 党员甲 的志愿服务 #1" in chat.services.renderer.render(done[0].text)
    reply = await secretary.say("驳回志愿服务 2 时长与活动安排不符")
    assert "已不予认定 党员甲 的志愿服务 #2" in reply and "时长与活动安排不符" in reply
    assert not secretary.replies[0].edit  # typed, not pressed: a new message
    approved = await outbox(chat.services, "volunteer.approved")
    rejected = await outbox(chat.services, "volunteer.rejected")
    mine = await member_id(member)
    assert [a.member_id for a in approved] == [mine] and "#1" in approved[0].text
    assert "已认定" in approved[0].text and "书记" in approved[0].text
    assert [r.member_id for r in rejected] == [mine]
    assert "未予认定" in rejected[0].text and "理由：时长与活动安排不符" in rejected[0].text
    assert (await record(chat, 1)).status == DecisionStatus.APPROVED
    second = await record(chat, 2)
    assert (second.status, second.decided_by) == (
        DecisionStatus.REJECTED,
        await member_id(secretary),
    )
    assert [r for _, r, _ in await trace_rows(chat, "volunteer.approved")] == ["volunteer:1"]
    [(_, _, data)] = await trace_rows(chat, "volunteer.rejected")
    assert data == {"hours": 2.0, "reason": "时长与活动安排不符"}


async def test_a_second_decision_changes_nothing(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    committee = await chat.bound("支委", role=Role.COMMITTEE)
    member = await chat.bound("党员甲")
    await member.say(REPORT)
    await secretary.say(callback="/volunteer_approve 1")
    again = await committee.say(callback="/volunteer_reject 1")
    assert "已由 书记 于 2026-11-24 10:00 处理（已认定）" in again
    assert committee.replies[0].edit
    assert (await record(chat)).status == DecisionStatus.APPROVED
    assert len(await outbox(chat.services, "volunteer.approved")) == 1
    assert await outbox(chat.services, "volunteer.rejected") == []
    assert await trace_rows(chat, "volunteer.rejected") == []


async def test_only_the_branch_and_admins_decide_and_never_ones_own(chat: Chat) -> None:
    committee = await chat.bound("支委", role=Role.COMMITTEE)
    member = await chat.bound("党员甲")
    stranger = await chat.bound("外支部书记", role=Role.SECRETARY, branch=OTHER_BRANCH)
    await member.say(REPORT)
    await committee.say("/volunteer 2026-11-20 2 社区义诊")
    assert "找不到志愿服务记录 #1" in await stranger.say("/volunteer_approve 1")
    assert "找不到志愿服务记录 #9" in await committee.say("/volunteer_approve 9")
    assert "格式不对" in await committee.say("/volunteer_approve 一")
    assert "不能认定自己" in await committee.say("/volunteer_approve 2")
    assert "仅限" in await member.say("/volunteer_approve 1")
    assert (await record(chat, 1)).status == DecisionStatus.PENDING
    assert (await record(chat, 2)).status == DecisionStatus.PENDING
    admin = await admin_user(chat)
    assert "已认定 支委 的志愿服务 #2" in await admin.say("/volunteer_approve 2")
    [(_, _, data)] = await trace_rows(chat, "volunteer.approved")
    assert data == {"hours": 2.0}


async def test_volunteers_lists_the_pending_with_buttons(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    first, second = await chat.bound("党员甲"), await chat.bound("党员乙")
    outsider = await chat.bound("外支部党员", branch=OTHER_BRANCH)
    assert "没有待认定的志愿服务" in await secretary.say("/volunteers")
    await first.say(REPORT)
    await second.say("/volunteer 2026-11-21 1.5 图书馆整理")
    await secretary.say("/volunteer 2026-11-22 4 支教")  # the secretary's own: not listed
    await outsider.say("/volunteer 2026-11-22 8 外支部活动")
    await secretary.say("/volunteer_approve 1")
    replies = await secretary.send("志愿服务审核")
    render = chat.services.renderer.render
    texts = [render(r.text) for r in replies if r.text is not None]
    assert "待认定的志愿服务共 1 条" in texts[0]
    assert "本支部 2026 年已认定志愿服务 3 小时" in texts[0]
    assert len(replies) == 2 and "党员乙" in texts[1] and "1.5 小时" in texts[1]
    buttons = [b.data for row in replies[1].buttons for b in row]
    assert buttons == ["/volunteer_approve 2", "/volunteer_reject 2"]
    assert "仅限" in await first.say("/volunteers")


async def test_own_record_shows_hours_this_year_and_in_all(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    member = await chat.bound("党员甲")
    empty = await member.say("/volunteer")
    assert "还没有申报过" in empty and USAGE in empty
    chat.clock.advance(days=40)  # 2027-01-03: last year's service still counts in all
    await member.say("/volunteer 2026-11-20 3 社区义诊")
    await member.say("/volunteer 2027-01-02 2.5 图书馆整理")
    await member.say("/volunteer 2027-01-03 1 防疫值守")
    await secretary.say("/volunteer_approve 1")
    await secretary.say("/volunteer_approve 2")
    reply = await member.say("志愿服务")
    assert reply.index("#3 2027-01-03") < reply.index("#2 2027-01-02") < reply.index("#1 2026")
    assert "#3 2027-01-03 防疫值守 1 小时 · 待认定" in reply
    assert "2027 年已认定 2.5 小时，累计已认定 5.5 小时" in reply
    assert "另有 1 条（1 小时）待认定" in reply and USAGE in reply


async def test_approved_minutes_counts_only_approved_within_the_dates(chat: Chat) -> None:
    ids = [(await chat.enrol(name))[0] for name in ("甲", "乙", "丙")]
    rows = [
        (ids[0], date(2026, 1, 10), 60, DecisionStatus.APPROVED),
        (ids[0], date(2026, 6, 1), 90, DecisionStatus.APPROVED),
        (ids[0], date(2026, 6, 2), 600, DecisionStatus.PENDING),
        (ids[0], date(2026, 6, 3), 600, DecisionStatus.REJECTED),
        (ids[1], date(2025, 12, 31), 30, DecisionStatus.APPROVED),
        (ids[1], date(2026, 12, 31), 120, DecisionStatus.APPROVED),
    ]
    async with chat.services.sessions.begin() as session:
        for who, day, minutes, status in rows:
            session.add(
                VolunteerRecord(
                    member_id=who,
                    branch_id=None,
                    day=day,
                    minutes=minutes,
                    activity="活动",
                    photo=None,
                    status=status,
                    created_at=chat.clock(),
                )
            )
    async with chat.services.sessions() as session:
        assert await volunteer.approved_minutes(session, ids) == {
            ids[0]: 150,
            ids[1]: 150,
            ids[2]: 0,
        }
        in_2026 = await volunteer.approved_minutes(
            session, ids, since=date(2026, 1, 1), until=date(2026, 12, 31)
        )
        assert in_2026 == {ids[0]: 150, ids[1]: 120, ids[2]: 0}
        assert await volunteer.approved_minutes(session, ids, until=date(2026, 1, 10)) == {
            ids[0]: 60,
            ids[1]: 30,
            ids[2]: 0,
        }
        assert await volunteer.approved_minutes(session, ids, since=date(2026, 6, 2)) == {
            ids[0]: 0,
            ids[1]: 120,
            ids[2]: 0,
        }
        assert await volunteer.approved_minutes(session, []) == {}
        many = [*range(10_000, 12_500), ids[0]]  # more than one chunk of ids
        assert (await volunteer.approved_minutes(session, many))[ids[0]] == 150


def push_photo(fake: FakeTelegram, user: User, caption: str) -> None:
    """A photo from the user with a caption, as Telegram delivers it."""
    user_id = int(user.account_id)
    sender = {"id": user_id, "is_bot": False, "first_name": "User"}
    photo = [  # Telegram sends every size, the largest last
        {"file_id": "tg-photo-small", "file_unique_id": "u1", "width": 90, "height": 90},
        {"file_id": "tg-photo-big", "file_unique_id": "u2", "width": 1280, "height": 960},
    ]
    message = {
        "message_id": 90_000,
        "date": int(time.time()),
        "chat": {"id": user_id, "type": "private", "first_name": "User"},
        "from": sender,
        "photo": photo,
        "caption": caption,
    }
    fake.push_raw({"message": message})


async def test_report_with_photo_and_approval_over_telegram(
    fake: FakeTelegram, rig: Rig, clock: Clock
) -> None:
    chat = Chat(rig.services, clock)
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    member = await chat.bound("党员甲")
    day = clock().astimezone(rig.services.settings.zone).date() - timedelta(days=1)
    secretary_chat = int(secretary.account_id)

    push_photo(fake, member, f"/volunteer {day} 3 社区义诊")
    assert "#1" in await received(fake, member, "已提交志愿服务申报")
    await fake.wait_until(lambda: fake.buttons_on_latest(secretary_chat)[1] != [], 15)
    message_id, buttons = fake.buttons_on_latest(secretary_chat)
    assert buttons == ["/volunteer_approve 1", "/volunteer_reject 1"]
    ask = next(c for c in fake.sent_to(secretary_chat) if c.method == "sendPhoto")
    assert ask.params["photo"] == "tg-photo-big"
    assert "党员甲" in ask.params["caption"] and "社区义诊" in ask.params["caption"]

    fake.push_callback(secretary_chat, "/volunteer_approve 1", message_id=message_id)
    await fake.wait_until(lambda: fake.count("editMessageReplyMarkup", sent_only=True) == 1)
    assert fake.buttons_on_latest(secretary_chat) == (message_id, ["/volunteer_approve 1"])
    told = await received(fake, member, "已认定")
    assert "#1" in told and "社区义诊 3 小时" in told and "书记" in told
    assert (await record(chat)).status == DecisionStatus.APPROVED
