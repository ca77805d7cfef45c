"""Meeting minutes: handed in step by step (topics, host, text or a document, photos) by the
secretary or the named recorder, corrected by a new version with the old kept, read by the
committee, reminded when missing; files encrypted at rest; refusals traced."""

from sqlalchemy import select, text

from handlers.core.incoming import Attachment
from handlers.minutes.reminders import remind_missing_minutes
from storage.enums import Role
from storage.minutes_models import MeetingPhoto, Minutes
from tests.support.chat import Chat
from tests.support.meetings import ONE_LINE
from tests.support.outbox import queued_to
from tests.support.people import member_id
from tests.support.traces import traces_of

DOCX = b"PK\x03\x04 minutes of the meeting"
PHOTO = b"\xff\xd8\xff photo of the meeting"
WORD = Attachment("document", "doc-1", "会议记录.docx", None, len(DOCX))
SNAP = Attachment("photo", "photo-1", None, "image/jpeg", len(PHOTO))


async def begun(chat: Chat) -> None:
    chat.clock.advance(days=1, hours=6)  # 2026-11-25 16:00, the meeting has begun


async def test_the_recorder_hands_in_minutes_with_a_document_and_photos(chat: Chat) -> None:
    chat.serve_files({"doc-1": DOCX, "photo-1": PHOTO})
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    recorder = await chat.bound("李四")
    await chat.enrol("张三")
    await secretary.say(ONE_LINE)
    assert "记录人：李四" in await secretary.say("/recorder 1 李四")
    assert "记录人" in (await queued_to(chat.services, await member_id(recorder), "minutes"))[0]
    assert "还没开始" in await recorder.say("/minutes 1")
    await begun(chat)
    assert "第 1 步" in await recorder.say("/minutes 1")
    assert "第 2 步" in await recorder.say("学习全会精神；讨论发展对象")
    assert "第 3 步" in await recorder.say("张三")
    spreadsheet = Attachment("document", "doc-9", "a.xlsx", None, 10)
    assert "不能作为会议记录" in await recorder.say("", attachments=(spreadsheet,))
    saved = await recorder.say("", attachments=(WORD,))
    assert "第 1 版，2 个议题" in saved and "第 4 步" in saved
    assert "已保存照片（共 1 张）" in await recorder.say("", attachments=(SNAP,))
    assert "照片 1 张" in await recorder.say("完成")
    replies = await secretary.send("/minutes_show 1")
    shown = chat.services.renderer.render(replies[0].text)  # type: ignore[arg-type]
    assert "主持人：张三　记录人：李四" in shown and "议题：学习全会精神、讨论发展对象" in shown
    assert "（记录见文件 会议记录.docx）" in shown
    assert replies[1].file is not None and replies[1].file.content == DOCX
    async with chat.services.sessions() as session:
        raw = (await session.execute(text("select document_enc from meeting_minutes"))).scalar()
        photo = (await session.execute(text("select content_enc from meeting_photos"))).scalar()
    assert b"minutes of the meeting" not in bytes(raw) and b"photo of" not in bytes(photo)
    (submitted,) = await traces_of(chat.services, "minutes.submitted")
    assert submitted.data == {"version": 1, "topics": 2, "document": True}


async def test_a_correction_is_a_new_version_and_the_old_one_stays(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    await secretary.say(ONE_LINE)
    await begun(chat)
    for answer in ("/minutes 1", "学习全会精神", "跳过"):
        await secretary.say(answer)
    assert "第 1 版" in await secretary.say("会议传达了全会精神，大家进行了讨论。")
    await secretary.say("完成")
    assert "本次为更正" in await secretary.say("/minutes 1")
    for answer in ("补记一位同学的发言", "学习全会精神", "跳过"):
        await secretary.say(answer)
    assert "第 2 版" in await secretary.say("会议传达了全会精神，王五、赵六发言。")
    await secretary.say("完成")
    latest = await secretary.say("/minutes_show 1")
    assert "第 2 版（共 2 版），更正：补记一位同学的发言" in latest and "王五、赵六发言" in latest
    first = await secretary.say("/minutes_show 1 1")
    assert "第 1 版（共 2 版）" in first and "大家进行了讨论" in first
    assert "没有这一版" in await secretary.say("/minutes_show 1 3")
    async with chat.services.sessions() as session:
        versions = (await session.scalars(select(Minutes.version))).all()
    assert sorted(versions) == [1, 2]


async def test_who_may_write_and_read_and_the_probes_traced(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    member = await chat.bound("党员")
    committee = await chat.bound("支委", role=Role.COMMITTEE)
    other = await chat.bound("二支书记", role=Role.SECRETARY, branch="化学化工学院第二党支部")
    await secretary.say(ONE_LINE)
    await begun(chat)
    assert "只有书记、组织员和会议 #1 的记录人" in await member.say("/minutes 1")
    assert "仅支委、书记和记录人" in await member.say("/minutes_show 1")
    assert "还没有会议记录" in await committee.say("/minutes_show 1")
    assert "没有找到会议“1”" in await other.say("/minutes 1")
    assert "没有找到会议“9”" in await secretary.say("/minutes 9")
    assert "用法" in await secretary.say("/minutes")
    refused = await traces_of(chat.services, "access.refused")
    assert [r.data["reason"] for r in refused] == ["scope", "scope", "scope", "missing"]
    assert "议题看不懂" in (await secretary.say("/minutes 1") and await secretary.say("；；"))
    async with chat.services.sessions() as session:
        assert (await session.scalars(select(MeetingPhoto))).all() == []


async def test_missing_minutes_remind_the_recorder_then_the_secretary(chat: Chat) -> None:
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    recorder = await chat.bound("李四")
    await secretary.say(ONE_LINE)  # 2026-11-25 14:30, 90 minutes
    await secretary.say("/recorder 1 李四")
    services = chat.services

    async def remind() -> int:
        async with services.sessions.begin() as session:
            return await remind_missing_minutes(
                session, services.box, services.router.options, chat.clock()
            )

    assert await remind() == 0  # not held yet
    chat.clock.advance(days=2)  # 2026-11-26: the day after
    assert await remind() == 1 and await remind() == 0
    (asked,) = await queued_to(services, await member_id(recorder), "minutes.reminded")
    assert "还没有会议记录" in asked
    chat.clock.advance(days=2)  # three days after the meeting
    assert await remind() == 1
    (pressed,) = await queued_to(services, await member_id(secretary), "minutes.reminded")
    assert "结束已三天" in pressed
    await recorder.say("/minutes 1")
    for answer in ("学习", "跳过", "记录正文", "完成"):
        await recorder.say(answer)
    chat.clock.advance(days=1)
    assert await remind() == 0
