"""Transfers within the school (转接): a secretary's request waits for the receiving branch,
an admin's takes effect at once; the member moves with their history (memberships with
dates), is told, and keeps their chat account; every bad input changes nothing."""

from datetime import timedelta

from sqlalchemy import select

from storage.enums import MoveStatus, Role
from storage.models import Member
from storage.roster_models import Membership, Move
from tests.support.chat import Chat
from tests.support.outbox import queued_to
from tests.support.people import admin_user, member_id
from tests.support.traces import traces_of

FIRST = "化学化工学院第一党支部"
SECOND = "化学化工学院第二党支部"


async def row(chat: Chat, member: int) -> Member:
    async with chat.services.sessions() as session:
        found = await session.get(Member, member)
        assert found is not None
        return found


async def stretches(chat: Chat, member: int) -> list[tuple[str, str, str | None, str | None]]:
    """(branch name, since day, until day, end reason) of each membership, oldest first."""
    zone = chat.services.router.options.timezone
    names = {b.id: b.name for b in [await chat.branch(FIRST), await chat.branch(SECOND)]}
    async with chat.services.sessions() as session:
        query = select(Membership).where(Membership.member_id == member)
        found = (await session.scalars(query.order_by(Membership.since))).all()
        return [
            (
                names[s.branch_id],
                str(s.since.astimezone(zone).date()),
                str(s.until.astimezone(zone).date()) if s.until else None,
                s.end_reason,
            )
            for s in found
        ]


async def moves_of(chat: Chat, member: int) -> list[Move]:
    async with chat.services.sessions() as session:
        query = select(Move).where(Move.member_id == member).order_by(Move.id)
        return list((await session.scalars(query)).all())


async def test_a_secretarys_transfer_waits_for_the_receiving_secretary(chat: Chat) -> None:
    sender = await chat.bound("一支书记", role=Role.SECRETARY)
    receiver = await chat.bound("二支书记", role=Role.SECRETARY, branch=SECOND)
    zhang_id, zhang = await chat.enrolled("张三")
    chat.clock.advance(days=20)
    reply = await sender.say("/transfer 张三 化学化工学院第二党支部 2026-12-10")
    assert "等待接收支部书记确认" in reply
    assert (await row(chat, zhang_id)).branch_id == (await chat.branch(FIRST)).id
    receiver_id = await member_id(receiver)
    (asked,) = await queued_to(chat.services, receiver_id, "member_move")
    assert "张三 拟从“化学化工学院第一党支部”转入本支部" in asked and "2026-12-10" in asked
    listed = await receiver.send("/transfers")
    buttons = [b.data for b in listed[0].buttons[0]]
    (move,) = await moves_of(chat, zhang_id)
    assert buttons == [f"/transfer_accept {move.id}", f"/transfer_refuse {move.id}"]
    assert "已接收：张三 自 2026-12-10 起为本支部成员" in await receiver.say(callback=buttons[0])
    assert await stretches(chat, zhang_id) == [
        (FIRST, "2026-11-24", "2026-12-10", "transferred"),
        (SECOND, "2026-12-10", None, None),
    ]
    assert (await row(chat, zhang_id)).branch_id == (await chat.branch(SECOND)).id
    (told,) = await queued_to(chat.services, zhang_id, "member_move")
    assert "转接到“化学化工学院第二党支部”，自 2026-12-10 起生效" in told
    sender_news = await queued_to(chat.services, await member_id(sender), "member_move")
    assert any("张三 已从" in t for t in sender_news)
    (done,) = await traces_of(chat.services, "member.transferred")
    assert done.data["from"] == FIRST and done.data["to"] == SECOND
    assert done.member_id == zhang_id and done.actor_id == receiver_id
    # The account stays bound: the member now sees the new branch.
    assert "支部：化学化工学院第二党支部" in await zhang.say("/me")
    history = await receiver.say("/member 张三")
    assert (
        "校内转接：“化学化工学院第一党支部” → “化学化工学院第二党支部”（2026-12-10 起）" in history
    )
    assert "申请转接到“化学化工学院第二党支部”" in history


async def test_an_admins_transfer_takes_effect_at_once_and_drops_the_branch_office(
    chat: Chat,
) -> None:
    admin = await admin_user(chat)
    await chat.bound("二支书记", role=Role.SECRETARY, branch=SECOND)
    committee_id, _ = await chat.enrolled("李支委", role=Role.COMMITTEE)
    reply = await admin.say("转接 李支委 化学化工学院第二党支部")
    assert "已完成：李支委 自 2026-11-24 起转入“化学化工学院第二党支部”" in reply
    moved = await row(chat, committee_id)
    assert moved.branch_id == (await chat.branch(SECOND)).id and moved.role == Role.MEMBER
    (done,) = await traces_of(chat.services, "member.transferred")
    assert done.data["role"] == {"old": "committee", "new": "member"}


