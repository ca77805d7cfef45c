"""Job functions. Each is referenced by its import path in the job store, so keep names stable."""

import logging
from datetime import timedelta

from scheduler.context import current
from storage import updates

log = logging.getLogger(__name__)
KEEP_PROCESSED_UPDATES = timedelta(days=7)


async def prune_processed_updates() -> int:
    """Forget update ids older than any platform would redeliver (Telegram: 24 hours)."""
    ctx = current()
    async with ctx.sessions.begin() as session:
        removed = await updates.prune(session, ctx.clock() - KEEP_PROCESSED_UPDATES)
    log.info("pruned %d processed-update records", removed)
    return removed
