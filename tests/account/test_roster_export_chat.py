"""`/roster_export` (导出花名册): a secretary gets their own branch's roster as an Excel file,
watermarked and traced; committee members and members are refused (traced), another branch
is "not found" (traced); an admin exports any branch by name."""

import io
from datetime import timedelta

from openpyxl import load_workbook

from handlers.account.changes import Editor
from handlers.account.roster import import_roster
from storage import people
from storage.enums import Role, Stage
from tests.support.chat import Chat, User
from tests.support.people import admin_user, member_named
from tests.support.traces import traces_of

HOME = "化学化工学院第一党支部"
OTHER = "物理学院学生党支部"


def _sheet_rows(user: User) -> list[list[object]]:
    file = user.replies[0].file
    assert file is not None and file.name.endswith(".xlsx")
    return [list(r) for r in load_workbook(io.BytesIO(file.content)).worksheets[0].values]


async def test_a_secretary_gets_their_branch_roster_as_a_traced_watermarked_file(
    chat: Chat,
) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await chat.enrol("张三", phone="13800138000", stage=Stage.PROBATIONARY)
    await chat.enrol("外支部", branch=OTHER)
    reply = await secretary.say("导出花名册")
    assert f"{HOME} 花名册：2 人" in reply and "敏感" in reply
    rows = _sheet_rows(secretary)
    assert rows[0][:3] == ["姓名", "性别", "民族"]
    names = {r[0]: r for r in rows[1:]}
    assert set(names) == {"书记", "张三"}
    header = rows[0]
    assert names["张三"][header.index("手机号")] == "13800138000"
    assert names["张三"][header.index("人员类别")] == "预备党员"
    assert names["书记"][header.index("角色")] == "书记"
    (exported,) = await traces_of(chat.services, "data.exported")
    assert exported.data == {"what": "roster", "format": "xlsx", "branch": HOME, "rows": 2}
    file = secretary.replies[0].file
    assert file is not None
    book = load_workbook(io.BytesIO(file.content))
    assert f"trace={exported.id}" in book.properties.description
    assert book.properties.creator.startswith("书记 #")


async def test_committee_and_members_are_refused_and_traced(chat: Chat) -> None:
    committee = await chat.bound("支委", role=Role.COMMITTEE)
    member = await chat.bound("党员")
    assert "仅限支部书记" in await committee.say("/roster_export")
    assert "仅限支部书记" in await member.say("导出花名册")
    assert committee.replies[0].file is None and member.replies[0].file is None
    refusals = await traces_of(chat.services, "access.refused")
    assert [(r.data["command"], r.data["reason"]) for r in refusals] == [
        ("roster_export", "role"),
        ("roster_export", "role"),
    ]
    assert not await traces_of(chat.services, "data.exported")


async def test_a_secretary_cannot_export_another_branch_an_admin_can(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await chat.enrol("外支部", branch=OTHER)
    assert f"没有找到支部“{OTHER}”" in await secretary.say(f"/roster_export {OTHER}")
    assert "没有找到支部“不存在”" in await secretary.say("/roster_export 不存在")
    assert secretary.replies[0].file is None
    refusals = await traces_of(chat.services, "access.refused")
    assert [r.data["reason"] for r in refusals] == ["scope", "missing"]
    assert not await traces_of(chat.services, "data.exported")
    assert "2 人" not in await secretary.say(f"/roster_export {HOME}")
    assert [r[0] for r in _sheet_rows(secretary)[1:]] == ["书记"]
    admin = await admin_user(chat)
    assert f"{OTHER} 花名册：1 人" in await admin.say(f"/roster_export {OTHER}")
    assert [r[0] for r in _sheet_rows(admin)[1:]] == ["外支部"]
    assert "/roster_export 支部名称" in await admin.say("/roster_export")  # of no branch: names one


async def test_a_roster_update_shows_in_the_members_history(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await chat.enrol("张三")
    async with chat.services.sessions.begin() as session:
        member = await member_named(chat, "张三")
        member = await session.merge(member)
        member.staff_no = "0042"
    header = "姓名,学号/工号,民族,班级,兴趣,所在党支部"
    raw = f"{header}\n张三,0042,汉族,数学2302班,摄影、党史,{HOME}\n".encode()
    at = chat.clock()
    async with chat.services.sessions.begin() as session:
        branch = await people.branch_by_name(session, HOME)
        [done] = await import_roster(
            session, chat.services.box, branch, "r.csv", raw, at, at.date(), timedelta(days=30),
            editor=Editor(None, "operator"), update=True,
        )  # fmt: skip
    assert done.code is None and done.changed == ("class_name", "interests", "ethnicity")
    record = await secretary.say("/member 张三")
    assert "班级 无 → 数学2302班" in record and "兴趣 无 → 摄影、党史" in record
    history = record.split("变更记录：")[1]  # the record itself shows it to the secretary
    assert "更新了民族" in history and "汉族" not in history
