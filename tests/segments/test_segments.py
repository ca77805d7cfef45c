"""/segments over a built half year (tests/support/segments.py): each group exactly the
members its rule holds for, by the membership true on each date; the secretary's view with
names and actions, the committee's without; views traced with counts, never names; refusals
of a member and of another branch traced; bad input answered with the right form."""

import json

from handlers.care.profile import profiles
from handlers.care.segment_rules import segment_rules
from handlers.care.segments import grouped
from storage import people
from storage.enums import Role
from tests.support.chat import Chat
from tests.support.segments import EXPECTED_A, EXPECTED_B, A, B, SegmentHistory
from tests.support.traces import traces_of


async def groups_in(history: SegmentHistory, branch: str) -> dict[str, set[str]]:
    """Each group's members by name, as the shipped rules make them now."""
    services = history.chat.services
    rules = segment_rules()
    async with services.sessions() as session:
        found = await people.branch_by_name(session, branch)
        assert found is not None
        now = history.chat.clock()
        members = await profiles(session, found.id, services.router.options, now, 6)
    return {
        g.segment.id: history.names(p.member.id for p in g.members) for g in grouped(rules, members)
    }


async def test_each_group_is_exactly_whom_its_rule_holds_for(chat: Chat) -> None:
    history = await SegmentHistory.built(chat)
    every = [s.id for s in segment_rules().segments]
    assert await groups_in(history, A) == {s: EXPECTED_A.get(s, set()) for s in every}
    assert await groups_in(history, B) == {s: EXPECTED_B.get(s, set()) for s in every}


async def test_the_secretary_sees_names_and_actions_the_committee_counts(chat: Chat) -> None:
    history = await SegmentHistory.built(chat)
    replies = await history.users["书记"].send("/segments")
    text = chat.services.renderer.render(replies[0].text)  # type: ignore[arg-type]
    assert "近 6 个月（2026-05-25..2026-11-24），正式党员和预备党员 10 人" in text
    assert "▪ 党费欠缴：2 人" in text and "名单：欠费、缺席" in text
    assert "▪ 本学期新成员：2 人" in text and "名单：新人、转入" in text
    assert "积极分子" not in text  # an activist is followed in /pipeline, not grouped here
    assert "仅供参考，不作评价" in text and "成员本人看不到自己所在的分组" in text
    data = [b.data for row in replies[0].buttons for b in row]
    assert "/segment_notice dues_behind" in data and "/segment_talk inactive" in data
    assert "/segment_study new_this_term" in data and "/segment_study steady" in data
    assert not any(d.startswith("/segment_notice steady") for d in data)  # not its action

    committee = await history.users["支委"].send("/segments")
    seen = chat.services.renderer.render(committee[0].text)  # type: ignore[arg-type]
    assert "▪ 党费欠缴：2 人" in seen and "名单" not in seen.replace("名单和一键操作", "")
    assert "名单和一键操作仅支部书记可见" in seen and committee[0].buttons == ()
    assert "仅供参考，不作评价" in seen

    viewed = await traces_of(chat.services, "segments.viewed")
    assert [t.actor_id for t in viewed] == [history.ids["书记"], history.ids["支委"]]
    assert viewed[0].data["groups"]["dues_behind"] == 2 and viewed[0].data["members"] == 10
    assert viewed[0].data["names"] is True and viewed[1].data["names"] is False
    written = json.dumps([t.data for t in viewed], ensure_ascii=False)
    assert not any(name in written for name in history.ids), "counts only, never names"


async def test_a_member_and_another_branch_are_refused_and_traced(chat: Chat) -> None:
    history = await SegmentHistory.built(chat)
    member = await history.users["迟到"].say("/segments")
    assert "/segments" not in await history.users["迟到"].say("/help")
    assert "Traceback" not in member and "成员分组" not in member
    other = history.users["乙书记"]
    assert f"没有找到支部“{A}”" in await other.say(f"/segments {A}")
    async with chat.services.sessions() as session:
        branch_a = await people.branch_by_name(session, A)
    assert branch_a is not None
    assert "没有找到支部" in await other.say(f"/segment_notice often_late #{branch_a.id}")
    assert "没有找到支部“不存在的支部”" in await other.say("/segments 不存在的支部")
    refused = await traces_of(chat.services, "access.refused")
    found = [(t.actor_id, t.data["reason"], t.data.get("target")) for t in refused]
    assert found == [
        (history.ids["迟到"], "role", None),
        (history.ids["乙书记"], "scope", f"branch:{branch_a.id}"),
        (history.ids["乙书记"], "scope", f"branch:{branch_a.id}"),
        (history.ids["乙书记"], "missing", "branch:不存在的支部"),
    ]
    assert [t.actor_id for t in await traces_of(chat.services, "segments.viewed")] == []


async def test_an_admin_names_the_branch(chat: Chat) -> None:
    history = await SegmentHistory.built(chat)
    admin = await chat.bound("组织员", role=Role.ADMIN, branch="校党委组织部")
    assert "【校党委组织部·成员分组】" in await admin.say("/segments")  # their own
    replies = await admin.send(f"/segments {B}")
    text = chat.services.renderer.render(replies[0].text)  # type: ignore[arg-type]
    assert "▪ 经常迟到：1 人" in text and "名单：乙迟到" in text
    async with chat.services.sessions() as session:
        branch_b = await people.branch_by_name(session, B)
    assert branch_b is not None
    data = [b.data for row in replies[0].buttons for b in row]
    assert data == [
        f"/segment_notice often_late #{branch_b.id}",
        f"/segment_talk often_late #{branch_b.id}",
    ]
    talk = await admin.say(f"/segment_talk often_late #{branch_b.id}")
    assert "· 乙迟到：尚无谈话记录" in talk
    assert history.ids  # built


async def test_bad_input_gets_the_right_form(chat: Chat) -> None:
    history = await SegmentHistory.built(chat)
    secretary = history.users["书记"]
    for command, words in (
        ("/segment_notice", "格式不对"),
        ("/segment_notice 无此组", "没有“无此组”这个分组。现有分组：steady（稳定积极）"),
        ("/segment_notice steady", "“稳定积极”分组没有建议“发通知”这项操作"),
        ("/segment_study new_this_term 第三篇", "格式不对"),
        ("/segment_study new_this_term 999", "找不到"),
        ("/segment_talk 无此组", "现有分组"),
    ):
        reply = await secretary.say(command)
        assert words in reply, (command, reply)
        assert "Traceback" not in reply
    other = history.users["乙书记"]
    assert "“连续数月未参加组织生活”分组目前在" in await other.say("/segment_talk inactive")
    assert "目前没有可推送的学习资料" in await secretary.say("/segment_study 本学期新成员")
