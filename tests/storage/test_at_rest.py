"""Secrets and personal data at rest: owner-only files, codes sealed in the outbox and erased
once sent, leave reasons encrypted (and migration 0008 encrypting the old ones)."""

import asyncio
import json
import os
import stat
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app.services import Services
from bot.channels.outbox import Outcome, Sent
from bot.cli.main import main
from handlers.core.messages import Msg, Reply, Secret
from handlers.core.notify import queue_to_members
from handlers.core.payload import queued_reply
from scheduler.setup import job_store_engine
from storage import schema
from storage.crypto import SecretBox
from storage.db import create_engine
from storage.files import write_private
from storage.models import LeaveRequest, OutboxMessage, Trace
from tests.conftest import BRANCH, SECRET, Cli, empty_database
from tests.support.chat import Chat, Clock
from tests.support.outbox import FAST, drain, sender_for


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The umask a shell usually has (022): files would be world-readable by default."""
    old = os.umask(0o022)
    yield
    os.umask(old)


# --- files ------------------------------------------------------------------------------


async def test_sqlite_files_and_directory_are_owner_only(tmp_path: Path, loose_umask: None) -> None:
    database = tmp_path / "new" / "data" / "branchbot.sqlite3"
    url = f"sqlite+aiosqlite:///{database}"
    engine = create_engine(url)
    await schema.upgrade(engine)  # writes: the WAL and shared-memory files appear
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        assert mode(path) == 0o600, path
    assert mode(database.parent) == 0o700 and mode(database.parent.parent) == 0o700
    await engine.dispose()
    jobs = job_store_engine(url)  # the scheduler's own SQLite file beside it
    with jobs.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    jobs.dispose()
    assert mode(database.with_name("branchbot.jobs.sqlite3")) == 0o600


async def test_existing_readable_database_files_are_closed_when_opened(
    tmp_path: Path, loose_umask: None
) -> None:
    database = tmp_path / "old.sqlite3"
    url = f"sqlite+aiosqlite:///{database}"
    engine = create_engine(url)
    await schema.upgrade(engine)
    await engine.dispose()
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        path.touch()
        path.chmod(0o644)  # as an older version left them
    create_engine(url)  # the service opening the database
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        assert mode(path) == 0o600, path


def test_every_command_runs_under_an_owner_only_umask(loose_umask: None) -> None:
    result = CliRunner().invoke(main, ["keygen"])
    assert result.exit_code == 0
    current = os.umask(0o022)
    assert current == 0o077


def test_an_export_replacing_a_readable_file_is_owner_only(
    tmp_path: Path, loose_umask: None
) -> None:
    out = tmp_path / "export.csv"
    out.write_text("old")
    out.chmod(0o644)
    write_private(out, b"new")
    assert (mode(out), out.read_bytes()) == (0o600, b"new")
    fresh = tmp_path / "fresh.csv"
    write_private(fresh, b"x")
    assert mode(fresh) == 0o600


def test_cli_exports_are_owner_only(cli: Cli, tmp_path: Path) -> None:
    """Each command that writes a file (traces, question bank, reports, scorecards) writes
    it owner-only, even over an existing world-readable file, whose mode a plain write
    would keep whatever the umask."""
    commands = {
        "traces.jsonl": ["export", "traces", "-o"],
        "bank.json": ["questions", "export"],
        "candidates.csv": ["report", "--branch", BRANCH, "--out"],
        "scorecard.csv": ["report", "--branch", BRANCH, "--period", "2026-09..2026-10", "--out"],
    }
    for name, args in commands.items():
        path = tmp_path / name
        path.write_text("")
        path.chmod(0o644)
        result = cli(*args, str(path))
        assert result.exit_code == 0, result.output
        assert mode(path) == 0o600 and path.stat().st_size > 0, name


# --- secrets in the outbox ----------------------------------------------------------------


class Recording:
    """A transport that keeps the text of what it delivered."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.texts: list[str] = []

    async def deliver(self, chat_id: str, reply: Reply, to_group: bool = False) -> Outcome:
        assert reply.text is not None
        self.texts.append(self.services.renderer.render(reply.text))
        return Sent(str(len(self.texts)))


