"""/record over HTTP through the fake Bot API and the fake WeCom: the annual record arrives as
a PDF written at the edge (on Telegram a document captioned with the short answer, the
viewer's watermark inside; on WeCom an uploaded file beside the text)."""

from storage import traces
from storage.traces import Entry
from tests.support.chat import Chat, Clock
from tests.support.fake_telegram import FakeTelegram
from tests.support.people import member_named
from tests.support.platforms import Both, heard, person
from tests.support.record_year import built, pdf_text
from tests.support.telegram_rig import Rig


async def test_the_record_arrives_as_a_pdf_document(
    fake: FakeTelegram, rig: Rig, clock: Clock
) -> None:
    history = await built(Chat(rig.services, clock))
    secretary = int(history.users["乙书记"].account_id)
    fake.push_message(secretary, "/record 李四 2026")
    await fake.wait_until(lambda: any(c.method == "sendDocument" for c in fake.sent_to(secretary)))
    (sent,) = [c for c in fake.sent_to(secretary) if c.method == "sendDocument"]
    name, content = sent.files["document"]
    assert name == f"record-2026-{history.ids['李四']}.pdf" and content.startswith(b"%PDF")
    caption = sent.params["caption"]
    assert "李四 2026 年度党员日常管理记实" in caption and "应参加 2 次" in caption
    assert "完整记实见 PDF 文件" in caption  # the whole answer fits a caption
    words = pdf_text(content)
    assert f"导出人：乙书记（#{history.ids['乙书记']}）" in words and "合计210001" in words


async def test_on_wecom_the_pdf_is_uploaded_and_sent_as_a_file(both: Both, clock: Clock) -> None:
    member = await person(both, clock, "wecom", "张三")
    chat = Chat(both.services, clock)
    found = await member_named(chat, "张三")
    async with both.services.sessions.begin() as session:
        learned = [Entry("material.learned", member_id=found.id) for _ in range(3)]
        await traces.append_many(session, both.services.box, learned, clock())
    await member.say("/record")
    text = await heard(member, "张三 2026 年度党员日常管理记实")
    assert "资料 3 篇" in text
    wecom, userid = both.wecom, member.account_id
    await wecom.wait_until(lambda: any(b["msgtype"] == "file" for b in wecom.sent_to(userid)))
    (upload,) = [c for c in wecom.calls if c.path == "upload"]
    assert upload.body["type"] == "file" and upload.body["size"] > 10_000  # a whole PDF
