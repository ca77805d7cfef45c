"""The inbox's rules on both databases: an update is stored once and encrypted; only a chat's
earliest update is claimed, by one holder at a time; a lapsed claim is taken over; handled
updates are forgotten, by their holder only; and migration 0018 goes up and down."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app.services import Services
from storage import inbox, schema
from storage.inbox import Arrival, Claimed

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


def _tg(chat: str, update_id: int, said: str = "你好") -> Arrival:
    body = f'{{"update_id": {update_id}, "text": "{said}"}}'
    return Arrival("telegram", f"1:{update_id}", chat, body, seq=update_id)


async def _accept(services: Services, *arrivals: Arrival) -> None:
    async with services.sessions.begin() as session:
        await inbox.accept(session, services.box, arrivals, NOW)


async def _claim(
    services: Services, holder: str, at: datetime = NOW, platform: str = "telegram"
) -> list[Claimed]:
    async with services.sessions.begin() as session:
        return await inbox.claim(
            session, services.box, platform, holder, now=at, cutoff=at - LEASE, limit=10
        )


async def _finish(services: Services, holder: str, claimed: list[Claimed]) -> None:
    async with services.sessions.begin() as session:
        await inbox.finish(session, holder, [c.id for c in claimed])


def _keys(claimed: list[Claimed]) -> list[str]:
    return sorted(c.update_key for c in claimed)


async def test_an_update_is_stored_once_and_encrypted(services: Services) -> None:
    await _accept(services, _tg("7", 1, "思想汇报的内容"))
    await _accept(services, _tg("7", 1, "思想汇报的内容"))  # Telegram posting it again
    async with services.engine.connect() as conn:
        bodies = (await conn.execute(text("SELECT body FROM inbox"))).scalars().all()
    assert len(bodies) == 1
    assert "思想汇报".encode() not in bytes(bodies[0])
    [claimed] = await _claim(services, "a")
    assert "思想汇报的内容" in claimed.body and claimed.attempts == 1


async def test_only_a_chats_earliest_update_is_claimed_and_by_one_holder(
    services: Services,
) -> None:
    # Arrived out of order (two processes): chat 7's update 3 came in before its update 2.
    await _accept(services, _tg("7", 3), _tg("8", 4), _tg("7", 2), _tg("9", 5))
    assert _keys(await _claim(services, "a")) == ["1:2", "1:4", "1:5"]
    assert await _claim(services, "b") == []  # held by a, and 7's next waits for its head
    await _finish(services, "b", await _claim(services, "b"))
    async with services.sessions.begin() as session:
        await inbox.finish(session, "b", [1, 2, 3, 4])  # not b's: nothing goes
    assert await _claim(services, "b") == []
    first = await _claim(services, "a", NOW + LEASE * 2)  # a's own lapsed claims, taken anew
    assert _keys(first) == ["1:2", "1:4", "1:5"] and {c.attempts for c in first} == {2}
    await _finish(services, "a", [c for c in first if c.update_key == "1:2"])
    assert _keys(await _claim(services, "b", NOW + LEASE * 2)) == ["1:3"]


async def test_a_dead_holders_claims_are_taken_over_after_the_lease(services: Services) -> None:
    await _accept(services, _tg("7", 1), _tg("7", 2))
    assert _keys(await _claim(services, "dead")) == ["1:1"]
    assert await _claim(services, "alive", NOW + LEASE / 2) == []
    async with services.sessions.begin() as session:  # a live holder renews its claims
        await inbox.renew(session, "dead", NOW + LEASE / 2)
    assert await _claim(services, "alive", NOW + LEASE) == []
    taken = await _claim(services, "alive", NOW + LEASE * 2)
    assert _keys(taken) == ["1:1"]
    await _finish(services, "dead", taken)  # the old holder, back, finds it is not its own
    await _finish(services, "alive", taken)
    assert _keys(await _claim(services, "alive", NOW + LEASE * 2)) == ["1:2"]


async def test_wecom_messages_go_in_the_order_received_and_released_claims_are_free(
    services: Services,
) -> None:
    for said in ("第一句", "第二句"):
        await _accept(services, Arrival("wecom", said, "zhangsan", f"<xml>{said}</xml>"))
    [first] = await _claim(services, "a", platform="wecom")
    assert first.body == "<xml>第一句</xml>"
    assert await _claim(services, "a") == []  # the Telegram worker sees none of them
    async with services.sessions.begin() as session:  # a clean stop gives it back, untried
        await inbox.release(session, "a", [first.id])
    [again] = await _claim(services, "b", platform="wecom")
    assert again.body == "<xml>第一句</xml>" and again.attempts == 1


async def test_housekeeping_forgets_updates_never_handled(services: Services) -> None:
    await _accept(services, _tg("7", 1))
    async with services.sessions.begin() as session:
        assert await inbox.prune(session, NOW) == 0
        assert await inbox.prune(session, NOW + timedelta(days=8)) == 1


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: c.dialect.get_table_names(c)))


async def test_migration_0018_up_and_down(services: Services) -> None:
    engine = services.engine
    await _accept(services, _tg("7", 1))
    await schema.downgrade(engine, "0017")
    assert "inbox" not in await _tables(engine)
    await schema.upgrade(engine)
    assert "inbox" in await _tables(engine)
    await _accept(services, _tg("7", 1))
    assert _keys(await _claim(services, "a")) == ["1:1"]
