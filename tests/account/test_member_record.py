"""A member's record as staff see and change it: `/member NAME` by role and branch, each change
of `/member_set` traced and shown in the history, the secretary handover, and bad input."""

from typing import Any

from sqlalchemy import select

from handlers.core.payload import queued_reply
from storage.enums import Role
from storage.models import Member, OutboxMessage, Trace
from storage.roster_models import Membership
from tests.support.chat import Chat

OTHER = "化学化工学院第二党支部"


async def traces_of(chat: Chat, kind: str) -> list[Trace]:
    async with chat.services.sessions() as session:
        query = select(Trace).where(Trace.kind == kind).order_by(Trace.id)
        return list((await session.scalars(query)).all())


async def told(chat: Chat, member_id: int) -> list[str]:
    """The record-change messages queued for a member, as they read them."""
    services = chat.services
    async with services.sessions() as session:
        query = select(OutboxMessage).where(
            OutboxMessage.kind == "member_change", OutboxMessage.member_id == member_id
        )
        rows = list((await session.scalars(query.order_by(OutboxMessage.id))).all())
    texts = [queued_reply(services.box, r.payload, r.sealed).text for r in rows]
    return [services.renderer.render(t) for t in texts if t is not None]


async def member_row(chat: Chat, member_id: int) -> Member:
    async with chat.services.sessions() as session:
        member = await session.get(Member, member_id)
        assert member is not None
        return member


async def id_of(chat: Chat, name: str) -> int:
    async with chat.services.sessions() as session:
        found = await session.scalar(select(Member.id).where(Member.name == name))
        assert found is not None
        return found


