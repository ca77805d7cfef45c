"""One greenlet per update instead of one per database call.

AsyncSession runs each call (execute, flush, commit, ...) on the sync Session inside a new
greenlet, and an update makes a dozen such calls: their set-up cost more than the SQL. The
router instead runs a whole update inside one SQLAlchemy greenlet (`drive`), and a
`DrivenSession` called from there goes straight to the sync Session. The driver still waits
for the database through SQLAlchemy's await_only, which hands each wait to the event loop
side of that one greenlet; outside `drive`, a DrivenSession is a plain AsyncSession.
"""

from collections.abc import Awaitable, Callable, Generator, Sequence
from typing import Any, TypeVar

from greenlet import GreenletExit, getcurrent
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.util import immutabledict
from sqlalchemy.util.concurrency import await_only, greenlet_spawn

T = TypeVar("T")
# As AsyncSession passes them: results are fetched in full before the call returns.
_BUFFERED = immutabledict({"prebuffer_rows": True})


def _buffered(options: Any) -> Any:
    """The caller's options, with buffering forced on as AsyncSession forces it."""
    return immutabledict(options).union(_BUFFERED) if options else _BUFFERED


def _in_greenlet() -> bool:
    """True inside a greenlet SQLAlchemy can wait from (its own marker, see await_only)."""
    return bool(getattr(getcurrent(), "__sqlalchemy_greenlet_provider__", False))


class _Pass:
    """Hands what a coroutine yielded (a future it waits for) to the task driving `drive`,
    and what the task sends back, to the coroutine."""

    def __init__(self, step: Any) -> None:
        self.step = step

    def __await__(self) -> Generator[Any, Any, Any]:
        return (yield self.step)


async def drive(work: Callable[[], Awaitable[T]]) -> T:
    """Run `work()` inside one SQLAlchemy greenlet: its DrivenSession calls go straight to the
    sync Session. Waiting, cancellation and exceptions pass through as with a plain await."""

    def run() -> T:
        steps = work().__await__()
        sent: Any = None
        error: BaseException | None = None
        while True:
            try:
                step = steps.throw(error) if error is not None else steps.send(sent)
            except StopIteration as done:
                return done.value
            try:
                sent, error = await_only(_Pass(step)), None
            except GreenletExit:  # this greenlet is being torn down: nothing to hand on
                raise
            except BaseException as raised:  # cancellation too: the coroutine must see it
                sent, error = None, raised

    return await greenlet_spawn(run)


class DrivenSession(AsyncSession):
    """An AsyncSession whose hot calls skip the per-call greenlet when run under `drive`."""

    async def execute(
        self, statement: Any, params: Any = None, *, execution_options: Any = None, **kw: Any
    ) -> Any:
        if not _in_greenlet():
            return await super().execute(
                statement, params, execution_options=execution_options or {}, **kw
            )
        options = _buffered(execution_options)
        return self.sync_session.execute(statement, params, execution_options=options, **kw)

    async def scalar(
        self, statement: Any, params: Any = None, *, execution_options: Any = None, **kw: Any
    ) -> Any:
        # Session.scalar is execute(...).scalar(); going through execute keeps one path.
        result = await self.execute(statement, params, execution_options=execution_options, **kw)
        return result.scalar()

    async def get(self, entity: Any, ident: Any, **kw: Any) -> Any:
        if not _in_greenlet():
            return await super().get(entity, ident, **kw)
        return self.sync_session.get(entity, ident, **kw)

    async def flush(self, objects: Sequence[Any] | None = None) -> None:
        if not _in_greenlet():
            return await super().flush(objects)
        self.sync_session.flush(objects)

    async def delete(self, instance: object) -> None:
        if not _in_greenlet():
            return await super().delete(instance)
        self.sync_session.delete(instance)

    async def commit(self) -> None:
        if not _in_greenlet():
            return await super().commit()
        self.sync_session.commit()

    async def rollback(self) -> None:
        if not _in_greenlet():
            return await super().rollback()
        self.sync_session.rollback()

    async def close(self) -> None:
        if not _in_greenlet():
            return await super().close()
        self.sync_session.close()
