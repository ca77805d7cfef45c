"""Refused reads of protected records are traced, even when the answer is "not found".

Someone asking for a record of another branch (or a number that does not exist) is told only
that it was not found, so numbers cannot be probed; the handler's work is rolled back, and the
attempt is still on file as access.refused (who, what was asked, why), where the access rules
count it.
"""

import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from handlers.access import watch
from handlers.access.settings import AccessSettings
from storage.enums import Role, Stage
from storage.models import Trace
from tests.support.chat import Chat, User

OTHER = "化学化工学院第二党支部"
MEETING = "/meeting_new 2026-11-25 14:30 | 主题党日 | 学习全会精神 | 化工楼301"
THOUGHT = "通过近期的理论学习，我对党的性质和宗旨有了更深刻的认识，决心以实际行动向党组织靠拢。"


@dataclass
class Cast:
    """Branch B's records (meeting 1, notice 1, leave 1, thought report 1), and branch A's
    secretary and member who will ask for them."""

    secretary_a: User
    member_a: User
    secretary_b: User


async def cast(chat: Chat) -> Cast:
    secretary_b = await chat.bound("乙书记", role=Role.SECRETARY, branch=OTHER)
    member_b = await chat.bound("乙党员", branch=OTHER)
    activist_b = await chat.bound("乙积极", stage=Stage.ACTIVIST, branch=OTHER)
    assert "已创建会议 #1" in await secretary_b.say(MEETING)
    assert "#1" in await secretary_b.say("/broadcast 周五下午开支部大会，请准时参加。")
    assert "请假申请 #1 已提交" in await member_b.say("/leave 1 出差")
    assert "思想汇报 #1 已提交" in await activist_b.say(f"/thought {THOUGHT}")
    secretary_a = await chat.bound("甲书记", role=Role.SECRETARY)
    member_a = await chat.bound("甲党员")
    return Cast(secretary_a, member_a, secretary_b)


async def refusals(chat: Chat) -> list[Trace]:
    async with chat.services.sessions() as session:
        query = select(Trace).where(Trace.kind == "access.refused").order_by(Trace.id)
        return list((await session.scalars(query)).all())


# (who asks, the command with a record of branch B, the same with a number nobody has,
#  the answer's words, what the trace names)
PROBES = [
    ("secretary_a", "/leave_approve 1", "/leave_approve 99", "找不到请假申请", "leave:"),
    ("secretary_a", "/notice_status 1", "/notice_status 99", "找不到通知", "notice:"),
    ("secretary_a", "/checkin_open 1", "/checkin_open 99", "找不到这个会议", "meeting:"),
    ("secretary_a", "/thought_show 1", "/thought_show 99", "找不到思想汇报", "thought:"),
    ("member_a", "/thought_show 1", "/thought_show 99", "找不到思想汇报", "thought:"),
    ("member_a", "/ack 1", "/ack 99", "不是发给您的", "notice:"),
    ("member_a", "/leave 1 有事", "/leave 99 有事", "找不到", "meeting:"),
    ("secretary_a", "/pipeline #3", "/pipeline #99", "没有找到", "member:"),
]


@pytest.mark.parametrize(("who", "theirs", "nobodys", "words", "target"), PROBES)
async def test_a_refused_read_is_traced_and_answers_as_not_found(
    chat: Chat, who: str, theirs: str, nobodys: str, words: str, target: str
) -> None:
    c = await cast(chat)
    user: User = getattr(c, who)
    before = len(await refusals(chat))
    refused_reply = await user.say(theirs)
    missing_reply = await user.say(nobodys)
    assert words in refused_reply, refused_reply
    # The same answer whether the record exists elsewhere or not at all (numbers aside).
    assert _numbers_masked(refused_reply, theirs) == _numbers_masked(missing_reply, nobodys), (
        refused_reply,
        missing_reply,
    )
    new = (await refusals(chat))[before:]
    assert [t.data["reason"] for t in new] == ["scope", "missing"], [t.data for t in new]
    actor = await chat_member_id(chat, user)
    for trace, reply_target in zip(new, (theirs, nobodys), strict=True):
        assert trace.actor_id == actor
        assert trace.ref is not None and trace.ref.startswith(target), trace.ref
        assert trace.data["target"] == trace.ref
        assert trace.data["command"] == reply_target.split()[0].lstrip("/")


def _numbers_masked(reply: str, command: str) -> str:
    """The reply with the record number the command asked for masked."""
    number = re.findall(r"\d+", command)[0]
    return re.sub(rf"(?<!\d){number}(?!\d)", "N", reply)


async def chat_member_id(chat: Chat, user: User) -> int:
    from storage import people

    async with chat.services.sessions() as session:
        account, _ = await people.account_and_conversation(session, user.platform, user.account_id)
        assert account is not None
        return account.member_id


async def test_the_refused_handlers_work_is_rolled_back_but_the_update_is_recorded(
    chat: Chat,
) -> None:
    c = await cast(chat)
    await c.secretary_a.say("/leave_approve 1", update_key="probe-1")
    await c.secretary_a.say("/leave_approve 1", update_key="probe-1")  # redelivered
    assert len([t for t in await refusals(chat) if t.ref == "leave:1"]) == 1
    # Branch B's secretary still decides the request: nothing of it was touched.
    assert "已批准" in await c.secretary_b.say("/leave_approve 1")


async def test_probing_numbers_raises_the_refusals_alert(chat: Chat) -> None:
    c = await cast(chat)
    options = chat.services.router.options
    for number in range(1, options.of(AccessSettings).access_max_refusals + 2):
        await c.secretary_a.say(f"/thought_show {number}")
    async with chat.services.sessions.begin() as session:
        raised = await watch(session, chat.services.box, options, chat.clock())
    assert raised >= 1
    alerts = [t for t in await all_traces(chat) if t.kind == "access.alert"]
    assert any(t.data.get("rule") == "refusals" for t in alerts), [t.data for t in alerts]


async def all_traces(chat: Chat) -> list[Trace]:
    async with chat.services.sessions() as session:
        return list((await session.scalars(select(Trace).order_by(Trace.id))).all())


async def test_a_typo_in_a_name_is_not_a_refusal_but_a_name_of_another_branch_is(
    chat: Chat,
) -> None:
    c = await cast(chat)
    before = len(await refusals(chat))
    assert "没有找到" in await c.secretary_a.say("/dues 无此人")
    assert len(await refusals(chat)) == before
    assert "没有找到" in await c.secretary_a.say("/dues 乙党员")
    [trace] = (await refusals(chat))[before:]
    assert trace.data["reason"] == "scope" and trace.ref is not None
    assert trace.ref.startswith("member:#")
