"""The feedback box end to end, on Telegram and on WeCom (the fake servers over HTTP): an
anonymous item sent the guided way leaves nothing but the box and the update's id behind (the
platform's update passes through the inbox and is gone), a named one reaches the committee
and its answer reaches the sender; the next morning's job opens the box, the committee
answers, and the anonymous sender reads the answer with the receipt code."""

import asyncio

import pytest
from sqlalchemy import func, select

from scheduler import pipeline_jobs
from storage.enums import Role
from storage.inbox_models import InboxUpdate
from tests.support.chat import Clock
from tests.support.dump import every_value
from tests.support.feedback import ANSWER, CONCERN, receipt_in
from tests.support.platforms import Both, heard, person

QUESTION = "请问下学期的党课安排什么时候公布？"


@pytest.fixture(params=["telegram", "wecom"])
def platform(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def settled(both: Both) -> dict[str, list[str]]:
    """Every table once the inbox has let go of the updates handled (it deletes each one
    right after its transaction)."""
    for _ in range(200):
        async with both.services.sessions() as session:
            waiting = await session.scalar(select(func.count()).select_from(InboxUpdate))
        if not waiting:
            return await every_value(both.services)
        await asyncio.sleep(0.02)
    raise AssertionError("the inbox kept an update")


async def test_named_and_anonymous_over_the_platform(
    both: Both, clock: Clock, platform: str
) -> None:
    secretary = await person(both, clock, platform, "书记", role=Role.SECRETARY)
    member = await person(both, clock, platform, "张三")
    clock.advance(hours=2)
    before = await settled(both)
    await member.say("/feedback")
    await member.press("匿名")
    await heard(member, "请发送您的意见（匿名")
    await member.say(CONCERN)
    code = receipt_in(await heard(member, "已匿名投入意见箱"))
    after = await settled(both)
    changed = {
        t for t in set(before) | set(after) if set(before.get(t, [])) != set(after.get(t, []))
    }
    assert changed == {"feedback_boxes", "processed_updates"}, changed

    await member.say(f"/feedback {QUESTION}")
    await heard(member, "已提交意见 #1（实名）")
    await heard(secretary, "张三提交了意见 #1")
    await secretary.press("/feedback_status 1")
    await heard(secretary, QUESTION)
    await secretary.say(f"/feedback_answer 1 {ANSWER}")
    await heard(secretary, "并已通知提出人")
    assert "支委会答复了您的意见 #1" in await heard(member, ANSWER)  # WeCom: a text, then a card

    clock.advance(days=1)
    assert (await pipeline_jobs.daily())["feedback_opened"] == 1
    both.sender.wake()
    await heard(secretary, "意见箱开箱：收到 1 条匿名意见")
    await secretary.say(f"/feedback_answer 2 {ANSWER}")
    await heard(secretary, "这是匿名意见")
    await member.say(f"/feedback_status {code}")
    shown = await heard(member, "状态：已答复")
    assert ANSWER in shown and CONCERN in shown and "#2" not in shown