async def test_secretary_sees_everything_with_buttons_and_the_view_is_traced(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    member_id, _ = await chat.enrol("张三", phone="13800138000")
    reply = await secretary.say("/member 张三")
    assert "【张三】" in reply and "手机：13800138000" in reply
    assert "尚未绑定" in reply and "化学化工学院第一党支部：2026-11-24 至 今" in reply
    assert "命令行：加入名册" in reply
    buttons = [b.data for row in secretary.replies[0].buttons for b in row]
    assert f"/member_set #{member_id} role" in buttons and len(buttons) == 12
    (viewed,) = await traces_of(chat, "data.viewed")
    assert viewed.member_id == member_id and viewed.data["what"] == "member"


async def test_committee_sees_a_masked_phone_and_no_buttons(chat: Chat) -> None:
    committee = await chat.bound("支委", role=Role.COMMITTEE)
    await chat.enrol("张三", phone="13800138000")
    assert "手机：138****8000" in await committee.say("成员 张三")
    assert committee.replies[0].buttons == ()
    assert "仅限支部书记" in await committee.say("/member_set 张三 姓名 张叁")


async def test_a_member_is_refused_and_the_refusal_traced(chat: Chat) -> None:
    member = await chat.bound("李四")
    await chat.enrol("张三")
    assert "仅限支委及以上" in await member.say("/member 张三")
    (refused,) = await traces_of(chat, "access.refused")
    assert refused.data["command"] == "member" and refused.data["reason"] == "role"


async def test_another_branch_is_refused_and_traced_an_admin_sees_all(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    other_id, _ = await chat.enrol("外支部", branch=OTHER)
    assert "没有找到" in await secretary.say("/member 外支部")
    assert "没有找到" in await secretary.say(f"/member_set #{other_id} 姓名 别人")
    refusals = await traces_of(chat, "access.refused")
    assert [r.data["reason"] for r in refusals] == ["scope", "scope"]
    assert (await member_row(chat, other_id)).name == "外支部"
    admin = await chat.bound("组织员", role=Role.ADMIN)
    assert "【外支部】" in await admin.say("/member 外支部")


async def test_each_field_change_is_traced_and_shown_in_the_history(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await chat.bound("张三", phone="13800138000")
    member_id = await id_of(chat, "张三")
    assert "姓名：张三 → 张叁" in await secretary.say("/member_set 张三 姓名 张叁")
    assert "学号：无 → 2023012345" in await secretary.say("/member_set 张叁 学号 2023012345")
    assert "已更新" in await secretary.say("/member_set 2023012345 手机 139-0013-9000")
    assert "→ 2099-06-30" in await secretary.say("/member_set 张叁 实习期 2099-06-30")
    assert "角色：成员 → 支委" in await secretary.say("/member_set 张叁 角色 支委")
    assert "→ 无" in await secretary.say("/member_set 张叁 实习期 无")
    changes = await traces_of(chat, "member.changed")
    assert [c.data["field"] for c in changes] == [
        "name",
        "staff_no",
        "phone",
        "remote_until",
        "role",
        "remote_until",
    ]
    assert all(c.member_id == member_id and c.actor_id is not None for c in changes)
    phone = changes[2].data
    assert "old" not in phone and "new" not in phone
    assert not any("13900139000" in str(t.data) for t in await traces_of(chat, "member.changed"))
    row = await member_row(chat, member_id)
    assert chat.services.box.decrypt(row.phone_enc) == "13900139000"
    view = await secretary.say("/member 张叁")
    assert "手机：13900139000" in view and "身份：支委" in view
    assert "书记：姓名 张三 → 张叁" in view and "书记：更新了手机号" in view
    assert "实习期 2099-06-30 → 无" in view
    assert "您的身份现在是支委" in (await told(chat, member_id))[0]


async def test_a_button_asks_for_the_value_and_the_answer_sets_it(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    member_id, _ = await chat.enrol("张三")
    reply = await secretary.say(callback=f"/member_set #{member_id} phone")
    assert "新手机号" in reply
    assert "无效" in await secretary.say("12345")
    assert "已更新 张三 的手机号" in await secretary.say("13800138000")
    await secretary.say(callback=f"/member_set #{member_id} role")
    roles = [b.data for row in secretary.replies[0].buttons for b in row]
    assert f"/member_set #{member_id} role committee" in roles
    assert all("admin" not in r for r in roles)
    assert "成员 → 支委" in await secretary.say(callback=roles[0])


async def test_a_new_secretary_demotes_the_old_one_and_both_are_told(chat: Chat) -> None:
    old = await chat.bound("老书记", role=Role.SECRETARY)
    await chat.bound("新书记", role=Role.COMMITTEE)
    old_id, new_id = await id_of(chat, "老书记"), await id_of(chat, "新书记")
    admin = await chat.bound("组织员", role=Role.ADMIN, branch=OTHER)
    reply = await admin.say("/member_set 新书记 角色 书记")
    assert "支委 → 支部书记" in reply and "原书记 老书记 已改为党员" in reply
    assert (await member_row(chat, old_id)).role == Role.MEMBER
    assert (await member_row(chat, new_id)).role == Role.SECRETARY
    assert "新书记 已任本支部书记" in (await told(chat, old_id))[0]
    assert "您的身份现在是支部书记" in (await told(chat, new_id))[0]
    demotion = (await traces_of(chat, "member.changed"))[0].data
    assert demotion["because"] == "handover" and demotion["successor"] == new_id
    assert "仅限支委及以上" in await old.say("/member 新书记")
    assert "书记交接" in await admin.say("/member 老书记")


async def test_a_secretary_hands_over_their_own_office(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await chat.enrol("接任者")
    replies = await secretary.send("/member_set 接任者 角色 书记")
    assert replies[0].menu_role == Role.MEMBER
    async with chat.services.sessions() as session:
        roles = (await session.scalars(select(Member.role).order_by(Member.id))).all()
    assert list(roles) == [Role.MEMBER, Role.SECRETARY]


async def test_bad_input_answers_with_the_form_and_changes_nothing(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await chat.enrol("张三")
    await chat.enrol("同名")
    await chat.enrol("同名")
    await chat.enrol("组织员", role=Role.ADMIN)
    cases: list[tuple[str, str]] = [
        ("/member", "用法"),
        ("/member 无此人", "没有找到"),
        ("/member 同名", "同名"),
        ("/member_set", "用法"),
        ("/member_set 张三", "用法"),
        ("/member_set 张三 血型 A", "没有“血型”这一项"),
        ("/member_set 张三 性别 未知", "请写“男”或“女”"),
        ("/member_set 张三 出生日期 2003-02-30", "出生日期“2003-02-30”不对"),
        ("/member_set 张三 出生日期 2099-01-01", "今天以前"),
        ("/member_set 张三 民族 汉", "请写全称"),
        ("/member_set 张三 学历 很高", "学历“很高”看不懂"),
        ("/member_set 张三 年级 23", "如 2023级"),
        ("/member_set 张三 实习期 明年", "看不懂"),
        ("/member_set 张三 实习期 2020-01-01", "已经过去"),
        ("/member_set 张三 手机 123", "手机号“123”无效"),
        ("/member_set 张三 姓名 2026-01-01", "姓名“2026-01-01”无效"),
        ("/member_set 张三 角色 队长", "不是有效的角色"),
        ("/member_set 张三 角色 管理员", "只有组织员"),
        ("/member_set 张三 角色 党员", "已经是这个值"),
        ("/member_set 张三 姓名 张三", "已经是这个值"),
        ("/member_set 同名 姓名 甲", "同名"),
        ("/member_set 无此人 姓名 甲", "没有找到"),
        ("/member_set 书记 角色 党员", "不能修改自己的角色"),
        ("/member_set 组织员 姓名 乙", "不低于您"),
    ]
    for line, expected in cases:
        assert expected in await secretary.say(line), line
    assert await traces_of(chat, "member.changed") == []
    await chat.enrol("李四")
    await secretary.say("/member_set 张三 学号 A1")
    assert "已属于 张三" in await secretary.say("/member_set 李四 学号 A1")


async def test_a_member_added_has_a_membership_since_then(chat: Chat) -> None:
    member_id, _ = await chat.enrol("张三")
    async with chat.services.sessions() as session:
        rows: Any = (await session.scalars(select(Membership))).all()
    assert [(r.member_id, r.until, r.reason) for r in rows] == [(member_id, None, "joined")]
