"""The member's own reminder at four months: kind and private, no warning in it, only how to
catch up: the next meeting of their branch (online for an intern on placement), whom to pay
dues to, and that the secretary is there to talk to."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.care.sixmonth import DUES, MEETINGS, Count
from handlers.core.messages import Button, Msg, Reply, Series
from handlers.dues.money import spans
from handlers.meetings.domain import describe
from storage import meetings


async def member_reminder(
    session: AsyncSession,
    count: Count,
    measures: Sequence[str],
    secretaries: Sequence[tuple[int, str]],
    now: datetime,
) -> Reply:
    """What the member reads about the counts in `measures` (those newly at four months)."""
    member = count.member
    parts: list[Msg] = []
    buttons: list[Button] = []
    if MEETINGS in measures:
        found = await meetings.upcoming(session, member.branch_id, now, 3, role=member.role)
        upcoming = [m for m in found if m.starts_at > now]
        coming = describe(upcoming[0]) if upcoming else Msg("care.remind.no_meeting")
        parts.append(Msg("care.remind.meetings", count=count.count(MEETINGS), next=coming))
        buttons.append(Button(Msg("care.remind.meetings_button"), "/meetings"))
    if DUES in measures:
        names = [name for who, name in secretaries if who != member.id]
        collector = (
            Msg("dues.collector_named", names=Series(names)) if names else Msg("dues.collector")
        )
        months = spans(count.unpaid)
        parts.append(
            Msg("care.remind.dues", count=count.count(DUES), months=months, collector=collector)
        )
        buttons.append(Button(Msg("dues.view_button"), "/dues"))
    return Reply(Msg("care.remind.text", name=member.name, parts=parts), (tuple(buttons),))
