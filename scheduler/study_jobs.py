"""The daily study jobs: the morning material push and the evening quiz reminder."""

import logging

from handlers.study.daily import push_materials, remind_quiz
from handlers.study.settings import StudySettings
from scheduler.context import current

log = logging.getLogger(__name__)
PUSH = "study.push.daily"
QUIZ_REMINDER = "study.quiz_reminder.daily"


async def material_push() -> int:
    ctx = current()
    if not ctx.options.of(StudySettings).material_push_at:
        return 0  # turned off since the job was stored
    async with ctx.transaction() as session:
        count = await push_materials(session, ctx.box, ctx.clock(), ctx.options.timezone)
    ctx.wake_sender()
    log.info("queued %d daily study materials", count)
    return count


async def quiz_reminder() -> int:
    ctx = current()
    if not ctx.options.of(StudySettings).quiz_remind_at:
        return 0
    async with ctx.transaction() as session:
        count = await remind_quiz(session, ctx.box, ctx.clock(), ctx.options.timezone)
    ctx.wake_sender()
    log.info("reminded %d members of the daily quiz", count)
    return count
