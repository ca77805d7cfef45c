"""Jobs for the branch groups: roll-calls closed at their deadline (every five minutes; a join
after a deadline is refused at once anyway, this makes the post say 已截止), and the weekly
highlights posted on Monday morning to the groups that asked."""

import logging

from handlers.highlights.weekly import groups_asking, post_to
from handlers.rollcall.domain import close_past_deadline
from scheduler.context import current

log = logging.getLogger(__name__)
ROLLCALL_DEADLINES = "groups.rollcalls.deadlines"
HIGHLIGHTS = "groups.highlights.weekly"


async def rollcall_deadlines() -> int:
    ctx = current()
    async with ctx.transaction() as session:
        closed = await close_past_deadline(session, ctx.box, ctx.clock())
    if closed:
        ctx.wake_sender()
        log.info("roll-calls closed at their deadline: %d", closed)
    return closed


async def weekly_highlights() -> int:
    """Each group in its own transaction, so one failing does not hold back the others; each
    is queued once per week however often this runs (its outbox key)."""
    ctx = current()
    now = ctx.clock()
    async with ctx.sessions() as session:
        wanted = await groups_asking(session)
    posted = 0
    for group_id in wanted:
        try:
            async with ctx.transaction() as session:
                posted += await post_to(session, ctx.box, ctx.options, group_id, now)
        except Exception:
            log.exception("weekly highlights for group %s failed", group_id)
    if posted:
        ctx.wake_sender()
    log.info("weekly highlights queued for %d group(s)", posted)
    return posted
