"""/record over HTTP through the fake Bot API: the member's annual record arrives as a PDF
document written at the edge, its caption the short answer, the viewer's watermark inside."""

from tests.support.chat import Chat, Clock
from tests.support.fake_telegram import FakeTelegram
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