async def test_the_receiving_branch_refuses_with_a_reason_and_nothing_moves(chat: Chat) -> None:
    sender = await chat.bound("一支书记", role=Role.SECRETARY)
    receiver = await chat.bound("二支书记", role=Role.SECRETARY, branch=SECOND)
    zhang_id, _ = await chat.enrolled("张三")
    await sender.say("/transfer 张三 化学化工学院第二党支部")
    (move,) = await moves_of(chat, zhang_id)
    reply = await receiver.say(f"/transfer_refuse {move.id} 不是本年级")
    assert "已退回 张三 的转接申请" in reply
    (move,) = await moves_of(chat, zhang_id)
    assert move.status == MoveStatus.REFUSED
    assert (await row(chat, zhang_id)).branch_id == (await chat.branch(FIRST)).id
    (told,) = await queued_to(chat.services, await member_id(sender), "member_move")
    assert "被退回：不是本年级" in told
    assert "已经处理过了" in await receiver.say(f"/transfer_accept {move.id}")


async def test_only_the_receiving_branch_decides_and_a_probe_is_traced(chat: Chat) -> None:
    sender = await chat.bound("一支书记", role=Role.SECRETARY)
    await chat.bound("二支书记", role=Role.SECRETARY, branch=SECOND)
    zhang_id, _ = await chat.enrolled("张三")
    await sender.say("/transfer 张三 化学化工学院第二党支部")
    (move,) = await moves_of(chat, zhang_id)
    assert "没有找到编号" in await sender.say(f"/transfer_accept {move.id}")
    assert "没有找到编号" in await sender.say("/transfer_accept 999")
    refused = await traces_of(chat.services, "access.refused")
    assert [r.data["reason"] for r in refused] == ["scope", "missing"]
    member = await chat.bound("普通党员")
    assert "仅限支部书记" in await member.say(f"/transfer_accept {move.id}")


async def test_bad_transfers_are_answered_and_change_nothing(chat: Chat) -> None:
    sender = await chat.bound("一支书记", role=Role.SECRETARY)
    await chat.branch(SECOND)
    zhang_id, _ = await chat.enrolled("张三")
    await chat.enrol("外支部", branch=SECOND)
    cases = {
        "/transfer": "用法",
        "/transfer 张三": "用法",
        "/transfer 张三 不存在的支部": "没有名为“不存在的支部”的支部",
        "/transfer 张三 化学化工学院第一党支部": "已经在“化学化工学院第一党支部”",
        "/transfer 张三 化学化工学院第二党支部 2099-01-01": "还没到",
        "/transfer 张三 化学化工学院第二党支部 2020-01-01": "历史记录不能改写",
        "/transfer 李四 化学化工学院第二党支部": "李四",
        "/transfer 外支部 化学化工学院第二党支部": "外支部",
    }
    for text, expected in cases.items():
        assert expected in await sender.say(text), text
    assert await moves_of(chat, zhang_id) == []
    (probe,) = await traces_of(chat.services, "access.refused")
    assert probe.data["reason"] == "scope"
    await sender.say("/transfer 张三 化学化工学院第二党支部")
    assert "已有一项待处理" in await sender.say("/transfer 张三 化学化工学院第二党支部")
    assert len(await moves_of(chat, zhang_id)) == 1
    chat.clock.advance(days=1)
    assert await stretches(chat, zhang_id) == [(FIRST, "2026-11-24", None, None)]


async def test_a_transfer_dated_today_counts_from_the_start_of_the_day(chat: Chat) -> None:
    admin = await admin_user(chat)
    await chat.branch(SECOND)
    zhang_id, _ = await chat.enrolled("张三")
    chat.clock.advance(days=3, hours=5)
    await admin.say("/transfer 张三 化学化工学院第二党支部")
    async with chat.services.sessions() as session:
        query = select(Membership).where(Membership.member_id == zhang_id)
        first, second = (await session.scalars(query.order_by(Membership.since))).all()
    zone = chat.services.router.options.timezone
    assert second.since.astimezone(zone).time().isoformat() == "00:00:00"
    assert first.until == second.since
    assert chat.clock() - second.since < timedelta(days=1)


async def test_a_request_gone_stale_is_cancelled_when_decided(chat: Chat) -> None:
    sender = await chat.bound("一支书记", role=Role.SECRETARY)
    receiver = await chat.bound("二支书记", role=Role.SECRETARY, branch=SECOND)
    zhang_id, _ = await chat.enrolled("张三")
    await sender.say("/transfer 张三 化学化工学院第二党支部")
    await sender.say("/depart 张三 毕业")
    (request, _left) = await moves_of(chat, zhang_id)
    assert request.status == MoveStatus.CANCELLED  # leaving cancels a pending transfer
    assert "已经处理过了" in await receiver.say(f"/transfer_accept {request.id}")


async def test_a_former_branch_name_says_what_it_is_called_now(chat: Chat) -> None:
    admin = await admin_user(chat)
    await chat.branch(SECOND)
    await chat.enrolled("张三")
    assert "已更名" in await admin.say(f"/branch_rename {SECOND} 化学化工学院研究生党支部")
    reply = await admin.say(f"/transfer 张三 {SECOND}")
    assert f"“{SECOND}”已更名为“化学化工学院研究生党支部”" in reply
    unknown = await admin.say("/transfer 张三 第九支部")
    assert "现有支部：" in unknown and "化学化工学院研究生党支部" in unknown
