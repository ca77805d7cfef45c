"""One process at a time: leadership for the outbox sender (and later the scheduler).

On PostgreSQL several service processes may share one database; a session-level advisory lock,
held on a connection kept for that purpose, makes exactly one of them the leader. The lock
goes with the connection, so a leader that dies or loses the database frees it at once, with
no lease to expire. SQLite is one process per database file (see docs/operations.md), so
there the only process leads.
"""

import hashlib
import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a name."""
    digest = hashlib.sha256(f"branchbot:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class Leadership:
    def __init__(self, engine: AsyncEngine, name: str) -> None:
        self.engine = engine
        self.name = name
        self.key = lock_key(name)
        self._conn: AsyncConnection | None = None
        self._single = engine.dialect.name != "postgresql"

    @property
    def held(self) -> bool:
        return self._single or self._conn is not None

    async def try_acquire(self) -> bool:
        """Become the leader if nobody is; True if this process leads now."""
        if self.held:
            return await self.check()
        conn = await self.engine.connect()
        try:
            # Autocommit: the lock lives with the session, not in an idle open transaction.
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            got = await conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key})
        except Exception:
            await conn.close()
            raise
        if not got:
            await conn.close()
            return False
        self._conn = conn
        log.info("this process now leads %s", self.name)
        return True

    async def check(self) -> bool:
        """Still the leader? A broken lock connection means the lock is gone."""
        if self._single:
            return True
        if self._conn is None:
            return False
        try:
            await self._conn.scalar(text("SELECT 1"))
        except Exception as err:
            log.warning("lost the %s lock with its connection: %s", self.name, err)
            await self._drop(broken=True)
            return False
        return True

    async def release(self) -> None:
        if self._conn is None:
            return
        try:
            await self._conn.scalar(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
        except Exception as err:
            log.info("could not unlock %s; discarding its connection: %s", self.name, err)
            await self._drop(broken=True)
            return
        await self._drop(broken=False)

    async def _drop(self, *, broken: bool) -> None:
        """Give the connection up. One that may still hold the lock is invalidated (closed
        for good), never returned to the pool where a query could keep the lock alive."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if broken:
                await conn.invalidate()
            await conn.close()
        except Exception as err:
            log.debug("closing the lock connection failed: %s", err)
