"""An aiosqlite connection that runs each SQLite call at once on the event loop's thread.

aiosqlite hands every call to a worker thread and back; for a local WAL database a statement
takes microseconds, while the two thread hops cost far more (bench/throughput.py measured
~450 µs per statement through SQLAlchemy with hops, see docs/performance.md). All access
goes through one pooled connection, and transactions never wait on the network, so running
inline never blocks the loop for longer than a statement (or the busy timeout, if another
process holds the write lock).
"""

import sqlite3
from collections.abc import Callable
from typing import Any

import aiosqlite


class InlineConnection(aiosqlite.Connection):
    """aiosqlite's interface (as SQLAlchemy's aiosqlite dialect uses it), without the thread."""

    def __init__(self, database: str, busy_timeout: float) -> None:
        def connector() -> sqlite3.Connection:
            # isolation_level None: SQLAlchemy, not pysqlite, decides where transactions begin.
            return sqlite3.connect(
                database, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )

        super().__init__(connector, iter_chunk_size=64)
        self._tx = _InlineQueue()  # type: ignore[assignment]

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self._connection is None:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    def begin(self, immediate: bool) -> None:
        """Open a transaction (IMMEDIATE: with the write lock) without the async layers."""
        if self._connection is None:
            raise ValueError("Connection closed")
        self._connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")

    async def _connect(self) -> "InlineConnection":
        if self._connection is None:
            self._connection = self._connector()
        return self

    def __await__(self) -> Any:
        return self._connect().__await__()

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class _InlineQueue:
    """Stands in for aiosqlite's work queue, which SQLAlchemy's adapter uses directly to set
    isolation levels: the work is done at once and its future resolved."""

    def put_nowait(self, item: tuple[Any, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as err:
            if future is not None and not future.done():
                future.set_exception(err)
            return
        if future is not None and not future.done():
            future.set_result(result)


def creator(database: str, busy_timeout: float = 5.0) -> Callable[[], Any]:
    """An `async_creator` for create_async_engine."""

    async def connect() -> InlineConnection:
        return await InlineConnection(database, busy_timeout)

    return connect
