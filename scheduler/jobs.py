"""Job functions. Each is referenced by its import path in the job store, so keep names stable."""

import logging
from datetime import timedelta

from handlers.notices.status import queue_due_summaries
from scheduler.context import current
from storage import conversations, inbox, updates

log = logging.getLogger(__name__)
KEEP_PROCESSED_UPDATES = timedelta(days=7)
KEEP_CONVERSATIONS = timedelta(days=1)


async def housekeeping() -> tuple[int, int]:
    """Forget update ids older than any platform redelivers (Telegram: 24 hours) and
    multi-step commands abandoned long ago (the router already ignores them after 30 min)."""
    ctx = current()
    now = ctx.clock()
    async with ctx.transaction() as session:
        ids = await updates.prune(session, now - KEEP_PROCESSED_UPDATES)
        flows = await conversations.prune(session, now - KEEP_CONVERSATIONS)
        # Handled updates leave the inbox at once; these were never handled (their platform
        # is no longer served), and their ids are forgotten now too.
        unhandled = await inbox.prune(session, now - KEEP_PROCESSED_UPDATES)
    log.info(
        "housekeeping: forgot %d update ids, %d stale conversations and %d unhandled updates",
        ids,
        flows,
        unhandled,
    )
    return ids, flows


async def notice_summaries() -> int:
    """Tell each notice's author who has acknowledged it, once its summary delay is over."""
    ctx = current()
    async with ctx.transaction() as session:
        count = await queue_due_summaries(session, ctx.clock())
    if count:
        ctx.wake_sender()
        log.info("queued %d notice summaries", count)
    return count
