"""The outbox's parts: payload encoding, pacing, backoff, the table's state moves, leadership."""

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app.services import Services
from bot.channels.outbox import (
    Blocked,
    Failed,
    Limits,
    OutboxSender,
    Pacer,
    Throttled,
    backoff,
)
from handlers.core.incoming import Attachment
from handlers.core.messages import Button, FileOut, Msg, Reply
from handlers.core.payload import reply_in, reply_out
from storage import outbox
from storage.db import create_engine, session_factory
from storage.leader import Leadership, LeaseLost
from storage.models import OutboxMessage
from storage.outbox import Envelope, Status
from storage.signals import AfterCommit
from tests.support.chat import Clock
from tests.support.outbox import FAST, ScriptedTransport, drain, sender_for

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def test_payload_round_trip_keeps_nested_messages_dates_buttons_and_forward() -> None:
    reply = Reply(
        Msg(
            "notice.message",
            id=3,
            text=Msg("notice.see_file", name="a.pdf"),
            at=NOW,
            day=date(2026, 12, 1),
            names=[Msg("stage.full"), "张三"],
            ratio=0.5,
            flag=None,
        ),
        ((Button(Msg("notice.ack_button"), "/ack 3"),),),
        forward=Attachment("document", "F1", "a.pdf", "application/pdf"),
    )
    assert reply_in(reply_out(reply)) == reply


@given(st.recursive(st.text() | st.integers() | st.booleans(), st.lists, max_leaves=8))
def test_payload_round_trip_of_plain_values(value: object) -> None:
    reply = Reply(Msg("k", value=value))
    assert reply_in(reply_out(reply)) == reply


def test_images_and_files_are_not_queued() -> None:
    with pytest.raises(TypeError):
        reply_out(Reply(Msg("k"), image=b"png"))
    with pytest.raises(TypeError):
        reply_out(Reply(Msg("k"), file=FileOut("a.txt", b"x")))
    with pytest.raises(TypeError):
        reply_out(Reply(Msg("k", when=object())))


def test_pacer_spaces_sends_per_chat_and_per_group() -> None:
    pacer = Pacer(Limits(per_second=10, chat_per_second=1, group_per_minute=20))
    pacer.took("a", False, 100.0)
    assert pacer.chat_ready_at("a") == pytest.approx(101.0)
    assert pacer.chat_ready_at("b") == 0.0
    pacer.took("-100", True, 100.2)
    assert pacer.chat_ready_at("-100") == pytest.approx(103.2)
    pacer.hold("-100", 150.0)  # the group's minute is full elsewhere
    pacer.took("-100", True, 101.0)
    assert pacer.chat_ready_at("-100") == 150.0
    assert pacer.waiting_chats(102.0) == ["-100"]


def test_backoff_grows_to_a_cap_with_jitter() -> None:
    waits = [backoff(n, 5.0).total_seconds() for n in range(1, 10)]
    assert 4 <= waits[0] <= 6 and 12 <= waits[1] <= 18
    assert max(waits) <= 1800 * 1.2
    assert sum(waits[:7]) >= 3600 * 0.8  # eight attempts span about an hour


def envelope(key: str, chat: str = "1", priority: int = 5) -> Envelope:
    return Envelope(
        key=key,
        platform="telegram",
        chat_id=chat,
        payload=reply_out(Reply(Msg("k"))),
        kind="test",
        priority=priority,
    )


async def test_enqueue_is_idempotent_by_key_and_due_is_by_priority(services: Services) -> None:
    async with services.sessions.begin() as session:
        await outbox.enqueue(session, [envelope("a"), envelope("b", priority=1)], NOW)
        assert AfterCommit.WAKE_SENDER in AfterCommit.raised(session.info)
    async with services.sessions.begin() as session:
        await outbox.enqueue(session, [envelope("a"), envelope("c")], NOW)
    async with services.sessions() as session:
        due = await outbox.due(session, NOW, ["telegram"], 10)
        assert [r.key for r in due] == ["b", "a", "c"]
        assert await outbox.due(session, NOW, ["wecom"], 10) == []
        assert await outbox.due(session, NOW - timedelta(seconds=1), ["telegram"], 10) == []


async def test_a_waiting_chat_is_skipped_on_its_own_platform_only(services: Services) -> None:
    on_wecom = replace(envelope("w", chat="42"), platform="wecom")
    async with services.sessions.begin() as session:
        await outbox.enqueue(session, [envelope("t", chat="42"), on_wecom, envelope("o")], NOW)
    async with services.sessions() as session:
        both = ["telegram", "wecom"]
        due = await outbox.due(session, NOW, both, 10, {"telegram": ["42"]})
        assert sorted(r.key for r in due) == ["o", "w"]


async def test_a_row_is_claimed_once_and_recovered_after_a_crash(services: Services) -> None:
    async with services.sessions.begin() as session:
        await outbox.enqueue(session, [envelope("a")], NOW)
    async with services.sessions() as session:
        first = (await outbox.due(session, NOW, ["telegram"], 1))[0]
        second = (await outbox.due(session, NOW, ["telegram"], 1))[0]
    async with services.sessions.begin() as session:
        assert await outbox.start_sending(session, first)
    async with services.sessions.begin() as session:
        assert not await outbox.start_sending(session, second)
    # The process dies here; the next sender finds the row in flight and sends it again.
    async with services.sessions.begin() as session:
        assert await outbox.recover_in_flight(session) == 1
    async with services.sessions() as session:
        row = await session.scalar(select(OutboxMessage))
    assert row is not None and (row.status, row.resent) == (Status.PENDING, 1)


