"""The database's connection drops while an update is being handled (a PostgreSQL restart
or failover): the update, already acknowledged to Telegram, is kept in the inbox and tried
again once the database answers, and is answered once, with its real answer rather than
an incident number."""

import asyncio

import asyncpg
import pytest
from sqlalchemy import text

from bot.app.services import Services
from tests.support.chat import Chat, Clock
from tests.support.fake_telegram import FakeTelegram
from tests.support.telegram_rig import telegram_bot

MEMBER = 611
# The router's connections stuck behind the test's lock on `processed_updates`.
_WAITING = """
    SELECT pid FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'
"""


def _asyncpg_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_an_update_whose_connection_drops_is_handled_once_when_the_database_answers(
    fake: FakeTelegram, database_url: str
) -> None:
    async with telegram_bot(fake, database_url) as rig:
        services: Services = rig.services
        code = (await Chat(services, Clock(services.router.clock())).enrol("党员甲"))[1]
        fake.push_message(MEMBER, f"/start {code}")
        await fake.wait_until(lambda: len(fake.texts_to(MEMBER)) == 1)
        admin = await asyncpg.connect(_asyncpg_url(database_url))
        try:
            locker = await asyncpg.connect(_asyncpg_url(database_url))
            tx = locker.transaction()
            await tx.start()
            await locker.execute("LOCK TABLE processed_updates IN ACCESS EXCLUSIVE MODE")
            fake.push_message(MEMBER, "/me")
            cut = 0
            for _ in range(3):  # three drops in a row: the update waits each time
                pids: list[int] = []
                for _ in range(200):
                    pids = [r["pid"] for r in await admin.fetch(_WAITING)]
                    if pids:
                        break
                    await asyncio.sleep(0.05)
                assert pids, "the router never reached the locked table"
                for pid in pids:
                    cut += await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
            assert cut >= 3 and len(fake.texts_to(MEMBER)) == 1  # nothing answered yet
            await tx.rollback()
            await locker.close()
            await fake.wait_until(lambda: len(fake.texts_to(MEMBER)) == 2, timeout=30)
            await asyncio.sleep(0.5)
        finally:
            await admin.close()
        answers = fake.texts_to(MEMBER)
        assert len(answers) == 2 and "党员甲" in answers[1], answers
        assert "编号" not in answers[1]  # not an incident
        async with services.sessions() as session:
            left = await session.scalar(text("SELECT COUNT(*) FROM inbox"))
        assert left == 0
