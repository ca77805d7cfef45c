"""/excuse, /excuse_withdraw, /care_note and /care: bad input answered with the right form,
another branch's member or record refused and traced as not found, plain members refused
(traced), the words kept encrypted and out of the traces, the note asked for after a button."""

from sqlalchemy import func, select

from storage.care_models import CareExcusal, CareNote
from storage.enums import Role, Stage
from storage.models import Trace
from tests.support.chat import Chat, User
from tests.support.people import member_named
from tests.support.traces import traces_of

OTHER = "化学化工学院第二党支部"
NOTE = "电话联系，近期在外地实习，下月起在线参加"

BAD = [
    ("/excuse 张三 2026-13-01 2026-11-30 病假", "日期“2026-13-01”看不懂"),
    ("/excuse 张三 2026-11-30 2026-09-01 病假", "结束日期 2026-09-01 早于开始日期 2026-11-30"),
    ("/excuse 张三 2026-01-01 2027-06-30 病假", "一次最多登记 366 天"),
    ("/excuse 张三 2026-09-01 2026-09-30 度假", "“度假”不是假期类别：请写 病假、其他 之一"),
    ("/excuse 张三 2026-09-01 2026-09-30 其他", "登记“其他”须写明说明"),
    ("/excuse 张三 2026-09-01 2026-09-30 病假 " + "长" * 301, "说明请不超过 300 个字"),
    ("/excuse 张三 2026-09-01", "格式不对"),
    ("/excuse 王五 2026-09-01 2026-09-30 病假", "没有找到“王五”"),
    ("/excuse 积极分子 2026-09-01 2026-09-30 病假", "六个月规则只适用于正式党员和预备党员"),
    ("/excuse_withdraw", "格式不对"),
    ("/excuse_withdraw 第一条", "格式不对"),
    ("/care_note 张三", "格式不对"),
    ("/care_note 张三 表扬 表现很好", "“表扬”不是关怀记录的类别：请写 原因、谈话、结论 之一"),
    ("/care_note 张三 谈话 好", "记录内容请写 2 到 500 个字"),
    ("/care_note 王五 谈话 电话联系", "没有找到“王五”"),
    ("/care 王五", "没有找到“王五”"),
    ("/care 积极分子", "积极分子目前是入党积极分子"),
]


async def cast(chat: Chat) -> tuple[User, User, User]:
    """A's secretary and member 张三 (and an activist), B's secretary and member 李四."""
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    member = await chat.bound("张三")
    await chat.enrol("积极分子", stage=Stage.ACTIVIST)
    other = await chat.bound("乙书记", role=Role.SECRETARY, branch=OTHER)
    await chat.enrol("李四", branch=OTHER)
    return secretary, member, other


async def kept(chat: Chat) -> tuple[int, int]:
    async with chat.services.sessions() as session:
        excusals = await session.scalar(select(func.count(CareExcusal.id)))
        notes = await session.scalar(select(func.count(CareNote.id)))
    return int(excusals or 0), int(notes or 0)


async def test_bad_input_gets_the_right_form(chat: Chat) -> None:
    secretary, _, _ = await cast(chat)
    for command, words in BAD:
        reply = await secretary.say(command)
        assert words in reply, (command, reply)
        assert "Traceback" not in reply
    assert await kept(chat) == (0, 0)
    assert "目前没有登记的病假或其他假期" in await secretary.say("/excuse")
    assert "没有连续 3 个月及以上" in await secretary.say("/care")