async def test_sender_retries_throttles_and_gives_up(services: Services, clock: Clock) -> None:
    async with services.sessions.begin() as session:
        await outbox.enqueue(
            session, [envelope("a", "1"), envelope("b", "2"), envelope("c", "3")], clock()
        )
    transport = ScriptedTransport(
        {"1": [Throttled(0.01), Failed("502")], "2": [Blocked("blocked")]}
    )
    await drain(services, transport, clock)
    async with services.sessions() as session:
        rows = {r.key: r for r in (await session.scalars(select(OutboxMessage))).all()}
    assert {k: r.status for k, r in rows.items()} == {"a": "sent", "b": "blocked", "c": "sent"}
    assert rows["a"].attempts == 1  # the 502 counted, the 429 did not
    assert sorted(transport.calls) == ["1", "1", "1", "2", "3"]


async def test_sender_gives_up_after_the_allowed_attempts(services: Services, clock: Clock) -> None:
    async with services.sessions.begin() as session:
        await outbox.enqueue(session, [envelope("a", "1")], clock())
    transport = ScriptedTransport({"1": [Failed("500")] * 20})
    await drain(services, transport, clock)
    async with services.sessions() as session:
        row = await session.scalar(select(OutboxMessage))
    assert row is not None and (row.status, row.attempts, row.error) == ("failed", 8, "500")
    assert transport.calls == ["1"] * 8


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_only_one_process_leads_on_postgresql(database_url: str) -> None:
    engines = [create_engine(database_url), create_engine(database_url)]
    first, second = (Leadership(e, "outbox", renew=0.1) for e in engines)
    try:
        assert await first.try_acquire()
        assert not await second.try_acquire()
        assert await first.check()
        await first.release()
        assert await second.try_acquire()
        # A leader whose database session dies loses the role at once: the other takes over
        # without waiting for the lease to run out.
        async with engines[1].connect() as conn:
            holder = await conn.scalar(text("SELECT backend_pid FROM leases"))
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": holder})
        assert await first.try_acquire()
        async with AsyncSession(engines[1]) as session, session.begin():
            with pytest.raises(LeaseLost):  # nothing the former leader writes commits
                await second.fence(session)
        for _ in range(100):  # and its heartbeat finds the role gone
            if not second.held:
                break
            await asyncio.sleep(0.05)
        assert not second.held and not await second.check()
    finally:
        await first.release()
        await second.release()
        for engine in engines:
            await engine.dispose()


async def test_throttled_row_waits_retry_after_and_keeps_its_attempts(
    services: Services, clock: Clock
) -> None:
    async with services.sessions.begin() as session:
        await outbox.enqueue(session, [envelope("a", "1")], clock())
    start = clock()
    transport = ScriptedTransport({"1": [Throttled(30)]})
    sender = sender_for(services, transport, clock)
    sender.start()
    for _ in range(100):
        if transport.calls:
            break
        await asyncio.sleep(0.01)
    await sender.stop()
    async with services.sessions() as session:
        row = await session.scalar(select(OutboxMessage))
    assert row is not None and (row.status, row.attempts) == ("pending", 0)
    assert row.due_at == start + timedelta(seconds=30)


async def test_a_chat_that_must_wait_does_not_hold_up_the_others(
    services: Services, clock: Clock
) -> None:
    async with services.sessions.begin() as session:
        rows = [envelope("a1", "A"), envelope("a2", "A"), envelope("a3", "A"), envelope("b", "B")]
        await outbox.enqueue(session, rows, clock())
    transport = ScriptedTransport({})
    limits = Limits(per_second=1000, chat_per_second=20)  # one message per 50 ms to a chat
    await drain(services, transport, clock, limits)
    assert transport.calls == ["A", "B", "A", "A"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_processes_on_one_database_send_each_row_once(
    services: Services, clock: Clock
) -> None:
    async with services.sessions.begin() as session:
        await outbox.enqueue(session, [envelope(f"k{i}", str(i)) for i in range(40)], clock())
    # A second "process": its own engine and sessions on the same database.
    other_engine = create_engine(services.settings.database_url)
    other_sessions = session_factory(other_engine)
    transports = [ScriptedTransport({}), ScriptedTransport({})]
    senders = [
        OutboxSender(
            sessions,
            services.box,
            Leadership(engine, "outbox-shared"),
            {"telegram": transport},
            FAST,
            clock,
        )
        for sessions, engine, transport in zip(
            (services.sessions, other_sessions),
            (services.engine, other_engine),
            transports,
            strict=True,
        )
    ]
    try:
        for sender in senders:
            sender.start()
        for _ in range(300):
            async with services.sessions() as session:
                if not await outbox.unsent(session, ["telegram"]):
                    break
            await asyncio.sleep(0.02)
    finally:
        for sender in senders:
            await sender.stop()
        await other_engine.dispose()
    calls = [len(t.calls) for t in transports]
    assert sorted(calls) == [0, 40]  # one leader sent everything, the other nothing
    assert sorted(transports[calls.index(40)].calls) == sorted(str(i) for i in range(40))
