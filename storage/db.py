"""Engines and sessions: one code path for SQLite (WAL) and PostgreSQL.

SQLite gets a single pooled connection run inline on the event loop (storage/sqlite_inline.py)
and BEGIN IMMEDIATE, so writers queue in-process instead of spinning in SQLite's busy
handler; PostgreSQL gets an ordinary pool.
"""

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Executable,
    Row,
    Table,
    TextClause,
    bindparam,
    event,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import InstrumentedAttribute

from storage import keepalive
from storage.driven import DrivenSession
from storage.files import prepare_sqlite_file
from storage.sqlite_inline import InlineConnection
from storage.sqlite_inline import creator as inline_creator


def upsert_for(session: AsyncSession) -> Any:
    """The dialect's INSERT, which has ON CONFLICT (both SQLite and PostgreSQL do)."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def insert_ignoring_conflicts(table: Table, columns: Sequence[str]) -> TextClause:
    """INSERT ... ON CONFLICT DO NOTHING, one statement for SQLite and PostgreSQL alike, that
    SQLAlchemy compiles once. The dialects' insert().on_conflict_do_nothing() has no cache
    key, so it is compiled again on every run, which costs more than running it: this is
    for the statements every update runs (the update claim, a check-in)."""
    names = ", ".join(columns)
    values = ", ".join(f":{c}" for c in columns)
    sql = f"INSERT INTO {table.name} ({names}) VALUES ({values}) ON CONFLICT DO NOTHING"
    return text(sql).bindparams(*(bindparam(c, type_=table.c[c].type) for c in columns))


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _with_driver(url: str, drivers: dict[str, str]) -> str:
    """The URL on the driver `drivers` names for its backend (SQLite or PostgreSQL)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    driver = drivers.get(backend)
    if driver is None:
        raise ValueError(f"unsupported database backend: {backend}")
    return parsed.set(drivername=f"{backend}+{driver}").render_as_string(hide_password=False)


def sync_url(url: str) -> str:
    """The same database for synchronous clients (APScheduler's job store, Alembic CLI)."""
    return _with_driver(url, {"sqlite": "pysqlite", "postgresql": "psycopg"})


def job_store_url(url: str) -> str:
    """Where APScheduler keeps its jobs: the same PostgreSQL database; on SQLite a sibling
    file (`branchbot.sqlite3` -> `branchbot.jobs.sqlite3`). APScheduler 3 writes its store
    synchronously on the event loop, and on one SQLite file that write can wait for the
    write lock of a transaction of ours that is itself waiting on the loop: a deadlock
    until the busy timeout (seen in tests). Two files have two locks."""
    parsed = make_url(sync_url(url))
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return parsed.render_as_string(hide_password=False)
    path = Path(parsed.database or "")
    jobs = path.with_name(f"{path.stem}.jobs{path.suffix or '.sqlite3'}")
    return parsed.set(database=str(jobs)).render_as_string(hide_password=False)


def async_url(url: str) -> str:
    """Accept plain sqlite:/// or postgresql:// URLs and pick the async driver."""
    return _with_driver(url, {"sqlite": "aiosqlite", "postgresql": "asyncpg"})


def ensure_sqlite_dir(url: str) -> None:
    """A SQLite database's directory and files exist, owner-only (storage/files.py), before
    anything opens them: the main database and the scheduler's job store alike."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        prepare_sqlite_file(parsed.database)


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    url = async_url(url)
    if not is_sqlite(url):
        kwargs.setdefault("pool_size", 10)
        # Keepalives on the server's end (session settings) and on ours (each socket).
        kwargs.setdefault("connect_args", {"server_settings": keepalive.server_settings()})
        engine = create_async_engine(url, **kwargs)
        _ping_idle_connections(engine)
        event.listen(engine.sync_engine, "connect", keepalive.on_asyncpg_connect)
        return engine
    ensure_sqlite_dir(url)
    database = make_url(url).database or ":memory:"
    engine = create_async_engine(
        url,
        pool_size=1,
        max_overflow=0,
        async_creator=inline_creator(database),
        **kwargs,
    )
    _use_wal_and_immediate_transactions(engine)
    return engine


# A pooled PostgreSQL connection idle this long is pinged before it is used again.
IDLE_PING_SECONDS = 10.0


def _ping_idle_connections(engine: AsyncEngine, idle: float = IDLE_PING_SECONDS) -> None:
    """Ping a connection before use when it has been idle a while (a restarted server or a
    firewall's idle timeout leaves it dead, and a dead one is replaced), not one in steady
    use: pinging on every checkout (pool_pre_ping) was a round trip of every update."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get("returned_at")
        if returned is None or time.monotonic() - returned < idle:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as err:  # the pool drops it and connects anew
            raise DisconnectionError("an idle connection is gone") from err


def _use_wal_and_immediate_transactions(engine: AsyncEngine) -> None:
    """Let SQLAlchemy, not pysqlite, emit BEGIN, so savepoints work and writes lock early."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Readers (verify, exports, lists) must not hold the write lock for their whole run.
        reading = conn.get_execution_options().get(READ_ONLY, False)
        # Straight to the driver: every update begins a transaction, and SQLAlchemy's own
        # execution of this fixed statement costs ten times the statement.
        driver: InlineConnection = conn.connection.driver_connection
        driver.begin(immediate=not reading)


# Session.info key: "last" (a member's messages go to the chat app they used last) or "all".
DELIVER_TO = "deliver_to"


def session_factory(
    engine: AsyncEngine, info: dict[str, Any] | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions for the service; `info` is copied into every session's `info` (settings the
    storage layer needs wherever a session comes from: router, jobs or CLI)."""
    return async_sessionmaker(engine, class_=DrivenSession, expire_on_commit=False, info=info or {})


READ_ONLY = "branchbot_read_only"


def reader_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for long reads: on SQLite they take no write lock (a deferred BEGIN)."""
    return async_sessionmaker(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)


async def core_rows(session: AsyncSession, query: Executable) -> Sequence[Row[Any]]:
    """The rows of a select of columns, run on the session's connection: the session's own
    execute passes every row through the ORM's result machinery, which for a school's
    report (hundreds of thousands of rows) costs more than the query."""
    connection = await session.connection()
    return (await connection.execute(query)).all()


# Bound parameters per IN list stay well under SQLite's and asyncpg's limits.
IN_CHUNK = 1000


T = TypeVar("T")


def chunks(items: Sequence[T], size: int = IN_CHUNK) -> list[Sequence[T]]:
    """`items` in slices small enough for one IN list each."""
    return [items[i : i + size] for i in range(0, len(items), size)]


async def present(
    session: AsyncSession,
    column: InstrumentedAttribute[T],
    items: Sequence[T],
    *conditions: ColumnElement[bool],
) -> set[T]:
    """Which of `items` are the `column` of some row meeting `conditions` (any number of
    items: asked in IN lists of a safe size)."""
    found: set[T] = set()
    for chunk in chunks(items):
        query = select(column).where(column.in_(chunk), *conditions)
        found.update((await session.scalars(query)).all())
    return found
