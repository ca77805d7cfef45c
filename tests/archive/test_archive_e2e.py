"""The archive over HTTP through the fake Bot API: a secretary adds an award and sends its
scan as a document captioned /archive_file (fetched by getFile, kept encrypted), opens it
again, and the member finds both in /mydata."""

import hashlib
import json

from storage.enums import Role
from tests.support.chat import Chat, Clock, User
from tests.support.fake_telegram import FakeTelegram
from tests.support.telegram_rig import Rig, say

SCAN = b"%PDF-1.4 " + bytes(range(256)) * 8


async def document_to(fake: FakeTelegram, user: User, count: int) -> tuple[str, bytes]:
    """The `count`-th document the bot sent to the user: (file name, bytes)."""
    chat_id = int(user.account_id)

    def documents() -> list[tuple[str, bytes]]:
        calls = [c for c in fake.sent_to(chat_id) if c.method == "sendDocument"]
        return [c.files["document"] for c in calls]

    await fake.wait_until(lambda: len(documents()) >= count)
    return documents()[count - 1]


async def test_an_award_with_its_scan_reaches_the_members_mydata(
    fake: FakeTelegram, rig: Rig, clock: Clock
) -> None:
    chat = Chat(rig.services, clock)
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    member = await chat.bound("张三")
    award = "/archive_add 张三 奖励 2024-05-01 校级 优秀共产党员 依据：校党委〔2024〕5号"
    assert "已为 张三 添加档案条目 #1" in await say(fake, secretary, award)
    chat_id = int(secretary.account_id)
    before = len(fake.texts_to(chat_id))
    fake.push_document(chat_id, "证书.pdf", caption="/archive_file 张三 1", content=SCAN)
    await fake.wait_until(lambda: len(fake.texts_to(chat_id)) > before)
    assert "已为 张三 保存附件 f1：证书.pdf［条目 #1］" in fake.texts_to(chat_id)[-1]
    assert fake.count("getFile") == 1

    fake.push_message(chat_id, "/archive_get f1")
    name, content = await document_to(fake, secretary, 1)
    assert name == "证书.pdf" and content == SCAN

    fake.push_message(int(member.account_id), "/mydata")
    _, exported = await document_to(fake, member, 1)
    data = json.loads(exported)
    (entry,) = data["archive"]["entries"]
    assert entry["kind"] == "award" and entry["level"] == "校级" and entry["until"] is None
    (scan,) = data["archive"]["files"]
    assert scan["sha256"] == hashlib.sha256(SCAN).hexdigest() and scan["entry"] == entry["id"]
    assert any(t["kind"] == "archive.file_added" for t in data["traces"])
