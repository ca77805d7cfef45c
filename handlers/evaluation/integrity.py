"""The full walk of the trace chain, run nightly by the scheduler (and at start-up when no
walk is kept): reports then only check what was appended since. A walk that finds the chain
newly broken tells every admin at once, rather than waiting for someone to open a report."""

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.core.messages import Msg, Reply
from handlers.core.notify import queue_to_members
from handlers.core.tracer import SessionTracer
from storage import access, chain
from storage.crypto import SecretBox
from storage.db import create_engine, reader_factory

log = logging.getLogger(__name__)


async def walk_chain(
    sessions: async_sessionmaker[AsyncSession], box: SecretBox, now: datetime
) -> chain.VerifyResult:
    """Walk every row on a connection of its own, as a reader (the service's one SQLite
    connection stays free and no write lock is taken; the walk yields to the event loop
    between batches); keep the outcome."""
    bind = sessions.kw["bind"]
    engine = create_engine(bind.url.render_as_string(hide_password=False))
    try:
        async with reader_factory(engine)() as session:
            result = await chain.verify(session, box, pause=True)
    finally:
        await engine.dispose()
    async with sessions.begin() as session:
        before = await chain.last_walk(session)
        was_broken = before is not None and before.bad_id is not None
        await chain.record_walk(session, box, result, now)
        if not result.ok and not was_broken:
            await _alert_admins(session, box, result, now)
    if not result.ok:
        log.error("trace chain broken at row %s (%s)", result.bad_id, result.reason)
    return result


async def _alert_admins(
    session: AsyncSession, box: SecretBox, result: chain.VerifyResult, now: datetime
) -> None:
    admins = list(await access.alert_recipients(session, None))
    text = Msg(
        "evaluation.chain_alert",
        id=result.bad_id,
        count=result.checked,
        reason=Msg(f"cli.verify_{result.reason}"),
    )
    await queue_to_members(
        session,
        admins,
        Reply(text),
        key=f"chain:{result.bad_id}:{result.reason}",
        kind="chain.broken",
        now=now,
        priority=2,  # before routine reminders: someone may be altering the record right now
    )
    data = {"bad_id": result.bad_id, "reason": result.reason, "checked": result.checked}
    await SessionTracer(session, box, now).trace("chain.broken", data=data)
