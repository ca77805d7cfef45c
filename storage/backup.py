"""Backup and restore (`branchbot backup` / `restore`): one consistent snapshot of every table.

The snapshot is one read transaction: REPEATABLE READ (read only) on PostgreSQL, a WAL read
transaction on SQLite, either of which sees the database as it was at its first read while
the service goes on writing. A restore loads a snapshot into an empty database of the same
schema revision, SQLite or PostgreSQL whichever it came from, in one transaction that also
walks the trace chain with the configured key and compares its head with the one the backup
recorded: a file that does not check out leaves the database as it was. The format is in
storage/snapshot.py. APScheduler's job store is left out on purpose: on start the service
registers its standing jobs again and plans every meeting's jobs from the meetings table.
"""

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from sqlalchemy import Integer, Table, delete, func, insert, inspect, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from storage import chain, schema
from storage.chain import VerifyResult
from storage.crypto import SecretBox
from storage.db import READ_ONLY
from storage.models import TraceHead
from storage.sealed import check_key
from storage.snapshot import (
    Head,
    Header,
    UnreadableBackup,
    decode_row,
    decoders,
    dump_line,
    encode_row,
    encoders,
    load_line,
)
from storage.tables import in_dependency_order
from storage.traces import HEAD_ID

BATCH = 1000
# APScheduler's own table (on PostgreSQL, in the same database): not ours to copy, but a
# database whose scheduler already planned jobs is not empty.
JOB_TABLE = "apscheduler_jobs"


class RestoreRefused(Exception):
    """The restore did not happen (the database is as it was); `reason` says why."""

    def __init__(self, reason: str, **details: Any) -> None:
        super().__init__(f"{reason}: {details}")
        self.reason = reason
        self.details = details


@dataclass
class Snapshot:
    header: Header
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


# --- backup ---------------------------------------------------------------------------------


