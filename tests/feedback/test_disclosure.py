"""党务公开: /open's figures against a hand count of a built year (meetings held by kind, the
dues in total by the branch the payer belonged to that day, people by stage, the feedback box
with the minimum for anonymous items), no one's dues on their own; decisions published and
withdrawn; bad input and refusals; /open answered in the branch group."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.dues.record import NewPayment, record_payments
from storage import people
from storage.enums import MeetingStatus, Role, Stage
from storage.models import Meeting, Member
from storage.roster import move_membership
from tests.support.chat import Chat, User
from tests.support.evaluation import joined_on
from tests.support.feedback import ANSWER, CONCERN, OTHER
from tests.support.group_posts import group_texts
from tests.support.traces import traces_of

ZONE = ZoneInfo("Asia/Shanghai")
A = "化学化工学院第一党支部"
GROUP = "-100600"
DECISION = "同意接收一名发展对象为中共预备党员"
# (branch, kind, day, status): A's year has held 2 主题党日, 1 支部党员大会, 1 支委会 and (a
# school-wide one) 1 党课; a cancelled 党课, a 党小组会 still to come, last year's 主题党日, B's
# 支部党员大会 and A's next 支部党员大会 do not count.
MEETINGS = {
    "A-theme-3": (A, "theme_day", date(2026, 3, 15), MeetingStatus.FINISHED),
    "A-theme-9": (A, "theme_day", date(2026, 9, 15), MeetingStatus.FINISHED),
    "A-assembly": (A, "assembly", date(2026, 6, 20), MeetingStatus.FINISHED),
    "A-committee": (A, "committee", date(2026, 10, 10), MeetingStatus.SCHEDULED),
    "school-lecture": (None, "lecture", date(2026, 4, 1), MeetingStatus.FINISHED),
    "A-lecture-cancelled": (A, "lecture", date(2026, 5, 5), MeetingStatus.CANCELLED),
    "A-group-ahead": (A, "group", date(2026, 12, 5), MeetingStatus.SCHEDULED),
    "A-assembly-ahead": (A, "assembly", date(2026, 12, 10), MeetingStatus.SCHEDULED),
    "A-theme-last-year": (A, "theme_day", date(2025, 12, 15), MeetingStatus.FINISHED),
    "B-assembly": (OTHER, "assembly", date(2026, 6, 21), MeetingStatus.FINISHED),
}
# (payer, month, fen, paid on): A collects 6000 + 2000 + 1500 + 500 = 10000 fen in 2026 (转入's
# May payment was made in B, before the move; 李四's December one in 2025; 王五 is B's).
PAYMENTS = [
    *(("张三", date(2026, m, 1), 2000, date(2026, 3, 15)) for m in (1, 2, 3)),
    ("李四", date(2025, 12, 1), 2000, date(2025, 12, 20)),
    ("李四", date(2026, 1, 1), 2000, date(2026, 1, 10)),
    ("转入", date(2026, 5, 1), 1500, date(2026, 5, 10)),
    ("转入", date(2026, 8, 1), 1500, date(2026, 8, 10)),
    ("王五", date(2026, 2, 1), 3000, date(2026, 2, 10)),
    ("赵六", date(2026, 9, 1), 500, date(2026, 9, 30)),
]
BEGUN = datetime(2025, 1, 1, tzinfo=UTC)


async def built_year(chat: Chat) -> tuple[dict[str, User], dict[str, int]]:
    """The year above; returns the users (A's 书记 and 张三, B's 乙书记) and the meetings'
    ids by label."""
    users = {name: await chat.bound(name, role=Role.SECRETARY) for name in ("书记",)}
    users["张三"] = await chat.bound("张三")
    users["乙书记"] = await chat.bound("乙书记", role=Role.SECRETARY, branch=OTHER)
    for name, stage in (("李四", Stage.FULL), ("赵六", Stage.PROBATIONARY)):
        await chat.enrol(name, stage=stage)
    for name, stage in (("积极甲", Stage.ACTIVIST), ("积极乙", Stage.ACTIVIST)):
        await chat.enrol(name, stage=stage)
    await chat.enrol("申请人", stage=Stage.APPLICANT)
    await chat.enrol("王五", branch=OTHER)
    await chat.enrol("转入", branch=OTHER)
    await chat.enrol("离开")
    assert "已登记：离开 转出" in await users["书记"].say(
        "转出 离开 某某公司党委 JX2026-9 2026-11-24"
    )
    services = chat.services
    async with services.sessions.begin() as session:
        members = {m.name: m for m in (await session.scalars(select(Member))).all()}
        for member in members.values():
            await joined_on(session, member.id, BEGUN)
        target = await people.branch_by_name(session, A)
        at = datetime(2026, 7, 1, tzinfo=ZONE)
        await move_membership(session, members["转入"], target, at, "transferred", "transferred")
        paid = [NewPayment(members[who], m, fen, on) for who, m, fen, on in PAYMENTS]
        await record_payments(session, services.box, paid, source="chat", actor_id=None, now=BEGUN)
        ids = {label: await _meeting(session, *spec) for label, spec in MEETINGS.items()}
    return users, ids


async def _meeting(
    session: AsyncSession, branch: str | None, kind: str, day: date, status: str
) -> int:
    found = await people.branch_by_name(session, branch) if branch else None
    meeting = Meeting(
        branch_id=found.id if found else None,
        kind=kind,
        title=f"{day:%m}月{kind}",
        starts_at=datetime(day.year, day.month, day.day, 7, tzinfo=UTC),
        status=status,
        checkin_secret="JBSWY3DPEHPK3PXP",
        created_at=BEGUN,
    )
    session.add(meeting)
    await session.flush()
    return meeting.id


def section(reply: str, title: str) -> list[str]:
    """The lines of one part of /open's answer (up to the next blank line)."""
    lines = reply.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    end = next((i for i in range(start, len(lines)) if not lines[i]), len(lines))
    return lines[start:end]


