"""The member archive (党员档案) through the router: adding entries (at once and step by step),
scans kept encrypted and fetched back, withdrawals, who may see and change what (refusals
traced), and the archive in /member, /me and /mydata."""

import hashlib
import json

from sqlalchemy import select, text

from handlers.core.incoming import Attachment
from storage.enums import Role
from storage.models import Trace
from storage.roster_models import ArchiveEntry, ArchiveFile
from tests.support.chat import Chat

OTHER = "化学化工学院第二党支部"
AWARD = "/archive_add 张三 奖励 2024-05-01 校级 优秀共产党员 依据：校党委〔2024〕5号"
SCAN = "%PDF-1.4 certificate of 张三 ".encode() + bytes(range(256)) * 4
PDF = Attachment("document", "doc-1", "证书.pdf", "application/pdf", len(SCAN))


async def traces_of(chat: Chat, kind: str) -> list[Trace]:
    async with chat.services.sessions() as session:
        query = select(Trace).where(Trace.kind == kind).order_by(Trace.id)
        return list((await session.scalars(query)).all())


async def rows(chat: Chat, model: type) -> list:  # type: ignore[type-arg]
    async with chat.services.sessions() as session:
        return list((await session.scalars(select(model).order_by(model.id))).all())


async def test_a_secretary_adds_an_award_and_it_is_shown_and_traced(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    member_id, _ = await chat.enrol("张三")
    assert "已为 张三 添加档案条目" in await secretary.say(AWARD)
    study = "/archive_add 张三 学习 2018-09-01 2022-06-30 某某大学 化学 学士"
    assert "学习经历 2018-09-01 至 2022-06-30 某某大学 化学 学士" in await secretary.say(study)
    shown = await secretary.say("/archive 张三")
    assert "奖励 2024-05-01 校级 优秀共产党员（依据：校党委〔2024〕5号）" in shown
    (added, _) = await traces_of(chat, "archive.added")
    assert added.member_id == member_id and added.data["kind"] == "award"
    assert "优秀共产党员" not in json.dumps(added.data, ensure_ascii=False)
    (viewed,) = [t for t in await traces_of(chat, "data.viewed") if t.data["what"] == "archive"]
    assert viewed.member_id == member_id


async def test_the_guided_flow_asks_step_by_step(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await chat.enrol("张三")
    assert "为谁" in await secretary.say("/archive_add")
    assert "哪一类" in await secretary.say("张三")
    assert "日期 级别 处分名称" in await secretary.say("处分", callback=None)
    assert "内容不完整" in await secretary.say("2024-05-01 院级 警告")  # no basis yet
    assert "已为 张三 添加档案条目" in await secretary.say("2024-05-01 院级 警告 依据：院发3号")
    (entry,) = await rows(chat, ArchiveEntry)
    assert entry.kind == "punishment"


async def test_bad_input_shows_the_form_and_changes_nothing(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await chat.enrol("张三")
    cases = [
        ("/archive_add 张三 奖惩 2024-05-01 校级 优秀 依据：文", "没有“奖惩”这一类"),
        ("/archive_add 张三 奖励 2024-13-01 校级 优秀 依据：文", "不是日期"),
        ("/archive_add 张三 奖励 2099-01-01 校级 优秀 依据：文", "不晚于今天"),
        ("/archive_add 张三 奖励 2024-05-01 宇宙级 优秀 依据：文", "级别“宇宙级”看不懂"),
        ("/archive_add 张三 奖励 2024-05-01 校级 优秀", "内容不完整"),
        ("/archive_add 张三 学习 2022-09-01 2018-06-30 某大学", "早于开始日期"),
        ("/archive_add 张三 工作 2022-09-01", "内容不完整"),
        ("/archive_add 无此人 奖励 2024-05-01 校级 优秀 依据：文", "没有找到"),
        ("/archive_remove 张三", "/archive_remove 编号 原因"),
        ("/archive_get abc", "/archive_get 附件编号"),
        ("/archive_file", "/archive_file 姓名"),
    ]
    for line, expected in cases:
        assert expected in await secretary.say(line), line
        await secretary.say("/cancel")
    assert await rows(chat, ArchiveEntry) == []
    assert await traces_of(chat, "archive.added") == []


async def test_a_scan_is_kept_encrypted_and_fetched_back(chat: Chat) -> None:
    chat.serve_files({"doc-1": SCAN})
    secretary_id, secretary = await chat.enrolled("书记", role=Role.SECRETARY)
    member_id, member = await chat.enrolled("张三")
    await secretary.say(AWARD)
    (entry,) = await rows(chat, ArchiveEntry)
    reply = await secretary.say(f"/archive_file 张三 {entry.id}", attachments=(PDF,))
    assert "已为 张三 保存附件 f1：证书.pdf" in reply
    (kept,) = await rows(chat, ArchiveFile)
    assert kept.sha256 == hashlib.sha256(SCAN).hexdigest() and kept.size == len(SCAN)
    async with chat.services.sessions() as session:
        raw = (await session.execute(text("select content_enc from archive_files"))).scalar()
        body = (await session.execute(text("select body_enc from archive_entries"))).scalar()
    assert b"certificate" not in bytes(raw) and "优秀".encode() not in bytes(body)
    (added,) = await traces_of(chat, "archive.file_added")
    assert added.data["sha256"] == kept.sha256 and added.data["entry"] == entry.id
    await secretary.say("/archive_get f1")
    assert secretary.replies[0].file is not None and secretary.replies[0].file.content == SCAN
    await member.say("/archive_get f1")  # one's own: not traced as a view
    assert member.replies[0].file is not None
    views = [t for t in await traces_of(chat, "data.viewed") if t.data["what"] == "archive_file"]
    assert [(v.actor_id, v.member_id) for v in views] == [(secretary_id, member_id)]


async def test_the_file_can_follow_the_command_and_must_be_a_scan(chat: Chat) -> None:
    chat.serve_files({"doc-1": SCAN})
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await chat.enrol("张三")
    assert "证书扫描件" in await secretary.say("/archive_file 张三")
    assert "请发送图片或 PDF" in await secretary.say("这是文字")
    word = Attachment("document", "doc-2", "a.docx", "application/msword", 10)
    assert "只能是图片或 PDF" in await secretary.say("", attachments=(word,))
    assert "没能取到" in await secretary.say(
        "", attachments=(Attachment("photo", "missing", None, "image/jpeg", 10),)
    )
    assert "保存附件" in await secretary.say("", attachments=(PDF,))
    big = Attachment("document", "doc-3", "big.pdf", "application/pdf", 50 * 1024 * 1024)
    assert "文件太大" in await secretary.say("/archive_file 张三", attachments=(big,))
    assert len(await rows(chat, ArchiveFile)) == 1


async def test_a_wrong_entry_is_withdrawn_with_its_scans_and_stays_on_file(chat: Chat) -> None:
    chat.serve_files({"doc-1": SCAN})
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await chat.enrol("张三")
    await secretary.say(AWARD)
    (entry,) = await rows(chat, ArchiveEntry)
    await secretary.say(f"/archive_file 张三 {entry.id}", attachments=(PDF,))
    assert "原因" in await secretary.say(f"/archive_remove {entry.id}")
    assert "连同附件 1 份" in await secretary.say("日期录错")
    (withdrawn,) = await traces_of(chat, "archive.withdrawn")
    assert withdrawn.data["reason"] == "日期录错" and withdrawn.data["files"] == [1]
    (entry,) = await rows(chat, ArchiveEntry)
    assert entry.removed_at is not None
    assert "暂无档案条目" in await secretary.say("/archive 张三")
    assert "找不到档案条目" in await secretary.say(f"/archive_remove {entry.id} 再撤一次")
    shown = await secretary.say("/member 张三")
    assert "撤回档案内容" in shown and "添加档案条目" in shown


async def test_who_may_see_and_change_and_every_refusal_is_traced(chat: Chat) -> None:
    chat.serve_files({"doc-1": SCAN})
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    committee = await chat.bound("支委", role=Role.COMMITTEE)
    _, member = await chat.enrolled("张三")
    await chat.enrol("李四")
    await secretary.say(AWARD)
    await secretary.say("/archive_file 张三", attachments=(PDF,))
    seen = await committee.say("/archive 张三")
    assert "优秀共产党员" in seen and "共 1 份（仅本人、书记和组织员可查看）" in seen
    assert "找不到附件 f1" in await committee.say("/archive_get f1")
    assert "仅限支部书记" in await committee.say(AWARD)
    assert "优秀共产党员" in await member.say("/archive")
    assert "没有找到" in await member.say("/archive 李四")
    assert "仅限支部书记" in await member.say("/archive_remove 1 错了")
    other = await chat.bound("外书记", role=Role.SECRETARY, branch=OTHER)
    assert "没有找到" in await other.say("/archive 张三")
    assert "找不到附件" in await other.say("/archive_get f1")
    assert "找不到档案条目" in await other.say("/archive_remove 1 错了")
    refusals = [
        (r.data["command"], r.data["reason"]) for r in await traces_of(chat, "access.refused")
    ]
    assert refusals == [
        ("archive_get", "scope"),
        ("archive_add", "role"),
        ("archive", "scope"),
        ("archive_remove", "role"),
        ("archive", "scope"),
        ("archive_get", "scope"),
        ("archive_remove", "scope"),
    ]
    admin = await chat.bound("组织员", role=Role.ADMIN)
    assert "优秀共产党员" in await admin.say("/archive 张三")


async def test_member_me_and_mydata_show_the_archive(chat: Chat) -> None:
    chat.serve_files({"doc-1": SCAN})
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    committee = await chat.bound("支委", role=Role.COMMITTEE)
    _, member = await chat.enrolled("张三")
    await secretary.say(AWARD)
    await secretary.say("/archive_file 张三 1", attachments=(PDF,))
    await secretary.say("/member_set 张三 出生日期 2003-05-17")
    await secretary.say("/member_set 张三 年级 2023")
    record = await secretary.say("/member 张三")
    assert "出生日期：2003-05-17" in record and "年级：2023级" in record
    assert "优秀共产党员" in record and "附件 1 份" in record
    masked = await committee.say("/member 张三")
    assert "2003-05-17" not in masked and "仅书记和组织员可见" in masked
    assert "优秀共产党员" in await member.say("/me")
    await member.say("/mydata")
    file = member.replies[0].file
    assert file is not None
    data = json.loads(file.content)
    assert data["profile"]["birth_date"] == "2003-05-17" and data["profile"]["grade"] == "2023级"
    (entry,) = data["archive"]["entries"]
    assert entry["title"] == "优秀共产党员" and entry["basis"] == "校党委〔2024〕5号"
    (scan,) = data["archive"]["files"]
    assert scan["sha256"] == hashlib.sha256(SCAN).hexdigest() and "content" not in scan