async def _outbox_rows(services: Services) -> list[OutboxMessage]:
    async with services.sessions() as session:
        return list((await session.scalars(select(OutboxMessage))).all())


async def test_a_queued_secret_is_sealed_and_erased_once_sent(chat: Chat, clock: Clock) -> None:
    services = chat.services
    await chat.bound("王书记")
    reply = Reply(Msg("web.login.code_message", code=Secret("918273"), minutes=10))
    async with services.sessions.begin() as session:
        with pytest.raises(TypeError):  # never in clear: without the box it cannot be queued
            await queue_to_members(session, [1], reply, key="k0", kind="web.login", now=clock())
        await queue_to_members(
            session, [1], reply, key="k1", kind="web.login", now=clock(), box=services.box
        )
    [row] = await _outbox_rows(services)
    assert "918273" not in json.dumps(row.payload) and row.sealed is not None
    assert b"918273" not in row.sealed
    opened = queued_reply(services.box, row.payload, row.sealed)
    assert opened.text is not None and "918273" in services.renderer.render(opened.text)
    transport = Recording(services)
    sender = sender_for(services, transport, clock)  # type: ignore[arg-type]
    sender.start()
    for _ in range(100):
        if (await _outbox_rows(services))[0].status == "sent":
            break
        await asyncio.sleep(0.02)
    await sender.stop()
    assert "918273" in transport.texts[0]
    [row] = await _outbox_rows(services)
    assert (row.status, row.sealed) == ("sent", None)  # nothing left to read afterwards


async def test_a_secret_for_a_blocked_chat_or_given_up_is_not_kept(
    chat: Chat, clock: Clock
) -> None:
    services = chat.services
    await chat.bound("王书记")
    async with services.sessions.begin() as session:
        await session.execute(text("UPDATE platform_accounts SET blocked_at = bound_at"))
    reply = Reply(Msg("web.login.code_message", code=Secret("555111"), minutes=10))
    async with services.sessions.begin() as session:
        await queue_to_members(
            session, [1], reply, key="k", kind="web.login", now=clock(), box=services.box
        )
    [row] = await _outbox_rows(services)
    assert (row.status, row.sealed) == ("blocked", None)


async def test_an_undeliverable_secret_is_erased(chat: Chat, clock: Clock) -> None:
    from bot.channels.outbox import Failed
    from tests.support.outbox import ScriptedTransport

    services = chat.services
    user = await chat.bound("王书记")
    reply = Reply(Msg("web.login.code_message", code=Secret("777000"), minutes=10))
    async with services.sessions.begin() as session:
        await queue_to_members(
            session, [1], reply, key="k", kind="web.login", now=clock(), box=services.box
        )
    transport = ScriptedTransport({user.account_id: [Failed("bad", permanent=True)]})
    await drain(services, transport, clock, FAST)
    [row] = await _outbox_rows(services)
    assert (row.status, row.sealed) == ("failed", None)


async def test_invite_codes_rest_nowhere_in_clear(chat: Chat) -> None:
    """An invite code is kept only as a keyed hash; nothing queued or traced holds it."""
    secretary = await chat.bound("书记", role="secretary")  # type: ignore[arg-type]
    answer = await secretary.say("/invite 新同志")
    code = answer.split("邀请码：")[1][:8]
    async with chat.services.sessions() as session:
        dumped = [await _dump(session, table) for table in ("invite_codes", "outbox", "traces")]
    assert all(code not in d for d in dumped)


async def _dump(session: AsyncSession, table: str) -> str:
    """Every value of a table, as text to search."""
    rows = await session.execute(text(f"SELECT * FROM {table}"))
    return json.dumps([list(r) for r in rows], default=str, ensure_ascii=False)


# --- leave reasons ------------------------------------------------------------------------

REASON = "家中老人住院，需陪护"


