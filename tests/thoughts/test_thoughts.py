"""Thought reports (思想汇报): handing in by text and document, who may read them (and the
answer everyone else gets), the traces of every opening, marking read with a comment, the
lists, the due reminder on a frozen clock, the evidence figures and one run over HTTP."""

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event, select

from handlers.core.context import Options
from handlers.core.incoming import Attachment
from handlers.thoughts.reminders import remind_due
from handlers.thoughts.settings import ThoughtSettings
from storage import thoughts
from storage.enums import Role, Stage, StepKind
from storage.models import Member, OutboxMessage, Trace
from storage.pipeline_models import StageChange, ThoughtReport, ThoughtReview
from tests.support.chat import Chat, Clock, User
from tests.support.fake_telegram import FakeTelegram
from tests.support.notices import queued
from tests.support.pipeline import assign
from tests.support.telegram_rig import Rig, press, received, say
from tests.support.traces import traces_of

OTHER_BRANCH = "化学化工学院第二党支部"
TEXT = (
    "通过近期的理论学习，我对党的性质和宗旨有了更深刻的认识，"
    "决心以实际行动向党组织靠拢，请党组织考验。"
)
COMMENT = "认识比较深刻，建议多联系专业学习实际"
NOT_FOUND = "找不到思想汇报 #{id}，或您没有查看它的权限"
DOCX = Attachment(
    "document",
    "tg-file-42",
    "第四季度思想汇报.docx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    20_000,
)


@dataclass
class Cast:
    author: User
    author_id: int
    contact: User
    contact_id: int
    secretary: User
    secretary_id: int
    member: User  # same branch, not a contact
    committee: User
    admin: User
    stranger: User  # another branch's secretary
    former: User  # a contact whose assignment ended


async def cast(chat: Chat) -> Cast:
    secretary_id, secretary = await chat.enrolled("王书记", role=Role.SECRETARY)
    author_id, author = await chat.enrolled("张积极", stage=Stage.ACTIVIST)
    contact_id, contact = await chat.enrolled("李联系")
    _, member = await chat.enrolled("赵党员")
    _, committee = await chat.enrolled("钱支委", role=Role.COMMITTEE)
    _, admin = await chat.enrolled("孙组织员", role=Role.ADMIN)
    _, stranger = await chat.enrolled("周书记", role=Role.SECRETARY, branch=OTHER_BRANCH)
    former_id, former = await chat.enrolled("吴前任")
    await assign(chat, author_id, contact_id)
    await assign(chat, author_id, former_id, ended=date(2026, 11, 20))
    return Cast(
        author, author_id, contact, contact_id, secretary, secretary_id,
        member, committee, admin, stranger, former,
    )  # fmt: skip


async def outbox_json(chat: Chat) -> str:
    async with chat.services.sessions() as session:
        rows = (await session.scalars(select(OutboxMessage))).all()
    return json.dumps([r.payload for r in rows], ensure_ascii=False)


async def stored(chat: Chat) -> tuple[list[ThoughtReport], list[ThoughtReview]]:
    async with chat.services.sessions() as session:
        reports = list((await session.scalars(select(ThoughtReport))).unique().all())
        reviews = list((await session.scalars(select(ThoughtReview))).unique().all())
    return reports, reviews


# Handing in


async def test_hand_in_by_text_tells_contacts_and_secretary(chat: Chat) -> None:
    c = await cast(chat)
    reply = await c.author.say(f"/thought {TEXT}")
    assert "思想汇报 #1 已提交（文字）" in reply and "2 人" in reply, reply
    notes = [q for q in await queued(chat.services, "thought:1") if q.kind == "thought.new"]
    assert len(notes) == 2 and {q.member_id for q in notes} == {c.contact_id, c.secretary_id}
    assert all(q.text == "📄 张积极（入党积极分子）交来思想汇报 #1" for q in notes)
    assert all(q.buttons == ["/thought_show 1"] for q in notes)
    [trace] = await traces_of(chat.services, "thought.submitted")
    assert (trace.member_id, trace.actor_id, trace.ref) == (c.author_id, c.author_id, "thought:1")
    assert trace.data == {"stage": "activist", "document": False}


