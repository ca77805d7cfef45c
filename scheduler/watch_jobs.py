"""Jobs that watch over time: surveys reminded a day before their deadline and closed at it
(hourly), the data-access rules run over the latest traces (every five minutes), and the
full walk of the trace chain (nightly, and soon after start when none is recent)."""

import logging
from datetime import timedelta

from handlers.access.rules import watch
from handlers.evaluation.integrity import walk_chain
from handlers.evaluation.settings import EvaluationSettings
from handlers.surveys.deadlines import remind_and_close
from scheduler.context import current
from storage import chain

log = logging.getLogger(__name__)
SURVEYS = "surveys.deadlines.hourly"
ACCESS = "access.watch"
CHAIN = "chain.walk.nightly"
CHAIN_AT_START = "chain.walk.start"
WALK_AGAIN_AFTER = timedelta(hours=24)


async def survey_deadlines() -> dict[str, int]:
    ctx = current()
    async with ctx.transaction() as session:
        counts = await remind_and_close(session, ctx.box, ctx.options, ctx.clock())
    ctx.wake_sender()
    if any(counts.values()):
        log.info("surveys: %s", counts)
    return counts


async def access_watch() -> int:
    ctx = current()
    async with ctx.transaction() as session:
        alerts = await watch(session, ctx.box, ctx.options, ctx.clock())
    if alerts:
        ctx.wake_sender()
        log.warning("data-access monitoring raised %d alert(s)", alerts)
    return alerts


async def chain_walk() -> bool | None:
    """Walk the whole trace chain and keep the outcome; admins hear of a new break."""
    ctx = current()
    if not ctx.options.of(EvaluationSettings).chain_walk_at:  # turned off since the job was stored
        return None
    result = await walk_chain(ctx.sessions, ctx.box, ctx.clock())
    if not result.ok:
        ctx.wake_sender()
    return result.ok


async def chain_walk_if_due() -> bool | None:
    """After a start: walk now when no full walk is kept or the last is over a day old (a new
    installation, a restored backup), so reports need not walk everything themselves."""
    ctx = current()
    async with ctx.sessions() as session:
        last = await chain.last_walk(session)
    if last is not None and ctx.clock() - last.walked_at < WALK_AGAIN_AFTER:
        return None
    return await chain_walk()
