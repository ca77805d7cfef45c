"""Votes (表决) at a general assembly: full members checked in vote once each, the quorum and
the majority of those entitled decide, the tally is checked against the electors, the result
goes into the person's development file; how anyone voted is never linkable to them."""

from datetime import timedelta

from sqlalchemy import select

from storage.enums import Role, Stage
from storage.models import Meeting, Trace
from storage.vote_models import VoteBox, VoteElector
from tests.support.chat import Chat, User
from tests.support.outbox import queued_to
from tests.support.people import member_id
from tests.support.traces import traces_of

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


async def branch(chat: Chat, full: int) -> tuple[User, list[User]]:
    """A secretary, `full` other full members, a 发展对象 张三 and a probationary member."""
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    members = [await chat.bound(f"党员{i}") for i in range(full)]
    await chat.enrol("张三", stage=Stage.CANDIDATE)
    await chat.enrol("预备李", stage=Stage.PROBATIONARY)
    return secretary, members


async def test_an_admission_vote_that_passes_goes_into_the_file(chat: Chat) -> None:
    secretary, members = await branch(chat, 4)  # 5 full members with the secretary
    await assembly(chat, secretary, [secretary, *members[:3]])  # 4 of 5 present
    opened = await secretary.say("/vote_open 1 张三")
    assert (
        "已发起表决 #1：张三（接收为预备党员）。有表决权的到会正式党员 4 人（应到会 5 人）"
        in opened
    )
    ballot = await queued_to(chat.services, await member_id(members[0]), "vote")
    assert "表决 #1：接收为预备党员——张三" in ballot[0]
    assert "已投票" in await members[0].say(callback="/vote 1 for")
    assert "每人只能投一次" in await members[0].say("/vote 1 反对")
    assert "已投票" in await members[1].say("投票 1 赞成")
    assert "已投票" in await members[2].say("/vote 1 弃权")
    assert "不在表决 #1 的有表决权名单上" in await members[3].say("/vote 1 赞成")  # absent
    assert "已投票" in await secretary.say("/vote 1 赞成")
    listed = await secretary.say("/votes")
    assert "表决 #1：张三，进行中，已投 4/4" in listed
    result = await secretary.say("/vote_close 1")
    assert "结果：通过" in result and "赞成 3，反对 0，弃权 1；实投 4 票" in result
    told = await queued_to(chat.services, await member_id(members[3]), "vote")
    assert told == []  # an absent member gets neither ballot nor result
    assert "已结束" in await members[0].say("/vote 1 赞成")
    # The file: the step names the assembly; the check shows the counts.
    step = await secretary.say("/stage 张三 预备党员 2026-11-25 支部大会 会议#1 通过")
    assert "预备党员" in step
    file = await secretary.say("/pipeline 张三")
    assert "经支部党员大会 #1 表决通过（赞成 3，反对 0，弃权 1；应到会有表决权 5 人）" in file


async def test_a_vote_fails_on_the_majority_of_those_entitled(chat: Chat) -> None:
    secretary, members = await branch(chat, 4)
    await assembly(chat, secretary, [secretary, *members[:3]])
    await secretary.say("/vote_open 1 张三")
    for voter, choice in zip(
        [secretary, *members[:3]], ["赞成", "赞成", "反对", "弃权"], strict=True
    ):
        await voter.say(f"/vote 1 {choice}")
    result = await secretary.say("/vote_close 1")
    # 2 in favour of 4 cast: a majority of those voting, but not more than half of the 5 entitled.
    assert "结果：未通过" in result and "赞成 2，反对 1，弃权 1" in result
    (closed,) = await traces_of(chat.services, "vote.closed")
    assert closed.data["passed"] is False and closed.data["entitled"] == 5


async def test_no_vote_without_a_quorum_or_at_the_wrong_meeting(chat: Chat) -> None:
    secretary, members = await branch(chat, 4)
    await assembly(chat, secretary, [secretary, members[0]])  # 2 of 5: not more than half
    assert "未超过应到会有表决权的 5 人的半数" in await secretary.say("/vote_open 1 张三")
    assert "只有发展对象" in await secretary.say("/vote_open 1 党员1")
    assert "没有找到会议" in await secretary.say("/vote_open 99 张三")
    assert "用法" in await secretary.say("/vote_open 1")
    assert "仅限支部书记" in await members[0].say("/vote_open 1 张三")
    await secretary.say("/meeting_new 2026-11-26 14:30 | 支委会 | 研究")
    chat.clock.advance(days=2)
    assert "须在支部党员大会上进行" in await secretary.say("/vote_open 2 张三")


async def test_conversion_and_nothing_links_a_ballot_to_its_voter(chat: Chat) -> None:
    secretary, members = await branch(chat, 2)
    await assembly(chat, secretary, [secretary, *members])
    assert "预备党员转为正式党员" in await secretary.say("/vote_open 1 预备李")
    for voter, choice in zip([secretary, *members], ["反对", "赞成", "赞成"], strict=True):
        await voter.say(f"/vote 1 {choice}")
    async with chat.services.sessions() as session:
        electors = (await session.scalars(select(VoteElector))).all()
        (box,) = (await session.scalars(select(VoteBox))).all()
        casts = (await session.scalars(select(Trace).where(Trace.kind == "vote.cast"))).all()
    assert {(e.voted) for e in electors} == {True} and box.count == 3
    assert b"for" not in (box.ballots_enc or b"") and b"against" not in (box.ballots_enc or b"")
    assert all(t.data is None or "choice" not in t.data for t in casts)  # who, never how
    assert "结果：通过" in await secretary.say("/vote_close 1")