async def test_text_is_encrypted_at_rest_and_never_queued(chat: Chat) -> None:
    c = await cast(chat)
    await c.author.say(f"/thought {TEXT}")
    await c.contact.say(f"/thought_read 1 {COMMENT}")
    [report], [review] = await stored(chat)
    for secret, column in ((TEXT, report.body_enc), (COMMENT, review.comment_enc)):
        assert column is not None
        assert secret.encode() not in column and secret[:8].encode() not in column
        assert chat.services.box.decrypt(column) == secret
    payloads = await outbox_json(chat)
    assert "thought_show 1" in payloads  # the notes are there, the words are not
    assert TEXT[:8] not in payloads and COMMENT[:8] not in payloads
    async with chat.services.sessions() as session:
        data = json.dumps([t.data for t in (await session.scalars(select(Trace))).all()])
    assert TEXT[:8] not in data and COMMENT[:8] not in data


async def test_guided_hand_in_and_documents(chat: Chat) -> None:
    c = await cast(chat)
    assert "请发送您的思想汇报" in await c.author.say("/thought")
    photo = Attachment("photo", "tg-photo-1")
    assert "不能作为思想汇报" in await c.author.say(attachments=(photo,))
    archive = Attachment("document", "tg-zip", "汇报.zip", "application/zip")
    assert "不能作为思想汇报" in await c.author.say(attachments=(archive,))
    assert "太短" in await c.author.say("我的汇报")
    reply = await c.author.say(attachments=(DOCX,))
    assert "思想汇报 #1 已提交（文件）" in reply, reply
    # With /thought as the caption, a document is handed in at once, with its caption as a note.
    reply = await c.author.say("/thought 附上第二份", attachments=(DOCX,))
    assert "#2 已提交（文件）" in reply
    [first, _] = await traces_of(chat.services, "thought.submitted")
    assert first.data == {"stage": "activist", "document": True}
    [report, _], _ = await stored(chat)
    assert report.attachment_enc is not None and b"tg-file-42" not in report.attachment_enc
    assert "tg-file-42" not in await outbox_json(chat)

    replies = await c.contact.send("/thought_show 2")
    text = chat.services.renderer.render(replies[0].text)  # type: ignore[arg-type]
    assert "以文件提交：第四季度思想汇报.docx" in text and "附言：附上第二份" in text
    forwarded = replies[-1].forward
    assert forwarded is not None and forwarded.file_id == "tg-file-42"
    assert [b.data for row in replies[-1].buttons for b in row] == ["/thought_read 2"]


async def test_a_document_from_another_platform_is_named_not_forwarded(chat: Chat) -> None:
    _, secretary = await chat.enrolled("王书记", role=Role.SECRETARY, platform="wecom")
    _, author = await chat.enrolled("张积极", stage=Stage.CANDIDATE)
    await author.say("/thought", attachments=(DOCX,))
    replies = await secretary.send("/thought_show 1")
    assert all(r.forward is None for r in replies)
    text = chat.services.renderer.render(replies[0].text)  # type: ignore[arg-type]
    assert "文件在Telegram中" in text and "发展对象" in text


async def test_only_the_pipeline_stages_hand_in(chat: Chat) -> None:
    _, full = await chat.enrolled("正式党员甲")
    _, applicant = await chat.enrolled("申请人乙", stage=Stage.APPLICANT)
    _, probationary = await chat.enrolled("预备党员丙", stage=Stage.PROBATIONARY)
    reply = await full.say(f"/thought {TEXT}")
    assert "由入党积极分子、发展对象和预备党员提交；您目前是正式党员" in reply, reply
    assert "您目前是入党申请人" in await applicant.say("/thought")
    assert "您目前是入党申请人" in await applicant.say("思想汇报", attachments=(DOCX,))
    assert "已提交" in await probationary.say(f"思想汇报 {TEXT}")
    reports, _ = await stored(chat)
    assert [r.stage for r in reports] == ["probationary"]


async def test_bad_input_for_each_command(chat: Chat) -> None:
    c = await cast(chat)
    assert "太短了（4 字），请至少写 20 字" in await c.author.say("/thought 我的汇报")
    assert "太长" in await c.author.say("/thought " + "字" * 4090)
    await c.author.say(f"/thought {TEXT}")
    for command in ("/thought_show", "/thought_show abc", "/thought_read", "/thought_read 第一"):
        assert "用法" in await c.contact.say(command), command
    assert NOT_FOUND.format(id=99) in await c.contact.say("/thought_show 99")
    assert NOT_FOUND.format(id=99) in await c.contact.say("/thought_read 99 好")
    assert "评语太长（501 字）" in await c.contact.say("/thought_read 1 " + "好" * 501)
    assert "不能批阅自己的" in await c.author.say("/thought_read 1")
    assert "用法" in await c.secretary.say("/thoughts 2026-01-01")
    assert "找不到“无此人”" in await c.secretary.say("/thoughts 无此人")
    # typed in a group: answered in the author's private chat, never in the group
    assert "已提交" in await c.author.in_group("-100777").privately(f"/thought {TEXT}")
    _, reviews = await stored(chat)
    assert reviews == []


