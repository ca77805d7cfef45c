"""The trace chain: appends in the change's transaction; verify names the first bad row."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, update

from bot.app.services import Services
from storage import chain, traces
from storage.models import Trace, TraceHead

AT = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


async def _write(services: Services, n: int) -> None:
    async with services.sessions.begin() as session:
        for i in range(n):
            await traces.append(
                session, services.box, kind="data.viewed", at=AT, member_id=i, data={"i": i}
            )


async def _verify(services: Services) -> chain.VerifyResult:
    async with services.sessions() as session:
        return await chain.verify(session, services.box, batch=3)


async def test_intact_chain_verifies(services: Services) -> None:
    await _write(services, 10)
    result = await _verify(services)
    assert result.ok and result.checked == 10


async def test_rolled_back_change_leaves_no_trace(services: Services) -> None:
    with pytest.raises(RuntimeError):
        async with services.sessions.begin() as session:
            await traces.append(session, services.box, kind="data.viewed", at=AT)
            raise RuntimeError("the change failed")
    result = await _verify(services)
    assert result.ok and result.checked == 0


@pytest.mark.parametrize(
    ("tamper", "bad_id", "reason"),
    [
        (update(Trace).where(Trace.id == 4).values(data={"i": 99}), 4, "altered"),
        (update(Trace).where(Trace.id == 6).values(kind="member.bound"), 6, "altered"),
        (delete(Trace).where(Trace.id == 5), 5, "missing"),
        (delete(Trace).where(Trace.id >= 9), 9, "truncated"),
        (update(TraceHead).values(last_id=7), 7, "head_altered"),
    ],
)
async def test_tampering_is_detected(
    services: Services, tamper: object, bad_id: int, reason: str
) -> None:
    await _write(services, 10)
    async with services.sessions.begin() as session:
        await session.execute(tamper)  # type: ignore[call-overload]
    result = await _verify(services)
    assert not result.ok
    assert (result.bad_id, result.reason) == (bad_id, reason)


async def test_inserted_row_is_detected(services: Services) -> None:
    await _write(services, 5)
    async with services.sessions.begin() as session:
        row = await session.get(Trace, 3)
        assert row is not None
        await session.execute(update(Trace).where(Trace.id >= 3).values(id=Trace.id + 100))
        session.expunge_all()
        forged = Trace(
            id=3, at=AT, kind="data.viewed", data={}, prev_hash=row.prev_hash, hash="f" * 64
        )
        session.add(forged)
    result = await _verify(services)
    assert not result.ok and result.bad_id == 3


async def test_unknown_kind_is_refused(services: Services) -> None:
    async with services.sessions.begin() as session:
        with pytest.raises(ValueError, match="trace_kinds"):
            await traces.append(session, services.box, kind="member.teleported", at=AT)


async def test_concurrent_writers_keep_one_gapless_chain(services: Services) -> None:
    import asyncio

    await asyncio.gather(*(_write(services, 5) for _ in range(4)))
    result = await _verify(services)
    assert result.ok and result.checked == 20


async def test_rows_outside_the_chain_are_detected(services: Services) -> None:
    await _write(services, 3)
    async with services.sessions.begin() as session:
        session.add(Trace(id=0, at=AT, kind="invite.rejected", data={}, prev_hash="", hash=""))
    result = await _verify(services)
    assert (result.ok, result.bad_id, result.reason) == (False, 0, "inserted")


async def test_a_writer_behind_another_process_appends_after_it(services: Services) -> None:
    # This process remembers the chain's tip; another process appending moves it on. The
    # next append (on PostgreSQL one statement that moves the head and inserts the row
    # only if the tip still holds) must notice, read the head under its lock and follow on.
    await _write(services, 2)
    key = str(services.engine.url)
    stale = traces._tips[key]
    await _write(services, 1)  # as if from another process
    traces._tips[key] = stale
    await _write(services, 2)
    result = await _verify(services)
    assert result.ok and result.checked == 5
