"""The six-month rule end to end, on Telegram and on WeCom (the fake servers over HTTP): the
daily job tells the secretary of a member four months away, the secretary records a talk with
the notice's button, and the member gets their kind reminder."""

from datetime import UTC, date, datetime

import pytest

from handlers.dues.record import NewPayment, record_payments
from scheduler import pipeline_jobs
from storage.enums import Role
from tests.support.care import A, held
from tests.support.chat import Chat, Clock
from tests.support.evaluation import joined_on
from tests.support.people import member_named
from tests.support.platforms import Both, heard, person

JOINED = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture(params=["telegram", "wecom"])
def platform(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_a_notice_a_talk_recorded_and_a_kind_reminder(
    both: Both, clock: Clock, platform: str
) -> None:
    secretary = await person(both, clock, platform, "书记", role=Role.SECRETARY)
    member = await person(both, clock, platform, "张三")
    chat = Chat(both.services, clock)
    people = [await member_named(chat, name) for name in ("书记", "张三")]
    async with both.services.sessions.begin() as session:
        for someone in people:
            await joined_on(session, someone.id, JOINED)
        paid = [
            NewPayment(p, date(2026, m, 1), 20, date(2026, 6, 1))
            for p in people
            for m in range(6, 13)
        ]
        await record_payments(
            session, both.services.box, paid, source="chat", actor_id=None, now=JOINED
        )
    days = [date(2026, m, 15) for m in range(7, 11)]  # July to October; now is 24 November
    await held(both.services, A, days, [people[0].id])
    assert (await pipeline_jobs.daily())["care"] == 1
    notice = await heard(secretary, "已连续 4 个月未参加支部组织生活")  # the text, not a card
    assert "张三已满 4 个月" in notice and "2026年7月至2026年10月" in notice
    await secretary.press("talk")
    await heard(secretary, "请发送张三的谈话内容")
    await secretary.say("已电话联系，下周回校后参加主题党日")
    await heard(secretary, "已记录张三的谈话")
    reminder = await heard(member, "4 个月没有参加支部的组织生活")
    assert "🌱 张三同志" in reminder and "脱党" not in reminder
    assert (await pipeline_jobs.daily())["care"] == 0
