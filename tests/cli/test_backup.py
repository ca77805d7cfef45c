"""`branchbot backup` and `restore`: a consistent snapshot on SQLite and PostgreSQL, loaded
into an empty database of either kind with the chain verified and every encrypted field
readable; a database that is not empty, a cut-off or altered file and the wrong key are
refused, changing nothing."""

import asyncio
import gzip
import json
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from bot.app.services import Services
from storage import traces
from storage.models import Trace
from storage.tables import in_dependency_order
from storage.traces import Entry
from tests.conftest import BRANCH, Chat, Clock, empty_database
from tests.support.sealed_data import (
    cli,
    filled_columns,
    populate,
    read_back,
    services_on,
    unopened,
)


async def counts(services: Services) -> dict[str, int]:
    async with services.engine.connect() as conn:
        return {
            t.name: int(await conn.scalar(select(func.count()).select_from(t)) or 0)
            for t in in_dependency_order()
        }


def lines(file: Path) -> list[str]:
    with gzip.open(file, "rt", encoding="utf-8") as fh:
        return fh.readlines()


def rewrite(file: Path, kept: list[str]) -> None:
    with gzip.open(file, "wt", encoding="utf-8") as fh:
        fh.writelines(kept)


async def target(backend: str, tmp_path: Path, source: Services) -> str:
    """An empty database to restore into; the PostgreSQL one is the source's own database,
    emptied (the source's connections closed first)."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'restored' / 'branchbot.sqlite3'}"
    await source.engine.dispose()
    return await empty_database("postgresql", tmp_path)


@pytest.mark.parametrize("into", ["sqlite", "postgresql"])
async def test_round_trip_keeps_everything_and_the_chain(
    chat: Chat, clock: Clock, tmp_path: Path, into: str
) -> None:
    filled = await populate(chat, tmp_path)
    source = chat.services
    before = await counts(source)
    file = tmp_path / "branchbot.backup.gz"
    made = await cli(source.settings.database_url, "backup", str(file))
    assert made.exit_code == 0, made.output
    assert "留痕链至第" in made.output and "分开保管" in made.output
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert not file.with_name(file.name + ".partial").exists()
    header = json.loads(lines(file)[0])
    assert header["format"] == "branchbot-backup" and header["revision"]
    assert header["database"] == source.engine.dialect.name
    async with source.readers() as session:  # the backup itself was traced after the snapshot
        [exported] = await session.scalars(select(Trace).order_by(Trace.id.desc()).limit(1))
    assert exported.kind == "data.exported" and exported.data["what"] == "backup"
    assert header["head"]["last_id"] == exported.id - 1

    url = await target(into, tmp_path, source)
    restored = await cli(url, "restore", str(file))
    assert restored.exit_code == 0, restored.output
    assert "链头与备份记录的一致" in restored.output
    verified = await cli(url, "verify")
    assert verified.exit_code == 0 and f"共 {exported.id} 条" in verified.output, verified.output
    async with services_on(url, clock) as services:
        after = await counts(services)
        # The backup's traces and the restore's own; the walk the restore made is kept.
        assert (after.pop("traces"), before.pop("traces")) == (exported.id, exported.id - 1)
        assert (after.pop("chain_checks"), before.pop("chain_checks")) == (1, 0)
        assert after == before
        async with services.engine.connect() as conn:
            assert await unopened(conn, services.box) == {}
            assert len(await filled_columns(conn)) >= 14
        async with services.readers() as session:
            last = (await session.scalars(select(Trace).order_by(Trace.id.desc()))).first()
        assert last is not None and last.kind == "backup.restored"
        assert last.data["head"] == header["head"]["last_id"]
        await read_back(Chat(services, clock), filled)
    # New rows get fresh ids after the restored ones (PostgreSQL's sequences moved on).
    added = await cli(url, "member", "add", "--branch", BRANCH, "--name", "恢复后新人")
    assert added.exit_code == 0, added.output


async def test_restore_refuses_a_database_that_is_not_empty(chat: Chat, tmp_path: Path) -> None:
    await populate(chat, tmp_path)
    url = chat.services.settings.database_url
    file = tmp_path / "b.gz"
    assert (await cli(url, "backup", str(file))).exit_code == 0
    before = await counts(chat.services)
    refused = await cli(url, "restore", str(file))
    assert refused.exit_code == 1
    assert "目标数据库不是空的（表 branches 里已有数据）" in refused.output
    assert "数据库未作任何改动" in refused.output
    assert await counts(chat.services) == before


async def test_restore_refuses_a_cut_off_or_altered_file_and_the_wrong_key(
    chat: Chat, clock: Clock, tmp_path: Path
) -> None:
    await populate(chat, tmp_path)
    file = tmp_path / "b.gz"
    assert (await cli(chat.services.settings.database_url, "backup", str(file))).exit_code == 0
    whole = lines(file)
    url = f"sqlite+aiosqlite:///{tmp_path / 'new.sqlite3'}"

    cut = tmp_path / "cut.gz"
    rewrite(cut, whole[: len(whole) // 2])
    refused = await cli(url, "restore", str(cut))
    assert refused.exit_code == 1 and "不是可读的 branchbot 备份" in refused.output

    altered = tmp_path / "altered.gz"
    at = next(i for i, line in enumerate(whole) if '"table":"traces"' in line) + 2
    row = json.loads(whole[at])
    row[7] = {**row[7], "extra": 1}  # the data of the second trace
    rewrite(altered, [*whole[:at], json.dumps(row, ensure_ascii=False) + "\n", *whole[at + 1 :]])
    refused = await cli(url, "restore", str(altered))
    assert refused.exit_code == 1 and "在第 2 条校验不通过（内容被改动）" in refused.output

    refused = await cli(url, "restore", str(file), key=Fernet.generate_key().decode())
    assert refused.exit_code == 1 and "打不开备份里的加密数据" in refused.output

    plain = tmp_path / "not-a-backup.gz"
    rewrite(plain, ['{"hello": 1}\n'])
    refused = await cli(url, "restore", str(plain))
    assert refused.exit_code == 1 and "not a branchbot backup" in refused.output

    # Each refusal left the new database empty: the good file still goes in.
    assert (await cli(url, "restore", str(file))).exit_code == 0
    async with services_on(url, clock) as services:
        assert (await counts(services))["members"] > 0


async def test_a_backup_taken_while_traces_are_written_is_one_moment(
    services: Services, clock: Clock, tmp_path: Path
) -> None:
    """Traces appended all through the backup: the file's head, rows and chain agree."""
    url = services.settings.database_url
    file = tmp_path / "b.gz"
    backup = asyncio.create_task(cli(url, "backup", str(file)))
    written = 0
    while not backup.done():
        entries = [Entry("data.viewed", member_id=written + i) for i in range(50)]
        async with services.sessions.begin() as session:
            written += await traces.append_many(session, services.box, entries, clock())
        await asyncio.sleep(0)
    assert (await backup).exit_code == 0
    assert written > 0
    await services.engine.dispose()
    into = f"sqlite+aiosqlite:///{tmp_path / 'restored.sqlite3'}"
    restored = await cli(into, "restore", str(file))
    assert restored.exit_code == 0, restored.output
