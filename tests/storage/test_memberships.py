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


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_the_roster_moves_upgrade_keeps_members_and_goes_back(
    backend: str, tmp_path: Path
) -> None:
    """Migration 0012 adds moves, archived branches, leaving and the archive; an existing
    roster (as 0011 left it) is untouched and every member stays active; downgrading works."""
    url = await empty_database(backend, tmp_path)
    engine = create_engine(url)
    await schema.upgrade(engine, revision="0011")
    at = datetime(2025, 9, 1, 8, 0)
    rows = [
        "INSERT INTO branches (id, name, created_at) VALUES (1, '第一党支部', :at)",
        "INSERT INTO members (id, branch_id, name, staff_no, role, stage, interests, active,"
        " created_at) VALUES (1, 1, '张三', '2021001', 'secretary', 'full', '[]', :yes, :at)",
        "INSERT INTO memberships (member_id, branch_id, since, reason)"
        " VALUES (1, 1, :at, 'joined')",
    ]
    async with engine.begin() as conn:
        for statement in rows:
            await conn.execute(text(statement), {"yes": True, "at": at})
    await schema.upgrade(engine)
    query = (
        "SELECT m.id, m.name, m.staff_no, m.role, m.active, m.left_on, m.access_until,"
        " b.archived_at, s.end_reason FROM members m JOIN branches b ON b.id = m.branch_id"
        " JOIN memberships s ON s.member_id = m.id"
    )
    async with engine.connect() as conn:
        found = (await conn.execute(text(query))).all()
        moves = await conn.scalar(text("SELECT count(*) FROM member_moves"))
    assert [tuple(r) for r in found] == [
        (1, "张三", "2021001", "secretary", True, None, None, None, None)
    ]
    assert moves == 0
    await schema.downgrade(engine, "0011")
    async with engine.connect() as conn:
        names = (await conn.execute(text("SELECT name FROM members"))).scalars().all()
    await engine.dispose()
    assert names == ["张三"]
