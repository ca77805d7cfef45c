"""The daily reminders job: the development pipeline's deadlines to secretaries, talk reminders
to contact persons, thought reports due, organisational life still missing before a period
ends, meeting minutes not handed in, the six-month rule's notices (handlers/care), the
feedback boxes opened and the items left unanswered (handlers/feedback), and (on its day of
the month) dues owed."""

import logging

from handlers.care.alerts import remind_care
from handlers.dues.remind import remind_unpaid
from handlers.dues.settings import DuesSettings
from handlers.feedback.daily import open_boxes_daily, remind_unanswered
from handlers.minutes.reminders import remind_missing_minutes
from handlers.orglife.reminders import remind_missing
from handlers.pipeline.reminders import remind_contact_talks, remind_deadlines
from handlers.pipeline.settings import PipelineSettings
from handlers.thoughts.reminders import remind_due
from scheduler.context import current
from storage.leader import LeaseLost

log = logging.getLogger(__name__)
DAILY = "pipeline.reminders.daily"


async def daily() -> dict[str, int]:
    """Each part in its own transaction, so one failing does not hold back the others; each
    queues a message once however often it runs (idempotency keys), so a rerun is harmless."""
    ctx = current()
    if not ctx.options.of(PipelineSettings).pipeline_remind_at:
        return {}
    now = ctx.clock()
    parts = {
        "deadlines": remind_deadlines,
        "contact_talks": remind_contact_talks,
        "thought_reports": remind_due,
        "orglife": remind_missing,
        "minutes": remind_missing_minutes,
        "care": remind_care,
        "feedback_opened": open_boxes_daily,
        "feedback": remind_unanswered,
    }
    if now.astimezone(ctx.options.timezone).day == ctx.options.of(DuesSettings).dues_remind_day:
        parts["dues"] = remind_unpaid
    counts = {}
    for name, remind in parts.items():
        try:
            async with ctx.transaction() as session:
                counts[name] = await remind(session, ctx.box, ctx.options, now)
        except LeaseLost:
            raise  # no part may run any more here: the process now leading runs them all
        except Exception:
            log.exception("pipeline reminders: %s failed", name)
    ctx.wake_sender()
    log.info("pipeline reminders queued: %s", counts)
    return counts
