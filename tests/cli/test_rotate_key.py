"""`branchbot rotate-key`: every encrypted field readable with the new key through the
features' own paths and the chain verifying, a wrong old key refused with nothing changed,
and the process killed (SIGKILL) at every step leaving everything under one key."""

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select, text

from bot.app.services import Services
from storage import chain
from storage.db import create_engine
from storage.models import InviteCode, Trace
from storage.sealed import check_key, sealed_columns
from tests.conftest import SECRET, Chat, Clock
from tests.support.sealed_data import Filled, cli, populate, read_back, services_on, unopened

ROOT = Path(__file__).resolve().parents[2]
# The command line in a process that kills itself (SIGKILL, no clean-up) at the KILL_AT-th
# use of the key (a decryption, an encryption or a MAC), or as the transaction commits.
KILLING = """
import os, signal, sys
from sqlalchemy.orm import SessionTransaction
from storage.crypto import SecretBox

kill_at, calls = os.environ["KILL_AT"], 0

def counted(method):
    def wrapped(*args, **kwargs):
        global calls
        calls += 1
        if kill_at == str(calls):
            os.kill(os.getpid(), signal.SIGKILL)
        return method(*args, **kwargs)
    return wrapped

for name in ("decrypt_bytes", "encrypt_bytes", "mac"):
    setattr(SecretBox, name, counted(getattr(SecretBox, name)))
if kill_at == "commit":
    SessionTransaction.commit = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)

from bot.cli.main import main
main(sys.argv[1:], prog_name="branchbot")
"""


def key_file(tmp_path: Path, key: str) -> Path:
    path = tmp_path / "new.key"
    path.write_text(key + "\n")
    return path


async def fully_under(url: str, key: str, clock: Clock) -> bool:
    """Every encrypted value opens with `key` and the chain verifies with it; False when the
    key opens none of it (anything in between fails the test)."""
    async with services_on(url, clock, key) as services:
        async with services.engine.connect() as conn:
            fits = (await check_key(conn, services.box)).fits
            bad = await unopened(conn, services.box)
        async with services.readers() as session:
            walked = await chain.verify(session, services.box)
    if not fits:
        assert walked.reason == "head_altered", walked
        return False
    assert bad == {} and walked.ok, (bad, walked)
    return True


async def rotated(chat: Chat, tmp_path: Path) -> tuple[Filled, str, str]:
    """A populated database rotated to a new key: (filled, url, new key)."""
    filled = await populate(chat, tmp_path)
    url = chat.services.settings.database_url
    await chat.services.engine.dispose()  # on PostgreSQL it must be alone
    new = Fernet.generate_key().decode()
    done = await cli(url, "rotate-key", "--new-key-file", str(key_file(tmp_path, new)))
    assert done.exit_code == 0, done.output
    assert "密钥已更换" in done.output and "已作废" in done.output
    return filled, url, new


async def test_after_rotation_everything_reads_with_the_new_key(
    chat: Chat, clock: Clock, tmp_path: Path
) -> None:
    filled, url, new = await rotated(chat, tmp_path)
    assert await fully_under(url, new, clock)
    assert not await fully_under(url, SECRET, clock)
    verified = await cli(url, "verify", key=new)
    assert verified.exit_code == 0, verified.output
    assert (await cli(url, "verify")).exit_code == 1  # the old key no longer signs the chain
    async with services_on(url, clock, new) as services:
        async with services.readers() as session:
            last = (await session.scalars(select(Trace).order_by(Trace.id.desc()))).first()
            still_open = await session.scalar(
                select(func.count())
                .select_from(InviteCode)
                .where(InviteCode.revoked.is_(False), InviteCode.used_at.is_(None))
            )
        assert last is not None and last.kind == "key.rotated"
        assert last.data["old_head"] == last.id - 1 and last.data["resigned"] == last.id - 1
        assert last.data["invites_revoked"] >= 1 and still_open == 0
        await read_back(Chat(services, clock), filled)
        # A code issued before the rotation is no longer taken; new ones are.
        refused = await Chat(services, clock).user().say(f"/start {filled.invite_code}")
        assert "绑定成功" not in refused


