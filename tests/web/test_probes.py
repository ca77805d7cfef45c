"""/metrics and /healthz of a running service, scraped over HTTP after real traffic and read
with Prometheus's own parser; a database that does not answer; the metrics token."""

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from bot.app.metrics import ServiceMetrics
from bot.app.settings import load_settings
from bot.serve import Running, start
from bot.web.probes import Probes
from bot.web.server import build_web_app
from storage import chain
from storage.crypto import SecretBox
from storage.db import create_engine, reader_factory
from storage.enums import Role
from tests.conftest import SECRET, Cli, Threaded
from tests.support.chat import Chat, Clock, User
from tests.support.fake_telegram import FakeTelegram

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
TOKEN = "metrics-token-0123456789"


@asynccontextmanager
async def serving(fake: FakeTelegram, database_url: str, **settings: Any) -> AsyncIterator[Running]:
    """`branchbot run` in this process, against the fake Bot API, on a free port."""
    running = await start(
        load_settings(
            database_url=database_url,
            secret_key=SECRET,
            listen_port=0,
            telegram_token="123456:TEST",
            telegram_base_url=fake.base_url,
            **settings,
        )
    )
    try:
        yield running
    finally:
        await running.stop()


def parse(body: str) -> Samples:
    """Every sample by name and labels, as Prometheus itself reads the page."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


async def scrape(port: int, headers: dict[str, str] | None = None) -> Samples:
    async with (
        ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/metrics", headers=headers) as page,
    ):
        assert page.status == 200, await page.text()
        assert page.headers["Content-Type"].startswith("text/plain")
        return parse(await page.text())


async def scraped_until(port: int, done: Callable[[Samples], bool]) -> Samples:
    """Scrape until `done` holds (the sender and the scheduler work in the background)."""
    for _ in range(200):
        samples = await scrape(port)
        if done(samples):
            return samples
        await asyncio.sleep(0.1)
    raise AssertionError(f"the metrics never got there: {samples}")


def updates(samples: Samples, outcome: str) -> float:
    return samples.get(
        ("branchbot_updates_total", (("outcome", outcome), ("platform", "telegram"))), 0.0
    )


def attempts(samples: Samples, outcome: str) -> float:
    key = ("branchbot_outbox_attempts_total", (("outcome", outcome), ("platform", "telegram")))
    return samples.get(key, 0.0)


async def over_telegram(fake: FakeTelegram, user: User, text: str) -> str:
    """Say `text` through the fake Bot API (the service polls it); the answer."""
    chat_id = int(user.account_id)
    before = len(fake.texts_to(chat_id))
    fake.push_message(chat_id, text)
    await fake.wait_until(lambda: len(fake.texts_to(chat_id)) > before, 20)
    return fake.texts_to(chat_id)[-1]


async def test_metrics_count_the_traffic_served(fake: FakeTelegram, database_url: str) -> None:
    async with serving(fake, database_url) as running:
        chat = Chat(running.services, Clock(datetime.now(UTC)))
        secretary = await chat.bound("书记", role=Role.SECRETARY)
        first, second = await chat.bound("党员甲"), await chat.bound("党员乙")  # 3 handled
        assert "党员甲" in await over_telegram(fake, first, "/me")  # handled
        await over_telegram(fake, first, "/nosuch")  # bad_input
        await over_telegram(fake, first, "/broadcast 我也想发通知")  # refused: not their role
        await first.send("/me", update_key="again")  # handled
        assert await first.send("/me", update_key="again") == []  # duplicate
        fake.block(int(second.account_id))
        fake.fail_next("sendMessage", 429, retry_after=1)
        assert "共 2 人" in await secretary.say("/broadcast 周五下午主题党日")  # handled

        samples = await scraped_until(
            running.port, lambda s: attempts(s, "sent") + attempts(s, "blocked") == 2
        )
        assert [updates(samples, o) for o in ("handled", "bad_input", "refused")] == [6, 1, 1]
        assert updates(samples, "duplicate") == 1 and updates(samples, "failed") == 0
        count = ("branchbot_update_seconds_count", (("platform", "telegram"),))
        assert samples[count] == 9
        assert [attempts(samples, o) for o in ("sent", "throttled", "blocked")] == [1, 1, 1]
        assert samples[("branchbot_outbox_queue", (("status", "pending"),))] == 0
        assert samples[("branchbot_outbox_due", ())] == 0
        for role in ("outbox", "scheduler"):
            assert samples[("branchbot_leader", (("role", role),))] == 1
        assert samples[("branchbot_database_up", ())] == 1
        assert samples[("branchbot_chain_verified_ok", ())] == 0  # never walked yet
        assert samples[("process_resident_memory_bytes", ())] > 0


async def test_the_scheduler_lag_and_the_chain_walk_show(
    fake: FakeTelegram, database_url: str
) -> None:
    async with serving(fake, database_url) as running:
        running.scheduler.sync_meetings_now()  # the meetings' sync job runs at once
        job = (("job", "meetings.sync"),)
        samples = await scraped_until(
            running.port,
            lambda s: (
                s.get(("branchbot_scheduler_runs_total", (*job, ("outcome", "done"))), 0) >= 1
            ),
        )
        assert samples[("branchbot_scheduler_lag_seconds_count", job)] >= 1
        assert samples[("branchbot_scheduler_lag_seconds_bucket", (*job, ("le", "+Inf")))] >= 1

        assert (await Threaded(Cli(database_url))("verify")).exit_code == 0
        async with running.services.sessions() as session:
            walk = await chain.last_walk(session)
        assert walk is not None
        samples = await scrape(running.port)
        assert samples[("branchbot_chain_verified_ok", ())] == 1
        stamp = samples[("branchbot_chain_verified_timestamp_seconds", ())]
        assert stamp == pytest.approx(walk.walked_at.timestamp())


async def test_healthz_names_the_roles_held(fake: FakeTelegram, database_url: str) -> None:
    async with (
        serving(fake, database_url) as running,
        ClientSession() as http,
        http.get(f"http://127.0.0.1:{running.port}/healthz") as page,
    ):
        assert page.status == 200
        assert await page.json() == {
            "status": "ok",
            "database": "ok",
            "roles": ["outbox", "scheduler"],
        }


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_services_in_one_process_keep_their_own_figures(
    fake: FakeTelegram, database_url: str
) -> None:
    # Several processes on one database take webhooks (one shared URL): a second poller
    # would be refused.
    hook = {"webhook_url": "http://127.0.0.1:9/telegram", "webhook_secret": "s3cret-token_42"}
    async with (
        serving(fake, database_url, **hook) as leader,
        serving(fake, database_url, **hook) as other,
    ):
        async with ClientSession() as http:
            page = await http.get(f"http://127.0.0.1:{other.port}/healthz")
            assert (await page.json())["roles"] == []
        chat = Chat(leader.services, Clock(datetime.now(UTC)))
        await chat.bound("党员甲")
        mine, theirs = await scrape(leader.port), await scrape(other.port)
        assert updates(mine, "handled") == 1 and updates(theirs, "handled") == 0
        assert mine[("branchbot_leader", (("role", "scheduler"),))] == 1
        assert theirs[("branchbot_leader", (("role", "scheduler"),))] == 0
        assert theirs[("branchbot_leader", (("role", "outbox"),))] == 0


# --- a database that does not answer, and the token ----------------------------------


@asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """A port that accepts connections and never says a word (a frozen database server)."""
    held: list[asyncio.StreamWriter] = []

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    sock: socket.socket = server.sockets[0]
    try:
        yield sock.getsockname()[1]
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


@asynccontextmanager
async def probed_silence(token: str | None = None) -> AsyncIterator[TestClient[Any, Any]]:
    """/healthz and /metrics of a service whose database never answers."""
    async with silent_server() as port:
        engine = create_engine(f"postgresql://postgres@127.0.0.1:{port}/silent")
        probes = Probes(
            engine, reader_factory(engine), SecretBox(SECRET), ServiceMetrics(), token, 0.5
        )
        probes.hold("outbox", lambda: False)
        app = build_web_app({}, probes=probes.add_routes)
        try:
            async with TestClient(TestServer(app)) as client:
                yield client
        finally:
            await engine.dispose()


async def test_healthz_fails_when_the_database_does_not_answer() -> None:
    async with probed_silence() as client:
        page = await client.get("/healthz")
        assert page.status == 503
        assert await page.json() == {
            "status": "unavailable",
            "database": "unreachable",
            "roles": [],
        }
        metrics = await client.get("/metrics")  # what the process knows is still served
        assert metrics.status == 200
        samples = parse(await metrics.text())
        assert samples[("branchbot_database_up", ())] == 0
        assert samples[("branchbot_leader", (("role", "outbox"),))] == 0


async def test_the_metrics_token_is_asked_for_when_set() -> None:
    async with probed_silence(TOKEN) as client:
        assert (await client.get("/metrics")).status == 401
        wrong = {"Authorization": "Bearer not-the-token-at-all"}
        assert (await client.get("/metrics", headers=wrong)).status == 401
        right = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert right.status == 200 and "branchbot_database_up" in await right.text()
        assert (await client.get("/healthz")).status == 503  # never behind the token


def test_a_short_metrics_token_is_refused() -> None:
    from bot.app.settings import ConfigError

    with pytest.raises(ConfigError, match="METRICS_TOKEN"):
        load_settings(secret_key=SECRET, metrics_token="short")
