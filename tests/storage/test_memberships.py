"""Migration 0011: an existing database gains memberships with dates, one open row per member
with a branch since they were added, and its members stay as they were."""

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from storage import schema
from storage.db import create_engine
from tests.conftest import empty_database


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_the_upgrade_backfills_memberships(backend: str, tmp_path: Path) -> None:
    url = await empty_database(backend, tmp_path)
    engine = create_engine(url)
    await schema.upgrade(engine, revision="0010")
    at = datetime(2025, 9, 1, 8, 0)
    rows = [
        "INSERT INTO branches (id, name, created_at) VALUES (1, '第一党支部', :at)",
        "INSERT INTO members (id, branch_id, name, role, stage, interests, active, created_at)"
        " VALUES (1, 1, '张三', 'secretary', 'full', '[]', :yes, :at),"
        " (2, NULL, '组织员', 'admin', 'full', '[]', :yes, :later)",
    ]
    async with engine.begin() as conn:
        for statement in rows:
            later = datetime(2026, 1, 1, 8, 0)
            await conn.execute(text(statement), {"yes": True, "at": at, "later": later})
    await schema.upgrade(engine)
    async with engine.connect() as conn:
        query = "SELECT member_id, branch_id, since, until, reason FROM memberships"
        found = (await conn.execute(text(query))).all()
        members = (await conn.execute(text("SELECT id, branch_id, role FROM members"))).all()
    await engine.dispose()
    # SQLite hands back the instant as text, PostgreSQL as a datetime.
    assert [(m, b, str(s)[:16], u, r) for m, b, s, u, r in found] == [
        (1, 1, "2025-09-01 08:00", None, "backfilled")
    ]
    assert sorted(tuple(m) for m in members) == [(1, 1, "secretary"), (2, None, "admin")]
