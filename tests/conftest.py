"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, services, a chat harness.

PostgreSQL tests skip with a visible reason when no server answers, except under CI=true,
where a missing server is a failure.
"""

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner, Result
from cryptography.fernet import Fernet
from sqlalchemy import text

from bot.app.services import Services, build_services
from bot.app.settings import load_settings
from bot.cli.main import main
from scheduler.context import JobContext, use
from storage import schema
from storage.db import create_engine
from tests.support.chat import Chat, Clock
from tests.support.fake_telegram import FakeTelegram

if TYPE_CHECKING:
    from tests.support.platforms import Both
    from tests.support.telegram_rig import Rig

PG_URL = os.environ.get("BRANCHBOT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
SECRET = Fernet.generate_key().decode()


def _pg_available() -> str | None:
    import asyncpg

    async def probe() -> None:
        conn = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg", "postgresql"), timeout=3)
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as err:
        return f"PostgreSQL at {PG_URL} is not reachable: {err}"
    return None


_PG_PROBLEM = _pg_available()


async def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def empty_database(backend: str, tmp_path: Path) -> str:
    """The URL of an empty database on `backend` ("sqlite" in tmp_path, or the test
    PostgreSQL database emptied); PostgreSQL missing skips, except under CI=true."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}"
    if _PG_PROBLEM:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs PostgreSQL: {_PG_PROBLEM}")
        pytest.skip(_PG_PROBLEM)
    await reset_postgres(PG_URL)
    return PG_URL


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A freshly migrated database; every test using it runs once per backend."""
    url = await empty_database(request.param, tmp_path)
    engine = create_engine(url)
    await schema.upgrade(engine)
    await engine.dispose()
    yield url


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 24, 2, 0, tzinfo=UTC))


@pytest.fixture
async def services(database_url: str, clock: Clock) -> AsyncIterator[Services]:
    settings = load_settings(database_url=database_url, secret_key=SECRET)
    built = build_services(settings, clock=clock)
    yield built
    await built.close()


@pytest.fixture
def chat(services: Services, clock: Clock) -> Chat:
    return Chat(services, clock)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """The fake Bot API server the end-to-end tests talk to over HTTP."""
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def rig(fake: FakeTelegram, database_url: str, clock: Clock) -> AsyncIterator["Rig"]:
    """The bot serving the fake API, with the scheduler's jobs callable on the test clock."""
    from tests.support.telegram_rig import telegram_bot  # it imports this module's SECRET

    async with telegram_bot(fake, database_url, clock=clock) as running:
        services = running.services
        use(JobContext(services.sessions, services.box, services.router.options, clock))
        yield running


@pytest.fixture
async def both(database_url: str, clock: Clock) -> AsyncIterator["Both"]:
    """One bot serving the fake Telegram and the fake WeCom at once (tests/support/platforms.py)."""
    from tests.support.platforms import both_platforms  # it imports this module's SECRET

    async with both_platforms(database_url, clock) as running:
        yield running


# The branch the CLI tests' database starts with.
BRANCH = "数学学院教工党支部"


class Cli:
    def __init__(self, database_url: str) -> None:
        self.env = {"BRANCHBOT_DATABASE_URL": database_url, "BRANCHBOT_SECRET_KEY": SECRET}
        self.runner = CliRunner()

    def __call__(self, *args: str, **env: str) -> Result:
        return self.runner.invoke(main, list(args), env={**self.env, **env}, catch_exceptions=False)


class Threaded:
    """The CLI from an async test: it runs its own event loop, so in a thread."""

    def __init__(self, cli: Cli) -> None:
        self.cli = cli

    async def __call__(self, *args: str) -> Result:
        return await asyncio.to_thread(self.cli, *args)


@pytest.fixture
def cli(database_url: str) -> Cli:
    cli = Cli(database_url)
    assert cli("branch", "add", BRANCH).exit_code == 0
    return cli


__all__ = ["BRANCH", "SECRET", "Cli", "Clock", "Threaded", "timedelta"]
