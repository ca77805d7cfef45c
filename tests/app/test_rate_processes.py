"""Three `branchbot run` processes on one PostgreSQL database, behind a round-robin balancer,
against the fake Bot API that answers 429 to a 31st message in any second: one of them sends a
notice to 1,500 members through the outbox while all three answer people writing to the bot.
Together they stay within the limit (their budget is one: bot/channels/budget.py), and
nothing is lost."""

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import SECRET
from tests.support.balancer import round_robin
from tests.support.fake_telegram import FakeTelegram
from tests.support.people import secretary_and_members
from tests.support.processes import free_port, start_service, stop_service, webhook_env
from tests.support.sends import Tally, busiest

MEMBERS = 1500
ASKING = 150  # people who write /help while the notice goes out
FIRST_MEMBER = 70_000_000
FIRST_ASKING = 80_000_000
MARK = "三进程预算测试"


def _in(copies: Counter[int], first: int, count: int) -> Counter[int]:
    """The copies to the chats first … first + count - 1."""
    return Counter({chat: n for chat, n in copies.items() if first <= chat < first + count})


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_three_processes_together_stay_within_the_limit_and_lose_nothing(
    database_url: str, tmp_path: Path
) -> None:
    secretary = int(await secretary_and_members(database_url, SECRET, MEMBERS, FIRST_MEMBER))
    ports = [free_port() for _ in range(3)]
    async with (
        FakeTelegram(global_rate=30) as fake,
        round_robin([f"http://127.0.0.1:{port}" for port in ports]) as balancer,
    ):
        env = webhook_env(database_url, fake.base_url, f"{balancer}/telegram")
        notices, messages = Tally(fake, MARK), Tally(fake, "")
        with (tmp_path / "run.log").open("wb") as log:
            processes = [
                start_service({**env, "BRANCHBOT_LISTEN_PORT": str(port)}, log) for port in ports
            ]
            try:
                await fake.wait_until(lambda: fake.count("getWebhookInfo") >= 3, timeout=60)
                fake.push_message(secretary, f"/broadcast {MARK}：请于周五前提交学习总结。")
                await fake.wait_until(lambda: len(notices()) > 30)
                for user in range(FIRST_ASKING, FIRST_ASKING + ASKING):  # 5 a second, for 30 s
                    fake.push_message(user, "/help")
                    await asyncio.sleep(0.2)
                await fake.wait_until(
                    lambda: (
                        len(_in(notices(), FIRST_MEMBER, MEMBERS)) == MEMBERS
                        and len(_in(messages(), FIRST_ASKING, ASKING)) == ASKING
                    ),
                    timeout=240,
                )
                await asyncio.sleep(1.0)  # a late duplicate would arrive by now
            finally:
                codes = [await stop_service(p) for p in processes]
    assert codes == [0, 0, 0]
    assert fake.rejected_429 == 0
    assert busiest([c.at for c in fake.sent if c.method.startswith("send")]) <= 30
    to_members = _in(notices(), FIRST_MEMBER, MEMBERS)
    assert len(to_members) == MEMBERS and set(to_members.values()) == {1}
    answers = _in(messages(), FIRST_ASKING, ASKING)
    assert len(answers) == ASKING and set(answers.values()) == {1}
    assert fake.webhook_deliveries.count(200) == ASKING + 1  # every post taken in at once
