"""The one-tap actions under /segments: a notice reaching exactly the group (never its branch
group, never naming the group to its readers), a study material pushed to the group once a
day however often pressed, the talk list with the last talk recorded as a care note."""

from sqlalchemy import select

from storage.models import Material, NoticeRecipient
from tests.support.chat import Chat
from tests.support.notices import queued
from tests.support.segments import EXPECTED_A, SegmentHistory
from tests.support.traces import traces_of

GROUP = "-100777"


async def test_a_notice_to_a_group_reaches_exactly_its_members(chat: Chat) -> None:
    history = await SegmentHistory.built(chat)
    secretary = history.users["书记"]
    await secretary.in_group(GROUP).send("/group_bind")
    asked = await secretary.say(callback="/segment_notice dues_behind")
    assert "给“党费欠缴”分组的 2 人发通知（仅私聊发送，收到的人看不到分组）" in asked
    assert "请发送通知内容" in asked
    await secretary.say("请本周五前到支部办公室交纳党费，谢谢。")
    preview = await secretary.say(callback="ack:yes")  # no "where" step: private chats only
    assert "对象：化学化工学院第一党支部·分组“党费欠缴”的成员（2 人）" in preview, preview
    assert "发到：私聊" in preview
    sent = await secretary.say(callback="confirm:send")
    assert "#1" in sent and "支部群" not in sent, sent

    async with chat.services.sessions() as session:
        rows = await session.scalars(select(NoticeRecipient.member_id))
        addressed = set(rows.all())
    assert history.names(addressed) == EXPECTED_A["dues_behind"] == {"缺席", "欠费"}
    copies = await queued(chat.services, "notice:1")
    assert history.names(c.member_id for c in copies if c.member_id) == {"缺席", "欠费"}
    assert all(c.chat_id != GROUP for c in copies), "never posted in the branch group"
    assert all("党费欠缴" not in c.text and "分组" not in c.text for c in copies)
    [created] = await traces_of(chat.services, "notice.created")
    assert created.data["audience"] == {
        "branches": [created.branch_id],
        "filter": "listed",
        "members": 2,
    }, "the trace counts the list and never names the group"
    assert "分组“党费欠缴”的成员" in await secretary.say("/notice_status 1")


async def test_a_material_goes_to_the_group_once_a_day(chat: Chat) -> None:
    history = await SegmentHistory.built(chat)
    secretary = history.users["书记"]
    added = await secretary.say("/material_add 新党员入党教育读本 | 入党誓词的内涵与践行")
    assert "新党员入党教育读本" in added, added
    async with chat.services.sessions() as session:
        material_id = (await session.scalars(select(Material.id))).one()
    offered = await secretary.send(callback="/segment_study new_this_term")
    data = [b.data for row in offered[0].buttons for b in row]
    assert data == [f"/segment_study new_this_term {material_id}"]
    done = await secretary.say(callback=data[0])
    assert "已把《新党员入党教育读本》推送给“本学期新成员”分组的 2 人（其中 2 人可以收到）" in done
    again = await secretary.say(callback=data[0])
    assert "今天已经把《新党员入党教育读本》推送给“本学期新成员”分组的每个人了" in again
    pushes = [c for c in await queued(chat.services, f"material:{material_id}")]
    assert history.names(c.member_id for c in pushes if c.member_id) == {"新人", "转入"}
    assert len(pushes) == 2, "pressed twice the same day, sent once"
    assert all("本学期新成员" not in c.text and "支部推荐" in c.text for c in pushes)
    traced = await traces_of(chat.services, "material.pushed")
    assert [t.actor_id for t in traced] == [history.ids["书记"]] * 2
    assert history.names(t.member_id for t in traced if t.member_id) == {"新人", "转入"}


async def test_the_talk_list_shows_the_last_talk_recorded(chat: Chat) -> None:
    history = await SegmentHistory.built(chat)
    secretary = history.users["书记"]
    replies = await secretary.send(callback="/segment_talk inactive")
    text = chat.services.renderer.render(replies[0].text)  # type: ignore[arg-type]
    assert "谈心谈话名单：“连续数月未参加组织生活”" in text and "· 缺席：尚无谈话记录" in text
    assert "仅供参考，不作评价" in text
    member_id = history.ids["缺席"]
    assert [b.data for row in replies[0].buttons for b in row] == [f"/care_note #{member_id} talk"]
    asked = await secretary.say(callback=f"/care_note #{member_id} talk")
    assert "请发送缺席的谈话内容" in asked
    assert "已记录" in await secretary.say("电话沟通，近期在外地实验，下月起按时参加。")
    assert "· 缺席：最近一次谈话 2026-11-24" in await secretary.say("/segment_talk inactive")
    viewed = await traces_of(chat.services, "segments.viewed")
    assert [t.data.get("segment") for t in viewed] == ["inactive", "inactive"]
    assert all(t.data["members"] == 1 and "缺席" not in str(t.data) for t in viewed)
