"""The daily reminder to a branch's secretaries of a kind of meeting still missing in a period
that ends within ORGLIFE_REMIND_DAYS, with none scheduled: once per branch, rule and period."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.context import Options
from handlers.core.messages import Msg, Reply
from handlers.core.notify import Message, queue_many
from handlers.core.tracer import Entry, SessionTracer
from handlers.orglife.settings import OrgLifeSettings
from handlers.orglife.status import State, branch_statuses
from handlers.orglife.words import status_line
from storage import branches, people, traces
from storage.crypto import SecretBox

KIND = "orglife.reminded"


async def remind_missing(
    session: AsyncSession, box: SecretBox, options: Options, now: datetime
) -> int:
    """Queue the reminders due today; returns how many messages were queued."""
    days = options.of(OrgLifeSettings).orglife_remind_days
    if not days:
        return 0
    today = now.astimezone(options.timezone).date()
    current = await branches.current_branches(session)
    found = await branch_statuses(session, [b.id for b in current], now, options.timezone)
    due = [
        (branch_id, status, f"orglife:{branch_id}:{status.rule.id}:{status.period.since}")
        for branch_id, statuses in found.items()
        for status in statuses
        if status.state == State.DUE and (status.period.last_day - today).days < days
    ]
    done = await traces.refs_present(session, KIND, [ref for _, _, ref in due])
    due = [d for d in due if d[2] not in done]
    secretaries = await people.secretaries(session, sorted({b for b, _, _ in due}))
    messages, entries = [], []
    for branch_id, status, ref in due:
        text = Reply(Msg("orglife.reminder", line=status_line(status), source=status.rule.source))
        readers = [member_id for member_id, _name in secretaries.get(branch_id, [])]
        messages.append(Message(ref, readers, text, kind=KIND, ref=ref))
        entries.append(Entry(KIND, branch_id=branch_id, ref=ref, data={"rule": status.rule.id}))
    queued = await queue_many(session, messages, now)
    await SessionTracer(session, box, now).trace_many(entries)
    return sum(len(ids) for ids in queued.values())
