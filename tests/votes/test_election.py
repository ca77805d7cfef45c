"""换届选举: more than four fifths attend or no election; a voter chooses at most the seats; a
candidate needs more than half of the voters present; a tie for the last seat is reported
for a second round; the secretary's confirmation updates the committee, each change traced."""

from sqlalchemy import select

from handlers.votes.election import count
from storage.enums import Role
from storage.models import Member
from tests.support.chat import Chat, User
from tests.support.traces import traces_of
from tests.support.votes import assembly


async def roles(chat: Chat) -> dict[str, str]:
    async with chat.services.sessions() as session:
        return {m.name: m.role for m in (await session.scalars(select(Member))).unique().all()}


async def member_ids(chat: Chat) -> dict[str, int]:
    async with chat.services.sessions() as session:
        return {m.name: m.id for m in (await session.scalars(select(Member))).unique().all()}


async def five(chat: Chat) -> tuple[User, list[User]]:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    others = [
        await chat.bound("甲", role=Role.COMMITTEE),
        await chat.bound("乙"),
        await chat.bound("丙"),
        await chat.bound("丁"),
    ]
    return secretary, others


async def test_an_election_with_more_candidates_than_seats(chat: Chat) -> None:
    secretary, (jia, yi, bing, ding) = await five(chat)
    await assembly(chat, secretary, [secretary, jia, yi, bing, ding])  # 5 of 5 present
    opened = await secretary.say("/election_open 1 2 乙 丙 丁")
    assert "应选 2 人，候选人 3 人；到会有选举权 5 人（应到会 5 人）" in opened
    assert "最多选 2 人" in await yi.say("/elect 1 乙 丙 丁")
    assert "不是候选人" in await yi.say("/elect 1 甲")
    assert "已投票" in await yi.say("/elect 1 乙 丙")
    assert "每人只能投一次" in await yi.say("/elect 1 乙")
    assert "已投票" in await bing.say("/elect 1 乙 丙")
    assert "已投票" in await ding.say("/elect 1 乙 丁")
    assert "已投票" in await jia.say("/elect 1 丙")
    assert "已投票" in await secretary.say("/elect 1 弃权")
    assert "是选举" in await jia.say("/vote 1 赞成")
    result = await secretary.say("/vote_close 1")
    # 乙 3 and 丙 3 of 5 voters present pass (more than half); 丁 1 does not.
    assert "· 乙：3 票" in result and "· 丙：3 票" in result and "· 丁：1 票" in result
    assert "当选（得票超过到会有选举权人数的半数）：乙、丙" in result
    confirmed = await secretary.say("/election_confirm 1")
    assert "角色已更新" in confirmed
    now = await roles(chat)
    assert [now[n] for n in ("乙", "丙", "甲", "书记")] == [
        "committee",
        "committee",
        "member",
        "secretary",
    ]
    changed = await traces_of(chat.services, "member.changed")
    assert len([t for t in changed if t.data["field"] == "role"]) == 3
    assert "已经确认过了" in await secretary.say("/election_confirm 1")


async def test_no_election_without_four_fifths(chat: Chat) -> None:
    secretary, (jia, yi, bing, _ding) = await five(chat)
    await assembly(chat, secretary, [secretary, jia, yi, bing])  # 4 of 5: not more than 4/5
    assert "未超过应到会 5 人的五分之四" in await secretary.say("/election_open 1 2 乙 丙 丁")
    assert "应选人数至少 1" in await secretary.say("/election_open 1 4 乙 丙 丁")
    assert "用法" in await secretary.say("/election_open 1 两 乙 丙")
    assert await traces_of(chat.services, "vote.opened") == []


def test_the_count_reports_a_tie_for_the_last_seat() -> None:
    ballots = [[1, 2], [1, 3], [1, 2], [1, 3], [4]]
    result = count(ballots, [1, 2, 3, 4], seats=2, electors=5, entitled=5)
    assert result.elected == [1] and result.tied == []  # 2 and 3 have 2 of 5: not more than half
    ballots = [[1, 2], [1, 3], [2, 3], [1, 2], [3, 1]]
    tie = count(ballots, [1, 2, 3], seats=2, electors=5, entitled=5)
    assert tie.elected == [1] and sorted(tie.tied) == [2, 3]  # 4, 3 and 3 votes: a tie for seat 2


async def test_a_ballot_ticked_with_its_buttons(chat: Chat) -> None:
    secretary, (jia, yi, bing, ding) = await five(chat)
    await assembly(chat, secretary, [secretary, jia, yi, bing, ding])
    await secretary.say("/election_open 1 2 乙 丙 丁")
    ids = await member_ids(chat)
    ticked = await yi.say(callback=f"/elect_pick 1 {ids['乙']}")
    assert "已选 乙（最多 2 人）" in ticked and yi.replies[0].edit
    labels = [chat.services.renderer.render(b.label) for row in yi.replies[0].buttons for b in row]
    assert labels[:3] == ["✅ 乙", "⬜ 丙", "⬜ 丁"] and "投票（已选 1 人）" in labels
    await yi.say(callback=f"/elect_pick 1 {ids['丙']}")
    assert "最多选 2 人" in await yi.say(callback=f"/elect_pick 1 {ids['丁']}")
    await yi.say(callback=f"/elect_pick 1 {ids['丙']}")  # unticked again
    assert "已投票（选举 #1：乙）" in await yi.say(callback="/elect_submit 1")
    assert "每人只能投一次" in await yi.say(callback=f"/elect_pick 1 {ids['丁']}") + await yi.say(
        callback="/elect_submit 1"
    )
    assert "还没有选择候选人" in await bing.say(callback="/elect_submit 1")
