"""Jobs that watch over time: surveys reminded a day before their deadline and closed at it
(hourly), and the data-access rules run over the latest traces (every five minutes)."""

import logging

from handlers.access.rules import watch
from handlers.surveys.deadlines import remind_and_close
from scheduler.context import current

log = logging.getLogger(__name__)
SURVEYS = "surveys.deadlines.hourly"
ACCESS = "access.watch"


async def survey_deadlines() -> dict[str, int]:
    ctx = current()
    async with ctx.sessions.begin() as session:
        counts = await remind_and_close(session, ctx.box, ctx.options, ctx.clock())
    ctx.wake_sender()
    if any(counts.values()):
        log.info("surveys: %s", counts)
    return counts


async def access_watch() -> int:
    ctx = current()
    async with ctx.sessions.begin() as session:
        alerts = await watch(session, ctx.box, ctx.options, ctx.clock())
    if alerts:
        ctx.wake_sender()
        log.warning("data-access monitoring raised %d alert(s)", alerts)
    return alerts
