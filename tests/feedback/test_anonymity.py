"""Anonymous feedback cannot be tied to its sender in the database: every table is read (with
the key) before and after an anonymous item is sent, in one line and guided, and after its
box is opened, and nothing written since names the sender (member id, chat account, chat)
beside the item: no last-seen time, no flow state, no trace, no queued message."""

import pytest
from sqlalchemy import select

from storage import ballot_box, feedback
from storage.feedback_models import FeedbackBox, FeedbackItem
from storage.models import OutboxMessage, PlatformAccount, Trace
from tests.support.chat import Chat, User
from tests.support.dump import every_value
from tests.support.feedback import CONCERN, cast, receipt_in
from tests.support.people import member_named

SECOND = "食堂晚饭时间太早，实验做完常常赶不上，建议延长半小时。"


def changed(before: dict[str, list[str]], after: dict[str, list[str]]) -> dict[str, set[str]]:
    """Per table, the rows added or removed (a changed row is both)."""
    found = {}
    for table in set(before) | set(after):
        old, new = set(before.get(table, [])), set(after.get(table, []))
        if old != new:
            found[table] = old ^ new
    return found


async def ids_up_to_now(chat: Chat) -> tuple[int, int]:
    async with chat.services.sessions() as session:
        traces = (await session.scalars(select(Trace.id).order_by(Trace.id.desc()))).first()
        rows = await session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()))
        return traces or 0, rows.first() or 0


async def seen(chat: Chat, user: User) -> tuple[object, ...]:
    async with chat.services.sessions() as session:
        account = await session.scalar(
            select(PlatformAccount).where(PlatformAccount.external_id == user.account_id)
        )
        assert account is not None
        return account.last_seen_at, account.chat_id, account.member.last_platform_at


async def test_an_anonymous_item_leaves_nothing_of_its_sender(chat: Chat) -> None:
    secretary, _, member, _ = await cast(chat)
    sender = (await member_named(chat, "张三")).id
    chat.clock.advance(hours=2)  # long enough that any message would move last_seen_at
    last_trace, last_row = await ids_up_to_now(chat)
    was = await seen(chat, member)

    before = await every_value(chat.services)
    sent = await member.say(f"/feedback 匿名 {CONCERN}")
    code = receipt_in(sent)
    diff = changed(before, await every_value(chat.services))
    assert set(diff) == {"feedback_boxes", "processed_updates"}, diff
    assert all(member.account_id not in row for rows in diff.values() for row in rows)

    chat.clock.advance(minutes=30)
    before = await every_value(chat.services)
    await member.send("/feedback")
    await member.send(callback="/feedback 匿名")
    assert "已匿名投入意见箱" in await member.say(SECOND)
    diff = changed(before, await every_value(chat.services))
    assert set(diff) == {"feedback_boxes", "processed_updates"}, "the flow's state is gone too"
    before = await every_value(chat.services)
    assert "还没有开箱" in await member.say(f"/feedback_status {code}")
    assert set(changed(before, await every_value(chat.services))) == {"processed_updates"}
    assert await seen(chat, member) == was, "no last-seen time, chat or app was recorded"

    async with chat.services.sessions() as session:
        row = await session.get(FeedbackBox, (await member_named(chat, "书记")).branch_id)
        assert row is not None
        entries = ballot_box.opened(chat.services.box, row.items_enc)
    assert [set(e) for e in entries] == [{"text", "receipt", "on"}] * 2
    assert {e["on"] for e in entries} == {"2026-11-24"}, "the day only, no time"

    chat.clock.advance(days=1)
    assert "#2 匿名" in await secretary.say("/feedback_list")
    async with chat.services.sessions() as session:
        opened = (await session.scalars(select(FeedbackItem))).all()
        new_traces = (await session.scalars(select(Trace).where(Trace.id > last_trace))).all()
        queued = (
            await session.scalars(select(OutboxMessage).where(OutboxMessage.id > last_row))
        ).all()
    assert [(i.anonymous, i.sender_id) for i in opened] == [(True, None)] * 2
    assert {t.kind for t in new_traces} == {"feedback.submitted", "data.viewed"}
    submitted = [t for t in new_traces if t.kind == "feedback.submitted"]
    assert [(t.actor_id, t.member_id) for t in submitted] == [(None, None)] * 2
    assert all(sender not in (t.actor_id, t.member_id) for t in new_traces)
    assert all(r.member_id != sender and r.chat_id != member.account_id for r in queued)
    for rows in (await every_value(chat.services)).values():
        for text in rows:
            if CONCERN in text or SECOND in text or feedback.receipt_digest(code) in text:
                assert member.account_id not in text, text
    assert set(FeedbackItem.__table__.columns.keys()) == {
        *("id", "branch_id", "anonymous", "sender_id", "text_enc", "receipt", "received_on"),
        *("reminders", "closed_by", "closed_at"),
    }, "no time of sending"
    assert set(FeedbackBox.__table__.columns.keys()) == {"branch_id", "items_enc"}


async def test_the_checks_can_fail(chat: Chat) -> None:
    """Any other command at the same moment writes what /feedback may not."""
    _, _, member, _ = await cast(chat)
    chat.clock.advance(hours=2)
    was = await seen(chat, member)
    before = await every_value(chat.services)
    assert "【张三】" in await member.say("/me")
    assert await seen(chat, member) != was
    assert set(changed(before, await every_value(chat.services))) == {
        "platform_accounts",
        "processed_updates",
    }


async def test_the_box_keeps_no_order(chat: Chat, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each item goes in at a random place; drawn at the front every time, the box (and so
    the numbers items get when it is opened) runs against the order they were sent in."""
    places: list[int] = []

    def at_front(n: int) -> int:
        places.append(n)
        return 0

    monkeypatch.setattr(ballot_box.secrets, "randbelow", at_front)
    secretary, _, member, _ = await cast(chat)
    for text in (CONCERN, SECOND):
        assert "已匿名投入意见箱" in await member.say(f"/feedback 匿名 {text}")
    assert places == [1, 2]
    chat.clock.advance(days=1)
    await secretary.say("/feedback_list")
    async with chat.services.sessions() as session:
        opened = (await session.scalars(select(FeedbackItem).order_by(FeedbackItem.id))).all()
        texts = [feedback.text_of(chat.services.box, i) for i in opened]
    assert texts == [SECOND, CONCERN]