# Who may read


async def test_permission_matrix(chat: Chat) -> None:
    c = await cast(chat)
    await c.author.say(f"/thought {TEXT}")
    for user in (c.author, c.contact, c.secretary):
        reply = await user.say("/thought_show 1")
        assert TEXT in reply and "张积极（入党积极分子）" in reply, reply
    missing = await c.member.say("/thought_show 2")
    for user in (c.member, c.committee, c.admin, c.stranger, c.former):
        reply = await user.say("/thought_show 1")
        assert TEXT not in reply
        assert reply == missing.replace("#2", "#1"), reply  # the same answer as a missing id
        assert NOT_FOUND.format(id=1) in await user.say("/thought_read 1 好")
        assert "找不到“张积极”" in await user.say("/thoughts 张积极")
    views = await traces_of(chat.services, "thought.viewed")
    assert [(t.member_id, t.actor_id, t.ref) for t in views] == [
        (c.author_id, c.contact_id, "thought:1"),
        (c.author_id, c.secretary_id, "thought:1"),
    ]
    _, reviews = await stored(chat)
    assert reviews == []


async def test_the_author_has_no_mark_button_a_reader_has(chat: Chat) -> None:
    c = await cast(chat)
    await c.author.say(f"/thought {TEXT}")
    [own] = await c.author.send("/thought_show 1")
    assert own.buttons == ()
    [theirs] = await c.contact.send("查看思想汇报 1")
    assert [b.data for row in theirs.buttons for b in row] == ["/thought_read 1"]


# Marking read


async def test_marking_read_with_and_without_comment(chat: Chat) -> None:
    c = await cast(chat)
    await c.author.say(f"/thought {TEXT}")
    reply = await c.contact.say(f"/thought_read 1 {COMMENT}")
    assert "已批阅 张积极 的思想汇报 #1，评语已记录" in reply, reply
    assert "已于" in await c.contact.say("/thought_read 1 再写一次")  # once only, kindly
    notes = [q for q in await queued(chat.services, "thought:1") if q.kind == "thought.read"]
    assert [(q.member_id, q.text, q.buttons) for q in notes] == [
        (c.author_id, "✅ 李联系 已阅您的思想汇报 #1", ["/thought_show 1"])
    ]

    # The button asks for a comment; 不写评语 skips it.
    asked = await c.secretary.say(callback="/thought_read 1")
    assert "请发送评语" in asked and "不写评语" in asked
    reply = await c.secretary.say(callback="skip")
    assert "已批阅 张积极 的思想汇报 #1。" in reply, reply

    shown = await c.author.say("/thought_show 1")
    assert f"李联系 2026-11-24 10:00 已阅：{COMMENT}" in shown, shown
    assert "王书记 2026-11-24 10:00 已阅（未写评语）" in shown
    reads = await traces_of(chat.services, "thought.read")
    assert [(t.actor_id, t.data) for t in reads] == [
        (c.contact_id, {"commented": True}),
        (c.secretary_id, {"commented": False}),
    ]
    assert all(t.member_id == c.author_id for t in reads)


async def test_a_comment_typed_in_the_flow(chat: Chat) -> None:
    c = await cast(chat)
    await c.author.say(f"/thought {TEXT}")
    assert "请发送评语" in await c.secretary.say("批阅思想汇报 1")
    assert "评语太长" in await c.secretary.say("长" * 501)
    assert "评语已记录" in await c.secretary.say("很好，继续保持。")
    _, [review] = await stored(chat)
    assert chat.services.box.decrypt(review.comment_enc) == "很好，继续保持。"


# Lists