async def test_excusals_recorded_listed_and_withdrawn(chat: Chat) -> None:
    secretary, _, _ = await cast(chat)
    done = await secretary.say("/excuse 张三 2026-09-01 2026-09-30 其他 随导师赴外地科研")
    assert "已登记：#1 张三：其他 2026-09-01 至 2026-09-30（说明：随导师赴外地科研）" in done
    overlap = await secretary.say("/excuse 张三 2026-09-15 2026-10-15 病假")
    assert "与已登记的假期重叠" in overlap and "#1 张三" in overlap
    assert "#2 张三：病假 2026-10-01" in await secretary.say(
        "登记病假 张三 2026-10-01 2026-10-15 病假"
    )
    listing = await secretary.say("/excuse")
    assert listing.index("#2 张三") < listing.index("#1 张三"), "newest first"
    assert "已撤销：#1" in await secretary.say("/excuse_withdraw 1")
    assert "登记 #1 已经撤销过了" in await secretary.say("/excuse_withdraw #1")
    assert "#1 张三" not in await secretary.say("/excuse")
    recorded = await traces_of(chat.services, "care.excused")
    assert [t.data for t in recorded] == [
        {"kind": "other", "since": "2026-09-01", "until": "2026-09-30"},
        {"kind": "sick", "since": "2026-10-01", "until": "2026-10-15"},
    ]
    assert [t.ref for t in await traces_of(chat.services, "care.excusal_withdrawn")] == [
        "care_excusal:1"
    ]
    viewed = [t.data for t in await traces_of(chat.services, "data.viewed")]
    assert viewed.count({"what": "care_excusals"}) == 2


async def test_a_note_asked_for_after_the_button_and_kept_encrypted(chat: Chat) -> None:
    secretary, member, _ = await cast(chat)
    zhang = await member_named(chat, "张三")
    asked = await secretary.say(callback=f"/care_note #{zhang.id} talk")
    assert "请发送张三的谈话内容" in asked
    assert "记录内容请写 2 到 500 个字" in await secretary.say("好")
    assert "已记录张三的谈话 #1" in await secretary.say(NOTE)
    assert "已记录张三的结论 #2" in await secretary.say(f"关怀记录 张三 结论 {NOTE}")
    async with chat.services.sessions() as session:
        sealed = (await session.scalars(select(CareNote.text_enc))).all()
        traced = (await session.scalars(select(Trace).where(Trace.kind == "care.noted"))).all()
    assert all(NOTE.encode() not in token for token in sealed)
    assert [t.data for t in traced] == [{"kind": "talk"}, {"kind": "conclusion"}]
    one = await secretary.say("/care 张三")
    assert f"#2 结论（2026-11-24）：{NOTE}" in one and one.index("#2 结论") < one.index("#1 谈话")
    exported = await member.send("/mydata")
    document = exported[0].file
    assert document is not None and NOTE in document.content.decode()


async def test_plain_members_are_refused_and_traced(chat: Chat) -> None:
    _, member, _ = await cast(chat)
    for command in ("/care", "/excuse", "/care_note 张三 谈话 电话联系", "/excuse_withdraw 1"):
        assert "仅限支部书记" in await member.say(command), command
    refused = await traces_of(chat.services, "access.refused")
    assert [(t.data["command"], t.data["reason"]) for t in refused] == [
        ("care", "role"),
        ("excuse", "role"),
        ("care_note", "role"),
        ("excuse_withdraw", "role"),
    ]


async def test_another_branchs_member_and_record_are_refused_as_not_found(chat: Chat) -> None:
    secretary, _, other = await cast(chat)
    li = await member_named(chat, "李四")
    assert "已登记" in await other.say("/excuse 李四 2026-09-01 2026-09-30 病假")
    for command in (
        "/care 李四",
        "/excuse 李四 2026-10-01 2026-10-31 病假",
        "/care_note 李四 谈话 电话联系",
        f"/care #{li.id}",
    ):
        assert "没有找到" in await secretary.say(command), command
    assert "找不到登记 #1" in await secretary.say("/excuse_withdraw 1")
    assert "找不到登记 #99" in await secretary.say("/excuse_withdraw 99")
    refused = [(t.data["reason"], t.ref) for t in await traces_of(chat.services, "access.refused")]
    assert refused == [
        ("scope", f"member:#{li.id}"),
        ("scope", f"member:#{li.id}"),
        ("scope", f"member:#{li.id}"),
        ("scope", f"member:#{li.id}"),
        ("scope", "care_excusal:1"),
        ("missing", "care_excusal:99"),
    ]
    assert await kept(chat) == (1, 0), "nothing recorded for B's member by A's secretary"
    assert "李四" in await other.say("/excuse"), "B's excusal is untouched"
