"""The libraries' private internals that storage leans on, checked so an upgrade fails loudly.

storage/sqlite_inline.py replaces aiosqlite's private execute path and work queue, and
storage/driven.py reads SQLAlchemy's greenlet marker. pyproject.toml holds both libraries to
the releases these were written against; when a newer one is allowed in, these tests say
which library changed which private part, instead of a hang or a MissingGreenlet later.
"""

import inspect
import sqlite3
from importlib.metadata import version
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from greenlet import getcurrent
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.util.concurrency import greenlet_spawn

from storage.db import create_engine
from storage.driven import _in_greenlet
from storage.sqlite_inline import InlineConnection

MARKER = "__sqlalchemy_greenlet_provider__"


def relied_on(library: str, what: str, by: str) -> str:
    return (
        f"{library} {version(library)} changed {what}, which {by} relies on: "
        f"check the module against this release before allowing it in pyproject.toml"
    )


# --- aiosqlite (storage/sqlite_inline.py) --------------------------------------------------


def test_aiosqlite_connection_keeps_the_private_state_the_inline_connection_replaces() -> None:
    parameters = list(inspect.signature(aiosqlite.Connection.__init__).parameters)
    assert parameters[:3] == ["self", "connector", "iter_chunk_size"], relied_on(
        "aiosqlite", "Connection.__init__(connector, iter_chunk_size)", "InlineConnection"
    )
    plain = aiosqlite.Connection(lambda: sqlite3.connect(":memory:"), 64)
    for name in ("_connection", "_connector", "_running", "_tx", "_thread"):
        assert hasattr(plain, name), relied_on(
            "aiosqlite", f"Connection.{name}", "storage/sqlite_inline.py"
        )
    assert hasattr(plain._tx, "put_nowait"), relied_on(
        "aiosqlite", "Connection._tx.put_nowait((future, function))", "storage/sqlite_inline.py"
    )
    assert not plain._thread.is_alive(), relied_on(
        "aiosqlite", "the worker thread starting in __await__, not __init__", "InlineConnection"
    )


class _Counting(InlineConnection):
    calls = 0

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        _Counting.calls += 1
        return await super()._execute(fn, *args, **kwargs)


async def test_aiosqlite_sends_every_call_through_execute_and_no_thread(tmp_path: Path) -> None:
    conn = await _Counting(str(tmp_path / "x.sqlite3"), 5.0)
    try:
        cursor = await conn.execute("SELECT 41 + 1")
        assert await cursor.fetchall() == [(42,)]
        await cursor.close()
        await conn.commit()
        assert _Counting.calls >= 4, relied_on(
            "aiosqlite", "Connection._execute as the path of every call", "InlineConnection"
        )
        assert not conn._thread.is_alive(), relied_on(
            "aiosqlite", "Connection.__await__ (it started the worker thread)", "InlineConnection"
        )
    finally:
        await conn.close()


class _Recording:
    """A work queue that records what SQLAlchemy puts on it, then does it like the inline one."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.items: list[Any] = []

    def put_nowait(self, item: Any) -> None:
        self.items.append(item)
        self.inner.put_nowait(item)


async def test_sqlalchemy_sets_isolation_levels_through_the_work_queue(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}")
    try:
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver: InlineConnection = raw.driver_connection  # type: ignore[assignment]
            recording = driver._tx = _Recording(driver._tx)  # type: ignore[assignment]
            await conn.execution_options(isolation_level="AUTOCOMMIT")
        assert recording.items, relied_on(
            "SQLAlchemy",
            "the aiosqlite dialect's isolation_level setter (it put work on Connection._tx)",
            "storage/sqlite_inline.py's _InlineQueue",
        )
    finally:
        await engine.dispose()


# --- SQLAlchemy and greenlet (storage/driven.py) -------------------------------------------


async def test_sqlalchemy_marks_its_greenlets_as_driven_py_reads() -> None:
    inside = await greenlet_spawn(lambda: (getattr(getcurrent(), MARKER, None), _in_greenlet()))
    assert inside == (True, True), relied_on(
        "SQLAlchemy", f"greenlet_spawn's marker {MARKER}", "storage/driven.py's _in_greenlet"
    )
    assert not _in_greenlet()


def test_sqlalchemy_await_only_keys_on_the_same_marker() -> None:
    from sqlalchemy.util import _concurrency_py3k

    source = inspect.getsource(_concurrency_py3k.await_only)
    assert MARKER in source, relied_on(
        "SQLAlchemy", f"await_only's test of {MARKER}", "storage/driven.py"
    )


@pytest.mark.parametrize("method", ["execute", "get", "flush", "delete", "commit", "rollback"])
def test_async_session_keeps_the_calls_driven_session_bypasses(method: str) -> None:
    session = AsyncSession()
    assert callable(getattr(session.sync_session, method, None)), relied_on(
        "SQLAlchemy", f"AsyncSession.sync_session.{method}", "storage/driven.py's DrivenSession"
    )
    ours = set(inspect.signature(getattr(AsyncSession, method)).parameters)
    theirs = set(inspect.signature(getattr(session.sync_session, method)).parameters)
    assert ours - {"self"} <= theirs | {"kw"}, relied_on(
        "SQLAlchemy", f"Session.{method}'s parameters", "storage/driven.py's DrivenSession"
    )
