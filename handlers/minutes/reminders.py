"""The daily reminder of minutes not handed in: the recorder (or, with none named, the
secretary) the day after the meeting, the secretary three days after; each once."""

from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.context import Options
from handlers.core.messages import Msg, Reply
from handlers.core.notify import Message, queue_many
from handlers.core.tracer import Entry, SessionTracer
from storage import minutes, people, traces
from storage.crypto import SecretBox
from storage.models import Meeting

KIND = "minutes.reminded"
SECRETARY_AFTER_DAYS = 3
LOOK_BACK_DAYS = 30  # older meetings are the ledger's business, not a daily nudge's


async def remind_missing_minutes(
    session: AsyncSession, box: SecretBox, options: Options, now: datetime
) -> int:
    """Queue the reminders due today; returns how many messages were queued."""
    zone = options.timezone
    today_start = datetime.combine(now.astimezone(zone).date(), time(0), zone)
    since = today_start - timedelta(days=LOOK_BACK_DAYS)
    found = await minutes.without_minutes(session, since, today_start)
    secretaries = await people.secretaries(
        session, sorted({m.branch_id for m in found if m.branch_id})
    )
    due: list[tuple[Meeting, str, list[int]]] = []
    for meeting in found:
        staff = [i for i, _ in secretaries.get(meeting.branch_id or 0, [])]
        first = [meeting.recorder_id] if meeting.recorder_id else staff
        due.append((meeting, f"minutes:{meeting.id}:recorder", first))
        ended = minutes.end_of(meeting).astimezone(zone).date()
        if (today_start.date() - ended).days >= SECRETARY_AFTER_DAYS:
            due.append((meeting, f"minutes:{meeting.id}:secretary", staff))
    done = await traces.refs_present(session, KIND, [ref for _, ref, _ in due])
    messages, entries = [], []
    for meeting, ref, readers in due:
        if ref in done or not readers:
            continue
        key = "minutes.remind_secretary" if ref.endswith("secretary") else "minutes.remind_recorder"
        text = Reply(Msg(key, id=meeting.id, title=meeting.title, at=meeting.starts_at))
        messages.append(Message(ref, readers, text, kind=KIND, ref=ref))
        entries.append(Entry(KIND, branch_id=meeting.branch_id, ref=ref))
    queued = await queue_many(session, messages, now)
    await SessionTracer(session, box, now).trace_many(entries)
    return sum(len(ids) for ids in queued.values())
