"""The feedback box's daily parts (scheduler/pipeline_jobs.py): the boxes of the days that are
over are opened, each anonymous item traced then with no actor and the committee told how
many came; and a branch's secretaries are reminded of the items left unanswered for 14 days,
then weekly (ages 14, 21, 28 … days; `reminders` counts them, so a rerun sends nothing)."""

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.context import Options
from handlers.core.messages import Button, Msg, Reply
from handlers.core.notify import Message, queue_many
from handlers.core.tracer import Entry, SessionTracer
from handlers.meetings.domain import secretaries_of
from storage import feedback, people
from storage.crypto import SecretBox
from storage.feedback import feedback_ref
from storage.feedback_models import FeedbackItem

FIRST_REMINDER_DAYS = 14
THEN_EVERY_DAYS = 7


async def open_boxes(
    session: AsyncSession,
    box: SecretBox,
    now: datetime,
    today: date,
    branch_ids: list[int] | None,
) -> list[FeedbackItem]:
    """Open the boxes (of these branches; None: all) for the days before `today`; each item
    opened is traced, with no actor and no member: whoever opens the box is not its sender."""
    opened = await feedback.open_boxes(session, box, today, branch_ids)
    entries = [
        Entry(
            "feedback.submitted",
            branch_id=item.branch_id,
            ref=feedback_ref(item.id),
            data={"anonymous": True, "on": item.received_on.isoformat()},
        )
        for item in opened
    ]
    await SessionTracer(session, box, now).trace_many(entries)
    return opened


async def open_boxes_daily(
    session: AsyncSession, box: SecretBox, options: Options, now: datetime
) -> int:
    """Open every box for the days that are over and tell each branch's committee how many
    anonymous items came; returns how many were opened."""
    today = now.astimezone(options.timezone).date()
    opened = await open_boxes(session, box, now, today, None)
    by_branch: dict[int, int] = defaultdict(int)
    for item in opened:
        by_branch[item.branch_id] += 1
    messages = []
    for branch_id, count in by_branch.items():
        readers = await secretaries_of(session, branch_id, committee=True)
        if not readers:  # the items wait in /feedback_list all the same
            continue
        text = Msg("feedback.opened_note", count=count)
        reply = Reply(text, ((Button(Msg("feedback.list_button"), "/feedback_list"),),))
        key = f"feedback:opened:b{branch_id}:{today.isoformat()}"
        messages.append(Message(key, readers, reply, "feedback.opened", f"branch:{branch_id}"))
    await queue_many(session, messages, now)
    return len(opened)


def reminders_due(item: FeedbackItem, today: date) -> int:
    """How many reminders an unanswered item should have had by `today` (0 before 14 days)."""
    age = (today - item.received_on).days
    return 0 if age < FIRST_REMINDER_DAYS else 1 + (age - FIRST_REMINDER_DAYS) // THEN_EVERY_DAYS


async def remind_unanswered(
    session: AsyncSession, box: SecretBox, options: Options, now: datetime
) -> int:
    """Remind each branch's secretaries of its items unanswered at 14 days and each week
    after; returns how many items they were reminded of."""
    today = now.astimezone(options.timezone).date()
    oldest = today - timedelta(days=FIRST_REMINDER_DAYS)
    due = [
        i
        for i in await feedback.unanswered(session, oldest)
        if reminders_due(i, today) > i.reminders
    ]
    by_branch: dict[int, list[FeedbackItem]] = defaultdict(list)
    for item in due:
        by_branch[item.branch_id].append(item)
    staff = await people.secretaries(session, list(by_branch))
    messages, entries = [], []
    for branch_id, items in by_branch.items():
        readers = [member_id for member_id, _name in staff.get(branch_id, [])]
        if not readers:  # nobody to remind yet: left due until the branch has a secretary
            continue
        lines = [_line(item, today) for item in items]
        reply = Reply(
            Msg("feedback.remind", count=len(items), lines=lines, days=FIRST_REMINDER_DAYS),
            ((Button(Msg("feedback.list_button"), "/feedback_list"),),),
        )
        key = f"feedback:remind:b{branch_id}:{today.isoformat()}"
        messages.append(Message(key, readers, reply, "feedback.reminder", f"branch:{branch_id}"))
        for item in items:
            item.reminders = reminders_due(item, today)
            entries.append(_entry(item, today))
    await queue_many(session, messages, now)
    await SessionTracer(session, box, now).trace_many(entries)
    return len(entries)


def _line(item: FeedbackItem, today: date) -> Msg:
    who = Msg("feedback.mode.anonymous" if item.anonymous else "feedback.mode.named")
    days = (today - item.received_on).days
    return Msg("feedback.remind_line", id=item.id, who=who, on=item.received_on, days=days)


def _entry(item: FeedbackItem, today: date) -> Entry:
    return Entry(
        "feedback.reminded",
        member_id=item.sender_id,
        branch_id=item.branch_id,
        ref=feedback_ref(item.id),
        data={"days": (today - item.received_on).days, "reminder": item.reminders},
    )