async def test_leave_reasons_are_encrypted_and_still_read_where_needed(chat: Chat) -> None:
    from tests.support.meetings import ONE_LINE
    from tests.support.notices import queued

    secretary = await chat.bound("书记", role="secretary")  # type: ignore[arg-type]
    member = await chat.bound("党员甲")
    await secretary.say(ONE_LINE)
    assert "已提交" in await member.say(f"/leave 1 {REASON}")
    async with chat.services.sessions() as session:
        request = await session.scalar(select(LeaveRequest))
        stored = await _dump(session, "leave_requests")
        traced = [t.data for t in (await session.scalars(select(Trace))).all()]
    assert request is not None and chat.services.box.decrypt(request.reason_enc) == REASON
    assert REASON not in stored and REASON not in json.dumps(traced, ensure_ascii=False)
    asks = [r for r in await queued(chat.services) if r.kind == "leave.request"]
    assert REASON in asks[0].text  # the secretary's message
    assert REASON in await secretary.say("/leaves")  # the pending list
    await member.send("/mydata")  # the member's own export has it
    assert member.replies[0].file is not None
    export = json.loads(member.replies[0].file.content)
    assert export["leave_requests"][0]["reason"] == REASON


# --- migration 0008 -----------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
async def at_0007(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database at revision 0007 with one leave request whose reason is in clear."""
    url = await empty_database(request.param, tmp_path)
    engine = create_engine(url)
    await schema.upgrade(engine, revision="0007")
    at = datetime(2026, 11, 1, 8, 0)
    async with engine.begin() as conn:
        for statement, values in _OLD_ROWS:
            await conn.execute(text(statement), {**values, "at": at})
    await engine.dispose()
    yield url


_OLD_ROWS = [
    ("INSERT INTO branches (id, name, created_at) VALUES (1, '一支部', :at)", {}),
    (
        "INSERT INTO members (id, branch_id, name, role, stage, interests, active, created_at)"
        " VALUES (1, 1, '张三', 'member', 'full', '[]', :yes, :at)",
        {"yes": True},
    ),
    (
        "INSERT INTO meetings (id, branch_id, kind, title, starts_at, minutes, status,"
        " checkin_secret, created_at, jobs_synced)"
        " VALUES (1, 1, 'party_day', '主题党日', :at, 90, 'scheduled', 'S', :at, :yes)",
        {"yes": True},
    ),
    (
        "INSERT INTO leave_requests (id, meeting_id, member_id, reason, status, created_at)"
        " VALUES (1, 1, 1, :reason, 'pending', :at)",
        {"reason": REASON},
    ),
]


async def test_migration_0008_encrypts_old_leave_reasons(at_0007: str) -> None:
    box = SecretBox(SECRET)
    engine = create_engine(at_0007)
    await schema.upgrade(engine, box)
    async with engine.connect() as conn:
        columns = await conn.run_sync(
            lambda c: [col["name"] for col in inspect(c).get_columns("leave_requests")]
        )
        sealed = (await conn.execute(text("SELECT reason_enc FROM leave_requests"))).scalar()
    assert "reason" not in columns and box.decrypt(sealed) == REASON
    await schema.downgrade(engine, "0007", box)  # and back, in clear again
    async with engine.connect() as conn:
        plain = (await conn.execute(text("SELECT reason FROM leave_requests"))).scalar()
    assert plain == REASON
    await engine.dispose()


async def test_migration_0008_without_the_key_changes_nothing(
    at_0007: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BRANCHBOT_SECRET_KEY", raising=False)
    engine = create_engine(at_0007)
    with pytest.raises(schema.SecretKeyNeeded):
        await schema.upgrade(engine)
    assert await schema.current_revision(engine) == "0007"
    async with engine.connect() as conn:
        plain = (await conn.execute(text("SELECT reason FROM leave_requests"))).scalar()
    assert plain == REASON
    await engine.dispose()


def test_init_without_the_key_explains_in_chinese(
    at_0007: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BRANCHBOT_SECRET_KEY", raising=False)
    result = CliRunner(env={"BRANCHBOT_DATABASE_URL": at_0007}).invoke(main, ["init"])
    assert result.exit_code == 2 and "BRANCHBOT_SECRET_KEY" in result.output
    assert "未作任何改动" in result.output and "Traceback" not in result.output
