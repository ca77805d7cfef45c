"""The outbox sender end to end: real PTB over HTTP against the fake Bot API injecting faults.

Members are enrolled and notices created through the router (the chat harness on the bot's own
services); delivery, 收到 buttons and their edits go through Telegram as in service.
"""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.channels.outbox import Limits
from storage.enums import Role
from storage.models import OutboxMessage, PlatformAccount
from tests.support.chat import Chat, Clock, User
from tests.support.fake_telegram import FakeTelegram
from tests.support.telegram_rig import Rig, telegram_bot


@pytest.fixture
async def rig(fake: FakeTelegram, database_url: str) -> AsyncIterator[Rig]:
    async with telegram_bot(fake, database_url) as running:
        yield running


def notices_to(fake: FakeTelegram, user: User) -> list[str]:
    return [t for t in fake.texts_to(int(user.account_id)) if "📢 通知" in t]


async def enrol(rig: Rig, count: int) -> tuple[User, list[User]]:
    chat = Chat(rig.services, Clock(rig.services.router.clock()))
    secretary = await chat.bound("书记", role=Role.SECRETARY)
    return secretary, [await chat.bound(f"党员{i}") for i in range(count)]


async def outbox_rows(rig: Rig) -> list[OutboxMessage]:
    async with rig.services.sessions() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        return list((await session.scalars(query)).all())


async def settled(rig: Rig, patience: float = 20.0) -> list[OutboxMessage]:
    """The outbox rows once none is pending or in flight any more."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while loop.time() < deadline:
        found = await outbox_rows(rig)
        if all(r.status not in ("pending", "sending") for r in found):
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"outbox did not settle: {[(r.id, r.status) for r in found]}")


async def test_every_recipient_gets_one_copy_through_faults(fake: FakeTelegram, rig: Rig) -> None:
    secretary, people = await enrol(rig, 8)
    reachable, blocked = people[:-1], people[-1]
    fake.block(int(blocked.account_id))
    fake.fail_next("sendMessage", 429, retry_after=1)
    fake.fail_next("sendMessage", 500, times=2)
    fake.fail_next("sendMessage", 502)
    fake.drop_next("sendMessage", times=2)
    assert "通知 #1 已开始发送，共 8 人" in await secretary.say("/broadcast 周五下午主题党日")
    rows = await settled(rig)
    assert [len(notices_to(fake, p)) for p in reachable] == [1] * len(reachable)
    assert notices_to(fake, blocked) == []
    sent = Counter(r.chat_id for r in rows if r.status == "sent")
    assert sent == Counter(p.account_id for p in reachable)
    assert all(r.message_id for r in rows if r.status == "sent")
    assert fake.rejected_429 == 1
    blocked_row = next(r for r in rows if r.chat_id == blocked.account_id)
    assert blocked_row.status == "blocked" and "blocked" in (blocked_row.error or "")
    async with rig.services.sessions() as session:
        account = await session.scalar(
            select(PlatformAccount).where(PlatformAccount.external_id == blocked.account_id)
        )
    assert account is not None and account.blocked_at is not None
    status = await secretary.say("/notice_status 1")
    assert "送达：7/8" in status and "党员7（已屏蔽机器人）" in status


async def test_ack_button_edits_the_message_and_reminder_reaches_the_rest(
    fake: FakeTelegram, rig: Rig
) -> None:
    secretary, (first, second) = await enrol(rig, 2)
    await secretary.say("/broadcast 请于周五前提交思想汇报")
    rows = await settled(rig)
    message = next(c for c in fake.sent_to(int(first.account_id)) if c.method == "sendMessage")
    keyboard = message.params["reply_markup"]["inline_keyboard"]
    assert keyboard == [[{"text": "收到", "callback_data": "/ack 1"}]]
    # The outbox kept the platform's message id; the press comes on that message.
    sent_id = next(int(r.message_id or 0) for r in rows if r.chat_id == first.account_id)
    fake.push_callback(int(first.account_id), "/ack 1", message_id=sent_id)
    await fake.wait_until(lambda: fake.count("editMessageText", sent_only=True) == 1)
    edit = next(c for c in fake.sent if c.method == "editMessageText")
    assert edit.params["reply_markup"]["inline_keyboard"][0][0]["text"] == "✅ 已收到"
    assert "请于周五前提交思想汇报" in edit.params["text"]
    assert "已向 1 位未确认的成员" in await secretary.say("/notice_remind 1")
    await settled(rig)
    reminders = [t for t in fake.texts_to(int(second.account_id)) if "⏰" in t]
    assert len(reminders) == 1 and fake.texts_to(int(first.account_id))[-1].startswith("📢")


async def test_a_message_that_keeps_failing_is_kept_as_failed(
    fake: FakeTelegram, database_url: str
) -> None:
    limits = Limits(retry_base=0.02, max_attempts=3)
    async with telegram_bot(fake, database_url, limits=limits) as rig:
        secretary, (member,) = await enrol(rig, 1)
        fake.fail_next("sendMessage", 400, description="Bad Request: chat not found", times=3)
        await secretary.say("/broadcast 通知")
        rows = await settled(rig)
    assert [(r.status, r.attempts) for r in rows] == [("failed", 3)]
    assert "chat not found" in (rows[0].error or "").lower()
    assert notices_to(fake, member) == []