async def test_the_year_against_a_hand_count(chat: Chat) -> None:
    users, _ = await built_year(chat)
    zhang = users["张三"]
    reply = await zhang.say("/open")
    assert reply.startswith(f"📢 党务公开 · {A} · 2026 年（截至 2026-11-24）")
    assert section(reply, "召开的会议") == [
        "召开的会议：",
        "· 支部党员大会 1 次",
        "· 支委会 1 次",
        "· 党课 1 次",
        "· 主题党日 2 次",
    ]
    assert section(reply, "党费") == ["党费：本年共收缴 100.00 元（只公开总额）"]
    assert section(reply, "党员和发展对象") == [
        "党员和发展对象（截至 2026-11-24）：",
        "· 入党申请人 1 人",
        "· 入党积极分子 2 人",
        "· 预备党员 1 人",
        "· 正式党员 4 人",
    ]
    assert section(reply, "支部党员大会决议") == ["支部党员大会决议：", "· 无"]
    for payer in ("张三", "李四", "转入", "赵六"):
        assert payer not in reply, "nobody's dues on their own"
    assert reply.count("元") == 1
    theirs = await users["乙书记"].say("/open")
    assert section(theirs, "党费") == ["党费：本年共收缴 45.00 元（只公开总额）"]
    assert section(theirs, "召开的会议")[1:] == ["· 支部党员大会 1 次", "· 党课 1 次"]
    last_year = await zhang.say("党务公开 2025年")
    assert f"{A} · 2025 年\n" in last_year
    assert section(last_year, "召开的会议")[1:] == ["· 主题党日 1 次"]
    assert section(last_year, "党费") == ["党费：本年共收缴 20.00 元（只公开总额）"]


async def test_decisions_published_and_withdrawn(chat: Chat) -> None:
    users, ids = await built_year(chat)
    secretary, zhang = users["书记"], users["张三"]
    assembly = ids["A-assembly"]
    reply = await secretary.say(f"/open_decision {assembly} {DECISION}")
    assert f"已公开决议 #1（会议 #{assembly}）：{DECISION}" in reply
    assert "#2" in await secretary.say(f"公开决议 #{assembly} 选举产生新一届支部委员会")
    shown = section(await zhang.say("/open"), "支部党员大会决议")
    assert shown == [
        "支部党员大会决议：",
        f"#1 2026-06-20「06月assembly」：{DECISION}",
        "#2 2026-06-20「06月assembly」：选举产生新一届支部委员会",
    ]
    assert "已撤回公开的决议 #1" in await secretary.say("/open_decision_remove 1")
    assert "决议 #1 已经撤回过了" in await secretary.say("撤回公开 1")
    assert section(await zhang.say("/open"), "支部党员大会决议")[1:] == [
        "#2 2026-06-20「06月assembly」：选举产生新一届支部委员会"
    ]
    assert section(await zhang.say("/open 2025"), "支部党员大会决议")[1:] == ["· 无"]
    traced = [
        (t.kind, t.ref, t.data)
        for t in await traces_of(chat.services, "disclosure.published")
        + await traces_of(chat.services, "disclosure.withdrawn")
    ]
    assert traced == [
        ("disclosure.published", "decision:1", {"meeting": assembly}),
        ("disclosure.published", "decision:2", {"meeting": assembly}),
        ("disclosure.withdrawn", "decision:1", {"meeting": assembly}),
    ]