async def test_lists_for_each_role(chat: Chat) -> None:
    c = await cast(chat)
    assert "还没有提交过思想汇报" in await c.author.say("/thoughts")
    assert "目前没有待您批阅" in await c.contact.say("/thoughts")
    await c.author.say(f"/thought {TEXT}")
    chat.clock.advance(days=1)
    await c.author.say(f"/thought {TEXT}")
    await c.contact.say("/thought_read 1")
    await c.contact.say(callback="skip")

    own = await c.author.say("我的思想汇报")
    assert "您的思想汇报（共 2 份）" in own
    assert "#1 2026-11-24 入党积极分子 · 已阅：李联系" in own
    assert "#2 2026-11-25 入党积极分子 · 尚未批阅" in own
    assert "下一份应在 2027-02-25 前提交" in own

    waiting = await c.contact.say("/thoughts")
    assert "待您批阅的思想汇报共 1 份" in waiting and "#2 张积极 2026-11-25" in waiting
    assert "#1 张积极" not in waiting
    [listing] = await c.secretary.send("/thoughts")
    assert [b.data for row in listing.buttons for b in row] == [
        "/thought_show 1",
        "/thought_show 2",
    ]

    person = await c.secretary.say("/thoughts 张积极")
    assert "张积极（入党积极分子）的思想汇报（共 2 份）" in person and "已阅：李联系" in person
    [viewed] = await traces_of(chat.services, "data.viewed")
    assert (viewed.member_id, viewed.actor_id) == (c.author_id, c.secretary_id)
    assert viewed.data == {"what": "thought_reports"}
    assert "共 2 份" in await c.author.say("/thoughts 张积极")  # one's own: not traced
    assert len(await traces_of(chat.services, "data.viewed")) == 1

    assert "没有需要提交或批阅的" in await c.member.say("/thoughts")
    assert "没有需要提交或批阅的" in await c.admin.say("/thoughts")


# The reminder


async def run_reminders(chat: Chat, when: datetime, options: Options | None = None) -> int:
    async with chat.services.sessions() as session, session.begin():
        return await remind_due(
            session, chat.services.box, options or chat.services.router.options, when
        )


def shanghai(day: date, hour: int = 9) -> datetime:
    """09:00 in Shanghai on that day, as the daily job would run."""
    return datetime(day.year, day.month, day.day, hour - 8, tzinfo=UTC)


async def test_remind_due_on_a_frozen_clock(chat: Chat) -> None:
    # Added on 2026-11-24: due 2027-02-24. Entered the stage on 2026-09-01: due 2026-12-01.
    chat.clock.now = shanghai(date(2026, 11, 30))
    month_end_id, _ = await chat.enrolled("月末积极分子", stage=Stage.ACTIVIST)  # due 2027-02-28
    chat.clock.now = shanghai(date(2026, 11, 24))
    fresh_id, fresh = await chat.enrolled("新积极分子", stage=Stage.ACTIVIST)
    dated_id, _ = await chat.enrolled("老发展对象", stage=Stage.CANDIDATE)
    await chat.enrolled("正式党员")
    async with chat.services.sessions() as session, session.begin():
        session.add(
            StageChange(
                member_id=dated_id,
                kind=StepKind.DATED,
                stage=Stage.CANDIDATE,
                on=date(2026, 9, 1),
                recorded_at=chat.clock(),
            )
        )
    assert await run_reminders(chat, shanghai(date(2026, 11, 30))) == 0
    assert await run_reminders(chat, shanghai(date(2026, 12, 1))) == 1
    assert await run_reminders(chat, shanghai(date(2026, 12, 1), 18)) == 0  # twice a day
    assert await run_reminders(chat, shanghai(date(2027, 1, 15))) == 0  # overdue, told already
    [row] = await queued(chat.services)
    assert row.member_id == dated_id and row.buttons == ["/thought"]
    assert "应在今天（2026-12-01）提交" in row.text

    # A report on 2026-12-10 moves the fresh activist's date to 2027-03-10.
    chat.clock.now = shanghai(date(2026, 12, 10))
    await fresh.say(f"/thought {TEXT}")
    assert await run_reminders(chat, shanghai(date(2027, 2, 27))) == 0
    assert await run_reminders(chat, shanghai(date(2027, 2, 28))) == 1
    assert await run_reminders(chat, shanghai(date(2027, 3, 11))) == 1
    overdue = [q for q in await queued(chat.services) if q.member_id == fresh_id]
    assert "应在 2027-03-10 提交，现已逾期" in overdue[-1].text
    reminded = await traces_of(chat.services, "thought.reminded")
    assert [(t.member_id, t.data, t.ref) for t in reminded] == [
        (dated_id, {"due": "2026-12-01"}, f"thought:due:2026-12-01:m{dated_id}"),
        (month_end_id, {"due": "2027-02-28"}, f"thought:due:2027-02-28:m{month_end_id}"),
        (fresh_id, {"due": "2027-03-10"}, f"thought:due:2027-03-10:m{fresh_id}"),
    ]
    async with chat.services.sessions() as session:
        keys = (await session.scalars(select(OutboxMessage.key).order_by(OutboxMessage.id))).all()
    assert [k for k in keys if k.startswith("thought:due:")] == [
        f"thought:due:2026-12-01:m{dated_id}",
        f"thought:due:2027-02-28:m{month_end_id}",
        f"thought:due:2027-03-10:m{fresh_id}",
    ]
    off = Options().having(ThoughtSettings.model_construct(thought_report_months=0))
    assert await run_reminders(chat, shanghai(date(2028, 1, 1)), off) == 0


