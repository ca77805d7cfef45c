"""What a scheduled job needs (sessions, keys, clock), handed over when the scheduler starts.

APScheduler stores jobs by the import path of their function, so jobs cannot carry live
objects; `use()` installs them once per process and jobs read them with `current()`.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.core.context import Options
from storage.crypto import SecretBox


async def _unfenced(_session: AsyncSession) -> None:
    """No lease to check: tests, and jobs run by hand."""


@dataclass(frozen=True)
class JobContext:
    sessions: async_sessionmaker[AsyncSession]
    box: SecretBox
    options: Options
    clock: Callable[[], datetime]
    # Wakes the outbox sender after a job queued messages (it would look within a second).
    wake_sender: Callable[[], None] = lambda: None
    # Raises unless this process still leads the scheduler (storage/leader.py Leadership.fence).
    fence: Callable[[AsyncSession], Awaitable[None]] = _unfenced

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A job's transaction, fenced by the scheduler's lease just before it commits: a
        process that no longer leads (frozen past its lease, then woken) writes nothing."""
        async with self.sessions.begin() as session:
            yield session
            await self.fence(session)


_current: JobContext | None = None
_scheduler: BaseScheduler | None = None


def use(context: JobContext) -> None:
    global _current
    _current = context


def current() -> JobContext:
    if _current is None:
        raise RuntimeError("the scheduler was started without a job context")
    return _current


def use_scheduler(scheduler: BaseScheduler) -> None:
    """The running scheduler, for jobs that plan other jobs (the meeting sync)."""
    global _scheduler
    _scheduler = scheduler


def current_scheduler() -> BaseScheduler:
    if _scheduler is None:
        raise RuntimeError("no scheduler is running in this process")
    return _scheduler
