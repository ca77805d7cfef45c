"""Leaving the roster: a transfer out of the school with its introduction letter, the other
reasons (停止党籍 and 出党 with their basis, death), a transfer in from outside; a member who
left keeps /me and /mydata for the configured period and nothing else."""

import json
from datetime import date

from sqlalchemy import select

from storage.enums import Departure, MoveKind, Role
from storage.models import Member
from storage.roster_models import Membership, Move
from tests.support.chat import Chat
from tests.support.outbox import queued_to
from tests.support.traces import traces_of


async def row(chat: Chat, member: int) -> Member:
    async with chat.services.sessions() as session:
        found = await session.get(Member, member)
        assert found is not None
        return found


async def test_a_transfer_out_needs_its_letter_and_leaves_mydata_open(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    zhang_id, zhang = await chat.enrolled("张三")
    chat.clock.advance(days=10)
    assert "介绍信编号" in await secretary.say("/transfer_out 张三 某某公司党委")
    assert (await row(chat, zhang_id)).active
    reply = await secretary.say("转出 张三 某某 公司 党委 JX2026-031 2026-12-01")
    assert "已登记：张三 转出，日期 2026-12-01" in reply
    member = await row(chat, zhang_id)
    assert not member.active and member.left_reason == Departure.TRANSFERRED_OUT
    assert member.left_on == date(2026, 12, 1) and member.access_until == date(2027, 5, 30)
    async with chat.services.sessions() as session:
        (move,) = (await session.scalars(select(Move))).all()
        query = select(Membership).where(Membership.member_id == zhang_id)
        (stretch,) = (await session.scalars(query)).all()
    assert move.kind == MoveKind.OUT and move.organisation == "某某 公司 党委"
    assert move.letter_no == "JX2026-031" and stretch.end_reason == "transferred_out"
    (farewell,) = await queued_to(chat.services, zhang_id, "member_move")
    assert (
        "转出至“某某 公司 党委”（介绍信编号 JX2026-031）" in farewell and "2027-05-30" in farewell
    )
    # Commands are refused, with the reason and what is still open; the refusal is traced.
    refused = await zhang.say("/dues")
    assert "离开本支部名册" in refused and "/mydata" in refused
    assert "离开本支部名册" in await zhang.say("随便说点什么")
    (trace,) = await traces_of(chat.services, "access.refused")
    assert trace.data == {"command": "dues", "reason": "former"}
    assert "/mydata" in await zhang.say("/help") and "/dues" not in await zhang.say("/help")
    assert "【张三】" in await zhang.say("/me")
    replies = await zhang.send("/mydata")
    (file,) = [r.file for r in replies if r.file is not None]
    exported = json.loads(file.content)
    assert exported["profile"]["left_reason"] == "transferred_out"
    assert exported["profile"]["moves"][0]["letter_no"] == "JX2026-031"
    # The secretary no longer finds them among the branch's members; the history keeps them.
    assert "没有找到“张三”" in await secretary.say("/dues 张三")
    chat.clock.advance(days=200)
    assert "查询期已结束" in await zhang.say("/mydata")


async def test_suspension_and_leaving_the_party_need_a_basis_death_sends_nothing(
    chat: Chat,
) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    wang_id, _ = await chat.enrolled("王五")
    zhao_id, _ = await chat.enrolled("赵六")
    assert "必须有依据" in await secretary.say("/depart 王五 停止党籍")
    assert "看不懂" in await secretary.say("/depart 王五 请假")
    assert "/transfer_out" in await secretary.say("/depart 王五 转出")
    assert (await row(chat, wang_id)).active
    reply = await secretary.say("/depart 王五 停止党籍 2026-11-24 支部大会决议（2026年第3次）")
    assert "已登记：王五 停止党籍" in reply
    (left,) = await traces_of(chat.services, "member.left")
    assert left.data["basis"] == "支部大会决议（2026年第3次）" and left.data["reason"] == "stopped"
    assert "停止党籍" in (await queued_to(chat.services, wang_id, "member_move"))[0]
    assert "去世" in await secretary.say("/depart 赵六 去世")
    gone = await row(chat, zhao_id)
    assert not gone.active and gone.access_until is None
    assert await queued_to(chat.services, zhao_id, "member_move") == []
    record = await secretary.say(f"/member #{wang_id}")  # the record stays readable
    assert "离开名册：停止党籍（2026-11-24），依据：支部大会决议（2026年第3次）" in record


async def test_a_transfer_in_is_recorded_with_its_origin_and_letter(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    assert "用法" in await secretary.say("/transfer_in 李四 某大学党委")
    assert "还没到" in await secretary.say("/transfer_in 李四 某大学党委 ZR2026-008 2099-01-01")
    reply = await secretary.say("/transfer_in 李四 某大学 化学学院党委 ZR2026-008")
    assert "已登记转入：李四，来自“某大学 化学学院党委”" in reply and "/invite 李四" in reply
    invite = await secretary.say("/invite 李四")
    assert "邀请码" in invite
    history = await secretary.say("/member 李四")
    assert "从“某大学 化学学院党委”转入（介绍信编号 ZR2026-008" in history


async def test_committee_members_and_members_may_not_move_anyone(chat: Chat) -> None:
    committee = await chat.bound("支委", role=Role.COMMITTEE)
    await chat.enrol("张三")
    for text in ("/transfer_out 张三 某单位 JX1", "/depart 张三 毕业", "/graduate 年级 2022级"):
        assert "仅限支部书记" in await committee.say(text), text
    assert len(await traces_of(chat.services, "access.refused")) == 3


async def test_the_access_period_is_a_setting(chat: Chat) -> None:
    from handlers.moves.settings import MovesSettings

    router = chat.services.router
    router.options = router.options.having(MovesSettings(former_access_days=0))
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    zhang_id, zhang = await chat.enrolled("张三")
    await secretary.say("/depart 张三 毕业")
    assert (await row(chat, zhang_id)).access_until == chat.clock().date()
    assert "【张三】" in await zhang.say("/me")
    chat.clock.advance(days=1)
    assert "查询期已结束" in await zhang.say("/me")


async def test_the_record_of_one_who_left_stays_readable_not_changeable(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await chat.enrolled("张三")
    await secretary.say("/transfer_out 张三 某某公司党委 JX2026-031")
    record = await secretary.say("/member 张三")
    assert "【已离开名册：转出，2026-11-24】" in record and "【张三】" in record
    assert "离开名册：转出（2026-11-24），转至“某某公司党委”，介绍信编号 JX2026-031" in record
    assert secretary.replies[0].buttons == ()
    assert "没有找到“张三”" in await secretary.say("/member_set 张三 姓名 张叁")
