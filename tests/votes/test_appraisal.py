"""民主评议党员: self-evaluations, every full member rating every other in one ballot with
buttons and comments, the tally for the committee beside the scorecard (a reference), the
committee's grades, each member's own result; nothing links a sheet to its rater."""

from sqlalchemy import select

from storage.enums import Role, Stage
from storage.vote_models import VoteBox
from tests.support.chat import Chat, User
from tests.support.outbox import queued_to
from tests.support.people import member_id
from tests.support.traces import traces_of
from tests.support.votes import assembly


async def rate(user: User, *answers: str) -> str:
    """Rate everyone in turn: a grade button, or typed grade and comment."""
    reply = await user.say("/appraise 1")
    for answer in answers:
        reply = await user.say(callback=answer) if " " not in answer else await user.say(answer)
    return reply


async def test_a_whole_appraisal(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    committee = await chat.bound("支委", role=Role.COMMITTEE)
    member = await chat.bound("党员甲")
    probationary = await chat.bound("预备乙", stage=Stage.PROBATIONARY)
    await assembly(chat, secretary, [secretary, committee, member])
    opened = await secretary.say("/appraisal_open 1")
    assert "被评议 4 人，参加评议的正式党员 3 人" in opened
    invite = await queued_to(chat.services, await member_id(probationary), "vote")
    assert "/appraisal_self 1" in invite[0]
    assert "自评已保存" in await probationary.say(
        "/appraisal_self 1 本年度按时参加组织生活，认真学习。"
    )
    assert "不在表决 #1 的有表决权名单上" in await probationary.say("/appraise 1")  # no vote
    first = await member.say("/appraise 1")
    assert "评议 1/3：书记" in first
    assert [b.data for b in member.replies[0].buttons[0]] == [
        "excellent",
        "qualified",
        "basic",
        "unqualified",
    ]
    assert "请按等级按钮" in await member.say("很好")
    assert "评议 2/3：支委" in await member.say(callback="excellent")
    assert "评议 3/3：预备乙" in await member.say("合格 发言积极")
    assert "已完成评议（#1，3 人）" in await member.say(callback="basic")
    assert "每人只能投一次" in await member.say("/appraise 1")
    await rate(secretary, "qualified", "excellent", "basic 需加强学习")
    await rate(committee, "excellent", "excellent", "qualified")
    assert "实投 3 份，参加评议 3 人" in await secretary.say("/vote_close 1")
    view = await committee.say("/appraisal_view 1")
    assert "【预备乙】优秀 0，合格 1，基本合格 2，不合格 0" in view
    assert "自评：本年度按时参加组织生活，认真学习。" in view
    assert "发言积极" in view and "需加强学习" in view
    assert "年度考评总分（仅供参考）" in view and "组织评定：尚未评定" in view
    assert "仅限支委及以上" in await member.say("/appraisal_view 1")
    graded = await committee.say("/appraisal_grade 1 预备乙 合格 按时参加组织生活，需加强理论学习")
    assert "已记录组织评定：预备乙 合格" in graded
    mine = await probationary.say("/appraisal_mine")
    assert "优秀 0，合格 1，基本合格 2，不合格 0" in mine and "组织评定：合格（按时参加" in mine
    assert "还没有您的民主评议结果" not in await member.say("/appraisal_mine")
    (told,) = [
        t
        for t in await queued_to(chat.services, await member_id(probationary), "vote")
        if "组织评定" in t
    ]
    assert "合格" in told
    async with chat.services.sessions() as session:
        (box,) = (await session.scalars(select(VoteBox))).all()
    assert "发言积极".encode() not in (box.ballots_enc or b"")
    casts = await traces_of(chat.services, "vote.cast")
    assert len(casts) == 3 and all(not (t.data or {}).get("ratings") for t in casts)


async def test_bad_appraisal_input(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    member = await chat.bound("党员甲")
    await assembly(chat, secretary, [secretary, member])
    assert "用法" in await secretary.say("/appraisal_open")
    assert "没有找到民主评议" in await member.say("/appraise 9")
    await secretary.say("/appraisal_open 1")
    assert "尚未结束" in await secretary.say("/appraisal_view 1")
    assert "是民主评议" in await member.say("/vote 1 赞成")
    assert "用法" in await secretary.say("/appraisal_grade 1 党员甲 很好 理由")
    refused = await traces_of(chat.services, "access.refused")
    assert [r.data["reason"] for r in refused] == ["missing"]
