"""When the next thought report is due, and the daily reminder to those whose report is due.

A report is due `thought_report_months` months after the last one; a person without one
counts from the day they entered their current stage (as recorded), else from the day they
were added. The scheduler's daily job calls remind_due.
"""

from collections.abc import Sequence
from datetime import date, datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.context import Options
from handlers.core.messages import Button, Msg, Reply
from handlers.core.notify import Message, queue_many
from handlers.core.tracer import Entry, SessionTracer
from handlers.thoughts.settings import ThoughtSettings
from storage import thoughts, traces
from storage.crypto import SecretBox
from storage.models import Member
from storage.pipeline import entered_current


def due_key(due: date) -> str:
    """The idempotency key of the reminders for a due date (each member's adds `:m<id>`)."""
    return f"thought:due:{due.isoformat()}"


def reminder_ref(due: date, member_id: int) -> str:
    """A reminder's trace ref: the key of its outbox message (see handlers/core/notify.py)."""
    return f"{due_key(due)}:m{member_id}"


async def due_dates(
    session: AsyncSession, members: Sequence[Member], options: Options
) -> dict[int, date]:
    """When each person's next report is due."""
    zone = options.timezone
    last = await thoughts.last_submitted(session, [m.id for m in members])
    entered = await entered_current(session, [m for m in members if m.id not in last])
    found: dict[int, date] = {}
    for member in members:
        if member.id in last:
            since = last[member.id].astimezone(zone).date()
        else:
            since = entered.get(member.id) or member.created_at.astimezone(zone).date()
        # The same day months later, or the month's last day (11-30 plus 3 is 02-28).
        found[member.id] = since + relativedelta(
            months=options.of(ThoughtSettings).thought_report_months
        )
    return found


def _reminder(due: date, today: date) -> Reply:
    key = "thought.reminder_overdue" if due < today else "thought.reminder_due"
    button = Button(Msg("thought.hand_in_button"), "/thought")
    return Reply(Msg(key, due=due), ((button,),))


async def remind_due(session: AsyncSession, box: SecretBox, options: Options, now: datetime) -> int:
    """Remind everyone whose report is due today or overdue, once per due date (a job that
    runs twice, or daily while the report is late, reminds once); returns how many."""
    if options.of(ThoughtSettings).thought_report_months <= 0:
        return 0
    today = now.astimezone(options.timezone).date()
    members = await thoughts.expected_authors(session)
    due = {m: d for m, d in (await due_dates(session, members, options)).items() if d <= today}
    done = await traces.refs_present(
        session, "thought.reminded", [reminder_ref(d, m) for m, d in due.items()]
    )
    branch_of = {m.id: m.branch_id for m in members}
    by_date: dict[date, list[int]] = {}
    for member_id, d in due.items():
        if reminder_ref(d, member_id) not in done:
            by_date.setdefault(d, []).append(member_id)
    messages = [
        Message(due_key(d), ids, _reminder(d, today), "thought.reminder")
        for d, ids in sorted(by_date.items())
    ]
    reached = await queue_many(session, messages, now)
    entries = [
        Entry(
            kind="thought.reminded",
            member_id=member_id,
            branch_id=branch_of[member_id],
            ref=reminder_ref(d, member_id),
            data={"due": d.isoformat()},
        )
        for d, ids in sorted(by_date.items())
        for member_id in ids
        if member_id in reached[due_key(d)]
    ]
    return await SessionTracer(session, box, now).trace_many(entries)