@asynccontextmanager
async def _snapshot(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection in one read transaction that sees a single moment of the database."""
    if engine.dialect.name == "postgresql":
        options: dict[str, Any] = {
            "isolation_level": "REPEATABLE READ",
            "postgresql_readonly": True,
        }
    else:
        options = {READ_ONLY: True}  # a deferred BEGIN: no write lock, a WAL snapshot
    async with engine.connect() as conn:
        await conn.execution_options(**options)
        async with conn.begin():
            yield conn


async def dump(engine: AsyncEngine, out: IO[str], taken_at: datetime) -> Snapshot:
    """Write the whole database to `out` as of one moment (see storage/snapshot.py)."""
    async with _snapshot(engine) as conn:
        revision = await conn.run_sync(schema.revision_on)
        head = (await conn.execute(select(TraceHead).where(TraceHead.id == HEAD_ID))).one()
        header = Header(
            revision or "",
            taken_at,
            engine.dialect.name,
            Head(int(head.last_id), head.last_hash, head.seal),
        )
        out.write(header.line())
        snapshot = Snapshot(header)
        for table in in_dependency_order():
            snapshot.rows[table.name] = await _dump_table(conn, table, out)
    out.write(dump_line({"end": {"rows": snapshot.rows}}))
    return snapshot


async def _dump_table(conn: AsyncConnection, table: Table, out: IO[str]) -> int:
    """The table's rows in key order, read a batch at a time (keyset, so a large table is
    neither held in memory nor skipped through)."""
    columns = list(table.columns)
    key = list(table.primary_key.columns)
    convert = encoders(columns)
    out.write(dump_line({"table": table.name, "columns": [c.name for c in columns]}))
    query = select(*columns).order_by(*key).limit(BATCH)
    count, after = 0, None
    while True:
        page = query if after is None else query.where(tuple_(*key) > tuple_(*after))
        rows = (await conn.execute(page)).all()
        for row in rows:
            out.write(encode_row(convert, tuple(row)))
        count += len(rows)
        if len(rows) < BATCH:
            return count
        last = rows[-1]._mapping
        after = [last[c.name] for c in key]


# --- restore --------------------------------------------------------------------------------


def read_header(source: IO[str]) -> Header:
    try:
        first = source.readline()
    except (OSError, EOFError, UnicodeDecodeError) as err:
        raise UnreadableBackup(str(err)) from None
    return Header.parse(first)


async def prepare(engine: AsyncEngine, header: Header) -> None:
    """Make sure the database can take this backup: this code's schema revision is the
    backup's, and the database is new (then its tables are created here) or at that
    revision with nothing in it."""
    code_head = schema.head_revision()
    if header.revision != code_head:
        raise RestoreRefused("revision", backup=header.revision, code=code_head)
    current = await schema.current_revision(engine)
    if current is None:
        async with engine.connect() as conn:
            found = await conn.run_sync(lambda c: inspect(c).get_table_names())
        if found:
            raise RestoreRefused("foreign_tables", tables=", ".join(sorted(found)[:5]))
        await schema.upgrade(engine, revision=header.revision)
    elif current != header.revision:
        raise RestoreRefused("schema", database=current, backup=header.revision)


async def restore(
    session: AsyncSession, box: SecretBox, header: Header, source: IO[str]
) -> tuple[int, VerifyResult]:
    """Load the rest of `source` (its header read) into the empty database, in the caller's
    transaction, and check the key and the chain against the header's head. Returns the rows
    loaded and the chain's walk; raises RestoreRefused (roll back) when the database is not
    empty or the file, the key or the chain does not check out."""
    conn = await session.connection()
    await _require_empty(conn)
    await conn.execute(delete(TraceHead))  # the empty chain's head, replaced by the backup's
    try:
        counts = await _load(conn, source)
    except (OSError, EOFError, UnicodeDecodeError, UnreadableBackup) as err:
        raise RestoreRefused("unreadable", problem=str(err)) from None
    if conn.dialect.name == "postgresql":
        await _advance_sequences(conn)
    key = await check_key(conn, box)
    if not key.nothing_to_try and not key.fits:
        raise RestoreRefused("key", tried=key.tried, opened=key.opened)
    walked = await chain.verify(session, box)
    if not walked.ok:
        raise RestoreRefused("chain", id=walked.bad_id, why=walked.reason)
    if (walked.checked, walked.last_hash) != (header.head.last_id, header.head.last_hash):
        raise RestoreRefused("head", found=walked.checked, recorded=header.head.last_id)
    return sum(counts.values()), walked


async def _require_empty(conn: AsyncConnection) -> None:
    for table in in_dependency_order():
        query = select(table).limit(1)
        if table.name == TraceHead.__tablename__:
            query = query.where(table.c.last_id != 0)  # a new database's empty chain
        if (await conn.execute(query)).first() is not None:
            raise RestoreRefused("not_empty", table=table.name)
    has_jobs = await conn.run_sync(lambda c: inspect(c).has_table(JOB_TABLE))
    if has_jobs and await conn.scalar(text(f"SELECT COUNT(*) FROM {JOB_TABLE}")):
        raise RestoreRefused("not_empty", table=JOB_TABLE)


async def _load(conn: AsyncConnection, source: IO[str]) -> dict[str, int]:
    """Insert every table's rows, a batch at a time; the trailer's counts must match."""
    tables = {t.name: t for t in in_dependency_order()}
    counts: dict[str, int] = {}
    table: Table | None = None
    convert: list[Callable[[Any], Any]] = []
    batch: list[dict[str, Any]] = []
    for item in _lines(source):
        if isinstance(item, list):
            if table is None:
                raise UnreadableBackup("a row before any table")
            batch.append(_row(table, convert, item))
            counts[table.name] += 1
            if len(batch) >= BATCH:
                await _insert(conn, table, batch)
            continue
        await _insert(conn, table, batch)
        if "end" in item:
            _check_counts(item["end"].get("rows"), counts)
            return counts
        table = _table_of(item, tables)
        convert, counts[table.name] = decoders(list(table.columns)), 0
    raise UnreadableBackup("the file ends early (no trailer): cut off?")


def _lines(source: IO[str]) -> Iterator[Any]:
    for line in source:
        item = load_line(line)
        if not isinstance(item, list | dict):
            raise UnreadableBackup("a line that is neither a row nor a table")
        yield item


def _row(table: Table, convert: list[Callable[[Any], Any]], values: list[Any]) -> dict[str, Any]:
    columns = list(table.columns)
    if len(values) != len(columns):
        raise UnreadableBackup(f"a row of {table.name} with {len(values)} values")
    try:
        decoded = decode_row(convert, values)
    except (TypeError, ValueError) as err:
        raise UnreadableBackup(f"a row of {table.name}: {err}") from None
    return {c.key: v for c, v in zip(columns, decoded, strict=True)}


def _table_of(item: dict[str, Any], tables: dict[str, Table]) -> Table:
    name, columns = item.get("table"), item.get("columns")
    table = tables.get(str(name))
    if table is None or columns != [c.name for c in table.columns]:
        raise UnreadableBackup(f"table {name} does not match this schema")
    return table


def _check_counts(recorded: Any, loaded: dict[str, int]) -> None:
    if recorded != loaded:
        raise UnreadableBackup("the rows loaded differ from the counts the backup recorded")


async def _insert(conn: AsyncConnection, table: Table | None, batch: list[dict[str, Any]]) -> None:
    if table is not None and batch:
        await conn.execute(insert(table), batch)
    batch.clear()


async def _advance_sequences(conn: AsyncConnection) -> None:
    """PostgreSQL's id sequences past the loaded ids (rows came with their ids, which a
    sequence does not see), so the next row added gets a fresh one."""
    quote = conn.dialect.identifier_preparer.quote
    for table in in_dependency_order():
        key = list(table.primary_key.columns)
        if len(key) != 1 or not isinstance(key[0].type, Integer) or key[0].autoincrement is False:
            continue
        column = key[0].name
        next_id = await conn.scalar(select(func.coalesce(func.max(key[0]), 0) + 1))
        await conn.execute(
            text("SELECT setval(pg_get_serial_sequence(:table, :column), :next, false)"),
            {"table": quote(table.name), "column": column, "next": next_id},
        )