async def test_bad_input_and_refusals(chat: Chat) -> None:
    users, ids = await built_year(chat)
    secretary, zhang, other = users["书记"], users["张三"], users["乙书记"]
    bad = [
        ("/open 明年", "“明年”不是年份：请写 2000 到 2026 之间的年份"),
        ("/open 2027", "不是年份"),
        ("/open 1999", "不是年份"),
        ("/open_decision", "格式不对"),
        (f"/open_decision {ids['A-assembly']}", "格式不对"),
        ("/open_decision 第一次 同意接收", "找不到会议“第一次”"),
        (f"/open_decision {ids['A-theme-9']} {DECISION}", "是主题党日：公开的决议须是支部党员大会"),
        (f"/open_decision {ids['school-lecture']} {DECISION}", "公开的决议须是支部党员大会"),
        (f"/open_decision {ids['A-assembly-ahead']} {DECISION}", "还没有召开"),
        (f"/open_decision {ids['A-assembly']} 同意", "决议内容请写一行，4 到 500 个字"),
        (f"/open_decision {ids['A-assembly']} {'长' * 501}", "决议内容请写一行"),
        ("/open_decision_remove", "格式不对"),
        ("/open_decision_remove 第一", "格式不对"),
        ("/open_decision_remove 9", "找不到公开的决议 #9"),
    ]
    for command, words in bad:
        assert words in await secretary.say(command), command
    assert "#1" in await secretary.say(f"/open_decision {ids['A-assembly']} {DECISION}")
    assert "仅限支部书记和组织员使用" in await zhang.say(f"/open_decision 3 {DECISION}")
    assert "找不到会议" in await other.say(f"/open_decision {ids['A-assembly']} {DECISION}")
    assert "找不到会议" in await other.say(f"/open_decision 999 {DECISION}")
    assert "找不到公开的决议 #1" in await other.say("/open_decision_remove 1")
    refused = [(t.data or {}) for t in await traces_of(chat.services, "access.refused")]
    assert [(r["command"], r["reason"], r.get("target")) for r in refused] == [
        ("open_decision_remove", "missing", "decision:9"),
        ("open_decision", "role", None),
        ("open_decision", "scope", f"meeting:{ids['A-assembly']}"),
        ("open_decision", "missing", "meeting:999"),
        ("open_decision_remove", "scope", "decision:1"),
    ]
    assert "还没有绑定" in await chat.user().say("/open")


async def test_anonymous_items_count_from_the_minimum(chat: Chat) -> None:
    users, _ = await built_year(chat)
    secretary, zhang = users["书记"], users["张三"]
    assert "#1" in await zhang.say(f"/feedback {CONCERN}")
    assert "#2" in await secretary.say(f"/feedback {CONCERN}")
    assert "已答复" in await secretary.say(f"/feedback_answer 1 {ANSWER}")
    for _ in range(4):
        assert "已匿名" in await zhang.say(f"/feedback 匿名 {CONCERN}")
    chat.clock.advance(days=1)
    assert "#6 匿名" in await secretary.say("/feedback_list")
    assert section(await zhang.say("/open"), "意见箱") == [
        "意见箱：本年收到 2 条，已答复 1 条（匿名意见少于 5 条，未计入）"
    ]
    assert "已匿名" in await zhang.say(f"/feedback 匿名 {CONCERN}")
    chat.clock.advance(days=1)
    assert "#7 匿名" in await secretary.say("/feedback_list")
    assert "已答复" in await secretary.say(f"/feedback_answer 7 {ANSWER}")
    assert section(await zhang.say("/open"), "意见箱") == ["意见箱：本年收到 7 条，已答复 2 条"]


async def test_open_in_the_branch_group_is_answered_there(chat: Chat) -> None:
    users, _ = await built_year(chat)
    await users["书记"].in_group(GROUP).send("/group_bind")
    assert await users["张三"].in_group(GROUP).send("/open@branchbot") == []
    (posted,) = [t for t in await group_texts(chat.services, GROUP) if "党务公开" in t]
    assert f"📢 党务公开 · {A} · 2026 年" in posted and "100.00 元" in posted
    assert await users["乙书记"].in_group(GROUP).send("党务公开") == []
    assert len([t for t in await group_texts(chat.services, GROUP) if "党务公开" in t]) == 1
    assert await users["乙书记"].in_group(GROUP).send("/open") == []
    posts = [t for t in await group_texts(chat.services, GROUP) if "党务公开" in t]
    assert len(posts) == 2 and posts[1] == posted, "the group's branch, whoever asks"