# The evidence table's figures


async def test_report_stats_in_a_constant_number_of_queries(chat: Chat) -> None:
    c = await cast(chat)
    _, other = await chat.enrolled("另一位", stage=Stage.PROBATIONARY)
    await c.author.say(f"/thought {TEXT}")
    chat.clock.advance(days=2)
    await c.author.say(f"/thought {TEXT}")
    await other.say(f"/thought {TEXT}")
    await c.contact.say("/thought_read 1 好")
    await c.secretary.say("/thought_read 1 好")
    async with chat.services.sessions() as session:
        ids = list((await session.scalars(select(Member.id).order_by(Member.id))).all())
        statements: list[str] = []

        def count(*args: object) -> None:
            statements.append(str(args[2]))

        engine = chat.services.engine.sync_engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            one = await thoughts.report_stats(session, [c.author_id])
            queries_for_one = len(statements)
            found = await thoughts.report_stats(session, ids)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert await thoughts.report_stats(session, []) == {}
    assert len(statements) == 2 * queries_for_one == 2
    later = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    assert one[c.author_id] == thoughts.ReportStats(count=2, last_at=later, read=1)
    assert found[c.author_id] == one[c.author_id]
    assert found[c.contact_id] == thoughts.ReportStats(0, None, 0)
    assert sum(s.count for s in found.values()) == 3


# Over HTTP


async def test_report_read_and_answered_over_http(
    fake: FakeTelegram, rig: Rig, clock: Clock
) -> None:
    clock.now = datetime.now(UTC)  # the fake API stamps updates with the real time
    chat = Chat(rig.services, clock)
    await chat.enrolled("王书记", role=Role.SECRETARY)
    author_id, author = await chat.enrolled("张积极", stage=Stage.ACTIVIST)
    contact_id, contact = await chat.enrolled("李联系")
    await assign(chat, author_id, contact_id)

    assert "思想汇报 #1 已提交" in await say(fake, author, f"/thought {TEXT}")
    note = await received(fake, contact, "交来思想汇报")
    assert note == "📄 张积极（入党积极分子）交来思想汇报 #1"
    opened = await press(fake, contact, "/thought_show 1")
    assert TEXT in opened and "批阅：\n尚无" in opened
    assert "请发送评语" in await press(fake, contact, "/thought_read 1")
    assert "评语已记录" in await say(fake, contact, COMMENT)
    assert await received(fake, author, "已阅您的思想汇报") == "✅ 李联系 已阅您的思想汇报 #1"
    shown = await press(fake, author, "/thought_show 1")
    assert f"已阅：{COMMENT}" in shown


async def test_an_incident_log_never_holds_the_report_text(
    chat: Chat, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug while handing in a report: the user gets an incident number, and the log names
    the command and the length, not what was written."""
    import handlers.thoughts.submit as submit

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(submit, "hand_in", broken)
    writer = await chat.bound("积极分子丙", stage=Stage.ACTIVIST)
    secret = "我的思想汇报里写着很私密的内容，不应出现在日志里。"
    reply = await writer.say(f"/thought {secret}")
    assert "已记录（编号" in reply
    assert secret not in caplog.text and "/thought (" in caplog.text


async def test_a_report_that_starts_with_a_command_word_is_the_report(chat: Chat) -> None:
    """收到 is also the notices' acknowledgement word: in the middle of a guided hand-in, a
    sentence that starts with it is the report; alone it would still be the command."""
    c = await cast(chat)
    assert "请发送您的思想汇报" in await c.author.say("/thought")
    reply = await c.author.say("收到，" + TEXT)
    assert "思想汇报 #1 已提交" in reply, reply
    assert len(await traces_of(chat.services, "thought.submitted")) == 1