async def test_a_wrong_old_key_is_refused_and_nothing_changes(
    chat: Chat, clock: Clock, tmp_path: Path
) -> None:
    await populate(chat, tmp_path)
    url = chat.services.settings.database_url
    await chat.services.engine.dispose()
    wrong = Fernet.generate_key().decode()
    new = key_file(tmp_path, Fernet.generate_key().decode())
    refused = await cli(url, "rotate-key", "--new-key-file", str(new), key=wrong)
    assert refused.exit_code == 1
    assert "不是这个数据库正在使用的密钥" in refused.output and "只打开 0 项" in refused.output
    assert "没有作任何改动" in refused.output
    assert await fully_under(url, SECRET, clock)
    same = await cli(url, "rotate-key", "--new-key-file", str(key_file(tmp_path, SECRET)))
    assert same.exit_code == 2 and "相同" in same.output
    bad = await cli(url, "rotate-key", "--new-key-file", str(key_file(tmp_path, "not a key")))
    assert bad.exit_code == 2 and "不是有效的密钥" in bad.output


async def test_a_broken_chain_is_not_re_signed(chat: Chat, clock: Clock, tmp_path: Path) -> None:
    await populate(chat, tmp_path)
    async with chat.services.sessions.begin() as session:
        await session.execute(text("UPDATE traces SET data = '{}' WHERE id = 3"))
    url = chat.services.settings.database_url
    await chat.services.engine.dispose()
    new = key_file(tmp_path, Fernet.generate_key().decode())
    refused = await cli(url, "rotate-key", "--new-key-file", str(new))
    assert refused.exit_code == 1 and "在第 3 条校验不通过" in refused.output
    async with services_on(url, clock) as services, services.engine.connect() as conn:
        assert await unopened(conn, services.box) == {}


async def test_refused_while_the_service_is_connected(
    services: Services, tmp_path: Path, clock: Clock
) -> None:
    if services.engine.dialect.name != "postgresql":
        pytest.skip("SQLite cannot tell whether a service has the file open")
    async with services.readers() as session:  # a connection stays in the pool, as a service's
        await session.scalar(select(1))
    new = key_file(tmp_path, Fernet.generate_key().decode())
    refused = await cli(services.settings.database_url, "rotate-key", "--new-key-file", str(new))
    assert refused.exit_code == 1 and "先停止所有 branchbot run" in refused.output


async def gone(url: str) -> None:
    """Wait until PostgreSQL has ended the killed process's session (rotate-key refuses to
    run beside another one)."""
    if not url.startswith("postgresql"):
        return
    engine = create_engine(url)
    try:
        for _ in range(200):
            async with engine.connect() as conn:
                if not await conn.scalar(text(OTHERS)):
                    return
            await asyncio.sleep(0.05)
    finally:
        await engine.dispose()


OTHERS = (
    "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
)


def kill_points(traces: int, values: int, sealed: int) -> list[str]:
    """Where to kill: trying the key, mid-way through the chain's walk, re-encrypting,
    re-signing, and as the transaction commits (the key's uses in that order)."""
    tried = sealed + 1
    walk, reseal = tried + traces + 1, 2 * values
    points = [1, tried + traces // 2, walk + values, walk + reseal + traces // 2]
    return [*(str(p) for p in points), "commit"]


async def test_killed_at_any_step_everything_stays_under_one_key(
    chat: Chat, clock: Clock, tmp_path: Path
) -> None:
    filled = await populate(chat, tmp_path)
    url = chat.services.settings.database_url
    async with chat.services.engine.connect() as conn:
        traces = int(await conn.scalar(select(func.count()).select_from(Trace)) or 0)
        values = 0
        for _, columns in sealed_columns():
            for column in columns:
                found = select(func.count()).where(column.is_not(None))
                values += int(await conn.scalar(found) or 0)
    await chat.services.engine.dispose()
    new = Fernet.generate_key().decode()
    env = {**os.environ, "BRANCHBOT_DATABASE_URL": url, "BRANCHBOT_SECRET_KEY": SECRET}
    args = [sys.executable, "-c", KILLING, "rotate-key", "--new-key-file"]
    for point in kill_points(traces, values, len(list(sealed_columns()))):
        killed = await asyncio.to_thread(
            subprocess.run,
            [*args, str(key_file(tmp_path, new))],
            env={**env, "KILL_AT": point},
            cwd=ROOT,
            capture_output=True,
        )
        assert killed.returncode == -signal.SIGKILL, (point, killed.stderr.decode())
        assert await fully_under(url, SECRET, clock), point  # nothing committed
        await gone(url)
    done = await cli(url, "rotate-key", "--new-key-file", str(key_file(tmp_path, new)))
    assert done.exit_code == 0, done.output
    assert await fully_under(url, new, clock)
    async with services_on(url, clock, new) as services:
        await read_back(Chat(services, clock), filled)
