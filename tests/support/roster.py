"""Roster files for the import and export tests: a full roster as a secretary keeps it, a
fresh database to import into, and the members an export holds."""

import asyncio
import json
from pathlib import Path
from typing import Any

from sqlalchemy import text

from storage import schema
from storage.db import create_engine
from tests.conftest import BRANCH, Cli, reset_postgres

HEADER = (
    "姓名,性别,民族,出生日期,籍贯,学历,学号/工号,手机号,身份证号,年级,班级,"
    "人员类别,入党日期,转正日期,角色,实习截止,所在党支部,兴趣"
)
# Every field filled: Chinese text, a staff number with leading zeros, a phone, an ID number,
# dates; a formula-like cell (=1+1) that must come back as text; a probationary member with
# only a joining date; an activist with nothing but a name and a stage.
ROWS = (
    f"张晓红,女,汉族,2001-05-01,江苏南京,本科,000123,13800138000,320102200105010029,"
    f"2023级,数学2301班,正式党员,2023-06-01,2024-06-01,支委,2027-06-30,{BRANCH},党史、数学",
    f"欧阳明,男,回族,2003-09-15,=1+1,硕士研究生,0456,13912345678,110108200309150014,"
    f"2024级,数学2401班,预备党员,2025-11-20,,成员,,{BRANCH},",
    f"李四,,,,,,0789,,,,,入党积极分子,,,成员,,{BRANCH},",
)


def roster_csv(tmp_path: Path, *rows: str, header: str = HEADER, name: str = "r.csv") -> str:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return str(path)


def fresh(cli: Cli, tmp_path: Path, name: str) -> Cli:
    """A CLI on an empty database (SQLite: a new file; PostgreSQL: the test database emptied)
    with the tests' branch."""
    url = cli.env["BRANCHBOT_DATABASE_URL"]
    if url.startswith("sqlite"):
        url = f"sqlite+aiosqlite:///{tmp_path / f'{name}.sqlite3'}"
    else:
        asyncio.run(reset_postgres(url))

    async def upgrade() -> None:
        engine = create_engine(url)
        await schema.upgrade(engine)
        await engine.dispose()

    asyncio.run(upgrade())
    other = Cli(url)
    assert other("branch", "add", BRANCH).exit_code == 0
    return other


def exported(cli: Cli, tmp_path: Path, *options: str) -> dict[str, Any]:
    """The JSON export of the tests' branch (or what the options say)."""
    out = tmp_path / "check.json"
    result = cli("member", "export", *(options or ("--branch", BRANCH)), "-o", str(out))
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return document


def archive(cli: Cli, branch: str) -> None:
    """Mark a branch archived (what the branch merge of issue 19 will do)."""

    async def go() -> None:
        engine = create_engine(cli.env["BRANCHBOT_DATABASE_URL"])
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE branches SET archived_at = CURRENT_TIMESTAMP WHERE name = :n"),
                {"n": branch},
            )
        await engine.dispose()

    asyncio.run(go())
