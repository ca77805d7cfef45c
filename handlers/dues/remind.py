"""The monthly reminder of unpaid dues, for the scheduler to call on the configured day."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.context import Options
from handlers.core.messages import Button, Msg, Reply, Series
from handlers.core.notify import queue_each
from handlers.core.tracer import Entry, SessionTracer
from handlers.dues.money import yuan
from handlers.dues.settings import DuesSettings
from handlers.dues.standing import Standing, standings
from handlers.dues.view import owed_lines
from storage import dues, people
from storage.crypto import SecretBox
from storage.models import Member

REMINDER_PRIORITY = 7  # after the day's urgent messages


async def remind_unpaid(
    session: AsyncSession, box: SecretBox, options: Options, now: datetime
) -> int:
    """Tell every member who owes dues what they owe and whom to pay, once a month (a second
    run the same month queues nothing); returns how many were reminded."""
    today = now.astimezone(options.timezone).date()
    ref = f"dues:{today:%Y-%m}:remind"
    members = await dues.payers(session, None)
    found = await standings(
        session, members, today, options.of(DuesSettings).default_fen, options.timezone
    )
    done = await dues.traced_members(session, "dues.reminded", ref)
    owing = [m for m in members if found[m.id].owed_fen > 0 and m.id not in done]
    if not owing:
        return 0
    branches = {m.branch_id for m in owing if m.branch_id is not None}
    collectors = await people.secretaries(session, sorted(branches))
    replies = {m.id: _reminder(m, found[m.id], collectors.get(m.branch_id or 0, [])) for m in owing}
    reached = await queue_each(
        session,
        replies,
        key=ref,
        kind="dues.reminder",
        now=now,
        refs=dict.fromkeys(replies, ref),
        priority=REMINDER_PRIORITY,
    )
    entries = [
        Entry(
            "dues.reminded",
            member_id=m.id,
            branch_id=m.branch_id,
            ref=ref,
            data={
                "months": [f"{month:%Y-%m}" for month in found[m.id].owed],
                "underpaid": [f"{month:%Y-%m}" for month in sorted(found[m.id].underpaid)],
                "owed": yuan(found[m.id].owed_fen),
            },
        )
        for m in owing
        if m.id in reached
    ]
    await SessionTracer(session, box, now).trace_many(entries)
    return len(entries)


def _reminder(member: Member, standing: Standing, secretaries: list[tuple[int, str]]) -> Reply:
    """What one member owes, and whom to pay: their branch's secretaries (but themselves)."""
    names = [name for who, name in secretaries if who != member.id]
    collector = Msg("dues.collector_named", names=Series(names)) if names else Msg("dues.collector")
    text = Msg("dues.reminder", lines=owed_lines(standing), collector=collector)
    return Reply(text, ((Button(Msg("dues.view_button"), "/dues"),),))
